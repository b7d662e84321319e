//! The import pipeline: a walker lists files, workers (one per core) hash,
//! read EXIF and rights metadata and make a quick thumbnail, and the
//! calling thread alone writes the catalog in short transactions. That
//! makes every file browsable; the previews are the second phase
//! (`previews.rs`), run next unless the import defers it. Channels between
//! the stages are bounded, so memory stays flat however many files there are.
//!
//! Crash safety: previews are written (atomically, by rename; made durable
//! together by one flush of their file system) before the transaction that
//! references them commits, so the catalog never points at
//! a missing preview; a crash can only leave unreferenced previews, which
//! a later import sweeps once no other import is running (`import_marks`).
//! Files already committed are skipped on re-run by
//! their size and mtime, so a re-run finishes the job without duplicates.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use assay_credentials::CredentialReader;
use assay_fsio::{atomic, describe_io};
use crossbeam_channel::{bounded, Receiver, Sender};
use serde::Serialize;

use crate::catalog::assets::{self, LocationChange, NewAsset};
use crate::catalog::library::{Library, PREVIEWS_DIR};
use crate::error::{Error, Result};
use crate::formats::one_pass::{self, Stamp};
use crate::identity::roles::Action;
use crate::identity::users::Actor;
use crate::ingest::analyze::{analyze, Analysis};
use crate::ingest::import_marks;
use crate::ingest::imported_rights::{self, Imported};
use crate::ingest::playback;
use crate::ingest::previews::{store_preview, PreviewOptions, PreviewReport};
use crate::ingest::stacking;
use crate::ingest::walk::{self, Found};
use crate::job::{Job, Unit};
use crate::provenance::chain;
use crate::provenance::event::{EventKind, Signer};
use crate::rights::creators::{self, Creator};
use crate::rights::licenses::Taxonomy;

/// How an import runs.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Worker threads; 0 means one per core.
    pub jobs: usize,
    /// Who imports: signs each new asset's `import` event and becomes its
    /// uploader. Required once the library has users; without users the
    /// library's own key signs.
    pub actor: Option<Arc<Actor>>,
    /// Stop once every file is browsable (its quick thumbnail made), leaving
    /// the previews to [`Library::make_previews`].
    pub defer_previews: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// A new asset was created.
    Imported,
    /// The bytes were already an asset; this path was added as a location.
    Duplicate,
    /// Already in the catalog at this path with the same content.
    Unchanged,
    /// The file could not be read at all.
    Failed,
}

/// The outcome for one file, as printed by `assay import --json`.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub status: FileStatus,
    pub asset_id: Option<String>,
    pub checksum: Option<String>,
    pub warnings: Vec<String>,
    pub error: Option<String>,
    /// Bytes of the file as listed, for progress; not part of the JSON line.
    #[serde(skip)]
    pub size: u64,
}

