//! Resumable uploads with tus 1.0 (<https://tus.io/protocols/resumable-upload>):
//! the core protocol and the creation, checksum (sha1 and sha256), termination
//! and expiration extensions. Header names, the values the server
//! advertises, and the encodings of `Upload-Metadata` and `Upload-Checksum`.
//!
//! A client uploads one asset's file so:
//! 1. `POST /v1/uploads` with `Upload-Length` (the asset's `size_bytes`) and
//!    [`UploadMetadata`]; the answer's `Location` is the upload's URL.
//! 2. `PATCH` that URL with `Upload-Offset` and a chunk
//!    (`Content-Type: application/offset+octet-stream`), best with
//!    [`checksum_header`]; repeat until the offset is the length. The
//!    PATCH that writes the last byte answers only once the whole file's
//!    SHA-256 matched the manifest.
//! 3. After an interruption, `HEAD` the URL: `Upload-Offset` is where to go on.

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

/// The protocol version, sent in `Tus-Resumable` on every request and response.
pub const VERSION: &str = "1.0.0";
/// The extensions the server implements, as `Tus-Extension` lists them.
pub const EXTENSIONS: &str = "creation,checksum,termination,expiration";
/// The checksum algorithm clients here send.
pub const CHECKSUM_ALGORITHM: &str = "sha256";
/// The checksum algorithms the server accepts, as `Tus-Checksum-Algorithm`
/// lists them: sha1, which tus 1.0 requires every server to support, and
/// sha256.
pub const CHECKSUM_ALGORITHMS: &str = "sha1,sha256";
/// The content type of a PATCH body.
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";
/// The status of a chunk whose bytes do not match `Upload-Checksum`.
pub const CHECKSUM_MISMATCH: u16 = 460;
/// Where uploads are created; an upload's URL is this and its id.
pub const UPLOADS_PATH: &str = "/v1/uploads";

pub const TUS_RESUMABLE: &str = "Tus-Resumable";
pub const TUS_VERSION: &str = "Tus-Version";
pub const TUS_EXTENSION: &str = "Tus-Extension";
pub const TUS_MAX_SIZE: &str = "Tus-Max-Size";
pub const TUS_CHECKSUM_ALGORITHM: &str = "Tus-Checksum-Algorithm";
pub const UPLOAD_OFFSET: &str = "Upload-Offset";
pub const UPLOAD_LENGTH: &str = "Upload-Length";
pub const UPLOAD_METADATA: &str = "Upload-Metadata";
/// When an unfinished upload expires, as an HTTP date (RFC 9110).
pub const UPLOAD_EXPIRES: &str = "Upload-Expires";
pub const UPLOAD_CHECKSUM: &str = "Upload-Checksum";

/// What an upload is of, sent as `Upload-Metadata` when it is created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadMetadata {
    /// The manifest (posted by the same publisher) that lists the file.
    pub manifest_id: String,
    pub file: UploadFile,
}

/// The file of a manifest an upload is of: an asset's original (key
/// `asset_id`) or, in a dataset manifest, a shard (key `shard`, its name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UploadFile {
    Asset(String),
    Shard(String),
}

impl UploadFile {
    /// The asset id or the shard name.
    pub fn id(&self) -> &str {
        match self {
            UploadFile::Asset(id) | UploadFile::Shard(id) => id,
        }
    }
}

impl std::fmt::Display for UploadFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UploadFile::Asset(id) => write!(f, "asset {id}"),
            UploadFile::Shard(name) => write!(f, "shard {name}"),
        }
    }
}

impl UploadMetadata {
    /// The header's value: `manifest_id BASE64,asset_id BASE64` (or
    /// `shard BASE64`).
    pub fn to_header(&self) -> String {
        let (key, value) = match &self.file {
            UploadFile::Asset(id) => ("asset_id", id),
            UploadFile::Shard(name) => ("shard", name),
        };
        format!(
            "manifest_id {},{key} {}",
            B64.encode(&self.manifest_id),
            B64.encode(value)
        )
    }

    /// Reads the header. Keys other than `manifest_id`, `asset_id` and
    /// `shard` (tus clients add `filename`, `filetype`) are allowed and
    /// ignored; exactly one of `asset_id` and `shard` must be given.
    pub fn parse(header: &str) -> Result<UploadMetadata, HeaderError> {
        let bad = |reason: String| HeaderError {
            header: UPLOAD_METADATA,
            reason,
        };
        let (mut manifest_id, mut asset_id, mut shard) = (None, None, None);
        let mut seen = Vec::new();
        for pair in header.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
            if seen.contains(&key) {
                return Err(bad(format!("key {key:?} appears twice")));
            }
            seen.push(key);
            let slot = match key {
                "manifest_id" => &mut manifest_id,
                "asset_id" => &mut asset_id,
                "shard" => &mut shard,
                _ => continue,
            };
            let bytes = B64
                .decode(value.trim())
                .map_err(|e| bad(format!("the value of {key} is not base64: {e}")))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| bad(format!("the value of {key} is not UTF-8 text")))?;
            *slot = Some(text);
        }
        let manifest_id = manifest_id.ok_or_else(|| bad("manifest_id is missing".to_owned()))?;
        let file = match (asset_id, shard) {
            (Some(id), None) => UploadFile::Asset(id),
            (None, Some(name)) => UploadFile::Shard(name),
            (None, None) => return Err(bad("asset_id (or shard) is missing".to_owned())),
            (Some(_), Some(_)) => return Err(bad("give asset_id or shard, not both".to_owned())),
        };
        Ok(UploadMetadata { manifest_id, file })
    }
}

