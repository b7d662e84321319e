//! One pass over a file's bytes: SHA-256, media-type sniffing and row
//! counting as it streams. Images small enough are kept in memory for
//! EXIF and decoding, so no file is read twice; everything else streams
//! through a fixed buffer, so memory stays flat whatever the file size.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use assay_fsio::hashing::Hashing;

use crate::formats::media::{self, SNIFF_LEN};
use crate::formats::pii::PiiScanner;
use crate::formats::text::RowCounter;

/// Images up to this size are held in memory for EXIF and previews.
pub const IN_MEMORY_LIMIT: u64 = 256 << 20;
const CHUNK: usize = 1 << 20;

/// What one read of a file produced.
pub struct Content {
    /// `sha256:<64 hex>`.
    pub checksum: String,
    pub size: u64,
    pub media_type: &'static str,
    /// The whole file, for images up to [`IN_MEMORY_LIMIT`].
    pub bytes: Option<Vec<u8>>,
    pub row_count: Option<u64>,
    /// Personal-data hits per kind, for text datasets.
    pub pii: std::collections::BTreeMap<String, u64>,
}

/// A file's size and modification time, the keys of the re-scan cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub size: u64,
    pub mtime_ns: i64,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| match t.duration_since(std::time::UNIX_EPOCH) {
                Ok(d) => i64::try_from(d.as_nanos()).ok(),
                Err(e) => i64::try_from(e.duration().as_nanos()).ok().map(|n| -n),
            })
            .unwrap_or(0);
        Stamp {
            size: meta.len(),
            mtime_ns,
        }
    }
}

/// Hashes `path`, sniffing its type from the first bytes. `size_hint` is the
/// size seen when the file was listed.
pub fn read(path: &Path, size_hint: u64) -> std::io::Result<Content> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    read_from(File::open(path)?, &ext, size_hint)
}

/// [`read`] of any reader; `ext` is the lower-case extension of its name.
pub fn read_from(reader: impl Read, ext: &str, size_hint: u64) -> std::io::Result<Content> {
    let mut file = Hashing::new(reader);
    let mut head = vec![0u8; SNIFF_LEN];
    let head_len = read_full(&mut file, &mut head)?;
    head.truncate(head_len);
    let media_type = media::sniff(&head, ext);

    let mut rows = RowCounter::for_media_type(media_type);
    if let Some(rows) = rows.as_mut() {
        rows.feed(&head);
    }
    let mut pii = PiiScanner::for_media_type(media_type);
    if let Some(pii) = pii.as_mut() {
        pii.feed(&head);
    }
    let keep = media_type.starts_with("image/") && size_hint <= IN_MEMORY_LIMIT;
    let mut size = head.len() as u64;

    let bytes = if keep {
        // Read the rest straight into the kept buffer and hash it there.
        let mut all = head;
        all.reserve(
            usize::try_from(size_hint)
                .unwrap_or(0)
                .saturating_sub(all.len()),
        );
        file.read_to_end(&mut all)?;
        size = all.len() as u64;
        Some(all)
    } else {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if let Some(rows) = rows.as_mut() {
                rows.feed(&buf[..n]);
            }
            if let Some(pii) = pii.as_mut() {
                pii.feed(&buf[..n]);
            }
            size += n as u64;
        }
        None
    };
    Ok(Content {
        checksum: file.checksum(),
        size,
        media_type,
        bytes,
        row_count: rows.map(RowCounter::finish),
        pii: pii.map(PiiScanner::finish).unwrap_or_default(),
    })
}

/// Streams `path` through SHA-256 in constant memory; returns the checksum
/// (`sha256:<hex>`) and the number of bytes read.
pub fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = Hashing::new(File::open(path)?);
    file.drain(CHUNK)?;
    let size = file.read_so_far();
    Ok((file.checksum(), size))
}

/// Reads until `buf` is full or the file ends; returns how much was read.
fn read_full(file: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn hashes_small_and_large_files_the_same_way_as_sha256sum() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("a.txt");
        std::fs::write(&small, b"abc").unwrap();
        let c = read(&small, 3).unwrap();
        assert_eq!(
            c.checksum,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            (c.size, c.media_type, c.row_count),
            (3, "text/plain", Some(1))
        );

        // Larger than the sniff window and the chunk: the streaming path.
        let big = dir.path().join("b.bin");
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&big, &data).unwrap();
        let c = read(&big, data.len() as u64).unwrap();
        let expected = format!("sha256:{}", hex::encode(Sha256::digest(&data)));
        assert_eq!(c.checksum, expected);
        assert_eq!(c.size, data.len() as u64);
        assert!(c.bytes.is_none());
        assert_eq!(hash_file(&big).unwrap(), (expected, data.len() as u64));
    }

    #[test]
    fn an_empty_file_has_the_empty_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.jpg");
        std::fs::write(&empty, b"").unwrap();
        let c = read(&empty, 0).unwrap();
        assert_eq!(
            c.checksum,
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(c.media_type, "application/octet-stream");
    }
}
