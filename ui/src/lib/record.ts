// Reading the parts of an asset record the detail panel lists.

/** Fields of the record that are not rights metadata (the rest, flattened in, are). */
const NOT_RIGHTS = new Set([
  "asset_id", "checksum", "size_bytes", "media_type", "locations", "title", "capture_date",
  "capture_date_source", "original_source", "width", "height", "row_count", "exif", "previews",
  "warnings", "imported_at", "workflow_state", "marketplace_approved", "provenance_hash",
  "uploaded_by", "last_edited_by",
]);

/** The rights fields that are set, as [name, display value], by name. */
export function rightsOf(record: object): [string, string][] {
  return Object.entries(record)
    .filter(([key, value]) => !NOT_RIGHTS.has(key) && value !== null && value !== undefined)
    .map(([key, value]): [string, string] => [key, typeof value === "string" ? value : JSON.stringify(value)])
    .sort(([a], [b]) => a.localeCompare(b));
}
