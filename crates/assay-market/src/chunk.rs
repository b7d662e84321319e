//! Receiving one PATCH body into an upload's part, streaming: frames are
//! gathered into batches, and each batch is written and hashed by a
//! blocking task of its own while the next is read, so memory stays flat
//! whatever the chunk size, the runtime never waits on the disk, and no
//! thread waits on a client that trickles its body.

use assay_market_proto::tus::ChunkDigest;
use assay_market_proto::ErrorCode;
use axum::body::Body;
use http_body_util::BodyExt as _;
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::blobs::{BlobError, PartWriter};
use crate::error::ApiError;
use crate::ids::UploadId;

/// Bytes gathered before a write is started while another is under way.
const BATCH: usize = 1 << 20;

/// What became of a PATCH body.
pub(crate) enum Received {
    /// All of it was written and made durable: this many bytes.
    Whole(u64),
    /// The connection broke off; what arrived was kept, as tus asks when
    /// no checksum came with it.
    Broken { kept: u64, why: String },
    /// Nothing was kept, for this reason.
    Refused(ApiError),
    /// Nothing was written: the part holds `held` committed bytes, more
    /// than the recorded offset (see [`crate::BlobError::PastOffset`]).
    Ahead { held: u64 },
}

/// How the body ended, as the connection side saw it.
enum Ending {
    Whole,
    /// More bytes than `room` arrived.
    TooLong,
    Broken(String),
}

/// The part being written, with the chunk's running digest.
struct Sink {
    part: Box<dyn PartWriter>,
    hasher: Option<ChunkHasher>,
    written: u64,
}

impl Sink {
    /// Writes `batch`; on failure the part is taken back and the error
    /// returned.
    fn write(mut self, batch: Vec<u8>) -> Result<Sink, ApiError> {
        if let Err(e) = self.part.write(&batch) {
            self.part.discard()?;
            return Err(e.into());
        }
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&batch);
        }
        self.written += batch.len() as u64;
        Ok(self)
    }

    /// Keeps or discards the part, as `ending` and the digest say.
    fn finish(
        self,
        ending: Ending,
        declared: Option<ChunkDigest>,
        room: u64,
    ) -> Result<Received, ApiError> {
        let digest = self.hasher.map(ChunkHasher::finish);
        let refuse = |part: Box<dyn PartWriter>, error: ApiError| {
            part.discard()?;
            Ok(Received::Refused(error))
        };
        match ending {
            Ending::TooLong => refuse(
                self.part,
                ApiError::new(
                    ErrorCode::UploadExceedsLength,
                    format!(
                        "the chunk would write past Upload-Length: only {room} bytes remain; nothing of it was kept"
                    ),
                ),
            ),
            Ending::Broken(why) if declared.is_some() => refuse(
                self.part,
                ApiError::new(
                    ErrorCode::InvalidRequest,
                    format!("the body broke off ({why}); a chunk with a checksum is kept whole or not at all"),
                ),
            ),
            Ending::Whole if digest != declared => refuse(
                self.part,
                ApiError::new(
                    ErrorCode::ChunkChecksumMismatch,
                    format!(
                        "the chunk's {} is {} but Upload-Checksum says {}; it was discarded",
                        declared.map_or("digest", |d| d.algorithm()),
                        digest.map(|d| hex::encode(d.bytes())).unwrap_or_default(),
                        declared.map(|d| hex::encode(d.bytes())).unwrap_or_default()
                    ),
                ),
            ),
            Ending::Whole => {
                self.part.commit()?;
                Ok(Received::Whole(self.written))
            }
            Ending::Broken(why) => {
                self.part.commit()?;
                Ok(Received::Broken {
                    kept: self.written,
                    why,
                })
            }
        }
    }
}

/// Waits for the write under way. Dropped before it completes (another
/// branch of a `select!` won), it leaves the write where it was.
async fn settle(
    writing: &mut Option<JoinHandle<Result<Sink, ApiError>>>,
) -> Result<Sink, ApiError> {
    let joined = match writing.as_mut() {
        Some(handle) => handle.await,
        None => return Err(ApiError::internal("no upload write was under way")),
    };
    *writing = None;
    joined.map_err(|e| ApiError::internal(format!("the upload writer failed: {e}")))?
}

/// Writes `body` to `upload`'s part at `offset`; at most `room` bytes fit.
/// `declared` is the chunk's digest from `Upload-Checksum`.
pub(crate) async fn receive(
    app: &AppState,
    upload: &UploadId,
    offset: u64,
    room: u64,
    declared: Option<ChunkDigest>,
    body: Body,
) -> Result<Received, ApiError> {
    let (blobs, id) = (app.blobs.clone(), upload.clone());
    let part = match crate::app::blocking(move || Ok(blobs.append(&id, offset))).await? {
        Ok(part) => part,
        Err(BlobError::PastOffset { held, .. }) => return Ok(Received::Ahead { held }),
        Err(e) => return Err(e.into()),
    };
    // Idle between writes; taken by the write under way.
    let mut sink = Some(Sink {
        part,
        hasher: declared.map(ChunkHasher::of),
        written: 0,
    });
    let mut writing: Option<JoinHandle<Result<Sink, ApiError>>> = None;
    let mut batch: Vec<u8> = Vec::new();
    let mut body = body;
    let mut received = 0u64;
    let ending = loop {
        if writing.is_none() && !batch.is_empty() {
            if let Some(idle) = sink.take() {
                let bytes = std::mem::take(&mut batch);
                writing = Some(tokio::task::spawn_blocking(move || idle.write(bytes)));
            }
        }
        tokio::select! {
            written = settle(&mut writing), if writing.is_some() => {
                // A failed write took its part back; the error is the answer.
                sink = Some(written?);
            }
            frame = body.frame(), if batch.len() < BATCH => match frame {
                None => break Ending::Whole,
                Some(Err(e)) => break Ending::Broken(e.to_string()),
                Some(Ok(frame)) => {
                    // Trailers carry no bytes of the file.
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    received += data.len() as u64;
                    if received > room {
                        break Ending::TooLong;
                    }
                    batch.extend_from_slice(&data);
                }
            },
        }
    };
    let mut last = match sink {
        Some(idle) => idle,
        None => settle(&mut writing).await?,
    };
    if !matches!(ending, Ending::TooLong) && !batch.is_empty() {
        last = crate::app::blocking(move || last.write(batch)).await?;
    }
    crate::app::blocking(move || last.finish(ending, declared, room)).await
}

/// The running digest of a chunk, in the algorithm its checksum names.
enum ChunkHasher {
    Sha1(sha1::Sha1),
    Sha256(Sha256),
}

impl ChunkHasher {
    fn of(declared: ChunkDigest) -> ChunkHasher {
        match declared {
            ChunkDigest::Sha1(_) => ChunkHasher::Sha1(sha1::Sha1::new()),
            ChunkDigest::Sha256(_) => ChunkHasher::Sha256(Sha256::new()),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            ChunkHasher::Sha1(h) => h.update(bytes),
            ChunkHasher::Sha256(h) => h.update(bytes),
        }
    }

    fn finish(self) -> ChunkDigest {
        match self {
            ChunkHasher::Sha1(h) => ChunkDigest::Sha1(h.finalize().into()),
            ChunkHasher::Sha256(h) => ChunkDigest::Sha256(h.finalize().into()),
        }
    }
}
