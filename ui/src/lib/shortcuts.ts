// The window's keyboard shortcuts: which key does what, and the list the
// help overlay shows. The queue's own keys live in queue.ts; they are
// listed here too so the overlay shows every shortcut in one place.

import { typing } from "./queue";

export const VIEWS = ["library", "queue", "duplicates", "dashboard", "market", "settings"] as const;
export type View = (typeof VIEWS)[number];

export type Shortcut =
  | { kind: "view"; view: View }
  | { kind: "help" }
  | { kind: "search" }
  | { kind: "close" }
  | { kind: "select-all" };

type Press = {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  target: { tagName: string; type?: string } | null;
};

/** What a key press anywhere in the window does, or null when it is not a shortcut (or is typing). */
export function shortcut(press: Press): Shortcut | null {
  if (press.key === "Escape") return { kind: "close" };
  if ((press.ctrlKey || press.metaKey) && !press.altKey && press.key.toLowerCase() === "a" && !typing(press.target)) {
    return { kind: "select-all" };
  }
  if (press.ctrlKey || press.metaKey || press.altKey || typing(press.target)) return null;
  if (press.key === "?") return { kind: "help" };
  if (press.key === "/") return { kind: "search" };
  const n = Number(press.key);
  if (Number.isInteger(n) && n >= 1 && n <= VIEWS.length) return { kind: "view", view: VIEWS[n - 1] };
  return null;
}

/** Every shortcut, as the help overlay lists it: keys, what they do, where. */
export const HELP: { keys: string; what: string; where: string }[] = [
  { keys: "?", what: "Show or hide this list", where: "Anywhere" },
  { keys: "1 – 6", what: "Library, Queue, Duplicates, Dashboard, Market, Settings", where: "Anywhere" },
  { keys: "Arrows, Page Up/Down", what: "Move in the grid", where: "Library" },
  { keys: "Home / End", what: "First, last asset", where: "Library" },
  { keys: "Space, Shift-arrows", what: "Select the asset, extend the selection", where: "Library" },
  { keys: "Enter", what: "Show the asset in the detail panel, or open its stack", where: "Library" },
  { keys: "Double-click a stack", what: "Open the stack (its count is on the cell)", where: "Library" },
  { keys: "/", what: "Search the library", where: "Anywhere" },
  { keys: "Esc", what: "Close this list, or the rejection comment", where: "Anywhere" },
  { keys: "Click, Ctrl-click, Shift-click", what: "Select one, toggle one, select a range", where: "Library" },
  { keys: "Ctrl-A", what: "Select every asset the filters show", where: "Library" },
  { keys: "a", what: "Approve the selection (rights managers)", where: "Library" },
  { keys: "r", what: "Reject the selection with the comment (rights managers)", where: "Library" },
  { keys: "j / ↓, k / ↑", what: "Next, previous asset", where: "Queue" },
  { keys: "a", what: "Approve the current asset", where: "Queue" },
  { keys: "r, then Enter", what: "Reject the current asset with a comment", where: "Queue" },
  { keys: "Shift-click a checkbox", what: "Check a range, then Approve selected", where: "Queue" },
];
