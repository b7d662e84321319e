import { describe, expect, it } from "vitest";
import { check, gateWords, kept, nextCurrent, queueKey, step, typing } from "./queue";

describe("queueKey", () => {
  it("moves with j/k and the arrows, decides with a and r", () => {
    expect(["j", "ArrowDown", "k", "ArrowUp", "a", "r"].map(queueKey)).toEqual([
      "next", "next", "previous", "previous", "approve", "reject",
    ]);
    expect(queueKey("x")).toBeNull();
    expect(queueKey("A")).toBeNull();
  });
});

describe("typing", () => {
  it("leaves keys to text fields but not to checkboxes", () => {
    expect(typing({ tagName: "INPUT", type: "text" })).toBe(true);
    expect(typing({ tagName: "INPUT" })).toBe(true);
    expect(typing({ tagName: "TEXTAREA" })).toBe(true);
    expect(typing({ tagName: "SELECT" })).toBe(true);
    expect(typing({ tagName: "INPUT", type: "checkbox" })).toBe(false);
    expect(typing({ tagName: "TR" })).toBe(false);
    expect(typing(null)).toBe(false);
  });
});

describe("step", () => {
  it("stays inside the queue", () => {
    expect(step(0, -1, 3)).toBe(0);
    expect(step(1, 1, 3)).toBe(2);
    expect(step(2, 1, 3)).toBe(2);
    expect(step(5, 0, 0)).toBe(0);
  });
});

describe("nextCurrent", () => {
  const before = ["a", "b", "c", "d"];
  it("moves to the next item still waiting after a decision", () => {
    expect(nextCurrent(before, "b", ["a", "c", "d"])).toBe("c");
    expect(nextCurrent(before, "b", ["a", "d"])).toBe("d");
  });
  it("keeps the current item when it still waits (a refused decision)", () => {
    expect(nextCurrent(before, "b", before)).toBe("b");
  });
  it("goes back when the last item was decided", () => {
    expect(nextCurrent(before, "d", ["a", "b", "c"])).toBe("c");
  });
  it("falls back on the first item, or nothing", () => {
    expect(nextCurrent(before, null, ["c", "d"])).toBe("c");
    expect(nextCurrent(before, "x", ["c"])).toBe("c");
    expect(nextCurrent(before, "a", [])).toBeNull();
  });
});

describe("check", () => {
  const ids = ["a", "b", "c", "d"];
  it("toggles one item", () => {
    let s = check(new Set(), ids, null, 1, false);
    expect([...s]).toEqual(["b"]);
    s = check(s, ids, 1, 1, false);
    expect([...s]).toEqual([]);
  });
  it("adds the range from the anchor with shift, either way", () => {
    expect([...check(new Set(["b"]), ids, 1, 3, true)].sort()).toEqual(["b", "c", "d"]);
    expect([...check(new Set(["d"]), ids, 3, 0, true)].sort()).toEqual(["a", "b", "c", "d"]);
  });
  it("toggles when shift has no anchor", () => {
    expect([...check(new Set(), ids, null, 2, true)]).toEqual(["c"]);
  });
});

describe("kept", () => {
  it("drops decided items and keeps queue order", () => {
    expect([...kept(new Set(["d", "b", "x"]), ["a", "b", "c", "d"])]).toEqual(["b", "d"]);
  });
});

describe("gateWords", () => {
  it("says what is missing in words", () => {
    const gate = { gate: "required-fields", description: "", reason: "missing signed_contract_id, tax_and_payout_info" };
    expect(gateWords(gate)).toBe("Missing signed contract id, tax and payout info");
    expect(gateWords({ ...gate, reason: "license NO-TRAIN does not allow AI training" })).toBe(
      "License NO-TRAIN does not allow AI training",
    );
  });
});
