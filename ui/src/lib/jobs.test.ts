import { describe, expect, it } from "vitest";
import type { FixityReport } from "./bindings";
import { checkView, editStatus, exportStatus, importView, share, starting, type CheckProgress, type ExportProgress, type ImportProgress } from "./jobs";

const importing: ImportProgress = {
  progress: { done: 3, total: 6, unit: "files" }, current: "/p/b.jpg", finished: false,
  detail: { imported: 2, duplicates: 1, unchanged: 0, with_warnings: 1, failed: 0, skipped: 0, bytes_read: 2500, stacked: 0, cancelled: false },
};

function report(path: string, status: FixityReport["status"]): FixityReport {
  return { path, asset_id: "a", status, expected: "00", actual: null, error: status === "missing" ? "not found" : null };
}

const checking: CheckProgress = {
  progress: { done: 1000, total: 1000, unit: "bytes" }, current: "/p/d.jpg", finished: true,
  detail: {
    locations: 4,
    summary: { ok: 1, modified: 2, missing: 1, bytes_read: 900, cancelled: false },
    problems: [report("/p/a.jpg", "modified"), report("/p/c.jpg", "missing")],
  },
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

  it("says how many assets the import stacked, once it did", () => {
    const v = importView({ ...importing, detail: { ...importing.detail, stacked: 4 } });
    expect(v.counts).toBe("3 / 6 files · 2.5 KB · 2 new, 1 duplicates, 0 unchanged, 1 with warnings, 0 failed · 4 in stacks");
  });

  it("says a finished import was cancelled and drops the current file", () => {
    const v = importView({ ...importing, finished: true, detail: { ...importing.detail, cancelled: true } });
    expect(v.counts.endsWith(" · cancelled")).toBe(true);
    expect(v.current).toBeNull();
    expect(v.finished).toBe(true);
  });
});

describe("checkView", () => {
  it("follows bytes, lists the problems and counts the ones not listed", () => {
    const v = checkView(checking);
    // The core counts the sizes it planned, so a missing file (never read) still fills the bar.
    expect(v.percent).toBe(100);
    expect(checkView({ ...checking, progress: { done: 900, total: 1000, unit: "bytes" }, finished: false }).percent).toBe(90);
    expect(v.counts).toBe("4 / 4 files · 900 B of 1.0 KB · 1 intact, 2 modified, 1 missing");
    expect(v.problems).toEqual([
      "modified: /p/a.jpg",
      "missing: /p/c.jpg (not found)",
      "and 1 more, marked in the grid",
    ]);
  });

  it("has nothing to list when every file holds", () => {
    const detail = { ...checking.detail, summary: { ...checking.detail.summary, ok: 4, modified: 0, missing: 0 }, problems: [] };
    const v = checkView({ ...checking, detail });
    expect(v.problems).toEqual([]);
  });
});

describe("exportStatus", () => {
  it("names the phase", () => {
    expect(exportStatus(starting("assets", "export"))).toBe("Preparing…");
    const exporting: ExportProgress = starting("assets", "export", 100);
    expect(exportStatus({ ...exporting, progress: { ...exporting.progress, done: 40 } })).toBe("Exporting 40 / 100 assets");
    expect(exportStatus({ ...exporting, detail: "verify" })).toBe("Verifying what was written…");
  });
});

describe("editStatus", () => {
  it("counts the assets written", () => {
    expect(editStatus(starting("assets", null))).toBe("Preparing…");
    const editing = starting("assets", null, 2000);
    expect(editStatus({ ...editing, progress: { ...editing.progress, done: 512 } })).toBe("Editing 512 / 2000 assets");
  });
});
