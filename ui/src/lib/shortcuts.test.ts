import { describe, expect, it } from "vitest";
import { HELP, shortcut, VIEWS } from "./shortcuts";

const body = { tagName: "BODY" };
const press = (key: string, more: Partial<Parameters<typeof shortcut>[0]> = {}) =>
  shortcut({ key, ctrlKey: false, metaKey: false, altKey: false, target: body, ...more });

describe("shortcut", () => {
  it("switches views with the digits, in the top bar's order", () => {
    expect(press("1")).toEqual({ kind: "view", view: "library" });
    expect(press("2")).toEqual({ kind: "view", view: "queue" });
    expect(press("3")).toEqual({ kind: "view", view: "duplicates" });
    expect(press("6")).toEqual({ kind: "view", view: "settings" });
    expect(press("7")).toBeNull();
    expect(press("0")).toBeNull();
  });

  it("opens help and search", () => {
    expect(press("?")).toEqual({ kind: "help" });
    expect(press("/")).toEqual({ kind: "search" });
    expect(press("x")).toBeNull();
  });

  it("leaves typing and modified keys alone, but Escape always closes", () => {
    expect(press("2", { target: { tagName: "INPUT", type: "text" } })).toBeNull();
    expect(press("?", { target: { tagName: "TEXTAREA" } })).toBeNull();
    expect(press("1", { ctrlKey: true })).toBeNull();
    expect(press("/", { metaKey: true })).toBeNull();
    // A checkbox has focus after a click in the queue; digits still switch views.
    expect(press("4", { target: { tagName: "INPUT", type: "checkbox" } })).toEqual({ kind: "view", view: "dashboard" });
    expect(press("Escape", { target: { tagName: "INPUT", type: "text" } })).toEqual({ kind: "close" });
  });

  it("selects all with Ctrl-A or Cmd-A, unless typing", () => {
    expect(press("a", { ctrlKey: true })).toEqual({ kind: "select-all" });
    expect(press("A", { metaKey: true })).toEqual({ kind: "select-all" });
    expect(press("a", { ctrlKey: true, target: { tagName: "INPUT", type: "search" } })).toBeNull();
    expect(press("a", { ctrlKey: true, altKey: true })).toBeNull();
  });

  it("lists every view key in the help", () => {
    expect(HELP.find((h) => h.keys === "1 – 6")?.what.split(", ").length).toBe(VIEWS.length);
  });
});
