//! One file to the market with tus 1.0: create the upload, PATCH it in
//! checksummed chunks, and record the acknowledged offset after each one
//! (a sync records it in the library), so an upload stopped by a crash, a
//! dropped connection or a server restart resumes with HEAD where the
//! market stands and never sends a finished file again. The file is an
//! asset's original or a dataset's shard ([`UploadFile`]).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use assay_core::{MarketAsset, UploadState};
use assay_market_proto::tus::{self, UploadFile, UploadMetadata};
use assay_market_proto::ErrorCode;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::http::{Api, Reply};
use crate::sync::{code_of, Run};

/// How many times one upload waits for another writer before that counts
/// as a failure: a lock held this long is no longer a sync beside this one.
const MAX_CONTENDED: u32 = 200;

/// Where an upload stands on the market.
enum Position {
    /// Unfinished at `offset` bytes.
    At { url: String, offset: u64 },
    /// The whole file is there and verified.
    Finished,
    /// Unknown to the market (expired or swept): start over.
    Gone,
}

impl Run<'_> {
    /// Uploads `asset`'s file for `manifest_id`, resuming what the library
    /// recorded; returns the bytes sent.
    pub(crate) fn upload(&mut self, manifest_id: &str, asset: &MarketAsset) -> Result<u64> {
        let path = asset
            .path
            .as_deref()
            .ok_or_else(|| Error::NoFile(asset.asset_id.clone()))?;
        let state = self
            .library
            .market_upload(&self.market.name, &asset.asset_id)?
            .unwrap_or_default();
        let sender = Sender {
            api: &self.api,
            chunk_size: self.chunk_size,
            cancel: self.cancel,
        };
        let outgoing = Outgoing {
            manifest_id,
            file: UploadFile::Asset(asset.asset_id.clone()),
            path,
            size: asset.size_bytes,
        };
        let (library, market) = (self.library, &self.market.name);
        let (progress, done) = (&mut self.progress, self.report.bytes_sent);
        sender.send(&outgoing, state, &mut |step| match step {
            Step::Record(state) => {
                Ok(library.record_market_upload(market, &asset.asset_id, state)?)
            }
            Step::Bytes { offset, sent } => {
                progress(&crate::progress::SyncEvent::Bytes {
                    asset_id: asset.asset_id.clone(),
                    offset,
                    size: asset.size_bytes,
                    sent: done + sent,
                });
                Ok(())
            }
        })
    }
}

/// A file to upload, and the manifest that lists it.
pub(crate) struct Outgoing<'a> {
    pub manifest_id: &'a str,
    pub file: UploadFile,
    pub path: &'a Path,
    pub size: u64,
}

/// What an upload tells as it goes.
pub(crate) enum Step<'a> {
    /// Where it stands now; kept to resume from.
    Record(&'a UploadState),
    /// The market acknowledged `offset` bytes; `sent` of them by this run.
    Bytes { offset: u64, sent: u64 },
}

/// Uploads files to one market.
pub(crate) struct Sender<'a> {
    pub api: &'a Api,
    /// The bytes of one PATCH.
    pub chunk_size: usize,
    pub cancel: &'a AtomicBool,
}

