//! Noticing that the catalog changed, whoever changed it: this process's
//! own commands, a watched folder's import, or `assay sync` recording a
//! sale in a terminal. An open view asks [`CatalogChanges::changed`] now and
//! then and refreshes only when it says so; it costs one pragma, no query.

use rusqlite::Connection;

use crate::catalog::library::Library;
use crate::error::Result;

/// A read-only connection that remembers the catalog's version as it last saw it.
pub struct CatalogChanges {
    conn: Connection,
    seen: i64,
}

impl Library {
    /// Starts noticing changes from now on.
    pub fn changes(&self) -> Result<CatalogChanges> {
        let conn = self.connect()?;
        let seen = data_version(&conn)?;
        Ok(CatalogChanges { conn, seen })
    }
}

/// SQLite's count of commits by other connections, as this one sees it.
/// This connection never writes, so every commit is another's.
fn data_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}

impl CatalogChanges {
    /// Whether anything was committed since the last call (or since start).
    pub fn changed(&mut self) -> Result<bool> {
        let now = data_version(&self.conn)?;
        let changed = now != self.seen;
        self.seen = now;
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::import::ImportOptions;

    #[test]
    fn a_commit_anywhere_is_noticed_once() {
        let dir = tempfile::tempdir().unwrap();
        let lib = Library::open(dir.path().join("lib")).unwrap();
        let mut changes = lib.changes().unwrap();
        assert!(!changes.changed().unwrap());

        let photos = dir.path().join("photos");
        std::fs::create_dir_all(&photos).unwrap();
        std::fs::write(photos.join("notes.txt"), "harbour, dusk\n").unwrap();
        // Another handle on the same folder, as another process would open it.
        let other = Library::open(dir.path().join("lib")).unwrap();
        other
            .import(&[photos], &ImportOptions::default(), &mut |_| {})
            .unwrap();
        assert!(changes.changed().unwrap());
        assert!(!changes.changed().unwrap());
    }
}
