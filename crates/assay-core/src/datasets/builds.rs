//! Builds: a dataset's selection made into an immutable, signed version.
//!
//! A build reads what the selection holds in one snapshot, writes the shards
//! and the signed dataset manifest beside their destinations (streaming
//! each file through its checksum; no write lock is held meanwhile, so the
//! app goes on working), then, in one short transaction, checks that no
//! asset it took moved on while it ran, records the version, its members
//! and a `dataset_build` event on each, and only then puts the files in
//! place (finished on the next opening if the process dies between). A
//! cancelled or failed build leaves nothing: no shard, no version, no event.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use assay_fsio::atomic::{self, Staged};
use rusqlite::params;
use serde::Serialize;
use serde_json::json;

use crate::catalog::assets::now;
use crate::catalog::library::Library;
use crate::catalog::pending_files;
use crate::datasets::croissant::{self, Described};
use crate::datasets::manifest::{self, ShardEntry, Version};
use crate::datasets::selections::{self, Held};
use crate::datasets::shards::{
    self, Credentials, Progress, Sample, ShardFormat, Sidecar, WrittenShard,
};
use crate::datasets::versions::{self, Changes};
use crate::error::{Error, Result};
use crate::exports::manifest::{nothing_left, Listed, RefusedAsset};
use crate::identity::roles::Action;
use crate::identity::users::Actor;
use crate::job::{Job, Unit};
use crate::provenance::chain;
use crate::provenance::event::{EventKind, Signer};

/// Shards of about 500 MB unless asked otherwise: large enough that a
/// training job opens few files, small enough to fetch and verify one at a
/// time.
pub const DEFAULT_SHARD_BYTES: u64 = 500_000_000;

/// How to build a version.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub format: ShardFormat,
    /// The folder the shards and the manifest go to (made if missing).
    pub out: PathBuf,
    /// About how large each shard is.
    pub shard_bytes: u64,
    /// Shards of only the assets added and changed since the last version.
    pub delta: bool,
    /// Each sample carries Content Credentials: a C2PA sidecar signed by
    /// the builder, bound to every byte of its file.
    pub credentials: bool,
}

/// A version built.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DatasetBuild {
    pub dataset_id: String,
    pub name: String,
    pub version: u32,
    pub parent_version: Option<u32>,
    pub format: ShardFormat,
    pub delta: bool,
    /// Where the signed dataset manifest was written.
    pub manifest_path: String,
    /// `sha256:` of its bytes, as the assets' `dataset_build` events record it.
    pub manifest_hash: String,
    /// Where the version's Croissant 1.1 description was written.
    pub croissant_path: String,
    /// Assets in the version.
    pub assets: usize,
    pub shards: Vec<ShardEntry>,
    pub changes: Changes,
    pub left_out: Vec<RefusedAsset>,
    /// The checkpoint written once the build was committed.
    pub checkpoint: String,
}