impl Sender<'_> {
    fn check_cancel(&self) -> Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        Ok(())
    }

    /// Uploads `out`, resuming from `state`; returns the bytes sent.
    pub(crate) fn send(
        &self,
        out: &Outgoing,
        mut state: UploadState,
        on: &mut dyn FnMut(Step) -> Result<()>,
    ) -> Result<u64> {
        let (path, size) = (out.path, out.size);
        let mut file = File::open(path).map_err(|e| io(path, e))?;
        state.finished = false;
        let mut sent = 0;
        let mut failures = 0;
        // Waits for another writer of the same upload. They are not failures
        // (the other sync is making progress) but are bounded all the same.
        let mut contended = 0u32;
        loop {
            self.check_cancel()?;
            let position = match &state.url {
                None => self.create(out)?,
                Some(url) => self.head(url, size)?,
            };
            let url = match position {
                Position::Finished => {
                    state.offset = size;
                    state.finished = true;
                    on(Step::Record(&state))?;
                    return Ok(sent);
                }
                Position::Gone => {
                    state = UploadState::default();
                    on(Step::Record(&state))?;
                    continue;
                }
                Position::At { url, offset } => {
                    // Bytes of a PATCH cut short that the market kept.
                    if state.url.as_deref() == Some(url.as_str()) && offset > state.offset {
                        sent += offset - state.offset;
                    }
                    state.url = Some(url.clone());
                    state.offset = offset;
                    on(Step::Record(&state))?;
                    url
                }
            };
            // Chunks until the file is done or something calls for a HEAD.
            loop {
                self.check_cancel()?;
                let chunk = read_chunk(&mut file, path, state.offset, size, self.chunk_size)?;
                let headers = [
                    (tus::TUS_RESUMABLE, tus::VERSION.to_owned()),
                    (tus::UPLOAD_OFFSET, state.offset.to_string()),
                    ("Content-Type", tus::OFFSET_OCTET_STREAM.to_owned()),
                    (
                        tus::UPLOAD_CHECKSUM,
                        tus::checksum_header(&Sha256::digest(&chunk)),
                    ),
                ];
                // A PATCH is never simply sent again: after a failure, HEAD
                // says what the market kept.
                let failure = match self.api.once("PATCH", &url, &headers, &chunk) {
                    Ok(reply) if reply.status == 204 => {
                        let offset = offset_of(&reply, "PATCH", &url)?;
                        sent += offset.saturating_sub(state.offset);
                        state.offset = offset;
                        state.finished = offset == size;
                        on(Step::Record(&state))?;
                        failures = 0;
                        on(Step::Bytes { offset, sent })?;
                        if state.finished {
                            return Ok(sent);
                        }
                        continue;
                    }
                    // 423: another request (a sync running beside this
                    // one) is writing the upload; HEAD once it is done.
                    Ok(reply) if reply.status == 423 && contended < MAX_CONTENDED => {
                        contended += 1;
                        std::thread::sleep(self.api.retry.delay(contended.min(4)));
                        break;
                    }
                    Ok(reply)
                        if reply.status >= 500
                            || reply.status == 423
                            || reply.status == tus::CHECKSUM_MISMATCH =>
                    {
                        format!("{}", reply.status)
                    }
                    // Another writer moved the upload on, or finished it.
                    Ok(reply)
                        if matches!(
                            code_of(&reply),
                            Some(ErrorCode::OffsetMismatch | ErrorCode::UploadComplete)
                        ) =>
                    {
                        break; // HEAD, without waiting
                    }
                    Ok(reply) if matches!(reply.status, 404 | 410) => {
                        state = UploadState::default();
                        on(Step::Record(&state))?;
                        break;
                    }
                    Ok(reply) => {
                        return Err(Error::refused("PATCH", &url, reply.status, &reply.body))
                    }
                    Err(e) => e,
                };
                failures += 1;
                if failures >= self.api.retry.attempts {
                    return Err(Error::Unreachable {
                        method: "PATCH",
                        path: url,
                        attempts: failures,
                        last: failure,
                    });
                }
                std::thread::sleep(self.api.retry.delay(failures));
                break;
            }
        }
    }

    /// `POST /v1/uploads`; an unfinished upload of the file is resumed
    /// rather than started over.
    fn create(&self, out: &Outgoing) -> Result<Position> {
        let metadata = UploadMetadata {
            manifest_id: out.manifest_id.to_owned(),
            file: out.file.clone(),
        };
        let headers = [
            (tus::TUS_RESUMABLE, tus::VERSION.to_owned()),
            (tus::UPLOAD_LENGTH, out.size.to_string()),
            (tus::UPLOAD_METADATA, metadata.to_header()),
        ];
        let path = tus::UPLOADS_PATH;
        let reply = self.api.send("POST", path, &headers, &[])?;
        match (reply.status, code_of(&reply)) {
            (201, _) => {
                let url = location(&reply, "POST", path)?;
                let offset = offset_of(&reply, "POST", path)?;
                Ok(if offset == out.size {
                    Position::Finished
                } else {
                    Position::At { url, offset }
                })
            }
            (409, Some(ErrorCode::AssetAlreadyUploaded)) => Ok(Position::Finished),
            (409, Some(ErrorCode::UploadInProgress)) => {
                let url = location(&reply, "POST", path)?;
                self.head(&url, out.size)
            }
            (status, _) => Err(Error::refused("POST", path, status, &reply.body)),
        }
    }

    /// `HEAD` of an upload: where it stands.
    fn head(&self, url: &str, size: u64) -> Result<Position> {
        let headers = [(tus::TUS_RESUMABLE, tus::VERSION.to_owned())];
        let reply = self.api.send("HEAD", url, &headers, &[])?;
        match reply.status {
            200 | 204 => {
                let offset = offset_of(&reply, "HEAD", url)?;
                // A finished upload has no expiry; an unfinished one whose
                // bytes are all there is still being verified.
                Ok(
                    if offset == size && reply.header(tus::UPLOAD_EXPIRES).is_none() {
                        Position::Finished
                    } else {
                        Position::At {
                            url: url.to_owned(),
                            offset,
                        }
                    },
                )
            }
            404 | 410 => Ok(Position::Gone),
            status => Err(Error::refused("HEAD", url, status, &reply.body)),
        }
    }
}

fn read_chunk(
    file: &mut File,
    path: &Path,
    offset: u64,
    size: u64,
    chunk: usize,
) -> Result<Vec<u8>> {
    let len = usize::try_from(size.saturating_sub(offset))
        .unwrap_or(usize::MAX)
        .min(chunk);
    let mut buf = vec![0; len];
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| io(path, e))?;
    file.read_exact(&mut buf).map_err(|e| io(path, e))?;
    Ok(buf)
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_owned(),
        source,
    }
}

fn location(reply: &Reply, method: &'static str, path: &str) -> Result<String> {
    reply
        .header("Location")
        .map(str::to_owned)
        .ok_or_else(|| Error::Protocol {
            method,
            path: path.to_owned(),
            message: format!("{} without Location", reply.status),
        })
}

fn offset_of(reply: &Reply, method: &'static str, path: &str) -> Result<u64> {
    reply
        .header(tus::UPLOAD_OFFSET)
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| Error::Protocol {
            method,
            path: path.to_owned(),
            message: format!("{} without a numeric Upload-Offset", reply.status),
        })
}
