//! Hashing while streaming, the one home of it: what is hashed is exactly
//! the bytes the caller read, never a second read of the file, which could
//! differ from what was written or checked.
//!
//! - [`Hashing`] hashes on the reading thread, for a pass whose only work
//!   is reading (fixity, import, checking a package, an upload received).
//! - [`HashingWriter`] hashes what is written through it, for bytes that
//!   arrive from elsewhere (a download).
//! - [`hashed`] hands each chunk to a SHA-256 thread as well as to its
//!   caller, so an audit export hashes a file on one core while it writes
//!   it on another.

use std::io::{self, Read, Write};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use sha2::{Digest, Sha256};

const CHUNK: usize = 1 << 20;

/// A reader that hashes every byte it hands out and counts them.
pub struct Hashing<R> {
    inner: R,
    sha: Sha256,
    read: u64,
}

impl<R: Read> Hashing<R> {
    pub fn new(inner: R) -> Self {
        Hashing {
            inner,
            sha: Sha256::new(),
            read: 0,
        }
    }

    /// Bytes read so far.
    pub fn read_so_far(&self) -> u64 {
        self.read
    }

    /// Reads to the end in chunks of `chunk` bytes, keeping nothing.
    pub fn drain(&mut self, chunk: usize) -> io::Result<()> {
        let mut buf = vec![0u8; chunk];
        loop {
            match self.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The SHA-256 of every byte read.
    pub fn digest(self) -> [u8; 32] {
        self.sha.finalize().into()
    }

    /// The digest as Assay writes checksums: `sha256:<hex>`.
    pub fn checksum(self) -> String {
        format!("sha256:{}", hex::encode(self.digest()))
    }
}

/// A writer that hashes and counts every byte written through it.
pub struct HashingWriter<W> {
    inner: W,
    sha: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            sha: Sha256::new(),
            written: 0,
        }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The writer, and the digest as Assay writes checksums: `sha256:<hex>`.
    pub fn finish(self) -> (W, String) {
        let (inner, digest) = self.finish_digest();
        (inner, format!("sha256:{}", hex::encode(digest)))
    }

    /// The writer, and the SHA-256 of every byte written.
    pub fn finish_digest(self) -> (W, [u8; 32]) {
        (self.inner, self.sha.finalize().into())
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}

/// Calls `consume` with a reader over `inner`; returns what it returned,
/// how many bytes it read, and the SHA-256 of the chunks read from `inner`
/// (the same bytes, when `consume` reads to the end).
pub fn hashed<R: Read, T>(
    inner: R,
    consume: impl FnOnce(&mut dyn Read) -> io::Result<T>,
) -> io::Result<(T, u64, [u8; 32])> {
    std::thread::scope(|s| {
        // A few chunks in flight keep both cores busy; spent chunks come
        // back to be filled again, so a large file allocates no more.
        let (to_hasher, chunks) = crossbeam_channel::bounded::<Arc<Vec<u8>>>(4);
        let (spent, pool) = crossbeam_channel::bounded::<Arc<Vec<u8>>>(8);
        let hasher = s.spawn(move || {
            let mut sha = Sha256::new();
            for chunk in chunks {
                sha.update(&chunk[..]);
                let _ = spent.try_send(chunk);
            }
            <[u8; 32]>::from(sha.finalize())
        });
        let mut tee = Tee {
            inner,
            current: None,
            pos: 0,
            read: 0,
            to_hasher,
            pool,
        };
        let consumed = consume(&mut tee);
        let read = tee.read;
        drop(tee); // ends the hasher's input
        let digest = hasher
            .join()
            .map_err(|_| io::Error::other("the hashing thread panicked"))?;
        Ok((consumed?, read, digest))
    })
}

struct Tee<R> {
    inner: R,
    current: Option<Arc<Vec<u8>>>,
    pos: usize,
    read: u64,
    to_hasher: Sender<Arc<Vec<u8>>>,
    pool: Receiver<Arc<Vec<u8>>>,
}

impl<R: Read> Tee<R> {
    fn refill(&mut self) -> io::Result<()> {
        // Dropped first, so the hasher's copy is the last one and the
        // buffer can come back through the pool.
        self.current = None;
        self.pos = 0;
        let mut chunk = self
            .pool
            .try_recv()
            .ok()
            .and_then(|c| Arc::try_unwrap(c).ok())
            .unwrap_or_default();
        chunk.clear();
        chunk.reserve(CHUNK);
        (&mut self.inner)
            .take(CHUNK as u64)
            .read_to_end(&mut chunk)?;
        if chunk.is_empty() {
            return Ok(());
        }
        let chunk = Arc::new(chunk);
        self.to_hasher
            .send(Arc::clone(&chunk))
            .map_err(|_| io::Error::other("the hashing thread stopped"))?;
        self.current = Some(chunk);
        Ok(())
    }
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.current.as_ref().is_none_or(|c| self.pos == c.len()) {
            self.refill()?;
        }
        let Some(chunk) = &self.current else {
            return Ok(0);
        };
        let n = buf.len().min(chunk.len() - self.pos);
        buf[..n].copy_from_slice(&chunk[self.pos..self.pos + n]);
        self.pos += n;
        self.read += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_of_the_bytes_the_caller_read() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 12_345] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let (copy, read, digest) = hashed(&data[..], |r| {
                let mut copy = Vec::new();
                r.read_to_end(&mut copy)?;
                Ok(copy)
            })
            .unwrap();
            assert_eq!(copy, data);
            assert_eq!(read, len as u64);
            assert_eq!(digest, <[u8; 32]>::from(Sha256::digest(&data)));
        }
        // A caller that stops early: the digest covers the chunk it began.
        let data = vec![5u8; 2 * CHUNK];
        let (_, read, digest) = hashed(&data[..], |r| {
            let mut head = vec![0; 100];
            r.read_exact(&mut head)
        })
        .unwrap();
        assert_eq!(read, 100);
        assert_eq!(digest, <[u8; 32]>::from(Sha256::digest(&data[..CHUNK])));
    }
}
