//! Which imports are in flight, and whether one stopped early. Each import
//! holds an exclusive lock on a marker file of its own under the library's
//! `.imports/` folder for as long as it runs, and removes the file when it
//! finishes. An import that was cancelled, failed, killed or crashed leaves
//! its marker behind, unlocked (the system drops a dead process's locks): the
//! previews it wrote may belong to no asset, and a later import sweeps them.
//!
//! Several imports may run at once (the app's watched folders, a CLI import
//! in a terminal), so none may take another's previews for orphans: a sweep
//! happens only when no other import holds its marker, since a running
//! import's previews reach the catalog only when it commits.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The folder of markers, in the library folder (outside `previews/`, which
/// holds only previews, so the sweep never meets a marker).
const MARKS_DIR: &str = ".imports";
/// The single marker of libraries before imports could overlap, in
/// `previews/`: left behind, it means what a marker nobody holds means.
pub(crate) const LEGACY_MARKER: &str = "previews/.import-in-progress";

/// This import's marker, locked while the import runs.
pub(crate) struct Mark {
    path: PathBuf,
    // Held for the lock; closing it releases the lock.
    _file: File,
}

/// Creates and locks a marker for an import into the library at `root`
/// starting now.
pub(crate) fn begin(root: &Path) -> Result<Mark> {
    let dir = root.join(MARKS_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let path = dir.join(format!(
        "{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
    // The file is new and its name unique: nobody else can hold it.
    file.lock().map_err(|e| Error::io(&path, e))?;
    Ok(Mark { path, _file: file })
}

impl Mark {
    /// The import finished: its marker goes (and its lock with it).
    pub(crate) fn finish(self) -> Result<()> {
        std::fs::remove_file(&self.path).map_err(|e| Error::io(&self.path, e))
    }
}

/// What the other imports' markers say.
#[derive(Debug, Default)]
pub(crate) struct Others {
    /// Markers nobody holds: imports that stopped early.
    pub stale: Vec<PathBuf>,
    /// Whether another import is running now.
    pub running: bool,
}

impl Others {
    /// Previews nobody refers to may be swept: some import stopped early,
    /// and none is running whose previews are not in the catalog yet.
    pub(crate) fn sweep_due(&self) -> bool {
        !self.stale.is_empty() && !self.running
    }

    /// Removes the stale markers once their orphans are swept.
    pub(crate) fn forget_stale(self) {
        for path in self.stale {
            // Another import may have swept and removed it meanwhile.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Looks at every marker of the library at `root` but `mine`.
pub(crate) fn others(root: &Path, mine: &Mark) -> Others {
    let mut others = Others::default();
    let legacy = root.join(LEGACY_MARKER);
    if legacy.exists() {
        others.stale.push(legacy);
    }
    let Ok(entries) = std::fs::read_dir(root.join(MARKS_DIR)) else {
        return others;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path == mine.path {
            continue;
        }
        match File::open(&path).map(|file| file.try_lock()) {
            // Taken, so nobody held it; closing the file lets it go again.
            Ok(Ok(())) => others.stale.push(path),
            Ok(Err(TryLockError::WouldBlock)) => others.running = true,
            // Gone meanwhile: that import just finished.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            // Unreadable: assume the worst, that it runs, and sweep later.
            Ok(Err(TryLockError::Error(_))) | Err(_) => others.running = true,
        }
    }
    others
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_import_is_seen_and_one_that_stopped_early_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let first = begin(root).unwrap();
        let second = begin(root).unwrap();
        let seen = others(root, &second);
        assert!(seen.running && seen.stale.is_empty(), "{seen:?}");
        assert!(!seen.sweep_due());

        // The first stops without finishing (cancelled, or its process died).
        let left = first.path.clone();
        drop(first);
        let seen = others(root, &second);
        assert!(!seen.running, "{seen:?}");
        assert_eq!(seen.stale, std::slice::from_ref(&left));
        assert!(seen.sweep_due());
        seen.forget_stale();
        assert!(!left.exists());

        second.finish().unwrap();
        let third = begin(root).unwrap();
        let seen = others(root, &third);
        assert!(!seen.running && seen.stale.is_empty(), "{seen:?}");
    }

    #[test]
    fn the_marker_of_an_older_catalog_counts_as_stale() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("previews")).unwrap();
        std::fs::write(dir.path().join(LEGACY_MARKER), b"").unwrap();
        let mine = begin(dir.path()).unwrap();
        let seen = others(dir.path(), &mine);
        assert!(seen.sweep_due(), "{seen:?}");
        seen.forget_stale();
        assert!(!dir.path().join(LEGACY_MARKER).exists());
    }
}
