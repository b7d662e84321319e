//! A dataset version on the trainer's side, with no library: the signed
//! dataset manifests a pull keeps (`NAME-vN.manifest.json`), the samples of
//! its shards read back, a delta's tombstones applied to the shards of the
//! versions before it, a shard unpacked into one file per sample, and a
//! pulled folder checked sample by sample against the newest signed
//! manifest.
//!
//! Once tombstones are applied a shard is no longer the bytes its manifest
//! signed, so a folder is checked where it matters to a training job: every
//! sample's file must hash to the checksum the newest version's signed
//! entry gives it, and every asset of that version must be there exactly
//! once.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64};

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use assay_fsio::atomic::{self, Staging};
use assay_fsio::hashing::{Hashing, HashingWriter};
use ed25519_dalek::VerifyingKey;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use serde::Serialize;
use serde_json::Value;

use crate::datasets::croissant::{folder_document, Holding};
use crate::datasets::manifest::verify_dataset_manifest;
use crate::datasets::shards::{
    self, Progress, Sample, ShardFormat, Sidecar, CREDENTIALS_MEMBER, LICENSE_MEMBER, RECORD_MEMBER,
};
use crate::error::{Error, Result};
use crate::exports::manifest::{str_field, Entry};

/// What a pull leaves of a download in progress: `.NAME` and this.
pub const PART_SUFFIX: &str = ".assay-part";
/// How a version's signed manifest is named in a pulled folder.
pub fn manifest_file(name: &str, version: u32) -> String {
    format!("{name}-v{version}.manifest.json")
}
/// How the Croissant of a pulled folder is named: one per folder, made
/// again by each pull, describing what the folder holds now.
pub fn croissant_file(name: &str) -> String {
    format!("{name}.croissant.json")
}
/// Rows of a Parquet shard read at a time when it is rewritten or read.
const BATCH_ROWS: usize = 64;

/// One asset of a version, as its signed entry gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub checksum: String,
    pub file_name: String,
    pub size_bytes: u64,
}

/// A shard a version's manifest lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedShard {
    pub name: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub assets: Vec<String>,
}

/// What a signed dataset manifest says, read after it was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionDocument {
    pub dataset_id: String,
    pub name: String,
    pub version: u32,
    pub format: ShardFormat,
    pub delta: bool,
    /// The version it was built from, and that version's manifest hash.
    pub parent: Option<(u32, String)>,
    /// Every asset of the version (a delta's parent's kept ones too).
    pub members: HashMap<String, Member>,
    pub shards: Vec<ListedShard>,
    /// Assets whose earlier copies a delta supersedes: withdrawn (the
    /// tombstones) and changed.
    pub superseded: Vec<String>,
    pub withdrawn: Vec<String>,
}

impl VersionDocument {
    /// Reads a dataset manifest's bytes (checked already, or to be).
    pub fn read(bytes: &[u8]) -> Result<VersionDocument> {
        let doc: Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::Corrupt(format!("a dataset manifest: {e}")))?;
        VersionDocument::of(&doc)
    }

    /// What the parsed dataset manifest `doc` says.
    pub fn of(doc: &Value) -> Result<VersionDocument> {
        let bad = |why: String| Error::Corrupt(format!("a dataset manifest: {why}"));
        let format = str_field(doc, "format")
            .parse::<ShardFormat>()
            .map_err(bad)?;
        let version = doc["version"]
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| bad("no version".into()))?;
        let members = doc["assets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                (
                    str_field(a, "asset_id").to_owned(),
                    Member {
                        checksum: str_field(a, "checksum").to_owned(),
                        file_name: str_field(a, "file_name").to_owned(),
                        size_bytes: a["size_bytes"].as_u64().unwrap_or_default(),
                    },
                )
            })
            .collect();
        let ids = |v: &Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|id| id.as_str().or_else(|| id["asset_id"].as_str()))
                .map(str::to_owned)
                .collect()
        };
        let shards = doc["shards"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| ListedShard {
                name: str_field(s, "name").to_owned(),
                sha256: str_field(s, "sha256").to_owned(),
                size_bytes: s["size_bytes"].as_u64().unwrap_or_default(),
                assets: ids(&s["assets"]),
            })
            .collect();
        let withdrawn = ids(&doc["changes"]["withdrawn"]);
        let mut superseded = withdrawn.clone();
        superseded.extend(ids(&doc["changes"]["changed"]));
        let parent = doc["parent"]["version"]
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .zip(doc["parent"]["manifest_hash"].as_str().map(str::to_owned));
        Ok(VersionDocument {
            dataset_id: str_field(doc, "dataset_id").to_owned(),
            name: str_field(doc, "name").to_owned(),
            version,
            format,
            delta: doc["delta"].as_bool().unwrap_or(false),
            parent,
            members,
            shards,
            superseded,
            withdrawn,
        })
    }

    /// The checksum each member's file must have.
    pub fn checksums(&self) -> HashMap<&str, &str> {
        self.members
            .iter()
            .map(|(id, m)| (id.as_str(), m.checksum.as_str()))
            .collect()
    }
}

