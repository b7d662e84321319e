// The arithmetic behind the dashboard's charts, kept out of the markup so it
// is tested: bar lengths, and a line's points and path in an SVG box.

/** `value` as a share (0 to 1) of `max`; 0 when there is nothing to compare with. */
export function share(value: number, max: number): number {
  if (!(max > 0) || !(value > 0)) return 0;
  return Math.min(1, value / max);
}

/** The largest of `values`, at least 0. */
export function most(values: number[]): number {
  return values.reduce((m, v) => Math.max(m, v), 0);
}

export interface Box {
  width: number;
  height: number;
  /** Room kept on each side for the axis and the labels. */
  pad: number;
}

/**
 * Where `values` (one per step, left to right) sit in `box`, with `max` at
 * the top and 0 at the bottom. One value sits in the middle.
 */
export function points(values: number[], max: number, box: Box): { x: number; y: number }[] {
  const inner = { w: box.width - 2 * box.pad, h: box.height - 2 * box.pad };
  const step = values.length > 1 ? inner.w / (values.length - 1) : 0;
  return values.map((v, i) => ({
    x: box.pad + (values.length > 1 ? i * step : inner.w / 2),
    y: box.pad + inner.h * (1 - share(v, max)),
  }));
}

/** An SVG path through `pts`, or "" for none. */
export function path(pts: { x: number; y: number }[]): string {
  return pts.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(" ");
}

/** Rows of `items` grouped by `key`, in the order each key first appears. */
export function groupBy<T>(items: T[], key: (item: T) => string): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups];
}