impl Library {
    /// Builds the next version of dataset `name` as `actor` (a rights
    /// manager: a version is signed and leaves the building).
    pub fn build_dataset(
        &self,
        actor: &Actor,
        name: &str,
        options: &BuildOptions,
        job: &mut Job,
    ) -> Result<DatasetBuild> {
        actor.may(Action::Export)?;
        if options.shard_bytes == 0 {
            return Err(Error::invalid_value(
                "shard_bytes",
                "a shard size must be at least one byte",
            ));
        }
        let taxonomy = self.taxonomy()?;
        let library_key = self.library_public_key()?;
        let conn = self.connect()?;
        // One snapshot: the selection and the parent it is compared with.
        let read = conn.unchecked_transaction()?;
        let (dataset_row, dataset) = selections::find(&read, name)?;
        let parent = versions::latest(&read, dataset_row)?;
        let Held {
            eligible,
            left_out,
            licenses,
            ..
        } = selections::holding(&read, &dataset.selector, &taxonomy, job)?;
        read.commit()?;
        if eligible.is_empty() {
            return Err(nothing_left("dataset-eligible", "build", &left_out));
        }
        match &parent {
            None if options.delta => {
                return Err(Error::refused(
                    "delta",
                    format!(
                        "dataset {} has no version to build a delta against; build it once without --delta",
                        dataset.name
                    ),
                ))
            }
            // What a delta leaves out is in its parent's shards, so it is
            // read in the parent's format.
            Some(p) if options.delta && p.format != options.format.as_str() => {
                return Err(Error::refused(
                    "delta",
                    format!(
                        "version {} of {} is {}; a delta against it is built as {} too",
                        p.version, dataset.name, p.format, p.format
                    ),
                ))
            }
            _ => {}
        }
        let version = parent.as_ref().map_or(1, |p| p.version + 1);
        let mut eligible = eligible;
        let digests: Vec<(String, String)> = eligible
            .iter_mut()
            .map(|l| {
                let digest = versions::record_digest(&mut l.entry);
                (l.entry.asset_id.clone(), digest)
            })
            .collect();
        let changes = versions::changes(&conn, parent.as_ref(), &digests, &left_out)?;
        let in_shards: Vec<&Listed> = if options.delta {
            let moved: HashSet<&str> = changes
                .added
                .iter()
                .chain(&changes.changed)
                .map(String::as_str)
                .collect();
            eligible
                .iter()
                .filter(|l| moved.contains(l.entry.asset_id.as_str()))
                .collect()
        } else {
            eligible.iter().collect()
        };

        let out = options.out.as_path();
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        let plan = shards::plan(
            in_shards.iter().map(|l| l.entry.size_bytes as u64),
            options.format,
            options.shard_bytes,
        );
        let names: Vec<String> = (0..plan.len())
            .map(|i| shards::shard_name(&dataset.name, version, i, plan.len(), options.format))
            .collect();
        let manifest_name = format!("{}-v{version}.manifest.json", dataset.name);
        let croissant_name = format!("{}-v{version}.croissant.json", dataset.name);
        // A version is immutable: nothing already there is replaced.
        for taken in names.iter().chain([&manifest_name, &croissant_name]) {
            if out.join(taken).exists() {
                return Err(Error::exists(
                    "dataset file",
                    format!(
                        "{} exists already; build into an empty folder, or remove what is there",
                        out.join(taken).display()
                    ),
                ));
            }
        }

        // The checkpoint the manifest (and any credentials) carries: the
        // library as the build began.
        let signing = options
            .credentials
            .then(|| self.signing(actor))
            .transpose()?;
        let carried = match &signing {
            Some(signing) => signing.carried().clone(),
            None => self.checkpoint_document(actor)?,
        };
        // `digest`: the file's SHA-256 as the writer just read it, checked.
        let sign = |conn: &rusqlite::Connection, sample: &Sample, digest| -> Result<Vec<u8>> {
            let entry = sample.entry;
            let refused = |why: String| {
                Error::refused("credentials", format!("asset {}: {why}", entry.asset_id))
            };
            let (Some(signing), Some(license)) = (&signing, taxonomy.get(&entry.license_tag))
            else {
                return Err(refused(format!(
                    "license tag {} is unknown",
                    entry.license_tag
                )));
            };
            let path = Path::new(&entry.location);
            signing
                .sidecar_of(conn, sample.row, entry, license, path, digest)?
                .map_err(refused)
        };
        let created_at = now();
        let written = write_shards(
            self,
            &conn,
            &in_shards,
            &licenses,
            &plan,
            &names,
            options,
            options.credentials.then_some(&sign as Credentials),
            job,
        )?;
        let shards: Vec<ShardEntry> = written
            .iter()
            .map(|w| ShardEntry {
                name: w.name.clone(),
                sha256: format!("sha256:{}", hex::encode(w.sha256)),
                size_bytes: w.size_bytes,
                assets: w.asset_ids.clone(),
            })
            .collect();
        let entries: Vec<_> = eligible.iter().map(|l| &l.entry).collect();
        let (bytes, manifest_hash) = manifest::signed(
            actor,
            &library_key,
            &Version {
                dataset_id: &dataset.dataset_id,
                name: &dataset.name,
                version,
                parent: parent
                    .as_ref()
                    .map(|p| (p.version, p.manifest_hash.as_str())),
                selector: &dataset.selector,
                format: options.format,
                delta: options.delta,
                credentials: options.credentials,
                created_at: &created_at,
                shards: &shards,
                changes: &changes,
                left_out: &left_out,
            },
            &entries,
            &licenses,
            &carried,
        )?;
        let manifest_path = out.join(&manifest_name);
        let staged_manifest =
            atomic::stage(&manifest_path, &bytes).map_err(|e| Error::io(&manifest_path, e))?;
        let croissant = croissant::document(
            &conn,
            &Described {
                dataset_id: &dataset.dataset_id,
                name: &dataset.name,
                version,
                parent: parent.as_ref().map(|p| p.version),
                format: options.format,
                delta: options.delta,
                created_at: &created_at,
                signer: actor.name(),
                listed: &eligible,
                shards: &shards,
                changes: &changes,
                left_out: &left_out,
                licenses: &licenses,
                manifest: (&manifest_name, &manifest_hash),
            },
        )?;
        let croissant_path = out.join(&croissant_name);
        let staged_croissant = atomic::stage(&croissant_path, &croissant)
            .map_err(|e| Error::io(&croissant_path, e))?;
        let staged: Vec<&Staged> = written.iter().map(|w| &w.staged).collect();
        atomic::sync_staged(&staged).map_err(|e| Error::io(out, e))?;

        let mut conn = conn;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let members: Vec<(i64, String)> = eligible
            .iter()
            .map(|l| (l.row, l.entry.asset_id.clone()))
            .collect();
        let heads = chain::heads(&tx, members.iter().map(|m| m.0))?;
        // Whatever happened to an asset since the snapshot is an event on
        // it; a build of what it no longer is would sign stale facts.
        for listed in &eligible {
            let head = heads.get(&listed.row).and_then(|h| h.1.as_deref());
            if head != listed.entry.provenance_hash.as_deref() {
                return Err(Error::refused(
                    "changed-during-build",
                    format!(
                        "asset {} changed while the build ran; build again",
                        listed.entry.asset_id
                    ),
                ));
            }
        }
        let added = tx.execute(
            "INSERT INTO dataset_versions (dataset, version, parent, format, delta, manifest_hash,
                 manifest_path, assets, shards, shard_bytes, created_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (dataset, version) DO NOTHING",
            params![
                dataset_row,
                version,
                parent.as_ref().map(|p| p.row),
                options.format.as_str(),
                options.delta,
                manifest_hash,
                manifest_path.to_string_lossy(),
                eligible.len(),
                shards.len(),
                shards.iter().map(|s| s.size_bytes).sum::<u64>(),
                created_at,
                actor.id,
            ],
        )?;
        if added == 0 {
            return Err(Error::refused(
                "changed-during-build",
                format!(
                    "another build made version {version} of {} while this one ran; build again",
                    dataset.name
                ),
            ));
        }
        let version_row = tx.last_insert_rowid();
        {
            let mut member = tx.prepare(
                "INSERT INTO dataset_members (version, asset_id, record_digest) VALUES (?1, ?2, ?3)",
            )?;
            for (asset_id, digest) in &digests {
                member.execute(params![version_row, asset_id, digest])?;
            }
        }
        let data = json!({
            "dataset_id": dataset.dataset_id,
            "dataset": dataset.name,
            "version": version,
            "manifest_hash": manifest_hash,
        });
        chain::append_all_onto(
            &tx,
            &members,
            &heads,
            EventKind::DatasetBuild,
            &data,
            &Signer::User(actor),
        )?;
        let mut pending = Vec::with_capacity(written.len() + 1);
        for w in &written {
            pending.push(pending_files::record_digest(
                &tx,
                w.staged.temp_path(),
                &out.join(&w.name),
                &w.sha256,
            )?);
        }
        for (staged, path, bytes) in [
            (&staged_manifest, &manifest_path, &bytes),
            (&staged_croissant, &croissant_path, &croissant),
        ] {
            pending.push(pending_files::record(&tx, staged.temp_path(), path, bytes)?);
        }
        // The last point to stop: nothing is committed or in place yet.
        job.check()?;
        tx.commit()?;
        let mut files: Vec<Staged> = written.into_iter().map(|w| w.staged).collect();
        files.extend([staged_manifest, staged_croissant]);
        atomic::put_all(files).map_err(|e| Error::io(out, e))?;
        for id in pending {
            pending_files::done(&conn, id)?;
        }
        let checkpoint = self.checkpoint(actor)?.path;
        Ok(DatasetBuild {
            dataset_id: dataset.dataset_id,
            name: dataset.name,
            version,
            parent_version: parent.map(|p| p.version),
            format: options.format,
            delta: options.delta,
            manifest_path: manifest_path.to_string_lossy().into_owned(),
            manifest_hash,
            croissant_path: croissant_path.to_string_lossy().into_owned(),
            assets: eligible.len(),
            shards,
            changes,
            left_out,
            checkpoint,
        })
    }
}

