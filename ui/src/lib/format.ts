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

/** Seconds in their two largest units, as `assay report` prints them: 62 → "1m 2s", 90061 → "1d 1h". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const [d, h, m, r] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60), s % 60];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${r}s`;
  return `${r}s`;
}

/** A share from 0 to 1 as a percentage with one decimal: 0.6667 → "66.7%". */
export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

const ROLE_NAMES: Record<string, string> = {
  creator: "Creator",
  steward: "Steward",
  rights_manager: "Rights manager",
  admin: "Administrator",
};

/** A role as people say it: "rights_manager" → "Rights manager". */
export function roleName(role: string): string {
  return ROLE_NAMES[role] ?? role.replace(/_/g, " ");
}
