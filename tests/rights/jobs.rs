//! Long work runs as jobs: imports, fixity checks, bulk edits and exports
//! report their progress in a unit, and one that is cancelled stops where
//! nothing is half-written, keeping what it finished (or, for one
//! indivisible result, nothing at all).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use assay_core::{
    AuditOptions, Change, Error, Filter, FixityOptions, ImportOptions, Job, Progress, Selection,
    Unit,
};

use crate::manifest::approved_world;
use crate::{corpus, World};

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
    let mut on_step = |s: Progress| steps.push((s.done, s.total));
    let export = w
        .library
        .export_manifest_with(&w.rosa, &all(), &out, &mut Job::new(&cancel, &mut on_step))
        .unwrap();
    assert_eq!(export.assets, 2);
    assert_eq!(steps.last(), Some(&(2, 2)));
    assert!(out.is_file());
    // What left the library is covered by a checkpoint written after it,
    // the newest one, which verification checks the catalog against.
    assert!(std::path::Path::new(&export.checkpoint).is_file());
    let report = w.library.verify_provenance().unwrap();
    let checked = report.checkpoint.as_ref().unwrap();
    assert_eq!(checked.path, export.checkpoint);
    assert_eq!(checked.events, report.events);
    assert!(report.holds(), "{report:?}");
}

