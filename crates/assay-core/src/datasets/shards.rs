//! Shards: the files a dataset version's samples are written into, in the
//! two layouts training jobs read.
//!
//! - WebDataset: a tar file in which each sample is the members that share
//!   a basename, the asset's id (no dots, so WebDataset's split at the first
//!   dot keeps it whole): `<id>.<ext>` the file, `<id>.record.json` its
//!   manifest entry, `<id>.license.json` its license's rights (named apart
//!   from a file that is itself JSON), and, when the build signs Content
//!   Credentials, `<id>.c2pa`, a C2PA sidecar bound to every byte of the file.
//! - Parquet: one row per asset, with the file's bytes beside its checksum,
//!   license tag, creator attribution, capture date, width, height, media
//!   type and, for video and audio, their container's facts (and the C2PA
//!   sidecar, when signed).
//!
//! Each asset's file is streamed from where the catalog holds it through a
//! SHA-256 and checked against the catalog's checksum as it goes: a file
//! that changed since import fails the build, named, and is never shipped
//! under a checksum it does not have. Memory holds one asset (Parquet: one
//! row group) at a time, whatever the dataset's size.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use arrow_array::builder::{Int64Builder, LargeBinaryBuilder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use assay_fsio::atomic::{Staged, Staging};
use assay_fsio::hashing::{Hashing, HashingWriter};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::exports::manifest::Entry;

/// How a version's samples are laid out in its shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ShardFormat {
    /// Tar files, one sample per basename (`webdataset`, `tar`).
    #[serde(rename = "webdataset")]
    WebDataset,
    /// Parquet files, one row per asset (`pyarrow`, `datasets`).
    Parquet,
}

impl ShardFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ShardFormat::WebDataset => "webdataset",
            ShardFormat::Parquet => "parquet",
        }
    }

    /// The shard files' extension.
    pub fn extension(self) -> &'static str {
        match self {
            ShardFormat::WebDataset => "tar",
            ShardFormat::Parquet => "parquet",
        }
    }

    /// What a shard adds to the bytes of an asset, about: tar's three
    /// headers, padding and the two small JSON members; a Parquet row's
    /// other columns. Only for deciding where shards end.
    fn overhead(self) -> u64 {
        match self {
            ShardFormat::WebDataset => 3 * 512 + 512 + 4096,
            ShardFormat::Parquet => 512,
        }
    }

    /// The media type a shard is served with.
    pub fn media_type(self) -> &'static str {
        match self {
            ShardFormat::WebDataset => "application/x-tar",
            ShardFormat::Parquet => "application/vnd.apache.parquet",
        }
    }
}

impl std::str::FromStr for ShardFormat {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "webdataset" => Ok(ShardFormat::WebDataset),
            "parquet" => Ok(ShardFormat::Parquet),
            other => Err(format!(
                "{other:?} is not a shard format: use webdataset or parquet"
            )),
        }
    }
}

/// What a shard holds of one asset.
pub(crate) struct Sample<'a> {
    /// The asset's catalog row.
    pub row: i64,
    pub entry: &'a Entry,
    /// The asset's manifest entry, as canonical JSON.
    pub record: &'a [u8],
    /// Its license tag's machine-readable rights, as JSON.
    pub license: &'a [u8],
    pub width: Option<i64>,
    pub height: Option<i64>,
}

/// A shard written beside its destination, not yet in place.
pub(crate) struct WrittenShard {
    pub name: String,
    pub staged: Staged,
    pub sha256: [u8; 32],
    pub size_bytes: u64,
    pub asset_ids: Vec<String>,
}

/// Splits samples of these sizes, in order, into shards of about `target`
/// bytes each (never an empty shard; a sample larger than `target` gets
/// one of its own). Returns how many samples each shard takes.
pub(crate) fn plan(
    sizes: impl Iterator<Item = u64>,
    format: ShardFormat,
    target: u64,
) -> Vec<usize> {
    let mut shards = Vec::new();
    let (mut count, mut bytes) = (0usize, 0u64);
    for size in sizes {
        let size = size.saturating_add(format.overhead());
        if count > 0 && bytes.saturating_add(size) > target {
            shards.push(count);
            (count, bytes) = (0, 0);
        }
        count += 1;
        bytes = bytes.saturating_add(size);
    }
    if count > 0 {
        shards.push(count);
    }
    shards
}

