// Display helpers, kept pure so Vitest covers them.

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** 1536 → "1.5 KB" (decimal units, as file managers show sizes). */
export function bytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** "2024-05-01T10:20:30+02:00" → "2024-05-01 10:20"; the date as recorded, never shifted. */
export function date(iso: string | null | undefined): string {
  if (!iso) return "—";
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}))?/.exec(iso);
  if (!m) return iso;
  return m[2] ? `${m[1]} ${m[2]}` : m[1];
}

/** The caption of a grid cell: the title, else the file name, else the id. */
export function caption(item: { title: string | null; file_name: string | null; asset_id: string }): string {
  return item.title || item.file_name || item.asset_id.slice(0, 8);
}
