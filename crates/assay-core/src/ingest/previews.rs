//! The second phase of an import: the 1600-pixel preview and a
//! full-quality thumbnail of every asset the first phase left marked
//! (`catalog::pending_previews`). The first phase makes a large import
//! browsable at the speed of hashing; this one decodes, and may run later,
//! in the background, or be stopped and resumed: an asset's mark is cleared
//! only in the transaction that records its pictures.
//!
//! Shaped like the import: a feeder reads the marked assets in batches,
//! workers (one per core) read and render, and the calling thread alone
//! writes the catalog in short transactions. A file is pictured only when
//! it still holds the bytes imported: its size and time as recorded, or
//! else its checksum. Pictures are written before the transaction that
//! references them, as the import writes them (see `import.rs`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use assay_fsio::{atomic, describe_io};
use crossbeam_channel::{bounded, Receiver, Sender};
use serde::Serialize;

use crate::catalog::library::{Library, PREVIEWS_DIR};
use crate::catalog::pending_previews::{self, Made, PendingPreview};
use crate::error::Result;
use crate::formats::one_pass::{self, Stamp, IN_MEMORY_LIMIT};
use crate::ingest::import::worker_count;
use crate::ingest::import_marks;
use crate::ingest::pictures;
use crate::job::{Job, Unit};
use crate::preview::Fingerprint;

/// How the second phase runs.
#[derive(Debug, Clone, Default)]
pub struct PreviewOptions {
    /// Worker threads; 0 means one per core.
    pub jobs: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviewStatus {
    /// The preview and thumbnail were made.
    Made,
    /// Nothing could be pictured; the warnings say why.
    NotMade,
    /// No copy of the file holds the imported bytes now (moved, changed,
    /// on a disk not connected): the asset stays marked for a later run.
    Unavailable,
}

/// The outcome for one asset, as `assay previews --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewReport {
    pub asset_id: String,
    /// The copy pictured, or the first one looked for.
    pub path: Option<String>,
    pub status: PreviewStatus,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PreviewSummary {
    pub made: u64,
    pub not_made: u64,
    pub unavailable: u64,
    pub cancelled: bool,
}

/// Assets read from the catalog per query.
const BATCH: usize = 256;
/// Longest a catalog transaction stays open, so reports flow steadily.
const COMMIT_EVERY: Duration = Duration::from_millis(250);

struct Done {
    row: i64,
    report: PreviewReport,
    /// Relative paths of the new thumbnail and preview.
    thumbnail: Option<String>,
    preview: Option<String>,
    size: Option<(u32, u32)>,
    fingerprint: Option<Fingerprint>,
    /// The quick thumbnail the new one replaces, removed once committed.
    replaced: Option<String>,
}

impl Library {
    /// How many assets await their preview.
    pub fn pending_previews(&self) -> Result<u64> {
        pending_previews::count(&self.connect()?)
    }

