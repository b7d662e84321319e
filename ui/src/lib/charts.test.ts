import { describe, expect, it } from "vitest";
import { groupBy, most, path, points, share } from "./charts";

describe("share", () => {
  it("is the fraction of the largest, kept within 0 and 1", () => {
    expect(share(5, 10)).toBe(0.5);
    expect(share(12, 10)).toBe(1);
    expect(share(-3, 10)).toBe(0);
    expect(share(3, 0)).toBe(0);
  });
});

describe("points and path", () => {
  const box = { width: 120, height: 60, pad: 10 };
  it("spreads the values across and puts the largest at the top", () => {
    expect(points([0, 50, 100], most([0, 50, 100]), box)).toEqual([
      { x: 10, y: 50 },
      { x: 60, y: 30 },
      { x: 110, y: 10 },
    ]);
    expect(path(points([0, 100], 100, box))).toBe("M10.0 50.0 L110.0 10.0");
  });
  it("puts a single value in the middle, and draws nothing for none", () => {
    expect(points([7], 7, box)).toEqual([{ x: 60, y: 10 }]);
    expect(path([])).toBe("");
  });
});

describe("groupBy", () => {
  it("keeps the order keys first appear in", () => {
    expect(groupBy(["b1", "a1", "b2"], (s) => s[0])).toEqual([["b", ["b1", "b2"]], ["a", ["a1"]]]);
  });
});
