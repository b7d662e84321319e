//! The Markdown report: the setup, every figure, and whether each target holds.

use std::path::Path;
use std::time::Duration;

use crate::measure::Import;
use assay_bench::generate::{FileSet, Generation};
use assay_bench::machine::Machine;

/// The complete import must run at least this many times the batched
/// peer's files/s.
const SPEEDUP_TARGET: f64 = 4.0;
/// Files a second that the first phase makes browsable.
const BROWSABLE_TARGET: f64 = 150.0;
const RESCAN_TARGET: f64 = 20_000.0;
const MEMORY_TARGET_MB: f64 = 300.0;
const MEMORY_TARGET_FILES: u64 = 1000;

/// What the run was given.
pub struct Setup<'a> {
    pub machine: &'a Machine,
    pub command_line: String,
    pub assay: &'a Path,
    pub assay_version: String,
    pub large: &'a FileSet,
    /// The large files again, each with an MPF preview.
    pub mpf: Option<&'a FileSet>,
    pub small: &'a FileSet,
    pub rss_method: &'static str,
    pub peer_versions: Option<String>,
}

/// What the run measured.
pub struct Results {
    pub plain: Phases,
    pub with_mpf: Option<Phases>,
    pub large_rescan: Import,
    pub small_import: Import,
    pub small_rescan: Import,
    pub peer: Option<Peer>,
}

/// One set of large files imported in two phases, and in one go.
pub struct Phases {
    /// `assay import --defer-previews`: every file browsable.
    pub browsable: Import,
    /// `assay previews` on that library.
    pub previews: Import,
    /// `assay import`, both phases, on a fresh library.
    pub complete: Import,
}

pub struct Peer {
    pub files: usize,
    pub of: usize,
    pub bytes: u64,
    /// One file per process.
    pub per_file: Duration,
    /// `batch` files per process.
    pub batched: Duration,
    /// Processes at a time.
    pub workers: usize,
    pub batch: usize,
}

impl Peer {
    fn rate(&self, wall: Duration) -> f64 {
        self.files as f64 / wall.as_secs_f64()
    }
}

pub fn markdown(setup: &Setup, results: &Results) -> String {
    let mut out = Vec::new();
    header(&mut out, setup, results);
    table(&mut out, results);
    targets(&mut out, results);
    out.join("\n") + "\n"
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn rate(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

fn header(out: &mut Vec<String>, setup: &Setup, results: &Results) {
    let m = setup.machine;
    let ram = m.ram_bytes.map_or("unknown".into(), |b| {
        format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)
    });
    out.push("# `assay import` benchmark".into());
    out.push(String::new());
    out.push(format!(
        "- **Machine:** {}, {} cores, {ram} RAM; {}; load average {} at the start",
        m.cpu, m.cores, m.os, m.load
    ));
    out.push(format!("- **Command:** `{}`", setup.command_line));
    out.push(format!(
        "- **assay:** `{}` ({})",
        setup.assay.display(),
        setup.assay_version
    ));
    let sets = [
        Some(("Large files", setup.large)),
        setup
            .mpf
            .map(|set| ("Large files with an MPF preview", set)),
        Some(("Small files", setup.small)),
    ];
    for (label, set) in sets.into_iter().flatten() {
        out.push(format!(
            "- **{label}:** {} generated camera-like JPEGs with EXIF ({}), {} in all; \
             {} / {} / {} min / mean / max; in `{}`",
            set.files.len(),
            set.format,
            size(set.total_bytes),
            size(set.min_bytes),
            size(set.mean_bytes()),
            size(set.max_bytes),
            set.dir.display()
        ));
        if let Some(g) = &set.generation {
            out.push(generation(label, g));
        }
    }
    out.push(format!("- **Peak memory:** {}", setup.rss_method));
    match (&setup.peer_versions, &results.peer) {
        (Some(versions), Some(p)) => out.push(format!(
            "- **Peer pipeline:** `sha256sum`, `exiftool -json`, `vipsthumbnail -s 256` and \
             `vipsthumbnail -s 1600`, run once with one file per process and once with {} files \
             per process (each tool takes a list), {} processes at a time; {} of the {} large \
             files (without MPF previews, which these tools do not use); {versions}",
            p.batch, p.workers, p.files, p.of
        )),
        _ => out.push("- **Peer pipeline:** skipped (`--skip-peer`)".into()),
    }
    out.push(
        "- **Conditions:** the large files are read once before timing, so every run \
         reads from a warm page cache; libraries and thumbnails go to a fresh temporary \
         folder beside the cache; MB = 10^6 bytes."
            .into(),
    );
    out.push(String::new());
}

/// A file or set size in kB, MB or GB (powers of 10).
fn size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.2} MB", b / 1e6)
    } else {
        format!("{:.1} kB", b / 1e3)
    }
}

fn generation(label: &str, g: &Generation) -> String {
    let per_file = g.per_file.as_secs_f64();
    let per_file = if per_file >= 1.0 {
        format!("{per_file:.2} s")
    } else {
        format!("{:.2} ms", per_file * 1e3)
    };
    format!(
        "  - {label} generated this run: {} files in {:.1} s on {} threads ({per_file} per file per thread)",
        g.files,
        g.wall.as_secs_f64(),
        g.threads,
    )
}