/// Progress of an import, in the order things happen.
#[derive(Debug)]
pub enum ImportEvent<'a> {
    /// The walker found another file of `size` bytes.
    Found { size: u64 },
    /// A file is done (reported once its catalog change has committed).
    File(&'a FileReport),
    /// A path deliberately not imported, with why.
    Skipped { path: &'a Path, reason: &'a str },
    /// Every file is in, and this many assets are in stacks the import
    /// made or grew (raw pairs, bursts).
    Stacked(u64),
    /// Every file is in; the previews of `pending` assets are made next
    /// (unless the import defers them).
    PreviewsStarted { pending: u64 },
    /// One asset's preview is done, in the import's second phase.
    Preview(&'a PreviewReport),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportSummary {
    pub imported: u64,
    pub duplicates: u64,
    pub unchanged: u64,
    pub with_warnings: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Bytes read and hashed (unchanged files are not read).
    pub bytes_read: u64,
    /// Assets in a stack this import made or grew: a raw file and the JPEG
    /// shot beside it, the frames of a burst.
    pub stacked: u64,
    pub cancelled: bool,
}

impl ImportSummary {
    /// Counts one finished file, as the import's own summary does; front
    /// ends keep running totals with it.
    pub fn count(&mut self, report: &FileReport) {
        match report.status {
            FileStatus::Imported => self.imported += 1,
            FileStatus::Duplicate => self.duplicates += 1,
            FileStatus::Unchanged => self.unchanged += 1,
            FileStatus::Failed => self.failed += 1,
        }
        if !report.warnings.is_empty() {
            self.with_warnings += 1;
        }
    }
}

/// One file for a worker: its path and the size and mtime it was listed with.
struct WorkItem {
    path: PathBuf,
    stamp: Stamp,
}

enum Outcome {
    Unchanged {
        path: PathBuf,
        size: u64,
        asset_id: String,
        checksum: String,
    },
    /// Content already in the catalog: only a location to record.
    Known {
        path: PathBuf,
        stamp: Stamp,
        checksum: String,
    },
    New(Box<NewFile>),
    Failed {
        path: PathBuf,
        error: String,
    },
}

struct NewFile {
    path: PathBuf,
    stamp: Stamp,
    checksum: String,
    media_type: &'static str,
    row_count: Option<u64>,
    pii: std::collections::BTreeMap<String, u64>,
    analysis: Analysis,
    /// Rights read from the file's sidecar and embedded metadata.
    rights: Imported,
    /// The quick thumbnail, until the second phase makes the real one.
    thumbnail: Option<String>,
}

enum Msg {
    Found(u64),
    Skipped(PathBuf, String),
    Done(Outcome),
}

/// Longest a catalog transaction stays open, so reports flow steadily.
const COMMIT_EVERY: Duration = Duration::from_millis(250);
const COMMIT_BATCH: usize = 512;

impl Library {
    /// Imports files and folders (recursively) into the catalog, calling
    /// `on_event` with each file found, done or skipped. Per-file problems are
    /// reported, never fatal; only a catalog failure ends the import early
    /// with an error.
    pub fn import(
        &self,
        paths: &[PathBuf],
        options: &ImportOptions,
        on_event: &mut dyn FnMut(ImportEvent),
    ) -> Result<ImportSummary> {
        self.import_with(paths, options, &mut Job::quiet(), on_event)
    }

    /// [`Library::import`] as a job: progress in files (done of those found
    /// so far) and, when cancelled, a stop after the files in flight, every
    /// file finished kept and the summary saying `cancelled`.
    pub fn import_with(
        &self,
        paths: &[PathBuf],
        options: &ImportOptions,
        job: &mut Job,
        on_event: &mut dyn FnMut(ImportEvent),
    ) -> Result<ImportSummary> {
        let summary = self.import_files(paths, options, job, on_event)?;
        if summary.cancelled || options.defer_previews {
            return Ok(summary);
        }
        let pending = self.pending_previews()?;
        on_event(ImportEvent::PreviewsStarted { pending });
        let previews = PreviewOptions { jobs: options.jobs };
        let made = self.make_previews(&previews, job, &mut |report| {
            on_event(ImportEvent::Preview(report))
        })?;
        Ok(ImportSummary {
            cancelled: made.cancelled,
            ..summary
        })
    }

    /// The first phase: every file browsable.
    fn import_files(
        &self,
        paths: &[PathBuf],
        options: &ImportOptions,
        job: &mut Job,
        on_event: &mut dyn FnMut(ImportEvent),
    ) -> Result<ImportSummary> {
        let conn = self.connect()?;
        let library_key;
        let signer = match options.actor.as_deref() {
            Some(actor) => {
                actor.may(Action::Import)?;
                Signer::User(actor)
            }
            None if Library::has_users(&conn)? => {
                return Err(Error::refused(
                    "acting-user",
                    "this library has users; import as one of them (--as NAME)",
                ))
            }
            None => {
                library_key = self.library_key()?;
                Signer::Library(&library_key)
            }
        };
        // A creator's own profile links what they import on arrival.
        let profile = match options.actor.as_deref() {
            Some(actor) => creators::of_user(&conn, actor.id)?,
            None => None,
        };
        let cache = assets::scan_cache(&conn)?;
        // Assets are never deleted, so the rows past this one are this
        // import's (or a concurrent one's, which stacks the same way).
        let last_row: i64 =
            conn.query_row("SELECT coalesce(max(id), 0) FROM assets", [], |r| r.get(0))?;
        // Imported rights are checked against the taxonomy, custom tags included.
        let taxonomy = &self.taxonomy()?;
        // One reader for every file: its settings (the library's trust
        // anchors among them) are parsed once.
        let credentials = &CredentialReader::new(&self.trust_anchors()?)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let known = Arc::new(RwLock::new(assets::checksums(&conn)?));
        // From here previews are written: held until the import ends, the
        // marker is left behind if it stops early.
        let started = SystemTime::now();
        let mark = import_marks::begin(self.root())?;
        let jobs = worker_count(options.jobs);
        let cancel = job.cancel_flag();
        let (mut found, mut done) = (0u64, 0u64);
        let on_event = &mut |event: ImportEvent| {
            match event {
                ImportEvent::Found { .. } => found += 1,
                ImportEvent::File(_) => done += 1,
                _ => {}
            }
            job.report(done, found, Unit::Files);
            on_event(event);
        };
        let (item_tx, item_rx) = bounded::<WorkItem>(jobs * 2);
        let (msg_tx, msg_rx) = bounded::<Msg>(64);

        let summary = std::thread::scope(|scope| {
            let walker_tx = msg_tx.clone();
            let root = self.root();
            scope.spawn(move || {
                walk::walk(paths, root, cancel, |found| {
                    let msg = match found {
                        Found::File { path, stamp } => {
                            if walker_tx.send(Msg::Found(stamp.size)).is_err() {
                                return false;
                            }
                            match cache.get(&assets::path_bytes(&path)) {
                                Some(c) if c.stamp == stamp => Msg::Done(Outcome::Unchanged {
                                    path,
                                    size: stamp.size,
                                    asset_id: c.asset_id.clone(),
                                    checksum: c.checksum.clone(),
                                }),
                                _ => return item_tx.send(WorkItem { path, stamp }).is_ok(),
                            }
                        }
                        Found::Failed { path, error } => Msg::Done(Outcome::Failed { path, error }),
                        Found::Skipped { path, reason } => Msg::Skipped(path, reason),
                    };
                    walker_tx.send(msg).is_ok()
                });
                // Dropping item_tx here lets the workers finish.
            });
            for _ in 0..jobs {
                let (rx, tx, known) = (item_rx.clone(), msg_tx.clone(), Arc::clone(&known));
                let previews = self.previews_dir();
                scope.spawn(move || {
                    work(&rx, &tx, &known, &previews, (taxonomy, credentials), cancel)
                });
            }
            drop((item_rx, msg_tx));
            let previews = self.previews_dir();
            let known = &known;
            write(
                &conn,
                &signer,
                profile.as_ref(),
                msg_rx,
                known,
                &previews,
                on_event,
            )
        })?;

        let mut summary = summary;
        summary.cancelled = cancel.load(Ordering::Relaxed);
        let tx =
            rusqlite::Transaction::new_unchecked(&conn, rusqlite::TransactionBehavior::Immediate)?;
        summary.stacked = stacking::stack_imported(&tx, last_row)?;
        tx.commit()?;
        if summary.stacked > 0 {
            on_event(ImportEvent::Stacked(summary.stacked));
        }
        let others = import_marks::others(self.root(), &mark);
        if others.sweep_due() {
            self.sweep_orphan_previews(&conn, started)?;
            others.forget_stale();
        }
        // A cancelled import leaves its marker: previews of files in flight
        // when it stopped may have no asset.
        if !summary.cancelled {
            mark.finish()?;
        }
        Ok(summary)
    }

    /// Deletes preview files no asset references, left by a crash. Files newer
    /// than `before` may belong to an import still running elsewhere.
    fn sweep_orphan_previews(&self, conn: &rusqlite::Connection, before: SystemTime) -> Result<()> {
        let referenced = assets::referenced_previews(conn)?;
        // A playback proxy is named by its asset's checksum, not referenced.
        let mut known = conn.prepare("SELECT 1 FROM assets WHERE checksum = ?1")?;
        let dir = self.previews_dir();
        let Ok(shards) = std::fs::read_dir(&dir) else {
            return Ok(());
        };
        for shard in shards.flatten().filter(|s| s.path().is_dir()) {
            let Ok(files) = std::fs::read_dir(shard.path()) else {
                continue;
            };
            for file in files.flatten() {
                let shard_name = shard.file_name();
                let name = file.file_name();
                let name = name.to_string_lossy();
                // A grid cell's rendition (the app makes it on first view)
                // lives as long as the thumbnail it was made from.
                let kept_with = crate::preview::thumbnail_of_cell(&name);
                let rel = format!(
                    "{PREVIEWS_DIR}/{}/{}",
                    shard_name.to_string_lossy(),
                    kept_with.as_deref().unwrap_or(&name)
                );
                let old = file
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t < before);
                let proxy_of_asset = match playback::proxy_of(&name) {
                    Some(hex) => known.exists([format!("sha256:{hex}")])?,
                    None => false,
                };
                if old && !referenced.contains(&rel) && !proxy_of_asset {
                    // Best effort: a file that vanished meanwhile is fine.
                    let _ = std::fs::remove_file(file.path());
                }
            }
        }
        Ok(())
    }
}