/// `NAME-vVERSION-00000-of-000NN.EXT`: the name of shard `index` of `count`.
pub(crate) fn shard_name(
    dataset: &str,
    version: u32,
    index: usize,
    count: usize,
    format: ShardFormat,
) -> String {
    format!(
        "{dataset}-v{version}-{index:05}-of-{count:05}.{}",
        format.extension()
    )
}

/// Signs a sample's C2PA sidecar, once its file has been read whole and
/// found to be the one the catalog holds (the file's SHA-256 as read is
/// the sidecar's data hash), with the writing thread's own catalog
/// connection.
pub(crate) type Credentials<'c> =
    &'c (dyn Fn(&rusqlite::Connection, &Sample, [u8; 32]) -> Result<Vec<u8>> + Sync);

/// A sample's C2PA sidecar, given its file's SHA-256 as just read and
/// checked: signed by a build, or carried over from the shard a pulled
/// sample came from.
pub(crate) type Sidecar<'a> = &'a dyn Fn(&Sample, [u8; 32]) -> Result<Vec<u8>>;

/// What a shard writer shares with its caller: the flags that stop it
/// (the job's cancel, or another writer's failure), where it counts the
/// bytes of the files it has written, and where each sample's credentials
/// come from, when samples carry them.
pub(crate) struct Progress<'a> {
    pub cancel: &'a AtomicBool,
    pub failed: &'a AtomicBool,
    pub done: &'a AtomicU64,
    pub credentials: Option<Sidecar<'a>>,
}

impl Progress<'_> {
    /// `Err(Cancelled)` once the job was cancelled or another writer failed:
    /// the boundary between two samples.
    fn check(&self) -> Result<()> {
        if self.cancel.load(Ordering::Relaxed) || self.failed.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        Ok(())
    }

    fn wrote(&self, entry: &Entry) {
        self.done
            .fetch_add(entry.size_bytes as u64, Ordering::Relaxed);
    }

    /// The sample's C2PA sidecar, when the build signs them; `digest` is
    /// its file's SHA-256, checked.
    fn sign(&self, sample: &Sample, digest: [u8; 32]) -> Result<Option<Vec<u8>>> {
        self.credentials
            .map(|sidecar| sidecar(sample, digest))
            .transpose()
    }
}

/// Writes `samples` to a shard staged beside `target`; `mtime` is the
/// build's time, given to every tar member so one build's shards are the
/// same bytes wherever they are extracted.
pub(crate) fn write(
    target: &Path,
    format: ShardFormat,
    samples: &[Sample],
    mtime: u64,
    progress: &Progress,
) -> Result<WrittenShard> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = Staging::create(target).map_err(|e| Error::io(target, e))?;
    let file = staging.writing_back().map_err(|e| Error::io(target, e))?;
    let out = HashingWriter::new(BufWriter::with_capacity(COPY_BUFFER, file));
    let out = match format {
        ShardFormat::WebDataset => write_tar(out, samples, mtime, progress)?,
        ShardFormat::Parquet => write_parquet(out, samples, progress)?,
    };
    let size_bytes = out.written();
    let (inner, sha256) = out.finish_digest();
    inner
        .into_inner()
        .map_err(|e| Error::io(target, e.into_error()))?;
    Ok(WrittenShard {
        name,
        // Made durable with the build's other files, in one flush.
        staged: staging.close_unsynced(),
        sha256,
        size_bytes,
        asset_ids: samples.iter().map(|s| s.entry.asset_id.clone()).collect(),
    })
}

/// How much of a file is read at a time.
const COPY_BUFFER: usize = 1 << 20;

