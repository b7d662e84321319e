//! Receiving one PATCH body into an upload's part, streaming: frames go
//! through a small bounded channel to a blocking thread that hashes and
//! writes them, so memory stays flat whatever the chunk size and the
//! runtime never waits on the disk.

use assay_market_proto::tus::ChunkDigest;
use assay_market_proto::ErrorCode;
use axum::body::{Body, Bytes};
use http_body_util::BodyExt as _;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::app::AppState;
use crate::error::ApiError;
use crate::ids::UploadId;

/// Frames in flight between the connection and the disk.
const IN_FLIGHT: usize = 8;

/// What became of a PATCH body.
pub(crate) enum Received {
    /// All of it was written and made durable: this many bytes.
    Whole(u64),
    /// The connection broke off; what arrived was kept, as tus asks when
    /// no checksum came with it.
    Broken { kept: u64, why: String },
    /// Nothing was kept, for this reason.
    Refused(ApiError),
}

/// How the body ended, as the connection side saw it.
enum Ending {
    Whole,
    /// More bytes than `room` arrived.
    TooLong,
    Broken(String),
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
    let (frames, mut incoming) = mpsc::channel::<Bytes>(IN_FLIGHT);
    let (end, ended) = oneshot::channel::<Ending>();
    let blobs = app.blobs.clone();
    let id = upload.clone();
    let writer = tokio::task::spawn_blocking(move || -> Result<Received, ApiError> {
        let mut part = blobs.append(&id, offset)?;
        let mut hasher = declared.map(ChunkHasher::of);
        let mut written = 0u64;
        while let Some(bytes) = incoming.blocking_recv() {
            if let Err(e) = part.write(&bytes) {
                // Dropping the receiver stops the sender; the part is taken back.
                drop(incoming);
                part.discard()?;
                return Err(e.into());
            }
            if let Some(hasher) = &mut hasher {
                hasher.update(&bytes);
            }
            written += bytes.len() as u64;
        }
        let ending = ended
            .blocking_recv()
            .unwrap_or_else(|_| Ending::Broken("the request was dropped".to_owned()));
        let digest = hasher.map(ChunkHasher::finish);
        let refuse = |part: Box<dyn crate::blobs::PartWriter>, error: ApiError| {
            part.discard()?;
            Ok(Received::Refused(error))
        };
        match ending {
            Ending::TooLong => refuse(
                part,
                ApiError::new(
                    ErrorCode::UploadExceedsLength,
                    format!(
                        "the chunk would write past Upload-Length: only {room} bytes remain; nothing of it was kept"
                    ),
                ),
            ),
            Ending::Broken(why) if declared.is_some() => refuse(
                part,
                ApiError::new(
                    ErrorCode::InvalidRequest,
                    format!("the body broke off ({why}); a chunk with a checksum is kept whole or not at all"),
                ),
            ),
            Ending::Whole if digest != declared => refuse(
                part,
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
                part.commit()?;
                Ok(Received::Whole(written))
            }
            Ending::Broken(why) => {
                part.commit()?;
                Ok(Received::Broken { kept: written, why })
            }
        }
    });

    let mut body = body;
    let mut received = 0u64;
    let ending = loop {
        match body.frame().await {
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
                if frames.send(data).await.is_err() {
                    break Ending::Broken("the part could not be written".to_owned());
                }
            }
        }
    };
    drop(frames);
    // The writer only listens once the frames are done; if it already
    // failed, its error is what the request gets.
    let _ = end.send(ending);
    writer
        .await
        .map_err(|e| ApiError::internal(format!("the upload writer failed: {e}")))?
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
