//! [`Blobs`] in an S3-compatible bucket (`--blobs s3://BUCKET[/PREFIX]?endpoint=URL`),
//! through `object_store`. Keys, under the optional prefix:
//!
//! - `parts/ID`: an upload in progress, one object holding its state: the
//!   S3 multipart upload its bytes go to, the parts sent so far (their
//!   ETags and lengths) and, after a newline, the tail: the bytes received
//!   since the last part, fewer than [`PART_BYTES`]. S3 wants every part
//!   but the last to be at least 5 MiB, and a tus chunk may be any size,
//!   so bytes wait in the tail until a part's worth has come. Writing this
//!   one object is what commits a chunk: a PUT lands whole or not at all,
//!   so the state is always one a commit left, in any process.
//! - `blobs/AB/ID`: finished files; the multipart upload completes there.
//! - `previews/AB/ID`: watermarked previews, each one PUT.
//!
//! Memory stays bounded: a writer holds at most one part and one batch,
//! and reads fetch [`RANGE_BYTES`] at a time with ranged GETs.
//!
//! Several server processes share one bucket. The listings that recovery
//! at start uses ([`Blobs::parts`], [`Blobs::blobs`], [`Blobs::previews`])
//! leave out objects written in the last [`SETTLING`]: those may belong
//! to another process's upload or preview still under way, whose records
//! are not written yet, and deleting them would lose its work. An object
//! abandoned for longer than that is fair game.

use std::io::Read;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt as _;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as Key;
use object_store::{ObjectStore, PutPayload};
use serde::{Deserialize, Serialize};

use super::{BlobError, Blobs, PartWriter, Result};
use crate::async_bridge::Bridge;
use crate::ids::{BlobId, PreviewId, UploadId};

/// A part's size: S3's minimum is 5 MiB (but for the last), the market's
/// client sends 8 MiB chunks.
const PART_BYTES: usize = 8 << 20;

/// Bytes one ranged GET of a download fetches.
const RANGE_BYTES: u64 = 4 << 20;

/// How old an unrecorded object must be before recovery may delete it.
const SETTLING: Duration = Duration::from_secs(3600);

/// Where the bucket is and how to reach it, from `--blobs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Keys are written under it (no leading or trailing slash), or at the root.
    pub prefix: String,
    /// An S3-compatible server's URL; AWS's own when `None`.
    pub endpoint: Option<String>,
    pub region: Option<String>,
}

impl S3Location {
    /// Parses `s3://BUCKET[/PREFIX][?endpoint=URL][&region=R]`; `None` when
    /// `url` is not an `s3://` URL (it is then a folder's path).
    pub fn parse(url: &str) -> Option<std::result::Result<S3Location, String>> {
        let rest = url.strip_prefix("s3://")?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
        if bucket.is_empty() {
            return Some(Err(format!("{url}: the URL names no bucket")));
        }
        let mut location = S3Location {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
            endpoint: None,
            region: None,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("endpoint", value)) => location.endpoint = Some(value.to_owned()),
                Some(("region", value)) => location.region = Some(value.to_owned()),
                _ => {
                    return Some(Err(format!(
                        "{url}: unknown parameter {pair:?} (known: endpoint, region)"
                    )))
                }
            }
        }
        Some(Ok(location))
    }
}

/// The bucket's client and the runtime its calls run on.
struct Bucket {
    store: Arc<AmazonS3>,
    prefix: String,
    bridge: Bridge,
    /// [`SETTLING`], but in tests.
    settling: Duration,
}

pub struct S3Blobs {
    bucket: Arc<Bucket>,
}

/// What `parts/ID` holds before its tail.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct PartState {
    /// The S3 multipart upload, once the first part was sent.
    multipart: Option<String>,
    parts: Vec<SentPart>,
    /// The bytes are in `blobs/…` already, not yet verified.
    completed: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct SentPart {
    etag: String,
    len: u64,
}

impl PartState {
    fn sent(&self) -> u64 {
        self.parts.iter().map(|p| p.len).sum()
    }
}

fn failed(action: &'static str, id: &str, e: impl std::fmt::Display) -> BlobError {
    BlobError::Io {
        action,
        id: id.to_owned(),
        source: std::io::Error::other(e.to_string()),
    }
}

