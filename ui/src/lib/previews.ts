// Which picture file a view asks the shell for.

/**
 * The grid cell's rendition of the thumbnail at `relative` (under the
 * library's previews/): the file beside it named `…-cell.jpg`, the rule of
 * `assay_preview::cell_name`. The shell makes it on first request. It fits
 * the 168 x 112 box a cell shows, so the window keeps fewer than half the
 * decoded pixels the 256-pixel thumbnail would cost it. A name that is no
 * JPEG's is the thumbnail itself.
 */
export function cellPath(relative: string): string {
  if (relative.endsWith("-cell.jpg") || !relative.endsWith(".jpg")) return relative;
  return `${relative.slice(0, -".jpg".length)}-cell.jpg`;
}