/// A worker: reads, hashes and analyses files until the item channel closes.
fn work(
    items: &Receiver<WorkItem>,
    out: &Sender<Msg>,
    known: &RwLock<HashSet<String>>,
    previews: &Path,
    judges: (&Taxonomy, &CredentialReader),
    cancel: &AtomicBool,
) {
    for item in items {
        if cancel.load(Ordering::Relaxed) {
            continue; // drain, so the walker is never left blocked
        }
        let outcome = process(item, known, previews, judges);
        if out.send(Msg::Done(outcome)).is_err() {
            return;
        }
    }
}

/// `judges`: the taxonomy imported rights are checked against, and the
/// reader of Content Credentials.
fn process(
    item: WorkItem,
    known: &RwLock<HashSet<String>>,
    previews: &Path,
    (taxonomy, credentials): (&Taxonomy, &CredentialReader),
) -> Outcome {
    let WorkItem { path, mut stamp } = item;
    // A file being written while we read it is read again once; if it is
    // still changing, it is reported rather than catalogued half-written.
    let mut attempt = 0;
    let content =
        loop {
            let content = match one_pass::read(&path, stamp.size) {
                Ok(c) => c,
                Err(e) => {
                    return Outcome::Failed {
                        error: describe_io(&e),
                        path,
                    }
                }
            };
            match std::fs::metadata(&path).map(|m| Stamp::of(&m)) {
                Ok(after) if after == stamp && after.size == content.size => break content,
                Ok(after) if attempt == 0 => {
                    stamp = after;
                    attempt += 1;
                }
                Ok(_) => return Outcome::Failed {
                    path,
                    error:
                        "file changed while it was being read; import it again once it is complete"
                            .into(),
                },
                Err(e) => {
                    return Outcome::Failed {
                        error: format!("{} while it was being read", describe_io(&e)),
                        path,
                    }
                }
            }
        };

    let is_known = known.read().is_ok_and(|k| k.contains(&content.checksum));
    if is_known {
        return Outcome::Known {
            path,
            stamp,
            checksum: content.checksum,
        };
    }
    let mut analysis = analyze(&path, &content, stamp.mtime_ns, credentials);
    // Known content never gets here, so a re-import never overwrites rights.
    let embedded = std::mem::take(&mut analysis.embedded);
    let mut rights = imported_rights::gather(
        &path,
        &embedded,
        analysis.content_credentials.as_ref(),
        taxonomy,
    );
    analysis.warnings.append(&mut rights.warnings);
    let mut thumbnail = None;
    if let Some(quick) = analysis.quick_thumbnail.take() {
        let hex = content.checksum.trim_start_matches("sha256:");
        match store_preview(previews, hex, "quick", &quick) {
            Ok(t) => thumbnail = Some(t),
            Err(e) => analysis.warnings.push(format!("thumbnail not saved: {e}")),
        }
    }
    Outcome::New(Box::new(NewFile {
        path,
        stamp,
        checksum: content.checksum,
        media_type: content.media_type,
        row_count: content.row_count,
        pii: content.pii,
        analysis,
        rights,
        thumbnail,
    }))
}

