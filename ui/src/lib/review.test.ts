import { describe, expect, it } from "vitest";
import { decisionsSummary } from "./review";

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
