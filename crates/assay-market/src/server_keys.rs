//! The server's own secrets as the SQLite records keep them
//! ([`crate::Records::server_secret`]), each 32 random bytes in a file of the
//! data folder (the link key, the witness key): made once, readable by the
//! server's user only, and kept across restarts.

use std::io;
use std::path::Path;

use assay_fsio::atomic::{self, Existing};
use rand_core::{OsRng, RngCore};

/// The 32 bytes in `data`/`file`, made there first if there are none.
pub(crate) fn load_or_create(data: &Path, file: &str) -> io::Result<[u8; 32]> {
    std::fs::create_dir_all(data)?;
    let path = data.join(file);
    let mut key = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut key)
        .map_err(|e| io::Error::other(e.to_string()))?;
    // Whole or not at all (0600, fsynced, linked into place), and never
    // over a key another process made first: then that one is used.
    match atomic::write_secret(&path, &key, Existing::Keep) {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let bytes = assay_fsio::secret::read_secret(&path)?;
            <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} does not hold a 32-byte key", path.display()),
                )
            })
        }
        Err(e) => Err(e),
    }
}