/// The catalog writer: applies outcomes in batched transactions and reports
/// each file once its change has committed.
/// `previews`: the folder the workers write thumbnails to, made durable
/// before the transaction naming them commits.
fn write(
    conn: &rusqlite::Connection,
    signer: &Signer,
    profile: Option<&Creator>,
    messages: Receiver<Msg>,
    known: &RwLock<HashSet<String>>,
    previews: &Path,
    on_event: &mut dyn FnMut(ImportEvent),
) -> Result<ImportSummary> {
    let mut summary = ImportSummary::default();
    let mut pending: Vec<FileReport> = Vec::new();
    // Whether the open transaction names a thumbnail written unsynced.
    let mut pictured = false;
    // When the open transaction began; None when none is open.
    let mut tx: Option<Instant> = None;

    let finish =
        |report: FileReport, summary: &mut ImportSummary, on_event: &mut dyn FnMut(ImportEvent)| {
            summary.count(&report);
            on_event(ImportEvent::File(&report));
        };

    loop {
        // Wait briefly for more work, committing whatever is open when idle.
        let timeout = match tx {
            Some(since) => COMMIT_EVERY.saturating_sub(since.elapsed()),
            None => Duration::from_secs(3600),
        };
        let msg = messages.recv_timeout(timeout);
        let closed = matches!(msg, Err(crossbeam_channel::RecvTimeoutError::Disconnected));
        match msg {
            Ok(Msg::Found(size)) => on_event(ImportEvent::Found { size }),
            Ok(Msg::Skipped(path, reason)) => {
                summary.skipped += 1;
                on_event(ImportEvent::Skipped {
                    path: &path,
                    reason: &reason,
                });
            }
            Ok(Msg::Done(Outcome::Unchanged {
                path,
                size,
                asset_id,
                checksum,
            })) => {
                let report = FileReport {
                    size,
                    path: path.to_string_lossy().into_owned(),
                    status: FileStatus::Unchanged,
                    asset_id: Some(asset_id),
                    checksum: Some(checksum),
                    warnings: Vec::new(),
                    error: None,
                };
                finish(report, &mut summary, on_event);
            }
            Ok(Msg::Done(Outcome::Failed { path, error })) => {
                let report = FileReport {
                    size: 0,
                    path: path.to_string_lossy().into_owned(),
                    status: FileStatus::Failed,
                    asset_id: None,
                    checksum: None,
                    warnings: Vec::new(),
                    error: Some(error),
                };
                finish(report, &mut summary, on_event);
            }
            Ok(Msg::Done(Outcome::Known {
                path,
                stamp,
                checksum,
            })) => {
                begin(conn, &mut tx)?;
                pending.push(apply(conn, signer, profile, path, stamp, checksum, None)?);
                summary.bytes_read += stamp.size;
            }
            Ok(Msg::Done(Outcome::New(file))) => {
                begin(conn, &mut tx)?;
                pictured |= file.thumbnail.is_some();
                let (path, stamp, checksum) =
                    (file.path.clone(), file.stamp, file.checksum.clone());
                pending.push(apply(
                    conn,
                    signer,
                    profile,
                    path,
                    stamp,
                    checksum,
                    Some(file),
                )?);
                summary.bytes_read += stamp.size;
            }
            Err(_) => {}
        }
        let due = tx.is_some_and(|since| {
            closed || since.elapsed() >= COMMIT_EVERY || pending.len() >= COMMIT_BATCH
        });
        if due {
            if std::mem::take(&mut pictured) {
                atomic::sync_filesystem(previews).map_err(|e| Error::io(previews, e))?;
            }
            conn.execute_batch("COMMIT")?;
            tx = None;
            if let Ok(mut k) = known.write() {
                k.extend(pending.iter().filter_map(|r| r.checksum.clone()));
            }
            for report in pending.drain(..) {
                finish(report, &mut summary, on_event);
            }
        }
        if closed {
            return Ok(summary);
        }
    }
}

