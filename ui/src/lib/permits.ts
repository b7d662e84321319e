// Wording of the core's permits: why a control the acting user's role
// offers is disabled for the assets in front of them.

import type { Verdict } from "./bindings";

/**
 * The core's reason an action is refused, for showing beside its control;
 * null when it is allowed, still unknown, refused by the role (the control
 * is not shown then) or because nothing is selected.
 */
export function why(verdict: Verdict | null | undefined, selected: number): string | null {
  if (!verdict || verdict.allowed || !verdict.reason) return null;
  if (verdict.rule === "role" || verdict.rule === "selection") return null;
  const more = selected > 1 ? ` (${verdict.refused} of ${selected} selected assets are refused)` : "";
  return `${verdict.reason}${more}`;
}