impl S3Blobs {
    /// Blob storage in `location`'s bucket. Credentials come from the
    /// environment as AWS's tools read them (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, or the
    /// instance's role); `credentials` overrides them (access key id,
    /// secret). Nothing is sent until the first call.
    pub fn open(location: &S3Location, credentials: Option<(&str, &str)>) -> Result<S3Blobs> {
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&location.bucket);
        if let Some(endpoint) = &location.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(region) = &location.region {
            builder = builder.with_region(region);
        }
        if let Some((id, secret)) = credentials {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        let store = builder
            .build()
            .map_err(|e| failed("opening bucket", &location.bucket, e))?;
        let bridge = Bridge::new("assay-s3")
            .map_err(|e| failed("starting the S3 client for", &location.bucket, e))?;
        let prefix = match location.prefix.as_str() {
            "" => String::new(),
            prefix => format!("{prefix}/"),
        };
        Ok(S3Blobs {
            bucket: Arc::new(Bucket {
                store: Arc::new(store),
                prefix,
                bridge,
                settling: SETTLING,
            }),
        })
    }
}

impl Bucket {
    fn key(&self, folder: &str, id: &str, sharded: bool) -> Key {
        match sharded {
            true => Key::from(format!("{}{folder}/{}/{id}", self.prefix, &id[..2])),
            false => Key::from(format!("{}{folder}/{id}", self.prefix)),
        }
    }

    fn part_key(&self, upload: &UploadId) -> Key {
        self.key("parts", upload.as_str(), false)
    }

    fn blob_key(&self, blob: &BlobId) -> Key {
        self.key("blobs", blob.as_str(), true)
    }

    fn preview_key(&self, preview: &PreviewId) -> Key {
        self.key("previews", preview.as_str(), true)
    }

    /// Runs an S3 call; its error names `action` and `id`.
    fn call<T, F>(&self, action: &'static str, id: &str, call: F) -> Result<T>
    where
        F: std::future::Future<Output = object_store::Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.bridge
            .run(action, call)
            .map_err(|e| failed(action, id, e))?
            .map_err(|e| failed(action, id, e))
    }