/// `Upload-Checksum` for a chunk whose SHA-256 is `digest`.
pub fn checksum_header(digest: &[u8]) -> String {
    format!("{CHECKSUM_ALGORITHM} {}", B64.encode(digest))
}

/// A chunk's digest as `Upload-Checksum` declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkDigest {
    Sha1([u8; 20]),
    Sha256([u8; 32]),
}

impl ChunkDigest {
    pub fn algorithm(&self) -> &'static str {
        match self {
            ChunkDigest::Sha1(_) => "sha1",
            ChunkDigest::Sha256(_) => "sha256",
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            ChunkDigest::Sha1(d) => d,
            ChunkDigest::Sha256(d) => d,
        }
    }
}

/// The digest an `Upload-Checksum` header declares.
pub fn parse_checksum(header: &str) -> Result<ChunkDigest, HeaderError> {
    let bad = |reason: String| HeaderError {
        header: UPLOAD_CHECKSUM,
        reason,
    };
    let (algorithm, value) = header
        .trim()
        .split_once(' ')
        .ok_or_else(|| bad("expected an algorithm, a space and a base64 digest".to_owned()))?;
    if !matches!(algorithm, "sha1" | "sha256") {
        return Err(bad(format!(
            "algorithm {algorithm:?} is not supported; only {CHECKSUM_ALGORITHMS}"
        )));
    }
    let digest = B64
        .decode(value.trim())
        .map_err(|e| bad(format!("the digest is not base64: {e}")))?;
    let wrong = |size: usize| {
        bad(format!(
            "a {algorithm} digest is {size} bytes, not {}",
            digest.len()
        ))
    };
    if algorithm == "sha1" {
        <[u8; 20]>::try_from(digest.as_slice())
            .map(ChunkDigest::Sha1)
            .map_err(|_| wrong(20))
    } else {
        <[u8; 32]>::try_from(digest.as_slice())
            .map(ChunkDigest::Sha256)
            .map_err(|_| wrong(32))
    }
}

/// A tus header the receiver cannot use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderError {
    pub header: &'static str,
    pub reason: String,
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.header, self.reason)
    }
}

impl std::error::Error for HeaderError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_and_ignores_other_keys() {
        let m = UploadMetadata {
            manifest_id: "urn:uuid:0b0f2c1e-0000-4000-8000-000000000000".into(),
            file: UploadFile::Asset("a,b c".into()),
        };
        assert_eq!(UploadMetadata::parse(&m.to_header()), Ok(m.clone()));
        let with_more = format!("filename ZC5qcGc=, is_confidential,{}", m.to_header());
        assert_eq!(UploadMetadata::parse(&with_more), Ok(m));
        let shard = UploadMetadata {
            manifest_id: "m".into(),
            file: UploadFile::Shard("d-v1-00000-of-00001.tar".into()),
        };
        assert_eq!(UploadMetadata::parse(&shard.to_header()), Ok(shard));
    }

    #[test]
    fn bad_metadata_says_what_is_wrong() {
        let cases = [
            ("", "manifest_id is missing"),
            ("manifest_id bQ==", "asset_id (or shard) is missing"),
            ("manifest_id bQ==,asset_id YQ==,shard YQ==", "not both"),
            ("manifest_id bQ==,asset_id ***", "not base64"),
            ("manifest_id bQ==,asset_id /w==", "not UTF-8"),
            ("manifest_id bQ==,manifest_id bQ==,asset_id YQ==", "twice"),
        ];
        for (header, want) in cases {
            let err = UploadMetadata::parse(header).unwrap_err();
            assert!(err.to_string().contains(want), "{header:?}: {err}");
            assert!(err.to_string().starts_with("Upload-Metadata: "));
        }
    }

    #[test]
    fn checksums_are_sha1_or_sha256() {
        let digest = [7u8; 32];
        assert_eq!(
            parse_checksum(&checksum_header(&digest)),
            Ok(ChunkDigest::Sha256(digest))
        );
        // tus 1.0's own example, the SHA-1 of "hello".
        assert_eq!(
            parse_checksum("sha1 qvTGHdzF6KLavt4PO0gs2a6pQ00=").map(|d| d.algorithm()),
            Ok("sha1")
        );
        for (header, want) in [
            ("md5 AAAA", "not supported"),
            ("sha256", "expected an algorithm"),
            ("sha256 AAAA", "32 bytes"),
            ("sha1 AAAA", "20 bytes"),
            ("sha256 !!", "not base64"),
        ] {
            let err = parse_checksum(header).unwrap_err();
            assert!(err.to_string().contains(want), "{header:?}: {err}");
        }
    }
}
