import { describe, expect, it } from "vitest";
import { decisionsSummary, undoneSummary } from "./review";

describe("decisionsSummary", () => {
  it("counts outcomes by state and names the failed gates once", () => {
    const gate = (g: string) => ({ gate: g, description: "", reason: "" });
    expect(
      decisionsSummary([
        { asset_id: "a", state: "pending", failed_gates: [] },
        { asset_id: "b", state: "quarantined", failed_gates: [gate("payment_terms"), gate("creator")] },
        { asset_id: "c", state: "quarantined", failed_gates: [gate("creator")] },
      ]),
    ).toBe("1 pending, 2 quarantined (fails: creator, payment_terms).");
    expect(decisionsSummary([])).toBe("Nothing changed.");
  });
});

describe("undoneSummary", () => {
  it("says what was taken back and why any asset stands", () => {
    const u = { decided_at: "t", decision: "approved", assets: 3, reopened: 1, kept: [
      { asset_id: "a", reason: "exported since" },
      { asset_id: "b", reason: "exported since" },
    ] };
    expect(undoneSummary(u)).toBe("Took back your approval of 3 assets: 1 pending review again; 2 kept (exported since).");
    expect(undoneSummary({ ...u, decision: "rejected", assets: 1, reopened: 1, kept: [] }))
      .toBe("Took back your rejection of 1 asset: 1 pending review again.");
  });
});
