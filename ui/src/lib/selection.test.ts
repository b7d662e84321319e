import { describe, expect, it } from "vitest";
import { all, click, empty, pagesOf } from "./selection";

const plain = { shift: false, toggle: false };
const shift = { shift: true, toggle: false };
const toggle = { shift: false, toggle: true };

const ids = (s: { selected: Set<number> }) => [...s.selected].sort((a, b) => a - b);

describe("click", () => {
  it("selects one item and anchors there", () => {
    const s = click(empty(), 4, plain);
    expect(ids(s)).toEqual([4]);
    expect(s.anchor).toBe(4);
  });

  it("extends from the anchor with shift, in either direction", () => {
    expect(ids(click(click(empty(), 4, plain), 7, shift))).toEqual([4, 5, 6, 7]);
    expect(ids(click(click(empty(), 4, plain), 2, shift))).toEqual([2, 3, 4]);
  });

  it("toggles single items with ctrl and keeps the rest", () => {
    let s = click(empty(), 1, plain);
    s = click(s, 3, toggle);
    expect(ids(s)).toEqual([1, 3]);
    s = click(s, 1, toggle);
    expect(ids(s)).toEqual([3]);
  });

  it("adds a range to the selection with ctrl+shift", () => {
    let s = click(empty(), 0, plain);
    s = click(s, 5, toggle);
    s = click(s, 7, { shift: true, toggle: true });
    expect(ids(s)).toEqual([0, 5, 6, 7]);
  });

  it("shift without an anchor selects just the item", () => {
    expect(ids(click(empty(), 3, shift))).toEqual([3]);
  });
});

describe("all", () => {
  it("selects every index", () => {
    expect(ids(all(3))).toEqual([0, 1, 2]);
    expect(all(0).anchor).toBeNull();
  });
});

describe("pagesOf", () => {
  it("names each page holding a selected item once, in order", () => {
    const range = click(click(empty(), 150, { shift: false, toggle: false }), 650, { shift: true, toggle: false });
    expect(pagesOf(range, 200)).toEqual([0, 1, 2, 3]);
    const picked = click(click(empty(), 999, { shift: false, toggle: false }), 5, { shift: false, toggle: true });
    expect(pagesOf(picked, 200)).toEqual([0, 4]);
    expect(pagesOf(empty(), 200)).toEqual([]);
  });
});