fn outcome(i: &Import) -> String {
    let t = &i.tally;
    let mut parts = Vec::new();
    for (n, what) in [
        (t.imported, "imported"),
        (t.duplicate, "duplicates"),
        (t.unchanged, "unchanged"),
        (t.failed, "failed"),
        (t.made, "previews made"),
        (t.not_made, "previews not made"),
        (t.unavailable, "unavailable"),
        (t.with_warnings, "with warnings"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    if t.total() != i.files {
        parts.push(format!("**{} reported, {} expected**", t.total(), i.files));
    }
    parts.join(", ")
}

fn import_row(label: &str, i: &Import, with_mb: bool) -> String {
    format!(
        "| {label} | {} | {:.3} | {} | {} | {} | {} |",
        i.files,
        i.wall.as_secs_f64(),
        rate(i.files_per_second()),
        if with_mb {
            format!("{:.1}", i.mb_per_second())
        } else {
            "—".into()
        },
        i.peak_rss_bytes
            .map_or("—".into(), |b| format!("{:.1}", mb(b))),
        outcome(i)
    )
}

fn table(out: &mut Vec<String>, r: &Results) {
    out.push("## Results".into());
    out.push(String::new());
    out.push(
        "| Measurement | Files | Wall (s) | Files/s | MB/s | Peak RSS (MB) | Outcome |".into(),
    );
    out.push("|---|---:|---:|---:|---:|---:|---|".into());
    let sets = [
        Some(("", &r.plain)),
        r.with_mpf.as_ref().map(|p| (" with MPF", p)),
    ];
    for (label, phases) in sets.into_iter().flatten() {
        for (step, import) in [
            (
                "first phase (`--defer-previews`): browsable",
                &phases.browsable,
            ),
            ("second phase (`assay previews`)", &phases.previews),
            ("complete import, new library", &phases.complete),
        ] {
            out.push(import_row(
                &format!("assay, large files{label}, {step}"),
                import,
                true,
            ));
        }
    }
    out.push(import_row(
        "assay re-scan, large files, unchanged",
        &r.large_rescan,
        false,
    ));
    out.push(import_row(
        "assay import, small files, new library",
        &r.small_import,
        true,
    ));
    out.push(import_row(
        "assay re-scan, small files, unchanged",
        &r.small_rescan,
        false,
    ));
    if let Some(p) = &r.peer {
        for (label, wall) in [
            (
                format!(
                    "peer pipeline, one file per process, {} at a time",
                    p.workers
                ),
                p.per_file,
            ),
            (
                format!(
                    "peer pipeline, {} files per process, {} at a time",
                    p.batch, p.workers
                ),
                p.batched,
            ),
        ] {
            out.push(format!(
                "| {label} | {} | {:.3} | {} | {:.1} | — | |",
                p.files,
                wall.as_secs_f64(),
                rate(p.rate(wall)),
                mb(p.bytes) / wall.as_secs_f64()
            ));
        }
        out.push(String::new());
        out.push("| Ratio (files/s) | Value |".into());
        out.push("|---|---:|".into());
        for (label, phases) in sets.into_iter().flatten() {
            let assay = phases.complete.files_per_second();
            for (peer, wall) in [("one file per process", p.per_file), ("batched", p.batched)] {
                out.push(format!(
                    "| assay complete import{label} ÷ peer, {peer} | {:.2}× |",
                    assay / p.rate(wall)
                ));
            }
        }
    }
    out.push(String::new());
}

fn verdict(holds: bool) -> &'static str {
    if holds {
        "yes"
    } else {
        "**no**"
    }
}

fn targets(out: &mut Vec<String>, r: &Results) {
    out.push("## Targets".into());
    out.push(String::new());
    out.push("| Target | Measured | Holds |".into());
    out.push("|---|---|---|".into());
    let sets = [
        Some(("", &r.plain)),
        r.with_mpf.as_ref().map(|p| (" (MPF)", p)),
    ];
    for (label, phases) in sets.into_iter().flatten() {
        let browsable = phases.browsable.files_per_second();
        out.push(format!(
            "| Browsable ≥ {BROWSABLE_TARGET:.0} files/s{label} | {} files/s | {} |",
            rate(browsable),
            verdict(browsable >= BROWSABLE_TARGET)
        ));
        let complete = phases.complete.files_per_second();
        match &r.peer {
            Some(p) => {
                let ratio = complete / p.rate(p.batched);
                out.push(format!(
                    "| Complete import{label} ≥ {SPEEDUP_TARGET}× the batched peer's files/s | {ratio:.2}× ({} files/s) | {} |",
                    rate(complete),
                    verdict(ratio >= SPEEDUP_TARGET)
                ));
            }
            None => out.push(format!(
                "| Complete import{label} ≥ {SPEEDUP_TARGET}× the batched peer's files/s | not measured (`--skip-peer`) | — |"
            )),
        }
    }
    let rescan = r.small_rescan.files_per_second();
    out.push(format!(
        "| Re-scan of an unchanged library ≥ {RESCAN_TARGET:.0} files/s | {} files/s over {} files | {} |",
        rate(rescan),
        r.small_rescan.files,
        verdict(rescan >= RESCAN_TARGET)
    ));
    let peak = r.plain.complete.peak_rss_bytes.map(mb);
    let files = r.plain.complete.files;
    let memory = match peak {
        None => "not measured | — |".to_owned(),
        Some(peak) if files >= MEMORY_TARGET_FILES => {
            format!(
                "{peak:.1} MB over {files} files | {} |",
                verdict(peak < MEMORY_TARGET_MB)
            )
        }
        Some(peak) => format!(
            "{peak:.1} MB over {files} files | not tested ({files} < {MEMORY_TARGET_FILES} files) |"
        ),
    };
    out.push(format!(
        "| Peak memory < {MEMORY_TARGET_MB:.0} MB importing {MEMORY_TARGET_FILES} files | {memory}"
    ));
}
