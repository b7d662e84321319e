// Multi-selection as file managers do it: click selects one, ctrl/cmd-click
// toggles one, shift-click extends from the anchor to the clicked item.

export interface Selection {
  /** Selected item indexes in the sorted grid. */
  selected: Set<number>;
  /** Where the next shift-click range starts. */
  anchor: number | null;
}

export function empty(): Selection {
  return { selected: new Set(), anchor: null };
}

export interface Modifiers {
  shift: boolean;
  toggle: boolean;
}

export function click(sel: Selection, index: number, mods: Modifiers): Selection {
  if (mods.shift && sel.anchor !== null) {
    const [from, to] = sel.anchor <= index ? [sel.anchor, index] : [index, sel.anchor];
    const selected = mods.toggle ? new Set(sel.selected) : new Set<number>();
    for (let i = from; i <= to; i++) selected.add(i);
    return { selected, anchor: sel.anchor };
  }
  if (mods.toggle) {
    const selected = new Set(sel.selected);
    if (selected.has(index)) selected.delete(index);
    else selected.add(index);
    return { selected, anchor: index };
  }
  return { selected: new Set([index]), anchor: index };
}

/** Every index in `0..total`. */
export function all(total: number): Selection {
  const selected = new Set<number>();
  for (let i = 0; i < total; i++) selected.add(i);
  return { selected, anchor: total > 0 ? 0 : null };
}

/**
 * The catalog pages (of `pageSize`) that hold the selected items, in order.
 * A shift-click range can span pages never scrolled past; their items must
 * be read before the selection is acted on, or a bulk edit would silently
 * leave them out.
 */
export function pagesOf(sel: Selection, pageSize: number): number[] {
  const pages = new Set<number>();
  for (const i of sel.selected) pages.add(Math.floor(i / pageSize));
  return [...pages].sort((a, b) => a - b);
}
