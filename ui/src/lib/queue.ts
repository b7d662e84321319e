// The review queue's keyboard and selection logic, kept apart from the view
// so Vitest covers it. Which assets wait, and what they lack, is the core's.

import type { FailedGate } from "./bindings";

export type QueueKey = "next" | "previous" | "approve" | "reject";

/** What a key does in the queue: j/k or the arrows move, a approves, r rejects. */
export function queueKey(key: string): QueueKey | null {
  switch (key) {
    case "j":
    case "ArrowDown":
      return "next";
    case "k":
    case "ArrowUp":
      return "previous";
    case "a":
      return "approve";
    case "r":
      return "reject";
    default:
      return null;
  }
}

/** Whether a key press belongs to a text field rather than to the queue. */
export function typing(target: { tagName: string; type?: string } | null): boolean {
  if (!target) return false;
  if (target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
  return target.tagName === "INPUT" && !["checkbox", "radio", "button", "submit"].includes(target.type ?? "text");
}

/** The position `delta` rows away from `index`, kept inside `0..length`. */
export function step(index: number, delta: number, length: number): number {
  if (length === 0) return 0;
  return Math.min(length - 1, Math.max(0, index + delta));
}

/**
 * Which item is current once the queue reloads after a decision: the first
 * one after the old current item that is still waiting, else the nearest
 * before it, else the first of the new queue.
 */
export function nextCurrent(before: string[], current: string | null, after: string[]): string | null {
  const waiting = new Set(after);
  const at = current === null ? -1 : before.indexOf(current);
  if (at >= 0) {
    for (let i = at; i < before.length; i++) if (waiting.has(before[i])) return before[i];
    for (let i = at - 1; i >= 0; i--) if (waiting.has(before[i])) return before[i];
  }
  return after[0] ?? null;
}

/**
 * A checkbox click: toggles the clicked item; with shift, selects every item
 * from the last clicked one to it.
 */
export function check(selected: Set<string>, ids: string[], anchor: number | null, index: number, shift: boolean): Set<string> {
  const next = new Set(selected);
  if (shift && anchor !== null) {
    const [from, to] = anchor <= index ? [anchor, index] : [index, anchor];
    for (let i = from; i <= to; i++) next.add(ids[i]);
    return next;
  }
  if (next.has(ids[index])) next.delete(ids[index]);
  else next.add(ids[index]);
  return next;
}

/** The selected ids still in the queue, in queue order. */
export function kept(selected: Set<string>, ids: string[]): Set<string> {
  return new Set(ids.filter((id) => selected.has(id)));
}

/** "missing signed_contract_id, tax_and_payout_info" → "Missing signed contract id, tax and payout info". */
export function gateWords(gate: FailedGate): string {
  const words = gate.reason.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
