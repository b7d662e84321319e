//! Files an action committed to but had not yet put in place. An export
//! writes its document beside the destination, commits its events, then
//! renames the document into place; a process killed between the commit
//! and the rename would leave events that name a document nobody can find.
//! So the commit also records the staged file here, and every opening of
//! the library finishes what such a kill left: the staged file, if it is
//! the one recorded (same SHA-256), is renamed into place.

use std::path::{Path, PathBuf};

use assay_fsio::hashing::Hashing;
use rusqlite::{params, Connection};
use sha2::{Digest, Sha256};

use crate::catalog::assets::now;
use crate::catalog::library::Library;
use crate::error::{Error, Result};

/// Records, inside the caller's transaction, that `temp` (whose content is
/// `bytes`) is to become `target`; returns the record's id, for
/// [`done`] once it has.
pub(crate) fn record(conn: &Connection, temp: &Path, target: &Path, bytes: &[u8]) -> Result<i64> {
    record_digest(conn, temp, target, &Sha256::digest(bytes).into())
}

/// [`record`] for a file too large to hold, by the SHA-256 of its content.
pub(crate) fn record_digest(
    conn: &Connection,
    temp: &Path,
    target: &Path,
    sha256: &[u8; 32],
) -> Result<i64> {
    conn.execute(
        "INSERT INTO pending_files (temp, target, sha256, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            temp.to_string_lossy(),
            target.to_string_lossy(),
            hex::encode(sha256),
            now()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The file of record `id` is in place.
pub(crate) fn done(conn: &Connection, id: i64) -> Result<()> {
    conn.execute("DELETE FROM pending_files WHERE id = ?1", [id])?;
    Ok(())
}

impl Library {
    /// Finishes every file an interrupted action left staged: renames the
    /// staged file into place where it is the one recorded, and forgets
    /// records whose file is in place already. Returns the targets put in
    /// place.
    pub(crate) fn finish_pending_files(&self) -> Result<Vec<PathBuf>> {
        let conn = self.connect()?;
        let pending: Vec<(i64, String, String, String)> = conn
            .prepare("SELECT id, temp, target, sha256 FROM pending_files ORDER BY id")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut finished = Vec::new();
        for (id, temp, target, sha256) in pending {
            let (temp, target) = (PathBuf::from(temp), PathBuf::from(target));
            // Streamed: a dataset shard is hundreds of megabytes.
            let holds = |path: &Path| {
                std::fs::File::open(path)
                    .map(Hashing::new)
                    .and_then(|mut reader| reader.drain(1 << 20).map(|()| reader))
                    .is_ok_and(|reader| hex::encode(reader.digest()) == sha256)
            };
            if holds(&temp) {
                std::fs::rename(&temp, &target).map_err(|e| Error::io(&target, e))?;
                assay_fsio::atomic::sync_dir(&target);
                finished.push(target);
            }
            // Otherwise the document is in place already, or its staged copy
            // is gone (removed by hand): nothing is left to put in place, and
            // the events still name the document by its hash.
            done(&conn, id)?;
        }
        Ok(finished)
    }
}