    /// The object's bytes, or `None` when there is none.
    fn get(&self, action: &'static str, id: &str, key: Key) -> Result<Option<Vec<u8>>> {
        let store = Arc::clone(&self.store);
        let got = self.call(action, id, async move {
            match store.get(&key).await {
                Ok(found) => found.bytes().await.map(|b| Some(b.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })?;
        Ok(got)
    }

    fn put(&self, action: &'static str, id: &str, key: Key, bytes: Vec<u8>) -> Result<()> {
        let store = Arc::clone(&self.store);
        self.call(action, id, async move {
            store.put(&key, PutPayload::from(bytes)).await.map(|_| ())
        })
    }

    /// Deletes `key`; one already gone is fine (S3 says so too).
    fn remove(&self, action: &'static str, id: &str, key: Key) -> Result<()> {
        let store = Arc::clone(&self.store);
        self.call(action, id, async move {
            match store.delete(&key).await {
                Err(object_store::Error::NotFound { .. }) => Ok(()),
                other => other,
            }
        })
    }

    /// The object's length, or `None` when there is none.
    fn len(&self, action: &'static str, id: &str, key: Key) -> Result<Option<u64>> {
        let store = Arc::clone(&self.store);
        self.call(action, id, async move {
            match store.head(&key).await {
                Ok(meta) => Ok(Some(meta.size)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    /// The names (last key segment) under `folder`, written before the
    /// settling time (see the module's comment).
    fn names(&self, folder: &'static str) -> Result<Vec<String>> {
        let store = Arc::clone(&self.store);
        let prefix = Key::from(format!("{}{folder}", self.prefix));
        let settled = settled_before(self.settling);
        let listed = self.call("listing", folder, async move {
            store.list(Some(&prefix)).try_collect::<Vec<_>>().await
        })?;
        Ok(listed
            .into_iter()
            .filter(|meta| meta.last_modified.timestamp() <= settled)
            .filter_map(|meta| meta.location.filename().map(str::to_owned))
            .collect())
    }

    /// Reads `parts/ID`: its state and tail.
    fn load(&self, upload: &UploadId) -> Result<Option<(PartState, Vec<u8>)>> {
        let id = upload.as_str();
        let Some(mut bytes) = self.get("reading part", id, self.part_key(upload))? else {
            return Ok(None);
        };
        let header_end = bytes
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| failed("reading part", id, "its state has no header"))?;
        let state: PartState = serde_json::from_slice(&bytes[..header_end])
            .map_err(|e| failed("reading part", id, e))?;
        let tail = bytes.split_off(header_end + 1);
        Ok(Some((state, tail)))
    }

    /// Writes `parts/ID`: the commit point of everything before it.
    fn save(&self, upload: &UploadId, state: &PartState, tail: &[u8]) -> Result<()> {
        let id = upload.as_str();
        let mut bytes = serde_json::to_vec(state).map_err(|e| failed("writing part", id, e))?;
        bytes.push(b'\n');
        bytes.extend_from_slice(tail);
        self.put("writing part", id, self.part_key(upload), bytes)
    }

    /// Sends `bytes` as the next part of `upload`'s multipart upload,
    /// beginning that upload first if need be.
    fn send_part(&self, upload: &UploadId, state: &mut PartState, bytes: Vec<u8>) -> Result<()> {
        let id = upload.as_str();
        let key = self.blob_key(&BlobId::from(upload));
        let multipart = match &state.multipart {
            Some(multipart) => multipart.clone(),
            None => {
                let (store, key) = (Arc::clone(&self.store), key.clone());
                let multipart = self.call("beginning multipart upload", id, async move {
                    store.create_multipart(&key).await
                })?;
                state.multipart = Some(multipart.clone());
                multipart
            }
        };
        let (store, index, len) = (Arc::clone(&self.store), state.parts.len(), bytes.len());
        let PartId { content_id } = self.call("sending part", id, async move {
            store
                .put_part(&key, &multipart, index, PutPayload::from(bytes))
                .await
        })?;
        state.parts.push(SentPart {
            etag: content_id,
            len: len as u64,
        });
        Ok(())
    }

    /// Puts a finished upload's bytes at its blob's key, unless they are
    /// there already: the multipart upload is completed with the tail as
    /// its last part, or a file smaller than a part is PUT whole. Returns
    /// the state that says so, and the file's length.
    fn complete(&self, upload: &UploadId) -> Result<(PartState, u64)> {
        let id = upload.as_str();
        let (mut state, tail) = self
            .load(upload)?
            .ok_or_else(|| BlobError::NoPart(id.to_owned()))?;
        if state.completed {
            return Ok((state.clone(), state.sent()));
        }
        let key = self.blob_key(&BlobId::from(upload));
        match state.multipart.clone() {
            None => {
                let len = tail.len() as u64;
                self.put("storing blob", id, key, tail)?;
                state.parts.push(SentPart {
                    etag: String::new(),
                    len,
                });
            }
            Some(multipart) => {
                if !tail.is_empty() {
                    self.send_part(upload, &mut state, tail)?;
                }
                let store = Arc::clone(&self.store);
                let parts = state
                    .parts
                    .iter()
                    .map(|p| PartId {
                        content_id: p.etag.clone(),
                    })
                    .collect();
                self.call("completing multipart upload", id, async move {
                    store.complete_multipart(&key, &multipart, parts).await
                })?;
            }
        }
        state.completed = true;
        self.save(upload, &state, &[])?;
        let len = state.sent();
        Ok((state, len))
    }

    /// Fetches `range` of the object at `key`.
    fn range(&self, id: &str, key: &Key, range: Range<u64>) -> Result<Vec<u8>> {
        let (store, key) = (Arc::clone(&self.store), key.clone());
        self.call("reading blob", id, async move {
            store.get_range(&key, range).await.map(|b| b.to_vec())
        })
    }
}

/// Seconds since the epoch, `settling` ago.
fn settled_before(settling: Duration) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    now.saturating_sub(settling).as_secs() as i64
}

/// A writer appending to an upload: bytes gather in the tail and leave it
/// a part at a time; [`PartWriter::commit`] saves the state.
struct S3Part {
    bucket: Arc<Bucket>,
    upload: UploadId,
    state: PartState,
    tail: Vec<u8>,
    /// This writer began the multipart upload: a discard aborts it.
    began: bool,
}

impl PartWriter for S3Part {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.tail.extend_from_slice(bytes);
        while self.tail.len() >= PART_BYTES {
            let rest = self.tail.split_off(PART_BYTES);
            let part = std::mem::replace(&mut self.tail, rest);
            let had = self.state.multipart.is_some();
            self.bucket.send_part(&self.upload, &mut self.state, part)?;
            self.began |= !had;
        }
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<u64> {
        self.bucket.save(&self.upload, &self.state, &self.tail)?;
        Ok(self.state.sent() + self.tail.len() as u64)
    }

    fn discard(self: Box<Self>) -> Result<()> {
        // Parts sent to an upload begun earlier stay in S3 under numbers
        // the saved state does not list: the next writer sends its own
        // under the same numbers, and completing names only listed ones.
        if let (true, Some(multipart)) = (self.began, self.state.multipart) {
            let store = Arc::clone(&self.bucket.store);
            let key = self.bucket.blob_key(&BlobId::from(&self.upload));
            self.bucket.call(
                "aborting multipart upload",
                self.upload.as_str(),
                async move { store.abort_multipart(&key, &multipart).await },
            )?;
        }
        Ok(())
    }
}

/// A blob read a range at a time.
struct RangeReader {
    bucket: Arc<Bucket>,
    id: String,
    key: Key,
    at: u64,
    len: u64,
    buffer: Vec<u8>,
    used: usize,
}

impl Read for RangeReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.used == self.buffer.len() {
            if self.at >= self.len {
                return Ok(0);
            }
            let end = (self.at + RANGE_BYTES).min(self.len);
            self.buffer = self
                .bucket
                .range(&self.id, &self.key, self.at..end)
                .map_err(std::io::Error::other)?;
            if self.buffer.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("blob {} ends at {} of {} bytes", self.id, self.at, self.len),
                ));
            }
            self.at += self.buffer.len() as u64;
            self.used = 0;
        }
        let n = out.len().min(self.buffer.len() - self.used);
        out[..n].copy_from_slice(&self.buffer[self.used..self.used + n]);
        self.used += n;
        Ok(n)
    }
}

impl S3Blobs {
    fn reader(&self, blob: &BlobId, len: u64) -> RangeReader {
        RangeReader {
            bucket: Arc::clone(&self.bucket),
            id: blob.as_str().to_owned(),
            key: self.bucket.blob_key(blob),
            at: 0,
            len,
            buffer: Vec::new(),
            used: 0,
        }
    }
}

impl Blobs for S3Blobs {
    fn create_part(&self, upload: &UploadId) -> Result<()> {
        self.bucket.save(upload, &PartState::default(), &[])
    }