/// An asset's file opened to be copied while it is hashed, once its size
/// is the catalog's; [`checked`] then holds what was read to its checksum.
fn open_checked(entry: &Entry) -> Result<Hashing<io::Take<File>>> {
    let path = Path::new(&entry.location);
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let size = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if i64::try_from(size).ok() != Some(entry.size_bytes) {
        return Err(changed(entry, &format!("it is {size} bytes")));
    }
    Ok(Hashing::new(file.take(size)))
}

/// The SHA-256 of the file `reader` read whole, if it is the one the
/// catalog holds.
fn checked(reader: Hashing<io::Take<File>>, entry: &Entry) -> Result<[u8; 32]> {
    let read = reader.read_so_far();
    if i64::try_from(read).ok() != Some(entry.size_bytes) {
        return Err(changed(entry, &format!("{read} bytes were read")));
    }
    let digest = reader.digest();
    let actual = format!("sha256:{}", hex::encode(digest));
    if actual != entry.checksum {
        return Err(changed(entry, &format!("its checksum is {actual}")));
    }
    Ok(digest)
}

/// The refusal of a build over a file that is not what the catalog holds.
fn changed(entry: &Entry, found: &str) -> Error {
    Error::refused(
        "fixity",
        format!(
            "asset {}: {}: {found}, but the catalog holds {} ({} bytes); it changed since import (`assay verify` checks every file)",
            entry.asset_id, entry.location, entry.checksum, entry.size_bytes
        ),
    )
}

/// The suffixes of a WebDataset sample's record and license members.
pub(crate) const RECORD_MEMBER: &str = "record.json";
pub(crate) const LICENSE_MEMBER: &str = "license.json";
pub(crate) const CREDENTIALS_MEMBER: &str = "c2pa";

/// The extension of a sample's file member: the file's own, lower case,
/// or `bin`. Never a dot in it, which would split WebDataset's keys.
pub(crate) fn member_extension(file_name: &str) -> String {
    Path::new(file_name)
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .filter(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "bin".to_owned())
}

fn write_tar<W: Write>(out: W, samples: &[Sample], mtime: u64, progress: &Progress) -> Result<W> {
    let failed = |e: io::Error| Error::io(Path::new("shard"), e);
    let mut tar = tar::Builder::new(out);
    let header = |size: u64| {
        let mut header = tar::Header::new_ustar();
        header.set_size(size);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        header
    };
    for sample in samples {
        progress.check()?;
        let entry = sample.entry;
        let key = entry.asset_id.as_str();
        // Read a megabyte at a time (io::copy reads a BufReader's buffer
        // whole), not the 8 KiB io::copy uses for any other reader.
        let mut file = BufReader::with_capacity(COPY_BUFFER, open_checked(entry)?);
        let member = format!("{key}.{}", member_extension(&entry.file_name));
        tar.append_data(&mut header(entry.size_bytes as u64), &member, &mut file)
            .map_err(|e| Error::io(Path::new(&entry.location), e))?;
        let digest = checked(file.into_inner(), entry)?;
        let signed = progress.sign(sample, digest)?;
        let members = [
            (RECORD_MEMBER, Some(sample.record)),
            (LICENSE_MEMBER, Some(sample.license)),
            (CREDENTIALS_MEMBER, signed.as_deref()),
        ];
        for (suffix, bytes) in members {
            let Some(bytes) = bytes else { continue };
            tar.append_data(
                &mut header(bytes.len() as u64),
                format!("{key}.{suffix}"),
                bytes,
            )
            .map_err(failed)?;
        }
        progress.wrote(entry);
    }
    tar.into_inner().map_err(failed)
}

/// A row group is written out once it holds this much, so a shard of any
/// size is written in bounded memory.
const ROW_GROUP_BYTES: usize = 64 << 20;
/// Rows gathered into one Arrow batch before it is handed to the writer.
const BATCH_BYTES: usize = 8 << 20;

/// What a Parquet column holds.
#[derive(Clone, Copy)]
pub(crate) enum ColumnKind {
    Text,
    Integer,
    Bytes,
}