/// Opens a transaction unless one is open. IMMEDIATE takes the write lock
/// up front, so a concurrent writer makes us wait rather than fail midway.
fn begin(conn: &rusqlite::Connection, tx: &mut Option<Instant>) -> Result<()> {
    if tx.is_none() {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        *tx = Some(Instant::now());
    }
    Ok(())
}

/// Records `path` as a location of the asset with `checksum`, creating the
/// asset from `new` when the catalog does not have it yet.
fn apply(
    tx: &rusqlite::Connection,
    signer: &Signer,
    profile: Option<&Creator>,
    path: PathBuf,
    stamp: Stamp,
    checksum: String,
    new: Option<Box<NewFile>>,
) -> Result<FileReport> {
    let mut warnings = Vec::new();
    let (status, asset_id) = match assets::asset_by_checksum(tx, &checksum)? {
        Some((row, asset_id)) => match assets::upsert_location(tx, row, &path, stamp)? {
            LocationChange::Refreshed => (FileStatus::Unchanged, asset_id),
            LocationChange::Added => (FileStatus::Duplicate, asset_id),
        },
        None => {
            let Some(file) = new else {
                // The checksum was known when the worker looked, so the asset exists.
                return Err(Error::NotFound(checksum));
            };
            let a = &file.analysis;
            let (auto_flags, rights) = initial_rights(a, &file.pii, &file.rights, profile);
            let title = file.rights.fields.get("title").and_then(|t| t.as_str());
            let uploaded_by = match signer {
                Signer::User(actor) => Some(actor.id),
                Signer::Library(_) => None,
            };
            let (row, asset_id) = assets::insert_asset(
                tx,
                &NewAsset {
                    checksum: &file.checksum,
                    size: file.stamp.size,
                    media_type: file.media_type,
                    title: title.or(a.title.as_deref()),
                    capture_date: a.capture_date.as_deref(),
                    capture_date_source: a.capture_date_source,
                    original_source: a.original_source.as_deref(),
                    width: a.width,
                    height: a.height,
                    row_count: file.row_count,
                    exif: a.exif.as_ref(),
                    content_credentials: a.content_credentials.as_ref(),
                    media: a.media.as_ref(),
                    warnings: &a.warnings,
                    thumbnail: file.thumbnail.as_deref(),
                    preview: None,
                    previews_pending: a.previews_pending,
                    uploaded_by,
                    rights: &rights,
                },
            )?;
            assets::upsert_location(tx, row, &path, stamp)?;
            let mut data = serde_json::json!({
                "auto_flags": auto_flags,
                "pii_findings": file.pii,
                "checksum": file.checksum,
                "size_bytes": file.stamp.size,
                "media_type": file.media_type,
                "path": path.to_string_lossy(),
                "capture_device": a.original_source,
                "capture_date": a.capture_date,
            });
            if let Some(imported) = &file.rights.provenance {
                data["imported_rights"] = imported.clone();
            }
            if let Some(profile) = profile {
                data["creator_profile"] = profile.name.clone().into();
            }
            chain::append(tx, row, &asset_id, EventKind::Import, data, signer)?;
            warnings = a.warnings.clone();
            (FileStatus::Imported, asset_id)
        }
    };
    Ok(FileReport {
        size: stamp.size,
        path: path.to_string_lossy().into_owned(),
        status,
        asset_id: Some(asset_id),
        checksum: Some(checksum),
        warnings,
        error: None,
    })
}