    fn append(&self, upload: &UploadId, offset: u64) -> Result<Box<dyn PartWriter>> {
        let id = upload.as_str();
        let (state, mut tail) = self
            .bucket
            .load(upload)?
            .ok_or_else(|| BlobError::NoPart(id.to_owned()))?;
        let sent = state.sent();
        let held = sent + tail.len() as u64;
        if held < offset {
            return Err(BlobError::ShortPart {
                id: id.to_owned(),
                held,
                offset,
            });
        }
        if offset < sent || state.completed {
            return Err(BlobError::PastOffset {
                id: id.to_owned(),
                held,
                offset,
            });
        }
        tail.truncate((offset - sent) as usize);
        Ok(Box::new(S3Part {
            bucket: Arc::clone(&self.bucket),
            upload: upload.clone(),
            state,
            tail,
            began: false,
        }))
    }

    fn read_part(&self, upload: &UploadId) -> Result<Box<dyn Read + Send>> {
        let (_, len) = self.bucket.complete(upload)?;
        Ok(Box::new(self.reader(&BlobId::from(upload), len)))
    }

    fn part_len(&self, upload: &UploadId) -> Result<Option<u64>> {
        Ok(self
            .bucket
            .load(upload)?
            .map(|(state, tail)| state.sent() + tail.len() as u64))
    }

    fn discard_part(&self, upload: &UploadId) -> Result<()> {
        let id = upload.as_str();
        let Some((state, _)) = self.bucket.load(upload)? else {
            return Ok(());
        };
        let key = self.bucket.blob_key(&BlobId::from(upload));
        if state.completed {
            self.bucket.remove("removing unverified blob", id, key)?;
        } else if let Some(multipart) = state.multipart {
            let store = Arc::clone(&self.bucket.store);
            self.bucket
                .call("aborting multipart upload", id, async move {
                    match store.abort_multipart(&key, &multipart).await {
                        // Aborted already, by a discard that stopped before
                        // removing the state.
                        Err(object_store::Error::NotFound { .. }) => Ok(()),
                        other => other,
                    }
                })?;
        }
        self.bucket
            .remove("removing part", id, self.bucket.part_key(upload))
    }

    fn seal(&self, upload: &UploadId) -> Result<BlobId> {
        self.bucket.complete(upload)?;
        self.bucket.remove(
            "sealing blob",
            upload.as_str(),
            self.bucket.part_key(upload),
        )?;
        Ok(BlobId::from(upload))
    }

    fn exists(&self, blob: &BlobId) -> Result<bool> {
        let key = self.bucket.blob_key(blob);
        Ok(self
            .bucket
            .len("reading blob", blob.as_str(), key)?
            .is_some())
    }

