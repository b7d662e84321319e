// The library grid at the keyboard, as the ARIA grid pattern has it: arrow
// keys move the active cell, Page Up/Down move a screenful of rows, Home/End
// jump to the first and last asset (as photo browsers do, rather than to the
// ends of the row), Space selects and Enter opens. Pure, so it is tested
// without a window.

export type GridKey =
  | { kind: "move"; to: number }
  | { kind: "toggle" }
  | { kind: "extend"; to: number }
  | { kind: "open" };

export interface GridShape {
  /** The active cell's index, or null before one was chosen. */
  active: number | null;
  columns: number;
  total: number;
  /** Whole rows the viewport shows (at least one). */
  pageRows: number;
}

/** What `key` (with Shift held or not) does in a grid shaped `shape`, or null when it does nothing there. */
export function gridKey(key: string, shift: boolean, shape: GridShape): GridKey | null {
  const { columns, total } = shape;
  if (total === 0) return null;
  const at = shape.active === null ? null : Math.min(Math.max(shape.active, 0), total - 1);
  if (key === " " || key === "Spacebar") return at === null ? { kind: "move", to: 0 } : { kind: "toggle" };
  if (key === "Enter") return at === null ? null : { kind: "open" };
  const page = Math.max(1, shape.pageRows) * columns;
  const from = at ?? 0;
  const targets: Record<string, number> = {
    ArrowRight: from + 1,
    ArrowLeft: from - 1,
    ArrowDown: from + columns,
    ArrowUp: from - columns,
    PageDown: from + page,
    PageUp: from - page,
    Home: 0,
    End: total - 1,
  };
  if (!(key in targets)) return null;
  // Before any cell is active, the first key lands on the first asset.
  let to = at === null ? 0 : targets[key];
  if (key === "ArrowDown" || key === "ArrowUp" || key === "PageDown" || key === "PageUp") {
    // A vertical move past either end stops in the same column's last
    // (or first) row rather than wrapping.
    while (to >= total) to -= columns;
    while (to < 0) to += columns;
    if (to >= total || to < 0) to = from;
  }
  to = Math.min(Math.max(to, 0), total - 1);
  return shift ? { kind: "extend", to } : { kind: "move", to };
}

/** The scroll position that shows row `row` (of `rowHeight` pixels) in a viewport `height` high now at `scrollTop`. */
export function scrollToShow(row: number, rowHeight: number, scrollTop: number, height: number): number {
  const top = row * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + height) return Math.max(0, top + rowHeight - height);
  return scrollTop;
}
