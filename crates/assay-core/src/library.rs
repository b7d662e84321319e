//! A library is a folder: `library.db` (the catalog, the single source of
//! truth) and `previews/` (thumbnails and previews keyed by checksum).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::migrations;

pub const DB_FILE: &str = "library.db";
pub const PREVIEWS_DIR: &str = "previews";

/// An open library. Cheap to open; each thread that needs the catalog opens
/// its own connection with [`Library::connect`].
#[derive(Debug, Clone)]
pub struct Library {
    root: PathBuf,
}

impl Library {
    /// Opens the library at `root`, creating the folder, catalog and
    /// `previews/` if needed, and migrating the catalog to this build's version.
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref();
        std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
        let root = std::fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
        let previews = root.join(PREVIEWS_DIR);
        std::fs::create_dir_all(&previews).map_err(|e| Error::io(&previews, e))?;
        let library = Library { root };
        let mut conn = library.connect()?;
        let found = migrations::migrate(&mut conn, &library.db_path())?;
        if found < migrations::CHAIN_VERSION {
            crate::provenance::backfill(&library, &mut conn)?;
        }
        Ok(library)
    }

    /// The platform's data directory for Assay (e.g. `~/.local/share/assay`).
    pub fn default_root() -> Result<PathBuf> {
        directories::ProjectDirs::from("org", "Assay", "assay")
            .map(|dirs| dirs.data_dir().join("library"))
            .ok_or(Error::NoDefaultLibrary)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn db_path(&self) -> PathBuf {
        self.root.join(DB_FILE)
    }

    /// The license taxonomy: the shipped tags plus the library's own
    /// `license-tags.json`, when it has one.
    pub fn taxonomy(&self) -> Result<crate::licenses::Taxonomy> {
        Ok(crate::licenses::Taxonomy::with_custom(
            &self.root.join("license-tags.json"),
        )?)
    }

    pub fn previews_dir(&self) -> PathBuf {
        self.root.join(PREVIEWS_DIR)
    }

    /// A new connection to the catalog: WAL (readers never block the writer),
    /// foreign keys enforced, and a busy timeout so a watcher and an import
    /// can share the library.
    pub fn connect(&self) -> Result<Connection> {
        let path = self.db_path();
        let conn = Connection::open(&path)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_creates_the_folder_layout_with_wal_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let lib = Library::open(dir.path().join("lib")).unwrap();
        assert!(lib.db_path().is_file());
        assert!(lib.previews_dir().is_dir());
        let conn = lib.connect().unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
    }
}