impl ColumnKind {
    /// The column's Croissant data type (mlcroissant hands `sc:Text` over
    /// as bytes).
    pub(crate) fn croissant(self) -> &'static str {
        match self {
            ColumnKind::Text | ColumnKind::Bytes => "sc:Text",
            ColumnKind::Integer => "sc:Integer",
        }
    }

    fn arrow(self) -> DataType {
        match self {
            ColumnKind::Text => DataType::Utf8,
            ColumnKind::Integer => DataType::Int64,
            ColumnKind::Bytes => DataType::LargeBinary,
        }
    }
}

/// A column of a Parquet shard.
pub(crate) struct Column {
    pub name: &'static str,
    pub kind: ColumnKind,
    pub nullable: bool,
    /// What it holds, as the version's Croissant describes it.
    pub about: &'static str,
}

/// A Parquet shard's columns, in the order `Rows` fills them: the one list
/// the Arrow schema and the Croissant fields are both made from.
pub(crate) const COLUMNS: &[Column] = &[
    column("asset_id", ColumnKind::Text, false, "The asset's id in the signed manifest."),
    column("file_name", ColumnKind::Text, false, "The file's name."),
    column("media_type", ColumnKind::Text, false, "The file's media type."),
    column("size_bytes", ColumnKind::Integer, false, "The file's size in bytes."),
    column("checksum", ColumnKind::Text, false, "sha256: of the file's bytes."),
    column("license_tag", ColumnKind::Text, false, "The license tag; its terms are in usageInfo."),
    column("creator_attribution_text", ColumnKind::Text, true, "How to credit the creator."),
    column("capture_date", ColumnKind::Text, true, "When it was captured, as the file says."),
    column("width", ColumnKind::Integer, true, "Width in pixels, where known."),
    column("height", ColumnKind::Integer, true, "Height in pixels, where known."),
    column(
        "media",
        ColumnKind::Text,
        true,
        "A video's or audio file's duration, streams, recording time and place, as JSON.",
    ),
    column("bytes", ColumnKind::Bytes, false, "The file's bytes."),
    column(
        "c2pa",
        ColumnKind::Bytes,
        true,
        "A C2PA sidecar (Content Credentials) bound to the file's bytes, when the build signed them.",
    ),
];

const fn column(
    name: &'static str,
    kind: ColumnKind,
    nullable: bool,
    about: &'static str,
) -> Column {
    Column {
        name,
        kind,
        nullable,
        about,
    }
}

/// The Arrow schema of a Parquet shard, from [`COLUMNS`].
pub(crate) fn parquet_schema() -> SchemaRef {
    Arc::new(Schema::new(
        COLUMNS
            .iter()
            .map(|c| Field::new(c.name, c.kind.arrow(), c.nullable))
            .collect::<Vec<_>>(),
    ))
}

/// Rows being gathered into one batch.
#[derive(Default)]
struct Rows {
    asset_id: StringBuilder,
    file_name: StringBuilder,
    media_type: StringBuilder,
    size_bytes: Int64Builder,
    checksum: StringBuilder,
    license_tag: StringBuilder,
    attribution: StringBuilder,
    capture_date: StringBuilder,
    width: Int64Builder,
    height: Int64Builder,
    media: StringBuilder,
    bytes: LargeBinaryBuilder,
    c2pa: LargeBinaryBuilder,
    held: usize,
}

impl Rows {
    fn push(&mut self, sample: &Sample, bytes: &[u8], c2pa: Option<&[u8]>) {
        let e = sample.entry;
        self.asset_id.append_value(&e.asset_id);
        self.file_name.append_value(&e.file_name);
        self.media_type.append_value(&e.media_type);
        self.size_bytes.append_value(e.size_bytes);
        self.checksum.append_value(&e.checksum);
        self.license_tag.append_value(&e.license_tag);
        self.attribution
            .append_option(e.creator_attribution_text.as_deref());
        self.capture_date.append_option(e.capture_date.as_deref());
        self.width.append_option(sample.width);
        self.height.append_option(sample.height);
        self.media
            .append_option(e.media.as_ref().map(|m| m.to_string()));
        self.bytes.append_value(bytes);
        self.c2pa.append_option(c2pa);
        self.held += bytes.len();
    }