/// Writes the Croissant of the folder `dir` a pull filled
/// ([`croissant_file`]), from the newest version's signed manifest
/// (`manifest`, named `manifest_name` in the folder): its shards as they
/// are now (each hashed), or its samples as files. Returns its path.
pub fn describe_folder(dir: &Path, manifest_name: &str, manifest: &[u8]) -> Result<PathBuf> {
    let doc: Value = serde_json::from_slice(manifest)
        .map_err(|e| Error::Corrupt(format!("a dataset manifest: {e}")))?;
    let name = str_field(&doc, "name");
    let prefix = format!("{name}-v");
    let mut shards: Vec<(PathBuf, ShardFormat)> = Vec::new();
    for item in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = item.map_err(|e| Error::io(dir, e))?.path();
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if let (Some(format), Some(true)) = (
            shard_format_of(&path),
            file_name.map(|n| n.starts_with(&prefix)),
        ) {
            shards.push((path, format));
        }
    }
    shards.sort_by(|a, b| a.0.cmp(&b.0));
    let holding = match shards.first().map(|(_, f)| *f) {
        None => Holding::Files,
        Some(format) => {
            let mut described = Vec::with_capacity(shards.len());
            for (path, other) in &shards {
                if *other != format {
                    return Err(Error::BadFile {
                        path: path.clone(),
                        message: format!(
                            "a {} shard beside {} shards: pull a dataset into a folder in one format",
                            other.as_str(),
                            format.as_str()
                        ),
                    });
                }
                let mut reader = Hashing::new(File::open(path).map_err(|e| Error::io(path, e))?);
                reader.drain(1 << 20).map_err(|e| Error::io(path, e))?;
                let size = reader.read_so_far();
                let shard = path.file_name().map(|n| n.to_string_lossy().into_owned());
                described.push((shard.unwrap_or_default(), reader.checksum(), size));
            }
            Holding::Shards(format, described)
        }
    };
    let hash = crate::provenance::signed::hash(manifest);
    let bytes = folder_document(&doc, (manifest_name, &hash), &holding)?;
    let target = dir.join(croissant_file(name));
    atomic::write(&target, &bytes).map_err(|e| Error::io(&target, e))?;
    Ok(target)
}

/// The shard format of a file, by its extension.
pub fn shard_format_of(path: &Path) -> Option<ShardFormat> {
    match path.extension()?.to_str()? {
        "tar" => Some(ShardFormat::WebDataset),
        "parquet" => Some(ShardFormat::Parquet),
        _ => None,
    }
}

/// The name a sample's file is unpacked under: `<asset_id>.<ext>`, the
/// name its tar member has.
pub fn sample_file_name(asset_id: &str, file_name: &str) -> String {
    format!("{asset_id}.{}", shards::member_extension(file_name))
}

/// The name a shard takes converted to `to`: its own, with `to`'s extension.
pub fn converted_name(name: &str, to: ShardFormat) -> String {
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    format!("{stem}.{}", to.extension())
}

