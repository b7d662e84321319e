// What the job panel shows for each kind of long job (import, file check,
// export): one shape, so the panel itself knows nothing of the kinds.
// Pure, so Vitest covers it.

import type { CheckProgress, ExportProgress, ImportProgress } from "./bindings";
import { bytes } from "./format";

export type JobView = {
  /** What runs, as the panel's controls name it: "import", "file check". */
  name: string;
  /** 0 to 100; how much of what was planned is done. */
  percent: number;
  counts: string;
  /** The file in flight, while running. */
  current: string | null;
  finished: boolean;
  /** Lines worth reading after the job: files that failed a check. */
  problems: string[];
};

/** `done` of `total` as a whole percentage; 0 before anything is planned. */
export function share(done: number, total: number): number {
  if (total <= 0) return 0;
  return Math.min(100, Math.round((100 * done) / total));
}

export function importView(p: ImportProgress): JobView {
  const s = p.summary;
  return {
    name: "import",
    percent: share(p.files_done, p.files_found),
    counts:
      `${p.files_done} / ${p.files_found} files · ${bytes(p.bytes_done)} · ` +
      `${s.imported} new, ${s.duplicates} duplicates, ${s.unchanged} unchanged, ` +
      `${s.with_warnings} with warnings, ${s.failed} failed` +
      (p.finished && s.cancelled ? " · cancelled" : ""),
    current: p.finished ? null : p.current,
    finished: p.finished,
    problems: [],
  };
}

export function checkView(p: CheckProgress): JobView {
  const s = p.summary;
  const checked = s.ok + s.modified + s.missing;
  const shown = p.problems.map((r) => `${r.status}: ${r.path}${r.error ? ` (${r.error})` : ""}`);
  const more = s.modified + s.missing - p.problems.length;
  if (more > 0) shown.push(`and ${more} more, marked in the grid`);
  return {
    name: "file check",
    // Bytes, not files: one large video takes as long as a thousand thumbnails.
    // A missing file's bytes are never read, so a finished check is full.
    percent: p.finished && !s.cancelled ? 100 : share(s.bytes_read, p.bytes),
    counts:
      `${checked} / ${p.locations} files · ${bytes(s.bytes_read)} of ${bytes(p.bytes)} · ` +
      `${s.ok} intact, ${s.modified} modified, ${s.missing} missing` +
      (p.finished && s.cancelled ? " · cancelled" : ""),
    current: p.finished ? null : p.current,
    finished: p.finished,
    problems: shown,
  };
}

/** "Signing 40 / 100 assets" while exporting, then "Verifying…". */
export function exportStatus(p: ExportProgress): string {
  if (p.phase === "verify") return "Verifying what was written…";
  return p.total ? `Exporting ${p.done} / ${p.total} assets` : "Preparing…";
}