    fn batch(&mut self, schema: &SchemaRef) -> Result<RecordBatch> {
        self.held = 0;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.asset_id.finish()),
            Arc::new(self.file_name.finish()),
            Arc::new(self.media_type.finish()),
            Arc::new(self.size_bytes.finish()),
            Arc::new(self.checksum.finish()),
            Arc::new(self.license_tag.finish()),
            Arc::new(self.attribution.finish()),
            Arc::new(self.capture_date.finish()),
            Arc::new(self.width.finish()),
            Arc::new(self.height.finish()),
            Arc::new(self.media.finish()),
            Arc::new(self.bytes.finish()),
            Arc::new(self.c2pa.finish()),
        ];
        RecordBatch::try_new(schema.clone(), columns)
            .map_err(|e| Error::Internal(format!("a Parquet batch: {e}")))
    }
}

/// How a Parquet shard is written. Files are mostly compressed media
/// already, and so are C2PA stores: their bytes are stored as they are,
/// without statistics (a min and max of image bytes tell a reader
/// nothing); the other columns are small and take snappy.
pub(crate) fn writer_properties() -> WriterProperties {
    let mut properties = WriterProperties::builder().set_compression(Compression::SNAPPY);
    for column in ["bytes", "c2pa"] {
        let column = ColumnPath::from(column);
        properties = properties
            .set_column_compression(column.clone(), Compression::UNCOMPRESSED)
            .set_column_dictionary_enabled(column.clone(), false)
            .set_column_statistics_enabled(
                column,
                parquet::file::properties::EnabledStatistics::None,
            );
    }
    properties.build()
}

fn write_parquet<W: Write + Send>(out: W, samples: &[Sample], progress: &Progress) -> Result<W> {
    let failed = |e: parquet::errors::ParquetError| {
        Error::io(Path::new("shard"), io::Error::other(e.to_string()))
    };
    let schema = parquet_schema();
    let mut writer =
        ArrowWriter::try_new(out, schema.clone(), Some(writer_properties())).map_err(failed)?;
    let mut rows = Rows::default();
    let mut file = Vec::new();
    for sample in samples {
        progress.check()?;
        let entry = sample.entry;
        let mut reader = open_checked(entry)?;
        file.clear();
        reader
            .read_to_end(&mut file)
            .map_err(|e| Error::io(Path::new(&entry.location), e))?;
        let digest = checked(reader, entry)?;
        let signed = progress.sign(sample, digest)?;
        rows.push(sample, &file, signed.as_deref());
        if rows.held >= BATCH_BYTES {
            writer.write(&rows.batch(&schema)?).map_err(failed)?;
        }
        if writer.in_progress_size() >= ROW_GROUP_BYTES {
            writer.flush().map_err(failed)?;
        }
        progress.wrote(entry);
    }
    writer.write(&rows.batch(&schema)?).map_err(failed)?;
    writer.into_inner().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_end_near_the_target_and_are_never_empty() {
        let f = ShardFormat::Parquet;
        let o = f.overhead();
        assert_eq!(plan([].into_iter(), f, 100), Vec::<usize>::new());
        assert_eq!(plan([10, 10, 10].into_iter(), f, 3 * (10 + o)), [3]);
        assert_eq!(plan([10, 10, 10].into_iter(), f, 2 * (10 + o)), [2, 1]);
        // Larger than the target: a shard of its own.
        assert_eq!(plan([1, 5000, 1].into_iter(), f, 1000), [1, 1, 1]);
        assert_eq!(
            shard_name("harbour", 3, 0, 12, ShardFormat::WebDataset),
            "harbour-v3-00000-of-00012.tar"
        );
    }

    #[test]
    fn member_names_keep_one_dot() {
        assert_eq!(member_extension("IMG_1.JPG"), "jpg");
        assert_eq!(member_extension("archive.tar.gz"), "gz");
        assert_eq!(member_extension("README"), "bin");
        assert_eq!(member_extension("odd.j-pg"), "bin");
    }
}