    fn open(&self, blob: &BlobId) -> Result<(Box<dyn Read + Send>, u64)> {
        let id = blob.as_str();
        let len = self
            .bucket
            .len("opening blob", id, self.bucket.blob_key(blob))?
            .ok_or_else(|| failed("opening blob", id, "no such object"))?;
        Ok((Box::new(self.reader(blob, len)), len))
    }

    fn delete(&self, blob: &BlobId) -> Result<()> {
        self.bucket
            .remove("removing blob", blob.as_str(), self.bucket.blob_key(blob))
    }

    fn parts(&self) -> Result<Vec<UploadId>> {
        Ok(self
            .bucket
            .names("parts")?
            .iter()
            .filter_map(|name| UploadId::parse(name))
            .collect())
    }

    fn blobs(&self) -> Result<Vec<BlobId>> {
        Ok(self
            .bucket
            .names("blobs")?
            .iter()
            .filter_map(|name| BlobId::parse(name))
            .collect())
    }

    fn put_preview(&self, preview: &PreviewId, bytes: &[u8]) -> Result<()> {
        let key = self.bucket.preview_key(preview);
        self.bucket
            .put("storing preview", preview.as_str(), key, bytes.to_vec())
    }

    fn read_preview(&self, preview: &PreviewId) -> Result<Vec<u8>> {
        let id = preview.as_str();
        self.bucket
            .get("reading preview", id, self.bucket.preview_key(preview))?
            .ok_or_else(|| failed("reading preview", id, "no such object"))
    }

    fn delete_preview(&self, preview: &PreviewId) -> Result<()> {
        let key = self.bucket.preview_key(preview);
        self.bucket
            .remove("removing preview", preview.as_str(), key)
    }

    fn previews(&self) -> Result<Vec<PreviewId>> {
        Ok(self
            .bucket
            .names("previews")?
            .iter()
            .filter_map(|name| PreviewId::parse(name))
            .collect())
    }

    fn holds_only_committed(&self) -> bool {
        true
    }

    fn settling(&self) -> Duration {
        self.bucket.settling
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assay_test_services::s3::S3Server;

    const MIB: usize = 1 << 20;

    fn store(server: &S3Server) -> S3Blobs {
        let url = server.blobs_url().replace("?", "/market?");
        let location = S3Location::parse(&url).unwrap().unwrap();
        assert_eq!(location.prefix, "market");
        let mut blobs = S3Blobs::open(&location, Some(("test", "test"))).unwrap();
        // Recovery's listings see what was just written.
        Arc::get_mut(&mut blobs.bucket).unwrap().settling = Duration::ZERO;
        blobs
    }

    /// Bytes that differ at every offset, so a misplaced range shows.
    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8 ^ seed).collect()
    }

    #[test]
    fn an_upload_crosses_parts_resumes_in_another_process_and_becomes_a_ranged_blob() {
        let server = S3Server::start("assay-blobs").unwrap();
        let blobs = store(&server);
        let id = UploadId::random();
        blobs.create_part(&id).unwrap();
        let file = pattern(21 * MIB + 12_345, 7);
        // 3 MiB chunks, as a tus client might send: parts go out at 8 MiB.
        let mut offset = 0usize;
        for chunk in file[..12 * MIB].chunks(3 * MIB) {
            let mut w = blobs.append(&id, offset as u64).unwrap();
            w.write(chunk).unwrap();
            offset = w.commit().unwrap() as usize;
        }
        assert_eq!(offset, 12 * MIB);
        // A discarded write leaves the part as it was, even one that sent
        // a part to S3 on the way.
        let mut w = blobs.append(&id, offset as u64).unwrap();
        w.write(&pattern(9 * MIB, 99)).unwrap();
        w.discard().unwrap();
        assert_eq!(blobs.part_len(&id).unwrap(), Some(12 * MIB as u64));
        // A write that never committed is not there for the next one.
        let mut w = blobs.append(&id, offset as u64).unwrap();
        w.write(&pattern(MIB, 42)).unwrap();
        drop(w);
        // Another process (another client of the same bucket) resumes.
        let other = store(&server);
        assert_eq!(other.part_len(&id).unwrap(), Some(12 * MIB as u64));
        // Bytes sent as a part cannot be taken back: the store says how
        // far its committed bytes go instead.
        assert!(matches!(
            other.append(&id, 2 * MIB as u64).err(),
            Some(BlobError::PastOffset { held, .. }) if held == 12 * MIB as u64
        ));
        assert!(other.holds_only_committed());
        // Bytes in the tail past an offset are dropped.
        let mut w = other.append(&id, 11 * MIB as u64).unwrap();
        w.write(&file[11 * MIB..]).unwrap();
        assert_eq!(w.commit().unwrap(), file.len() as u64);
        assert!(matches!(
            other.append(&id, file.len() as u64 + 1).err(),
            Some(BlobError::ShortPart { .. })
        ));
        let mut read = Vec::new();
        other
            .read_part(&id)
            .unwrap()
            .read_to_end(&mut read)
            .unwrap();
        assert!(read == file, "the part read back differs");
        let blob = other.seal(&id).unwrap();
        assert_eq!(other.part_len(&id).unwrap(), None);
        assert_eq!(server.open_multipart_uploads().unwrap(), 0);
        let (mut reader, len) = blobs.open(&blob).unwrap();
        assert_eq!(len, file.len() as u64);
        let mut back = Vec::new();
        reader.read_to_end(&mut back).unwrap();
        assert!(back == file, "the blob read back differs");
        assert_eq!(blobs.blobs().unwrap(), vec![blob.clone()]);
        assert!(blobs.parts().unwrap().is_empty());
        blobs.delete(&blob).unwrap();
        blobs.delete(&blob).unwrap();
        assert!(!blobs.exists(&blob).unwrap());
        assert!(server.keys("market/").unwrap().is_empty());
    }