#[test]
fn a_cancelled_manifest_export_writes_no_file_and_records_no_event() {
    let (w, _) = approved_world();
    let before = chains(&w);
    let out = w.dir.path().join("manifest.json");
    let cancel = AtomicBool::new(false);
    // Asked to stop as it reads the assets; the window's cancel can also
    // land later, and the export checks once more before it commits.
    let mut on_step = |_: Progress| cancel.store(true, Ordering::Relaxed);
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
    let mut on_step = |s: Progress| {
        steps.push(s.done);
        if s.done == 1 {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    // With credentials, signed as each asset is packaged.
    let options = AuditOptions {
        content_credentials: true,
    };
    let stopped = w.library.export_audit_with(
        &w.rosa,
        &all(),
        &out,
        options,
        &mut Job::new(&cancel, &mut on_step),
    );
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
    let mut on_step = |s: Progress| {
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

#[test]
fn an_import_reports_files_and_a_cancelled_one_keeps_every_file_it_finished() {
    let w = World::new();
    // Many more files than the import keeps in flight (its channels hold
    // some dozens), so a cancel lands midway: copies of the corpus photos.
    let photos = w.dir.path().join("many");
    std::fs::create_dir(&photos).unwrap();
    let originals: Vec<_> = std::fs::read_dir(corpus("exif-py/jpg/exif-org"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for copy in 0..16 {
        for original in &originals {
            let name = original.file_name().unwrap().to_string_lossy();
            std::fs::copy(original, photos.join(format!("{copy}-{name}"))).unwrap();
        }
    }
    let files = (16 * originals.len()) as u64;
    let options = ImportOptions {
        actor: Some(Arc::clone(&w.cy)),
        jobs: 1,
        ..ImportOptions::default()
    };
    let cancel = AtomicBool::new(false);
    let mut seen = Vec::new();
    let mut on_progress = |p: Progress| {
        assert_eq!(p.unit, Unit::Files);
        seen.push((p.done, p.total));
        if p.done == 2 {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let summary = w
        .library
        .import_with(
            &[photos],
            &options,
            &mut Job::new(&cancel, &mut on_progress),
            &mut |_| {},
        )
        .unwrap();
    assert!(summary.cancelled);
    let finished = summary.imported + summary.duplicates + summary.failed;
    assert!(finished >= 2 && finished < files, "{summary:?} of {files}");
    assert!(seen.windows(2).all(|p| p[0].0 <= p[1].0), "done only grows");
    assert!(seen.iter().all(|(done, total)| done <= total));
    // What was finished is whole: every asset the import kept has its
    // record, its previews and its import event.
    let records = w.library.list(&Filter::default()).unwrap();
    assert_eq!(records.len() as u64, 2 + summary.imported);
    for r in &records {
        assert!(!w.library.provenance(&r.asset_id).unwrap().is_empty());
    }
}

#[test]
fn a_fixity_check_reports_bytes_up_to_what_it_planned() {
    let w = World::new();
    let mut seen = Vec::new();
    let cancel = AtomicBool::new(false);
    let mut on_progress = |p: Progress| seen.push(p);
    let summary = w
        .library
        .check_fixity_with(
            &FixityOptions::default(),
            &mut Job::new(&cancel, &mut on_progress),
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(summary.ok, 2);
    let last = seen.last().copied().unwrap();
    assert_eq!(last.unit, Unit::Bytes);
    assert_eq!(last.done, last.total);
    assert_eq!(last.total, summary.bytes_read);
}

#[test]
fn a_bulk_edit_reports_assets_and_a_cancelled_one_changes_nothing() {
    let w = World::new();
    let changes = [Change::set("title", "Harbour".into())];
    let (cancel, mut steps) = (AtomicBool::new(false), Vec::new());
    let mut on_progress = |p: Progress| steps.push((p.done, p.total, p.unit));
    let edited = w
        .library
        .edit_with(
            &w.cy,
            &all(),
            &changes,
            &mut Job::new(&cancel, &mut on_progress),
        )
        .unwrap();
    assert_eq!(edited.changed, 2);
    assert_eq!(steps.first(), Some(&(0, 2, Unit::Assets)));
    assert_eq!(steps.last(), Some(&(2, 2, Unit::Assets)));

    let before = chains(&w);
    let titles = |w: &World| -> Vec<Option<String>> {
        let records = w.library.list(&Filter::default()).unwrap();
        records.into_iter().map(|r| r.title).collect()
    };
    let was = titles(&w);
    let changes = [Change::set("title", "Quay".into())];
    let mut stop = |_: Progress| cancel.store(true, Ordering::Relaxed);
    let stopped = w
        .library
        .edit_with(&w.cy, &all(), &changes, &mut Job::new(&cancel, &mut stop));
    assert!(matches!(stopped, Err(Error::Cancelled)), "{stopped:?}");
    assert_eq!(
        titles(&w),
        was,
        "the edit was one transaction: nothing kept"
    );
    assert_eq!(chains(&w), before, "and no event was kept");
}

#[test]
fn a_cancelled_croissant_export_writes_no_file_and_records_no_event() {
    let (w, _) = approved_world();
    let before = chains(&w);
    let out = w.dir.path().join("croissant.json");
    let cancel = AtomicBool::new(false);
    let mut on_step = |_: Progress| cancel.store(true, Ordering::Relaxed);
    let stopped = w.library.export_croissant_with(
        &w.rosa,
        &all(),
        &out,
        &mut Job::new(&cancel, &mut on_step),
    );
    assert!(matches!(stopped, Err(Error::Cancelled)), "{stopped:?}");
    assert!(!out.exists());
    assert_eq!(chains(&w), before);
}

/// Content Credentials on export: progress follows the signed copies; a
/// cancel stops the signing and leaves no copy, staged file or event.
#[test]
fn a_credentials_export_reports_each_copy_and_a_cancelled_one_leaves_nothing() {
    let (w, _) = approved_world();
    let before = chains(&w);
    let out = w.dir.path().join("copies");
    let cancel = AtomicBool::new(false);
    let mut on_step = |_: Progress| cancel.store(true, Ordering::Relaxed);
    let stopped =
        w.library
            .export_credentials(&w.rosa, &all(), &out, &mut Job::new(&cancel, &mut on_step));
    assert!(matches!(stopped, Err(Error::Cancelled)), "{stopped:?}");
    assert_eq!(chains(&w), before, "no export event was kept");
    let left: Vec<_> = std::fs::read_dir(&out).unwrap().flatten().collect();
    assert!(left.is_empty(), "nothing is left in the folder: {left:?}");

    let (cancel, mut steps) = (AtomicBool::new(false), Vec::new());
    let mut on_step = |s: Progress| steps.push((s.done, s.total));
    let export = w
        .library
        .export_credentials(&w.rosa, &all(), &out, &mut Job::new(&cancel, &mut on_step))
        .unwrap();
    assert_eq!(export.files.len(), 2);
    assert_eq!(steps, [(1, 2), (2, 2)]);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 2);
}