/// What the file itself says is sensitive, flagged on arrival: GPS
/// coordinates (location privacy) and personal data in a dataset; and the
/// rights its metadata states (`imported`), which never replace a flag; then
/// the importing creator's own `profile`, as linking it would.
/// Returns the flags and the asset's first rights document (JSON text).
fn initial_rights(
    a: &Analysis,
    pii: &std::collections::BTreeMap<String, u64>,
    imported: &Imported,
    profile: Option<&Creator>,
) -> (Vec<&'static str>, String) {
    let located = [
        a.exif.as_ref().and_then(|e| e.gps.as_ref()),
        a.media.as_ref().and_then(|m| m.gps.as_ref()),
    ]
    .into_iter()
    .flatten()
    .any(|g| g.latitude.is_some() && g.longitude.is_some());
    let mut flags = Vec::new();
    let mut rights = serde_json::Map::new();
    if located {
        flags.push("location");
    }
    if !pii.is_empty() {
        flags.push("pii");
        rights.insert("pii_findings".into(), serde_json::json!(pii));
    }
    if !flags.is_empty() {
        rights.insert("sensitive_flags".into(), serde_json::json!(flags));
    }
    for (field, value) in &imported.fields {
        rights.entry(field.clone()).or_insert_with(|| value.clone());
    }
    for (field, value, fill) in profile.map(creators::linked_fields).unwrap_or_default() {
        if value.is_null() || fill && rights.contains_key(field) {
            continue;
        }
        rights.insert(field.into(), value);
    }
    (flags, serde_json::Value::Object(rights).to_string())
}