    /// Makes the preview of every asset awaiting one, reporting each as its
    /// change commits; progress in files (done of those waiting when it
    /// started, and any an import adds meanwhile). Cancelled, it stops after
    /// the files in flight: what is made is kept, the rest stays marked.
    pub fn make_previews(
        &self,
        options: &PreviewOptions,
        job: &mut Job,
        on_report: &mut dyn FnMut(&PreviewReport),
    ) -> Result<PreviewSummary> {
        let conn = self.connect()?;
        let mut total = pending_previews::count(&conn)?;
        let mut summary = PreviewSummary::default();
        if total == 0 {
            return Ok(summary);
        }
        // Pictures are written from here on: an import's sweep must not take
        // them for orphans before they are committed.
        let mark = import_marks::begin(self.root())?;
        let cancel = job.cancel_flag();
        let jobs = worker_count(options.jobs);
        let (item_tx, item_rx) = bounded::<PendingPreview>(jobs * 2);
        let (done_tx, done_rx) = bounded::<Done>(64);
        let previews = self.previews_dir();
        let written = std::thread::scope(|scope| {
            let feeder = scope.spawn(move || feed(self, &item_tx, cancel));
            for _ in 0..jobs {
                let (rx, tx, previews) = (item_rx.clone(), done_tx.clone(), previews.as_path());
                scope.spawn(move || work(&rx, &tx, previews, cancel));
            }
            drop((item_rx, done_tx));
            let mut on_done = |report: &PreviewReport| {
                match report.status {
                    PreviewStatus::Made => summary.made += 1,
                    PreviewStatus::NotMade => summary.not_made += 1,
                    PreviewStatus::Unavailable => summary.unavailable += 1,
                }
                let done = summary.made + summary.not_made + summary.unavailable;
                total = total.max(done);
                job.report(done, total, Unit::Files);
                on_report(report);
            };
            let written = write(self, &conn, done_rx, &mut on_done);
            // The feeder's own failure (its catalog query) is the run's.
            let fed = feeder.join().unwrap_or_else(|_| {
                Err(crate::Error::Internal("the preview feeder panicked".into()))
            });
            written.and(fed)
        });
        written?;
        summary.cancelled = cancel.load(Ordering::Relaxed);
        if !summary.cancelled {
            mark.finish()?;
        }
        Ok(summary)
    }
}

/// Sends every marked asset to the workers, in batches read by a
/// connection of its own; those marked after it started come too.
fn feed(library: &Library, items: &Sender<PendingPreview>, cancel: &AtomicBool) -> Result<()> {
    let conn = library.connect()?;
    let mut after = 0;
    loop {
        let batch = pending_previews::next(&conn, after, BATCH)?;
        let Some(last) = batch.last() else {
            return Ok(());
        };
        after = last.row;
        for item in batch {
            if cancel.load(Ordering::Relaxed) || items.send(item).is_err() {
                return Ok(());
            }
        }
    }
}

fn work(
    items: &Receiver<PendingPreview>,
    out: &Sender<Done>,
    previews: &Path,
    cancel: &AtomicBool,
) {
    for item in items {
        if cancel.load(Ordering::Relaxed) {
            continue; // drain, so the feeder is never left blocked
        }
        if out.send(picture(item, previews)).is_err() {
            return;
        }
    }
}

/// Reads one copy of the asset's bytes and makes its pictures.
fn picture(item: PendingPreview, previews: &Path) -> Done {
    let mut done = Done {
        row: item.row,
        report: PreviewReport {
            asset_id: item.asset_id.clone(),
            path: item
                .locations
                .first()
                .map(|(p, _)| p.to_string_lossy().into_owned()),
            status: PreviewStatus::Unavailable,
            warnings: Vec::new(),
        },
        thumbnail: None,
        preview: None,
        size: None,
        fingerprint: None,
        replaced: None,
    };
    let is_av = item.media.is_some();
    let (path, bytes) = match imported_copy(&item, !is_av) {
        Ok(found) => found,
        Err(why) => {
            done.report.warnings = why;
            return done;
        }
    };
    done.report.path = Some(path.to_string_lossy().into_owned());
    let made = pictures::render(
        &path,
        bytes.as_deref(),
        &item.media_type,
        item.media.as_ref(),
    );
    done.report.warnings = made.warnings;
    done.size = made.size;
    done.report.status = PreviewStatus::NotMade;
    if let Some(rendered) = made.rendered {
        // A waveform pictures sound, not a scene: two recordings would
        // look alike without being copies.
        let pictured = item.media.as_ref().is_none_or(|m| m.video.is_some());
        done.fingerprint = pictured.then_some(rendered.fingerprint);
        let hex = item.checksum.trim_start_matches("sha256:");
        match (
            store_preview(previews, hex, "thumb", &rendered.thumbnail),
            store_preview(previews, hex, "preview", &rendered.preview),
        ) {
            (Ok(t), Ok(p)) => {
                done.replaced = item.thumbnail.filter(|old| *old != t);
                (done.thumbnail, done.preview) = (Some(t), Some(p));
                done.report.status = PreviewStatus::Made;
            }
            (Err(e), _) | (_, Err(e)) => {
                done.report.warnings.push(format!("preview not saved: {e}"))
            }
        }
    }
    done
}

/// A copy of the asset that holds the bytes imported, and those bytes when
/// `in_memory`: a location whose size and time are as recorded, else one
/// whose checksum still matches. Why none does, otherwise.
fn imported_copy(
    item: &PendingPreview,
    in_memory: bool,
) -> std::result::Result<(PathBuf, Option<Vec<u8>>), Vec<String>> {
    let mut why = Vec::new();
    if in_memory && item.size > IN_MEMORY_LIMIT {
        why.push("file is too large to picture".to_owned());
        return Err(why);
    }
    for (path, recorded) in &item.locations {
        let stamp = |p: &Path| std::fs::metadata(p).map(|m| Stamp::of(&m));
        let now = match stamp(path) {
            Ok(now) => now,
            Err(e) => {
                why.push(format!("{}: {}", path.display(), describe_io(&e)));
                continue;
            }
        };
        if now == *recorded {
            if !in_memory {
                return Ok((path.clone(), None));
            }
            match std::fs::read(path) {
                // Unchanged while read, too.
                Ok(bytes) if stamp(path).is_ok_and(|after| after == now) => {
                    return Ok((path.clone(), Some(bytes)))
                }
                Ok(_) => why.push(format!("{}: changed while read", path.display())),
                Err(e) => why.push(format!("{}: {}", path.display(), describe_io(&e))),
            }
            continue;
        }
        // Touched since the import: pictured only if its bytes are the same.
        match one_pass::read(path, now.size) {
            Ok(content) if content.checksum == item.checksum => {
                return Ok((path.clone(), content.bytes.filter(|_| in_memory)))
            }
            Ok(_) => why.push(format!(
                "{}: its content changed since it was imported",
                path.display()
            )),
            Err(e) => why.push(format!("{}: {}", path.display(), describe_io(&e))),
        }
    }
    if item.locations.is_empty() {
        why.push("no copy of the file is known to be present".to_owned());
    }
    Err(why)
}

/// Writes a picture under `previews/<2 hex>/<checksum>-<kind>.jpg`, whole
/// or not at all. Returns the path relative to the library root. Named by
/// content and kind, a picture never changes under its name.
pub(crate) fn store_preview(
    previews: &Path,
    hex: &str,
    kind: &str,
    jpeg: &[u8],
) -> std::io::Result<String> {
    let shard = hex.get(..2).unwrap_or("00");
    let dir = previews.join(shard);
    std::fs::create_dir_all(&dir)?;
    let name = format!("{hex}-{kind}.jpg");
    // Made durable with the others before the transaction naming it
    // commits (`atomic::sync_filesystem`).
    atomic::write_unsynced(&dir.join(&name), jpeg)?;
    Ok(format!("{PREVIEWS_DIR}/{shard}/{name}"))
}

/// The catalog writer: records what the workers made in batched
/// transactions and reports each asset once its change has committed.
fn write(
    library: &Library,
    conn: &rusqlite::Connection,
    done: Receiver<Done>,
    on_done: &mut dyn FnMut(&PreviewReport),
) -> Result<()> {
    let mut pending: Vec<Done> = Vec::new();
    let mut tx: Option<Instant> = None;
    // Whether the open transaction names a picture written unsynced.
    let mut pictured = false;
    loop {
        let timeout = match tx {
            Some(since) => COMMIT_EVERY.saturating_sub(since.elapsed()),
            None => Duration::from_secs(3600),
        };
        let msg = done.recv_timeout(timeout);
        let closed = matches!(msg, Err(crossbeam_channel::RecvTimeoutError::Disconnected));
        if let Ok(item) = msg {
            if item.report.status == PreviewStatus::Unavailable {
                // Stays marked; nothing to write.
                on_done(&item.report);
            } else {
                if tx.is_none() {
                    conn.execute_batch("BEGIN IMMEDIATE")?;
                    tx = Some(Instant::now());
                }
                let made = Made {
                    thumbnail: item.thumbnail.as_deref(),
                    preview: item.preview.as_deref(),
                    size: item.size,
                    warnings: &item.report.warnings,
                    fingerprint: item.fingerprint,
                };
                pending_previews::store(conn, item.row, &made)?;
                pictured |= item.thumbnail.is_some();
                pending.push(item);
            }
        }
        let due = tx.is_some_and(|since| closed || since.elapsed() >= COMMIT_EVERY);
        if due {
            if std::mem::take(&mut pictured) {
                let previews = library.previews_dir();
                atomic::sync_filesystem(&previews).map_err(|e| crate::Error::io(&previews, e))?;
            }
            conn.execute_batch("COMMIT")?;
            tx = None;
            for item in pending.drain(..) {
                if let Some(old) = &item.replaced {
                    // Best effort: a quick thumbnail left behind is swept later.
                    let old = library.root().join(old);
                    let _ = std::fs::remove_file(&old);
                    // With the grid's rendition of it, if the app made one.
                    let name = old.file_name().map(|n| n.to_string_lossy().into_owned());
                    if let Some(cell) = name.as_deref().and_then(crate::preview::cell_name) {
                        let _ = std::fs::remove_file(old.with_file_name(cell));
                    }
                }
                on_done(&item.report);
            }
        }
        if closed {
            return Ok(());
        }
    }
}
