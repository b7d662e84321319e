import { describe, expect, it } from "vitest";
import type { Verdict } from "./bindings";
import { why } from "./permits";

const refused = (rule: string, reason: string, refused = 1): Verdict => ({ allowed: false, rule, reason, refused });

describe("why", () => {
  it("gives the core's reason for a rule about the assets", () => {
    expect(why(refused("separation-of-duties", "rosa uploaded or last edited asset a1; someone else must approve it"), 1)).toBe(
      "rosa uploaded or last edited asset a1; someone else must approve it",
    );
    expect(why(refused("workflow-state", "asset a1 is draft; only a pending asset can be approved", 3), 5)).toBe(
      "asset a1 is draft; only a pending asset can be approved (3 of 5 selected assets are refused)",
    );
  });

  it("says nothing when allowed, unknown, or refused by the role or an empty selection", () => {
    expect(why({ allowed: true, rule: null, reason: null, refused: 0 }, 2)).toBeNull();
    expect(why(null, 2)).toBeNull();
    expect(why(refused("role", "cy is a creator; a creator may not approve", 2), 2)).toBeNull();
    expect(why(refused("selection", "select one or more assets first", 0), 0)).toBeNull();
  });
});
