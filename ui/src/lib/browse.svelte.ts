// What the library view shows: the grid's filter and sort (or the open
// stack), how many cells it has, the selection in the grid and the asset open in the detail panel.
// The header (the count), the window's keys (select all) and the library's
// refresh read it as well as the grid.

import type { Filter, GridItem, GridSort } from "./bindings";
import { empty, type Selection } from "./selection";

const noFilter: Filter = {
  media_type: null, since: null, until: null, make: null, text: null, license_tag: null, state: null, creator: null,
};

class Browse {
  /** Replaced, never changed in place: the grid tells a new query by identity. */
  filter: Filter = $state({ ...noFilter });
  sort: GridSort = $state("capture_date");
  /** The open stack (any of its assets' id): the grid shows its assets instead of the library. */
  stack: string | null = $state(null);
  /** Assets matching the filter. */
  total = $state(0);
  selection: Selection = $state(empty());
  /** The asset in the detail panel. */
  current: GridItem | null = $state(null);
}

export const browse = new Browse();
