import { describe, expect, it } from "vitest";
import type { CheckProgress, FixityReport, ImportProgress } from "./bindings";
import { checkView, exportStatus, importView, share } from "./jobs";

const importing: ImportProgress = {
  files_found: 6, files_done: 3, bytes_found: 6000, bytes_done: 2500, current: "/p/b.jpg", finished: false,
  summary: { imported: 2, duplicates: 1, unchanged: 0, with_warnings: 1, failed: 0, skipped: 0, bytes_read: 2500, cancelled: false },
};

function report(path: string, status: FixityReport["status"]): FixityReport {
  return { path, asset_id: "a", status, expected: "00", actual: null, error: status === "missing" ? "not found" : null };
}

const checking: CheckProgress = {
  locations: 4, bytes: 1000, current: "/p/d.jpg", finished: true,
  summary: { ok: 1, modified: 2, missing: 1, bytes_read: 900, cancelled: false },
  problems: [report("/p/a.jpg", "modified"), report("/p/c.jpg", "missing")],
};

describe("share", () => {
  it("is 0 before anything is planned and never passes 100", () => {
    expect(share(0, 0)).toBe(0);
    expect(share(1, 3)).toBe(33);
    expect(share(5, 4)).toBe(100);
  });
});

describe("importView", () => {
  it("counts files and outcomes and names the file in flight", () => {
    const v = importView(importing);
    expect(v.name).toBe("import");
    expect(v.percent).toBe(50);
    expect(v.counts).toBe("3 / 6 files · 2.5 KB · 2 new, 1 duplicates, 0 unchanged, 1 with warnings, 0 failed");
    expect(v.current).toBe("/p/b.jpg");
  });

  it("says a finished import was cancelled and drops the current file", () => {
    const v = importView({ ...importing, finished: true, summary: { ...importing.summary, cancelled: true } });
    expect(v.counts.endsWith(" · cancelled")).toBe(true);
    expect(v.current).toBeNull();
    expect(v.finished).toBe(true);
  });
});

describe("checkView", () => {
  it("follows bytes, lists the problems and counts the ones not listed", () => {
    const v = checkView(checking);
    // Finished: full, though the missing file's bytes were never read.
    expect(v.percent).toBe(100);
    expect(checkView({ ...checking, finished: false }).percent).toBe(90);
    expect(v.counts).toBe("4 / 4 files · 900 B of 1.0 KB · 1 intact, 2 modified, 1 missing");
    expect(v.problems).toEqual([
      "modified: /p/a.jpg",
      "missing: /p/c.jpg (not found)",
      "and 1 more, marked in the grid",
    ]);
  });

  it("has nothing to list when every file holds", () => {
    const v = checkView({ ...checking, summary: { ...checking.summary, ok: 4, modified: 0, missing: 0 }, problems: [] });
    expect(v.problems).toEqual([]);
  });
});

describe("exportStatus", () => {
  it("names the phase", () => {
    expect(exportStatus({ phase: "export", done: 0, total: 0, finished: false })).toBe("Preparing…");
    expect(exportStatus({ phase: "export", done: 40, total: 100, finished: false })).toBe("Exporting 40 / 100 assets");
    expect(exportStatus({ phase: "verify", done: 100, total: 100, finished: false })).toBe("Verifying what was written…");
  });
});
