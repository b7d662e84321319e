// Wording of review outcomes.

import type { Decision, UndoneDecision } from "./bindings";

/** "2 approved, 1 quarantined (fails: license_tag)" — counts by resulting state, with the gates that failed. */
export function decisionsSummary(decisions: Decision[]): string {
  if (decisions.length === 0) return "Nothing changed.";
  const counts = new Map<string, number>();
  const gates = new Set<string>();
  for (const d of decisions) {
    counts.set(d.state, (counts.get(d.state) ?? 0) + 1);
    for (const g of d.failed_gates) gates.add(g.gate);
  }
  const parts = [...counts].map(([state, n]) => `${n} ${state}`);
  const failed = gates.size ? ` (fails: ${[...gates].sort().join(", ")})` : "";
  return `${parts.join(", ")}${failed}.`;
}

/** "Took back your approval of 3 assets: 2 pending review again; 1 kept (exported since)." */
export function undoneSummary(u: UndoneDecision): string {
  const what = u.decision === "approved" ? "approval" : "rejection";
  const plural = u.assets === 1 ? "asset" : "assets";
  const reasons = [...new Set(u.kept.map((k) => k.reason))].join("; ");
  const kept = u.kept.length ? `; ${u.kept.length} kept (${reasons})` : "";
  return `Took back your ${what} of ${u.assets} ${plural}: ${u.reopened} pending review again${kept}.`;
}