/// Worker threads for `jobs` as the user gave it: 0 means one per core.
pub(crate) fn worker_count(jobs: usize) -> usize {
    match jobs {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_keeps_a_cell_rendition_while_its_thumbnail_is_referenced() {
        let dir = tempfile::tempdir().unwrap();
        let photos = dir.path().join("photos");
        std::fs::create_dir_all(&photos).unwrap();
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/files");
        std::fs::copy(
            corpus.join("exif-py/jpg/Canon_40D.jpg"),
            photos.join("a.jpg"),
        )
        .unwrap();
        let lib = Library::open(dir.path().join("library")).unwrap();
        lib.import(
            std::slice::from_ref(&photos),
            &ImportOptions::default(),
            &mut |_| {},
        )
        .unwrap();
        let assets = lib.list(&crate::Filter::default()).unwrap();
        let thumbnail = lib
            .root()
            .join(assets[0].previews.thumbnail.as_ref().unwrap());
        let name = thumbnail.file_name().unwrap().to_string_lossy();
        let kept = thumbnail.with_file_name(crate::preview::cell_name(&name).unwrap());
        let shard = lib.previews_dir().join("zz");
        std::fs::create_dir_all(&shard).unwrap();
        let orphans = [
            shard.join("zz00-thumb.jpg"),
            shard.join("zz00-thumb-cell.jpg"),
        ];
        for file in orphans.iter().chain([&kept]) {
            std::fs::write(file, b"jpeg").unwrap();
        }
        // An import that stopped early leaves its marker; the next sweeps
        // what was written before it began.
        std::fs::write(lib.root().join(import_marks::LEGACY_MARKER), b"").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        lib.import(&[photos], &ImportOptions::default(), &mut |_| {})
            .unwrap();

        assert!(
            thumbnail.is_file() && kept.is_file(),
            "the rendition of a thumbnail in use"
        );
        for orphan in &orphans {
            assert!(!orphan.exists(), "{} was not swept", orphan.display());
        }
    }

    #[test]
    fn a_replaced_quick_thumbnail_takes_its_cell_rendition_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let photos = dir.path().join("photos");
        std::fs::create_dir_all(&photos).unwrap();
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/files");
        std::fs::copy(
            corpus.join("exif-py/jpg/hdr/canon_hdr_YES.jpg"),
            photos.join("a.jpg"),
        )
        .unwrap();
        let lib = Library::open(dir.path().join("library")).unwrap();
        let deferred = ImportOptions {
            defer_previews: true,
            ..ImportOptions::default()
        };
        lib.import(&[photos], &deferred, &mut |_| {}).unwrap();
        let thumbnail = |lib: &Library| {
            let assets = lib.list(&crate::Filter::default()).unwrap();
            lib.root()
                .join(assets[0].previews.thumbnail.as_ref().unwrap())
        };
        let quick = thumbnail(&lib);
        let name = quick.file_name().unwrap().to_string_lossy();
        assert!(name.ends_with("-quick.jpg"), "{name}");
        let cell = quick.with_file_name(crate::preview::cell_name(&name).unwrap());
        std::fs::write(&cell, b"jpeg").unwrap();

        lib.make_previews(
            &crate::ingest::previews::PreviewOptions::default(),
            &mut Job::quiet(),
            &mut |_| {},
        )
        .unwrap();
        assert_ne!(thumbnail(&lib), quick);
        assert!(
            !quick.exists() && !cell.exists(),
            "the quick thumbnail's rendition stayed"
        );
    }
}