/// Where the listed shard `name` is in `dir`: under its own name, or
/// converted to the other format.
pub fn shard_in(dir: &Path, name: &str) -> Option<PathBuf> {
    std::iter::once(name.to_owned())
        .chain([ShardFormat::WebDataset, ShardFormat::Parquet].map(|f| converted_name(name, f)))
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// Calls `visit` with each sample's asset id, file extension and file
/// bytes (as a reader), in the shard at `path`, one at a time.
pub fn each_sample(
    path: &Path,
    format: ShardFormat,
    visit: &mut dyn FnMut(&str, &str, &mut dyn Read) -> Result<()>,
) -> Result<()> {
    match format {
        ShardFormat::WebDataset => each_member(path, &mut |key, suffix, member| {
            if [RECORD_MEMBER, LICENSE_MEMBER, CREDENTIALS_MEMBER].contains(&suffix) {
                return Ok(());
            }
            visit(key, suffix, member)
        }),
        ShardFormat::Parquet => each_batch(path, &mut |batch| {
            let ids = text_column(batch, "asset_id", path)?;
            let names = text_column(batch, "file_name", path)?;
            let bytes = batch
                .column_by_name("bytes")
                .and_then(|c| c.as_binary_opt::<i64>())
                .ok_or_else(|| bad_shard(path, "no bytes column".into()))?;
            for row in 0..batch.num_rows() {
                let extension = shards::member_extension(names.value(row));
                visit(ids.value(row), &extension, &mut bytes.value(row))?;
            }
            Ok(())
        }),
    }
}

/// A member of a tar shard being read.
type TarMember<'a> = tar::Entry<'a, BufReader<File>>;

/// Calls `visit` with each member of the tar shard at `path`: its sample's
/// key (the name up to the first dot), the rest of its name, and the member.
fn each_member(
    path: &Path,
    visit: &mut dyn FnMut(&str, &str, &mut TarMember) -> Result<()>,
) -> Result<()> {
    let io_error = |e: io::Error| Error::io(path, e);
    let file = File::open(path).map_err(io_error)?;
    let mut archive = tar::Archive::new(BufReader::with_capacity(1 << 20, file));
    for entry in archive.entries().map_err(io_error)? {
        let mut entry = entry.map_err(io_error)?;
        let name = entry
            .path()
            .map_err(io_error)?
            .to_string_lossy()
            .into_owned();
        let Some((key, suffix)) = name.split_once('.') else {
            return Err(bad_shard(path, format!("member {name:?} has no extension")));
        };
        visit(key, suffix, &mut entry)?;
    }
    Ok(())
}

/// Calls `visit` with each batch of rows of the Parquet shard at `path`.
fn each_batch(path: &Path, visit: &mut dyn FnMut(&RecordBatch) -> Result<()>) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.with_batch_size(BATCH_ROWS).build())
        .map_err(|e| bad_shard(path, e.to_string()))?;
    for batch in reader {
        visit(&batch.map_err(|e| bad_shard(path, e.to_string()))?)?;
    }
    Ok(())
}

fn text_column<'a>(
    batch: &'a RecordBatch,
    name: &str,
    path: &Path,
) -> Result<&'a arrow_array::StringArray> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_string_opt::<i32>())
        .filter(|c| c.null_count() == 0)
        .ok_or_else(|| bad_shard(path, format!("no {name} column of text")))
}

fn bad_shard(path: &Path, message: String) -> Error {
    Error::BadFile {
        path: path.to_owned(),
        message: format!("not a readable dataset shard: {message}"),
    }
}