/// Writes the shards of `plan` (how many of `listed`, in order, each takes),
/// staged beside their destinations under `names`: a shard per core at a
/// time (each file is hashed on its way in and each shard on its way out,
/// so one core would be the limit), progress in bytes of the files written.
#[allow(clippy::too_many_arguments)]
fn write_shards(
    library: &Library,
    conn: &rusqlite::Connection,
    listed: &[&Listed],
    licenses: &serde_json::Map<String, serde_json::Value>,
    plan: &[usize],
    names: &[String],
    options: &BuildOptions,
    credentials: Option<Credentials>,
    job: &mut Job,
) -> Result<Vec<WrittenShard>> {
    let dimensions = dimensions(conn, listed)?;
    let license_bytes: HashMap<&str, Vec<u8>> = licenses
        .iter()
        .map(|(tag, rights)| Ok((tag.as_str(), serde_json::to_vec(rights)?)))
        .collect::<serde_json::Result<_>>()
        .map_err(|e| Error::Internal(e.to_string()))?;
    // Each shard's listed assets; a writer makes their samples (their
    // records are a copy of their entries) only when it takes the shard.
    let mut shards: Vec<(&String, &[&Listed])> = Vec::with_capacity(plan.len());
    let mut rest = listed;
    for (count, name) in plan.iter().zip(names) {
        let (these, after) = rest.split_at((*count).min(rest.len()));
        shards.push((name, these));
        rest = after;
    }
    let mtime = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    let total: u64 = listed.iter().map(|l| l.entry.size_bytes as u64).sum();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (cancel, failed, done) = (job.cancel_flag(), AtomicBool::new(false), AtomicU64::new(0));
    let next = AtomicUsize::new(0);
    let (sender, finished) = crossbeam_channel::unbounded();
    let mut written: Vec<Option<WrittenShard>> = Vec::new();
    written.resize_with(shards.len(), || None);
    let mut first_error = None;
    std::thread::scope(|s| {
        for _ in 0..cores.min(shards.len()) {
            let (sender, shards, next) = (sender.clone(), &shards, &next);
            let (failed, done) = (&failed, &done);
            let (dimensions, license_bytes) = (&dimensions, &license_bytes);
            s.spawn(move || {
                // Credentials read the catalog: each writer has its own connection.
                let conn = match credentials.map(|_| library.connect()).transpose() {
                    Ok(conn) => conn,
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        let _ = sender.send((0, Err(e)));
                        return;
                    }
                };
                let sign = conn
                    .as_ref()
                    .zip(credentials)
                    .map(|(conn, sign)| move |sample: &Sample, digest| sign(conn, sample, digest));
                let progress = Progress {
                    cancel,
                    failed,
                    done,
                    credentials: sign.as_ref().map(|f| f as Sidecar),
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((name, these)) = shards.get(i) else {
                        return;
                    };
                    let records: Vec<Vec<u8>> = these
                        .iter()
                        .map(|l| {
                            let mut record = Vec::with_capacity(1024);
                            l.entry.write_canonical(&mut record);
                            record
                        })
                        .collect();
                    let samples: Vec<Sample> = these
                        .iter()
                        .zip(&records)
                        .map(|(l, record)| {
                            let (width, height) =
                                dimensions.get(&l.row).copied().unwrap_or_default();
                            Sample {
                                row: l.row,
                                entry: &l.entry,
                                record,
                                license: license_bytes
                                    .get(l.entry.license_tag.as_str())
                                    .map_or(&[][..], Vec::as_slice),
                                width,
                                height,
                            }
                        })
                        .collect();
                    let target = options.out.join(name);
                    let result = shards::write(&target, options.format, &samples, mtime, &progress);
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if sender.send((i, result)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(sender);
        loop {
            match finished.recv_timeout(std::time::Duration::from_millis(100)) {
                Ok((i, Ok(shard))) => written[i] = Some(shard),
                // The first failure is the one to report; the others are
                // writers it stopped.
                Ok((_, Err(e))) => {
                    if first_error.is_none() || matches!(first_error, Some(Error::Cancelled)) {
                        first_error = Some(e);
                    }
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            }
            job.report(done.load(Ordering::Relaxed), total, Unit::Bytes);
        }
    });
    if let Some(e) = first_error {
        return Err(e);
    }
    job.check()?;
    written
        .into_iter()
        .map(|w| w.ok_or_else(|| Error::Internal("a shard was not written".into())))
        .collect()
}

/// Width and height in pixels, where known.
type Dimensions = (Option<i64>, Option<i64>);

/// The dimensions of each of `listed`'s assets, by catalog row.
fn dimensions(conn: &rusqlite::Connection, listed: &[&Listed]) -> Result<HashMap<i64, Dimensions>> {
    let rows: Vec<i64> = listed.iter().map(|l| l.row).collect();
    let ids = serde_json::to_string(&rows).map_err(|e| Error::Internal(e.to_string()))?;
    let mut stmt = conn.prepare(
        "SELECT id, width, height FROM assets WHERE id IN (SELECT value FROM json_each(?1))",
    )?;
    let found = stmt
        .query_map([ids], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(found)
}