    #[test]
    fn small_files_previews_and_discarded_uploads_leave_nothing_behind() {
        let server = S3Server::start("assay-small").unwrap();
        let blobs = store(&server);
        let id = UploadId::random();
        blobs.create_part(&id).unwrap();
        let mut w = blobs.append(&id, 0).unwrap();
        w.write(b"hello world").unwrap();
        assert_eq!(w.commit().unwrap(), 11);
        assert_eq!(blobs.parts().unwrap(), vec![id.clone()]);
        let blob = blobs.seal(&id).unwrap();
        let (mut reader, len) = blobs.open(&blob).unwrap();
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        assert_eq!((text.as_str(), len), ("hello world", 11));

        // An upload given up after a part went out: its multipart upload
        // is aborted, its state removed.
        let gone = UploadId::random();
        blobs.create_part(&gone).unwrap();
        let mut w = blobs.append(&gone, 0).unwrap();
        w.write(&pattern(9 * MIB, 1)).unwrap();
        w.commit().unwrap();
        assert_eq!(server.open_multipart_uploads().unwrap(), 1);
        blobs.discard_part(&gone).unwrap();
        blobs.discard_part(&gone).unwrap();
        assert_eq!(server.open_multipart_uploads().unwrap(), 0);
        // One verified and refused: its completed bytes go too.
        let refused = UploadId::random();
        blobs.create_part(&refused).unwrap();
        let mut w = blobs.append(&refused, 0).unwrap();
        w.write(&pattern(9 * MIB, 2)).unwrap();
        w.commit().unwrap();
        blobs.read_part(&refused).unwrap();
        assert!(blobs.exists(&BlobId::from(&refused)).unwrap());
        blobs.discard_part(&refused).unwrap();
        assert!(!blobs.exists(&BlobId::from(&refused)).unwrap());

        let preview = PreviewId::random();
        blobs.put_preview(&preview, b"jpeg").unwrap();
        assert_eq!(blobs.read_preview(&preview).unwrap(), b"jpeg");
        assert_eq!(blobs.previews().unwrap(), vec![preview.clone()]);
        blobs.delete_preview(&preview).unwrap();
        assert!(blobs.read_preview(&preview).is_err());
        blobs.delete(&blob).unwrap();
        assert!(server.keys("").unwrap().is_empty());
    }

    #[test]
    fn blob_urls_parse_or_say_what_is_wrong() {
        let parsed =
            S3Location::parse("s3://bucket/a/b/?endpoint=http://127.0.0.1:9000&region=eu-west-1");
        assert_eq!(
            parsed,
            Some(Ok(S3Location {
                bucket: "bucket".into(),
                prefix: "a/b".into(),
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: Some("eu-west-1".into()),
            }))
        );
        assert_eq!(S3Location::parse("/srv/market"), None);
        assert!(S3Location::parse("s3://?endpoint=x").unwrap().is_err());
        let unknown = S3Location::parse("s3://b?secret=x").unwrap().unwrap_err();
        assert!(unknown.contains("secret"), "{unknown}");
    }
}
