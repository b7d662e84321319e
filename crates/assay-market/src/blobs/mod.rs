//! Where files' bytes live: unfinished uploads ("parts") and finished,
//! verified files ("blobs"). [`FolderBlobs`] keeps them in a local folder
//! (the default); [`S3Blobs`] in an S3-compatible bucket, which several
//! server processes can share.
//!
//! Every name is an id the server generated ([`UploadId`], [`BlobId`]);
//! nothing a client sent ever becomes part of a path. Methods may block:
//! the server calls them on tokio's blocking threads.

mod folder;
mod s3;

use std::io::Read;

use crate::ids::{BlobId, PreviewId, UploadId};

pub use folder::FolderBlobs;
pub use s3::{S3Blobs, S3Location};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob storage: {action} {id}: {source}")]
    Io {
        action: &'static str,
        id: String,
        #[source]
        source: std::io::Error,
    },
    #[error("blob storage: no part for upload {0}")]
    NoPart(String),
    #[error(
        "blob storage: the part of upload {id} holds {held} bytes, fewer than offset {offset}"
    )]
    ShortPart { id: String, held: u64, offset: u64 },
    /// A store that cannot take bytes back holds more than the recorded
    /// offset: a commit landed and its record did not (the process
    /// stopped between the two). Those bytes are the client's, committed;
    /// the record catches up to `held`.
    #[error(
        "blob storage: upload {id} holds {held} committed bytes, past offset {offset}; resume at {held}"
    )]
    PastOffset { id: String, held: u64, offset: u64 },
}

pub type Result<T, E = BlobError> = std::result::Result<T, E>;

/// Appends one request's bytes to a part. Nothing written counts until
/// [`PartWriter::commit`]: [`PartWriter::discard`] takes the part back to
/// where it was, and what a writer dropped without either left behind is
/// dropped by the next [`Blobs::append`].
pub trait PartWriter: Send {
    fn write(&mut self, bytes: &[u8]) -> Result<()>;
    /// Makes the bytes durable; returns the part's length.
    fn commit(self: Box<Self>) -> Result<u64>;
    fn discard(self: Box<Self>) -> Result<()>;
}

pub trait Blobs: Send + Sync {
    /// An empty part for a new upload.
    fn create_part(&self, upload: &UploadId) -> Result<()>;
    /// A writer appending at `offset`. Bytes past `offset` (left by a write
    /// that never committed) are dropped first.
    fn append(&self, upload: &UploadId, offset: u64) -> Result<Box<dyn PartWriter>>;
    fn read_part(&self, upload: &UploadId) -> Result<Box<dyn Read + Send>>;
    /// The part's length, or `None` when it has none.
    fn part_len(&self, upload: &UploadId) -> Result<Option<u64>>;
    /// Removes a part; one already gone is fine.
    fn discard_part(&self, upload: &UploadId) -> Result<()>;
    /// Turns a finished, verified part into the blob of the same id, durably.
    fn seal(&self, upload: &UploadId) -> Result<BlobId>;
    fn exists(&self, blob: &BlobId) -> Result<bool>;
    /// A blob's bytes from the start, and its length.
    fn open(&self, blob: &BlobId) -> Result<(Box<dyn Read + Send>, u64)>;
    /// Removes a blob; one already gone is fine.
    fn delete(&self, blob: &BlobId) -> Result<()>;
    /// Every part held, for recovery at start.
    fn parts(&self) -> Result<Vec<UploadId>>;
    /// Every blob held, for recovery at start.
    fn blobs(&self) -> Result<Vec<BlobId>>;

    /// Stores a preview's bytes (small: a downsampled image), durably and
    /// whole or not at all. Previews are kept apart from blobs: nothing that
    /// serves a preview can name an original.
    fn put_preview(&self, preview: &PreviewId, bytes: &[u8]) -> Result<()>;
    fn read_preview(&self, preview: &PreviewId) -> Result<Vec<u8>>;
    /// Removes a preview; one already gone is fine.
    fn delete_preview(&self, preview: &PreviewId) -> Result<()>;
    /// Every preview held, for recovery at start.
    fn previews(&self) -> Result<Vec<PreviewId>>;

    /// Whether a part's length counts committed bytes only (each commit
    /// lands whole), so a part longer than its recorded offset holds the
    /// client's bytes past it, which [`Blobs::append`] refuses to drop
    /// ([`BlobError::PastOffset`]). Otherwise the bytes past the offset may
    /// be the remains of a write that never committed, and the next
    /// `append` drops them.
    fn holds_only_committed(&self) -> bool {
        false
    }

    /// How long what this store holds may be another server process's
    /// work under way (stores several processes share): recovery at start
    /// leaves alone what changed more recently. Zero for a store one
    /// process owns.
    fn settling(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }

    /// The local folder the bytes are written to, whose volume's free
    /// space bounds what uploads may take; `None` for object storage.
    fn local_root(&self) -> Option<&std::path::Path> {
        None
    }
}
