//! Exports run as jobs in the window: they report their steps, and one that
//! is cancelled stops where nothing is half-written.

use std::sync::atomic::{AtomicBool, Ordering};

use assay_core::{Error, Filter, Job, Selection, Step};

use crate::manifest::approved_world;

fn all() -> Selection {
    Selection::Where(Filter::default())
}

/// Every asset's provenance event count, in asset order.
fn chains(w: &crate::World) -> Vec<usize> {
    let records = w.library.list(&Filter::default()).unwrap();
    records
        .iter()
        .map(|r| w.library.provenance(&r.asset_id).unwrap().len())
        .collect()
}

#[test]
fn an_export_job_reports_every_asset_it_reads() {
    let (w, _) = approved_world();
    let out = w.dir.path().join("manifest.json");
    let (cancel, mut steps) = (AtomicBool::new(false), Vec::new());
    let mut on_step = |s: Step| steps.push((s.done, s.total));
    let export = w
        .library
        .export_manifest_with(&w.rosa, &all(), &out, &mut Job::new(&cancel, &mut on_step))
        .unwrap();
    assert_eq!(export.assets, 2);
    assert_eq!(steps.last(), Some(&(2, 2)));
    assert!(out.is_file());
}

#[test]
fn a_cancelled_manifest_export_writes_no_file_and_records_no_event() {
    let (w, _) = approved_world();
    let before = chains(&w);
    let out = w.dir.path().join("manifest.json");
    let cancel = AtomicBool::new(false);
    // Asked to stop as it reads the assets; the window's cancel can also
    // land later, and the export checks once more before it commits.
    let mut on_step = |_: Step| cancel.store(true, Ordering::Relaxed);
    let stopped =
        w.library
            .export_manifest_with(&w.rosa, &all(), &out, &mut Job::new(&cancel, &mut on_step));
    assert!(matches!(stopped, Err(Error::Cancelled)), "{stopped:?}");
    assert!(!out.exists());
    assert_eq!(chains(&w), before, "no export event was kept");
    let left: Vec<_> = std::fs::read_dir(w.dir.path()).unwrap().flatten().collect();
    assert!(
        left.iter()
            .all(|e| !e.file_name().to_string_lossy().contains("manifest")),
        "no staged file is left behind: {left:?}"
    );
}

#[test]
fn a_cancelled_audit_export_stops_between_assets_and_writes_nothing() {
    let (w, _) = approved_world();
    let before = chains(&w);
    let out = w.dir.path().join("package.tar");
    let cancel = AtomicBool::new(false);
    let mut steps = Vec::new();
    let mut on_step = |s: Step| {
        steps.push(s.done);
        if s.done == 1 {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let stopped =
        w.library
            .export_audit_with(&w.rosa, &all(), &out, &mut Job::new(&cancel, &mut on_step));
    assert!(matches!(stopped, Err(Error::Cancelled)), "{stopped:?}");
    assert_eq!(steps, [0, 1], "it stopped before the second asset");
    assert!(!out.exists());
    assert_eq!(chains(&w), before);
}

#[test]
fn a_cancelled_xmp_export_keeps_the_whole_sidecars_it_wrote() {
    let (w, _) = approved_world();
    let dir = w.dir.path().join("sidecars");
    std::fs::create_dir(&dir).unwrap();
    let cancel = AtomicBool::new(false);
    let mut on_step = |s: Step| {
        if s.done == 1 {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let export = w
        .library
        .export_xmp_with(&all(), Some(&dir), &mut Job::new(&cancel, &mut on_step))
        .unwrap();
    assert!(export.cancelled);
    assert_eq!(export.written.len(), 1);
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert_eq!(files.len(), 1, "only the finished sidecar is there");
    let check = w.library.verify_xmp_files(&export.written).unwrap();
    assert!(check.failures.is_empty(), "{:?}", check.failures);
}