/// Each sample's C2PA sidecar in the shard at `path`, by asset id.
fn credentials_in(path: &Path, format: ShardFormat) -> Result<HashMap<String, Vec<u8>>> {
    let mut found = HashMap::new();
    match format {
        ShardFormat::WebDataset => each_member(path, &mut |key, suffix, member| {
            if suffix == CREDENTIALS_MEMBER {
                let mut bytes = Vec::new();
                member
                    .read_to_end(&mut bytes)
                    .map_err(|e| Error::io(path, e))?;
                found.insert(key.to_owned(), bytes);
            }
            Ok(())
        })?,
        ShardFormat::Parquet => each_batch(path, &mut |batch| {
            let ids = text_column(batch, "asset_id", path)?;
            let Some(stores) = batch
                .column_by_name(CREDENTIALS_MEMBER)
                .and_then(|c| c.as_binary_opt::<i64>())
            else {
                return Ok(());
            };
            for row in (0..batch.num_rows()).filter(|r| stores.is_valid(*r)) {
                found.insert(ids.value(row).to_owned(), stores.value(row).to_vec());
            }
            Ok(())
        })?,
    }
    Ok(found)
}

/// Writes the samples of `listed`, fetched and verified at `source` in
/// `from`, as a shard in the other format at `target`, with the build's own
/// writer: each sample is unpacked into a hidden folder beside the target
/// and checked against its signed entry, then written with its record (the
/// entry) and license from `manifest`, and its Content Credentials carried
/// over. Width and height are not in a manifest entry: a Parquet shard
/// made from a tar has none. `doc` is the parsed manifest and `version`
/// what it says, read once for all of a pull's shards. Returns the
/// samples written.
pub fn convert_shard(
    source: &Path,
    from: ShardFormat,
    listed: &ListedShard,
    target: &Path,
    (doc, version): (&Value, &VersionDocument),
) -> Result<usize> {
    /// The unpacked samples, removed however the conversion ends.
    struct Samples(PathBuf);
    impl Drop for Samples {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let to = match from {
        ShardFormat::WebDataset => ShardFormat::Parquet,
        ShardFormat::Parquet => ShardFormat::WebDataset,
    };
    let bad = |why: String| Error::Corrupt(format!("a dataset manifest: {why}"));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let folder = Samples(target.with_file_name(format!(".{name}.samples")));
    let _ = std::fs::remove_dir_all(&folder.0);
    std::fs::create_dir_all(&folder.0).map_err(|e| Error::io(&folder.0, e))?;
    unpack_shard(source, from, &folder.0, &version.checksums())?;
    let credentials = credentials_in(source, from)?;
    let by_id: HashMap<&str, &Value> = doc["assets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| (str_field(a, "asset_id"), a))
        .collect();
    let text = |v: &Value, key: &str| v[key].as_str().map(str::to_owned);
    let not_null = |v: &Value, key: &str| Some(v[key].clone()).filter(|x| !x.is_null());
    let mut entries = Vec::with_capacity(listed.assets.len());
    for id in &listed.assets {
        let a = by_id.get(id.as_str()).ok_or_else(|| {
            bad(format!(
                "shard {} lists asset {id}, which it does not",
                listed.name
            ))
        })?;
        let file_name = str_field(a, "file_name").to_owned();
        let entry = Entry {
            asset_id: id.clone(),
            title: text(a, "title"),
            location: folder
                .0
                .join(sample_file_name(id, &file_name))
                .to_string_lossy()
                .into_owned(),
            file_name,
            checksum: str_field(a, "checksum").to_owned(),
            size_bytes: a["size_bytes"].as_i64().unwrap_or_default(),
            media_type: str_field(a, "media_type").to_owned(),
            content_credentials: not_null(a, "content_credentials"),
            media: a.get("media").filter(|m| !m.is_null()).cloned(),
            license_tag: str_field(a, "license_tag").to_owned(),
            payment_terms: not_null(a, "payment_terms"),
            creator_wallet: str_field(a, "creator_wallet").to_owned(),
            creator_attribution_text: text(a, "creator_attribution_text"),
            signed_contract_id: text(a, "signed_contract_id"),
            provenance_hash: text(a, "provenance_hash"),
            capture_date: text(a, "capture_date"),
            rights_holder: None,
        };
        let mut record = Vec::with_capacity(1024);
        entry.write_canonical(&mut record);
        let license = serde_json::to_vec(&doc["licenses"][&entry.license_tag])
            .map_err(|e| Error::Internal(e.to_string()))?;
        entries.push((entry, record, license));
    }
    let samples: Vec<Sample> = entries
        .iter()
        .map(|(entry, record, license)| Sample {
            row: 0,
            entry,
            record,
            license,
            width: None,
            height: None,
        })
        .collect();
    let carried = |sample: &Sample, _digest: [u8; 32]| {
        credentials
            .get(&sample.entry.asset_id)
            .cloned()
            .ok_or_else(|| {
                bad_shard(
                    source,
                    format!(
                        "the manifest says samples carry Content Credentials; asset {} has none",
                        sample.entry.asset_id
                    ),
                )
            })
    };
    let (cancel, failed, done) = (
        AtomicBool::new(false),
        AtomicBool::new(false),
        AtomicU64::new(0),
    );
    let progress = Progress {
        cancel: &cancel,
        failed: &failed,
        done: &done,
        credentials: (doc["credentials"].as_bool() == Some(true)).then_some(&carried as Sidecar),
    };
    let mtime = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    let written = shards::write(target, to, &samples, mtime, &progress)?;
    atomic::sync_staged(&[&written.staged]).map_err(|e| Error::io(target, e))?;
    written.staged.put().map_err(|e| Error::io(target, e))?;
    Ok(samples.len())
}

/// Rewrites the shard at `path` without the samples of the assets in
/// `drop` (a delta's tombstones and the earlier copies of what it
/// changed), through a file beside it renamed over it, so a crash leaves
/// the old shard or the new one. A shard left with no sample is deleted.
/// Returns how many samples it removed.
pub fn remove_samples(path: &Path, format: ShardFormat, drop: &HashSet<&str>) -> Result<usize> {
    let io_error = |e: io::Error| Error::io(path, e);
    let mut held = 0;
    let mut keys = HashSet::new();
    each_sample(path, format, &mut |id, _, _| {
        keys.insert(id.to_owned());
        Ok(())
    })?;
    let removed = keys.iter().filter(|k| drop.contains(k.as_str())).count();
    if removed == 0 {
        return Ok(0);
    }
    if removed == keys.len() {
        std::fs::remove_file(path).map_err(io_error)?;
        return Ok(removed);
    }
    let staging = Staging::create(path).map_err(io_error)?;
    let out = BufWriter::with_capacity(1 << 20, staging.file());
    match format {
        ShardFormat::WebDataset => {
            let mut tar = tar::Builder::new(out);
            each_member(path, &mut |key, suffix, member| {
                if !drop.contains(key) {
                    let mut header = member.header().clone();
                    tar.append_data(&mut header, format!("{key}.{suffix}"), member)
                        .map_err(io_error)?;
                    held += 1;
                }
                Ok(())
            })?;
            tar.into_inner()
                .and_then(|mut w| w.flush())
                .map_err(io_error)?;
        }
        ShardFormat::Parquet => {
            let failed = |e: parquet::errors::ParquetError| bad_shard(path, e.to_string());
            let mut writer = ArrowWriter::try_new(
                out,
                shards::parquet_schema(),
                Some(shards::writer_properties()),
            )
            .map_err(failed)?;
            each_batch(path, &mut |batch| {
                let ids = text_column(batch, "asset_id", path)?;
                // Runs of kept rows, each written as one slice.
                let mut start = None;
                for row in 0..=batch.num_rows() {
                    let keep = row < batch.num_rows() && !drop.contains(ids.value(row));
                    match (keep, start) {
                        (true, None) => start = Some(row),
                        (false, Some(from)) => {
                            writer
                                .write(&batch.slice(from, row - from))
                                .map_err(failed)?;
                            held += row - from;
                            start = None;
                        }
                        _ => {}
                    }
                }
                Ok(())
            })?;
            writer
                .into_inner()
                .and_then(|mut w| w.flush().map_err(Into::into))
                .map_err(failed)?;
        }
    }
    if held == 0 {
        return Err(Error::Internal(format!(
            "{}: a rewrite kept nothing of a shard that keeps samples",
            path.display()
        )));
    }
    staging.close().and_then(|s| s.put()).map_err(io_error)?;
    Ok(removed)
}

/// Writes each sample of the shard at `path` into `dir` as its own file
/// (`<asset_id>.<ext>`), each streamed through SHA-256 to a file beside its
/// place and put there only when it is the checksum `checksums` gives its
/// asset. Returns the names written.
pub fn unpack_shard(
    path: &Path,
    format: ShardFormat,
    dir: &Path,
    checksums: &HashMap<&str, &str>,
) -> Result<Vec<String>> {
    let mut written = Vec::new();
    each_sample(path, format, &mut |id, extension, file| {
        let expected = checksums
            .get(id)
            .ok_or_else(|| bad_shard(path, format!("asset {id} is not in the signed manifest")))?;
        let name = format!("{id}.{extension}");
        // The id is a signed entry's; the extension is the shard's own
        // word, so it must be a plain one before it names a file.
        if extension.is_empty() || !extension.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad_shard(
                path,
                format!("sample {name:?} has no plain extension"),
            ));
        }
        if let Some(why) = crate::file_names::file_name_problem(&name) {
            return Err(bad_shard(path, format!("sample {name:?}: {why}")));
        }
        let target = dir.join(&name);
        let io_error = |e: io::Error| Error::io(&target, e);
        let staging = Staging::create(&target).map_err(io_error)?;
        let mut out = HashingWriter::new(BufWriter::new(staging.file()));
        io::copy(file, &mut out).map_err(io_error)?;
        let (out, actual) = out.finish();
        out.into_inner().map_err(|e| io_error(e.into_error()))?;
        if actual != *expected {
            return Err(Error::BadFile {
                path: path.to_owned(),
                message: format!(
                    "the sample of asset {id} hashes to {actual}, but the signed manifest says {expected}"
                ),
            });
        }
        staging.close().and_then(|s| s.put()).map_err(io_error)?;
        written.push(name);
        Ok(())
    })?;
    Ok(written)
}

