// Every long job reaches the window the same way: a `JobUpdate` carrying
// the core's progress (done of total, in its unit) beside what that kind of
// job tallies (`detail`). Here: the updates of each kind, and what the job
// panel shows of them, in one shape, so the panel knows nothing of the
// kinds. Pure, so Vitest covers it.

import type { CheckTally, ExportPhase, ImportSummary, JobUpdate, SyncTally, Unit } from "./bindings";
import { bytes } from "./format";

export type ImportProgress = JobUpdate<ImportSummary>;
export type CheckProgress = JobUpdate<CheckTally>;
export type ExportProgress = JobUpdate<ExportPhase>;
export type SyncProgress = JobUpdate<SyncTally>;
export type EditProgress = JobUpdate<null>;

/** The update a job stands at before its first report: nothing done of `total`. */
export function starting<D>(unit: Unit, detail: D, total = 0): JobUpdate<D> {
  return { progress: { done: 0, total, unit }, current: null, detail, finished: false };
}

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
  const s = p.detail;
  return {
    name: "import",
    percent: share(p.progress.done, p.progress.total),
    counts:
      `${p.progress.done} / ${p.progress.total} files · ${bytes(s.bytes_read)} · ` +
      `${s.imported} new, ${s.duplicates} duplicates, ${s.unchanged} unchanged, ` +
      `${s.with_warnings} with warnings, ${s.failed} failed` +
      (s.stacked > 0 ? ` · ${s.stacked} in stacks` : "") +
      (p.finished && s.cancelled ? " · cancelled" : ""),
    current: p.finished ? null : p.current,
    finished: p.finished,
    problems: [],
  };
}

export function checkView(p: CheckProgress): JobView {
  const t = p.detail;
  const s = t.summary;
  const checked = s.ok + s.modified + s.missing;
  const shown = t.problems.map((r) => `${r.status}: ${r.path}${r.error ? ` (${r.error})` : ""}`);
  const more = s.modified + s.missing - t.problems.length;
  if (more > 0) shown.push(`and ${more} more, marked in the grid`);
  return {
    name: "file check",
    // Bytes, not files: one large video takes as long as a thousand thumbnails.
    percent: share(p.progress.done, p.progress.total),
    counts:
      `${checked} / ${t.locations} files · ${bytes(s.bytes_read)} of ${bytes(p.progress.total)} · ` +
      `${s.ok} intact, ${s.modified} modified, ${s.missing} missing` +
      (p.finished && s.cancelled ? " · cancelled" : ""),
    current: p.finished ? null : p.current,
    finished: p.finished,
    problems: shown,
  };
}

/** "Exporting 40 / 100 assets" while exporting, then "Verifying…". */
export function exportStatus(p: ExportProgress): string {
  if (p.detail === "verify") return "Verifying what was written…";
  return p.progress.total ? `Exporting ${p.progress.done} / ${p.progress.total} assets` : "Preparing…";
}

/** "Editing 512 / 2,000 assets" while a bulk edit writes. */
export function editStatus(p: EditProgress): string {
  return p.progress.total ? `Editing ${p.progress.done} / ${p.progress.total} assets` : "Preparing…";
}
