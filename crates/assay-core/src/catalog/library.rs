//! A library is a folder: `library.db` (the catalog, the single source of
//! truth) and `previews/` (thumbnails and previews keyed by checksum).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;

use crate::catalog::migrations;
use crate::error::{Error, Result};

pub const DB_FILE: &str = "library.db";
pub const PREVIEWS_DIR: &str = "previews";

/// An open library. Each thread that needs the catalog opens its own
/// connection with [`Library::connect`]; clones share one checkpointer.
#[derive(Debug, Clone)]
pub struct Library {
    root: PathBuf,
    _checkpointer: Arc<Checkpointer>,
}

/// Copies committed pages from the write-ahead log into the catalog file on
/// a thread of its own, so a large commit (a bulk edit writes some 30,000
/// pages) returns without waiting for that copy and its fsync. What a commit
/// guarantees is unchanged: under `synchronous=NORMAL` a commit is never
/// fsynced and only a checkpoint is, wherever it runs. Connections therefore
/// run with `wal_autocheckpoint=0`.
#[derive(Debug)]
struct Checkpointer {
    stop: Option<crossbeam_channel::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    const EVERY: Duration = Duration::from_millis(200);

    fn start(conn: Connection) -> Checkpointer {
        let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
        let thread = std::thread::spawn(move || {
            while let Err(crossbeam_channel::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(Self::EVERY)
            {
                // PASSIVE never blocks readers or writers; what it cannot
                // copy now (a reader still needs it) it copies next time.
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
            // Closing the last connection checkpoints what is left and
            // removes the log.
            drop(conn);
        });
        Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Library {
    /// Opens the catalog at `root`, creating the folder, catalog and
    /// `previews/` if needed, and migrating the catalog's schema to this
    /// build's version; returns the version it found. [`Library::open`]
    /// (in the crate root) also runs the migrations that need data from
    /// groups above the catalog.
    pub(crate) fn open_catalog(root: &Path) -> Result<(Self, i64)> {
        std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
        let root = std::fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
        let previews = root.join(PREVIEWS_DIR);
        std::fs::create_dir_all(&previews).map_err(|e| Error::io(&previews, e))?;
        let conn = connect(&root.join(DB_FILE))?;
        let library = Library {
            root,
            _checkpointer: Arc::new(Checkpointer::start(conn)),
        };
        let mut conn = library.connect()?;
        let found = migrations::migrate(&mut conn, &library.db_path())?;
        Ok((library, found))
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

    pub fn previews_dir(&self) -> PathBuf {
        self.root.join(PREVIEWS_DIR)
    }

    /// A new connection to the catalog: WAL (readers never block the writer),
    /// foreign keys enforced, and a busy timeout so a watcher and an import
    /// can share the library.
    pub fn connect(&self) -> Result<Connection> {
        connect(&self.db_path())
    }
}

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // The library's checkpointer copies the log; see `Checkpointer`.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    Ok(conn)
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

    #[test]
    fn committed_pages_reach_the_catalog_file_without_a_commit_waiting_for_them() {
        let dir = tempfile::tempdir().unwrap();
        let lib = Library::open(dir.path().join("lib")).unwrap();
        let conn = lib.connect().unwrap();
        let auto: i64 = conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap();
        assert_eq!(auto, 0, "commits leave the copy to the checkpointer");
        let size = || std::fs::metadata(lib.db_path()).unwrap().len();
        let before = size();
        conn.execute_batch(
            "CREATE TABLE scratch (x BLOB);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
             INSERT INTO scratch SELECT randomblob(2000) FROM n;",
        )
        .unwrap();
        // The commit left its pages in the log; the checkpointer copies them.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while size() < before + 500 * 2000 {
            assert!(
                std::time::Instant::now() < deadline,
                "the catalog file never grew"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Closing the library leaves no log behind.
        drop(conn);
        let wal = lib.db_path().with_extension("db-wal");
        drop(lib);
        assert!(!wal.exists());
    }
}
