import { describe, expect, it } from "vitest";
import { columnsFor, farPages, pagesFor, visible } from "./virtual";

describe("visible", () => {
  const layout = { columns: 5, rowHeight: 100, total: 100_000 };

  it("renders only the rows on screen plus the overscan", () => {
    const w = visible(layout, 0, 600, 2);
    expect(w.first).toBe(0);
    expect(w.last).toBe(8 * 5); // 6 rows on screen + 2 below
    expect(w.height).toBe(20_000 * 100);
    expect(w.offsetTop).toBe(0);
  });

  it("jumps deep without rendering what lies between", () => {
    const w = visible(layout, 1_000_000, 600, 2);
    expect(w.first).toBe((10_000 - 2) * 5);
    expect(w.last).toBe((10_006 + 2) * 5);
    expect(w.offsetTop).toBe((10_000 - 2) * 100);
  });

  it("stops at the last item of a partial last row", () => {
    const w = visible({ columns: 4, rowHeight: 50, total: 10 }, 0, 1000);
    expect(w.last).toBe(10);
    expect(w.height).toBe(150);
  });

  it("is empty for an empty library", () => {
    const w = visible({ columns: 4, rowHeight: 50, total: 0 }, 0, 1000);
    expect([w.first, w.last, w.height]).toEqual([0, 0, 0]);
  });
});

describe("columnsFor", () => {
  it("fits whole cells and never goes below one", () => {
    expect(columnsFor(1000, 168)).toBe(5);
    expect(columnsFor(100, 168)).toBe(1);
  });
});

describe("pagesFor", () => {
  it("lists every page a range touches", () => {
    expect(pagesFor(0, 200, 200)).toEqual([0]);
    expect(pagesFor(190, 410, 200)).toEqual([0, 1, 2]);
    expect(pagesFor(5, 5, 200)).toEqual([]);
  });
});

describe("farPages", () => {
  it("lets go of pages away from the window, keeping a neighbour each side", () => {
    expect(farPages([0, 1, 2, 3, 4, 5, 9], [3])).toEqual([0, 1, 5, 9]);
    expect(farPages([0, 1, 2, 3, 4, 5, 9], [3], 2)).toEqual([0, 9]);
  });

  it("keeps every page wanted, the selection's far away included", () => {
    expect(farPages([0, 1, 50, 99, 120], [50, 51, 120])).toEqual([0, 1, 99]);
    expect(farPages([7], [])).toEqual([7]);
    expect(farPages([], [3])).toEqual([]);
  });
});
