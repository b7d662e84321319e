import { describe, expect, it } from "vitest";
import { gridKey, scrollToShow } from "./gridkeys";

// 10 assets in 4 columns: rows 0-3, 4-7, 8-9.
const shape = (active: number | null, pageRows = 1) => ({ active, columns: 4, total: 10, pageRows });

describe("gridKey", () => {
  it("moves by one across and by a row down and up", () => {
    expect(gridKey("ArrowRight", false, shape(1))).toEqual({ kind: "move", to: 2 });
    expect(gridKey("ArrowLeft", false, shape(4))).toEqual({ kind: "move", to: 3 });
    expect(gridKey("ArrowDown", false, shape(1))).toEqual({ kind: "move", to: 5 });
    expect(gridKey("ArrowUp", false, shape(5))).toEqual({ kind: "move", to: 1 });
  });

  it("stops at the ends instead of wrapping or leaving the grid", () => {
    expect(gridKey("ArrowLeft", false, shape(0))).toEqual({ kind: "move", to: 0 });
    expect(gridKey("ArrowRight", false, shape(9))).toEqual({ kind: "move", to: 9 });
    expect(gridKey("ArrowUp", false, shape(2))).toEqual({ kind: "move", to: 2 });
    // Column 3 has no cell in the short last row: stay in that column.
    expect(gridKey("ArrowDown", false, shape(7))).toEqual({ kind: "move", to: 7 });
    expect(gridKey("ArrowDown", false, shape(5))).toEqual({ kind: "move", to: 9 });
  });

  it("jumps a screenful of rows with Page Up/Down and to either end with Home/End", () => {
    expect(gridKey("PageDown", false, shape(1, 2))).toEqual({ kind: "move", to: 9 });
    expect(gridKey("PageDown", false, shape(2, 2))).toEqual({ kind: "move", to: 6 });
    expect(gridKey("PageUp", false, shape(9, 2))).toEqual({ kind: "move", to: 1 });
    expect(gridKey("Home", false, shape(7))).toEqual({ kind: "move", to: 0 });
    expect(gridKey("End", false, shape(2))).toEqual({ kind: "move", to: 9 });
  });

  it("lands on the first asset when nothing is active yet", () => {
    expect(gridKey("ArrowDown", false, shape(null))).toEqual({ kind: "move", to: 0 });
    expect(gridKey(" ", false, shape(null))).toEqual({ kind: "move", to: 0 });
    expect(gridKey("Enter", false, shape(null))).toBeNull();
  });

  it("selects with Space, opens with Enter, extends with Shift", () => {
    expect(gridKey(" ", false, shape(3))).toEqual({ kind: "toggle" });
    expect(gridKey("Enter", false, shape(3))).toEqual({ kind: "open" });
    expect(gridKey("ArrowRight", true, shape(3))).toEqual({ kind: "extend", to: 4 });
    expect(gridKey("End", true, shape(3))).toEqual({ kind: "extend", to: 9 });
  });

  it("ignores other keys and an empty grid", () => {
    expect(gridKey("x", false, shape(3))).toBeNull();
    expect(gridKey("ArrowDown", false, { active: null, columns: 4, total: 0, pageRows: 3 })).toBeNull();
  });

  it("keeps an active cell the grid has since lost in range", () => {
    expect(gridKey("ArrowLeft", false, { active: 40, columns: 4, total: 10, pageRows: 1 })).toEqual({ kind: "move", to: 8 });
  });
});

describe("scrollToShow", () => {
  it("scrolls only as far as shows the row", () => {
    expect(scrollToShow(5, 100, 0, 300)).toBe(300); // row 5 spans 500-600
    expect(scrollToShow(1, 100, 300, 300)).toBe(100);
    expect(scrollToShow(4, 100, 300, 300)).toBe(300);
  });
});
