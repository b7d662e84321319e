// Which cells of a virtualized grid are on screen, and which pages of the
// catalog they need. Only the visible rows (plus a margin) are in the DOM, so
// scrolling 100,000 assets costs the same as scrolling 100.

export interface Layout {
  columns: number;
  rowHeight: number;
  total: number;
}

export interface Window {
  /** Index of the first item rendered. */
  first: number;
  /** One past the last item rendered. */
  last: number;
  /** Pixels above the first rendered row. */
  offsetTop: number;
  /** Height of the whole scrollable grid. */
  height: number;
}

/** Columns that fit `width` pixels with cells `cell` wide (at least one). */
export function columnsFor(width: number, cell: number): number {
  return Math.max(1, Math.floor(width / cell));
}

/** The items to render for a viewport at `scrollTop`, `viewport` pixels high, with `overscan` extra rows each side. */
export function visible(layout: Layout, scrollTop: number, viewport: number, overscan = 2): Window {
  const rows = Math.ceil(layout.total / layout.columns);
  const height = rows * layout.rowHeight;
  const firstRow = Math.max(0, Math.floor(scrollTop / layout.rowHeight) - overscan);
  const lastRow = Math.min(rows, Math.ceil((scrollTop + viewport) / layout.rowHeight) + overscan);
  return {
    first: Math.min(layout.total, firstRow * layout.columns),
    last: Math.min(layout.total, lastRow * layout.columns),
    offsetTop: firstRow * layout.rowHeight,
    height,
  };
}

/** The page numbers (of `pageSize` items) that items `first..last` fall in. */
export function pagesFor(first: number, last: number, pageSize: number): number[] {
  if (last <= first) return [];
  const pages: number[] = [];
  for (let p = Math.floor(first / pageSize); p <= Math.floor((last - 1) / pageSize); p++) pages.push(p);
  return pages;
}

/**
 * The pages among `held` to let go: those more than `margin` pages from
 * every page in `wanted` (the window's, the selection's). A grid scrolled
 * through a large library would otherwise keep every page it ever showed
 * (hundreds of thousands of items on the window's heap); the neighbours
 * kept are what the next page is read after (a keyset seek, not an OFFSET).
 */
export function farPages(held: Iterable<number>, wanted: Iterable<number>, margin = 1): number[] {
  const near = new Set<number>();
  for (const page of wanted) for (let p = page - margin; p <= page + margin; p++) near.add(p);
  return [...held].filter((page) => !near.has(page));
}