/// What checking a pulled dataset folder found; it holds when `failures`
/// is empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PulledDatasetCheck {
    pub dir: PathBuf,
    pub dataset_id: Option<String>,
    /// The newest version in the folder, which the samples are held to.
    pub version: Option<u32>,
    /// `shards` or `files`.
    pub layout: String,
    /// Signed manifests checked.
    pub manifests: usize,
    pub shards: usize,
    pub samples: usize,
    pub failures: Vec<String>,
}

/// Checks a folder a pull of a dataset filled: every `*.manifest.json`'s
/// signature by one of `trusted` (with its checkpoint and shard list), that
/// the newest version's chain of deltas is all there, and then every
/// sample, in the shards of those versions (as built, or converted to the
/// other format) or unpacked as files, against
/// the newest version's signed entries: each asset present exactly once,
/// with its checksum, and nothing else. No unverified download may be left.
pub fn verify_pulled_dataset(dir: &Path, trusted: &[VerifyingKey]) -> Result<PulledDatasetCheck> {
    let mut check = PulledDatasetCheck {
        dir: dir.to_owned(),
        ..PulledDatasetCheck::default()
    };
    let mut versions: Vec<(String, VersionDocument)> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for item in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let item = item.map_err(|e| Error::io(dir, e))?;
        names.push(item.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    for name in &names {
        if name.ends_with(PART_SUFFIX) {
            check.failures.push(format!(
                "{}: an unfinished, unverified download",
                dir.join(name).display()
            ));
        }
        if !name.ends_with(".manifest.json") {
            continue;
        }
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let signed = verify_dataset_manifest(&bytes, trusted, None);
        check.manifests += 1;
        if !signed.failures.is_empty() {
            check.failures.extend(
                signed
                    .failures
                    .iter()
                    .map(|f| format!("{}: {f}", path.display())),
            );
            continue;
        }
        versions.push((
            crate::provenance::signed::hash(&bytes),
            VersionDocument::read(&bytes)?,
        ));
    }
    if !check.failures.is_empty() {
        return Ok(check);
    }
    let Some(newest) = versions.iter().max_by_key(|(_, v)| v.version) else {
        check.failures.push(format!(
            "{}: no dataset manifest (NAME-vN.manifest.json)",
            dir.display()
        ));
        return Ok(check);
    };
    let newest = &newest.1;
    check.dataset_id = Some(newest.dataset_id.clone());
    check.version = Some(newest.version);
    // The chain of versions whose shards hold the newest one's samples.
    let by_hash: HashMap<&str, &VersionDocument> =
        versions.iter().map(|(h, v)| (h.as_str(), v)).collect();
    let mut chain = vec![newest];
    let mut at = newest;
    while at.delta {
        let Some(parent) = at
            .parent
            .as_ref()
            .and_then(|(_, hash)| by_hash.get(hash.as_str()))
        else {
            check.failures.push(format!(
                "version {} is a delta of version {}, whose signed manifest is not in {}",
                at.version,
                at.parent.as_ref().map_or(0, |(v, _)| *v),
                dir.display()
            ));
            return Ok(check);
        };
        if parent.dataset_id != newest.dataset_id {
            check.failures.push(format!(
                "version {} of dataset {} names a parent of dataset {}",
                at.version, at.dataset_id, parent.dataset_id
            ));
            return Ok(check);
        }
        chain.push(parent);
        at = parent;
    }
    let checksums = newest.checksums();
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut note = |id: &str, actual: String, place: String, failures: &mut Vec<String>| {
        match checksums.get(id) {
            None => failures.push(format!(
                "{place}: asset {id} is not in version {} (withdrawn, or never in it)",
                newest.version
            )),
            Some(expected) if *expected != actual => failures.push(format!(
                "{place}: asset {id} hashes to {actual}, but the signed manifest says {expected}"
            )),
            Some(_) => {}
        }
        if let Some(first) = seen.insert(id.to_owned(), place.clone()) {
            failures.push(format!("{place}: asset {id} is in {first} too"));
        }
    };
    // Each shard of the chain that is in the folder, as built or converted.
    let present: Vec<PathBuf> = chain
        .iter()
        .flat_map(|v| &v.shards)
        .filter_map(|s| shard_in(dir, &s.name))
        .collect();
    if present.is_empty() {
        check.layout = "files".into();
        for name in &names {
            let Some((id, _)) = name.split_once('.') else {
                continue;
            };
            if name.ends_with(".json") || name.starts_with('.') {
                continue;
            }
            let path = dir.join(name);
            let mut reader = Hashing::new(File::open(&path).map_err(|e| Error::io(&path, e))?);
            reader.drain(1 << 20).map_err(|e| Error::io(&path, e))?;
            check.samples += 1;
            note(
                id,
                reader.checksum(),
                path.display().to_string(),
                &mut check.failures,
            );
        }
    } else {
        check.layout = "shards".into();
        for path in present {
            let Some(format) = shard_format_of(&path) else {
                continue;
            };
            check.shards += 1;
            let place = path.display().to_string();
            each_sample(&path, format, &mut |id, _, file| {
                let mut reader = Hashing::new(file);
                reader.drain(1 << 20).map_err(|e| Error::io(&path, e))?;
                check.samples += 1;
                note(id, reader.checksum(), place.clone(), &mut check.failures);
                Ok(())
            })?;
        }
    }
    let mut missing: Vec<&str> = checksums
        .keys()
        .copied()
        .filter(|id| !seen.contains_key(*id))
        .collect();
    missing.sort_unstable();
    for id in missing {
        check.failures.push(format!(
            "asset {id} of version {} is in no {} of {}",
            newest.version,
            if check.layout == "files" {
                "file"
            } else {
                "shard"
            },
            dir.display()
        ));
    }
    Ok(check)
}
