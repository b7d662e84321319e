//! Writing a file so that no reader ever sees half of it: the bytes go to a
//! hidden temporary file beside the target (import and watch skip hidden
//! names), which is then renamed over it.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// Bytes written beside their target, not yet in place. Dropping it
/// without [`Staged::put`] removes the temporary file.
pub(crate) struct Staged {
    temp: PathBuf,
    target: PathBuf,
    put: bool,
}

/// Writes `bytes` beside `target`; [`Staged::put`] moves them into place.
/// For a caller that must do something else (commit a transaction) between
/// the two.
pub(crate) fn stage(target: &Path, bytes: &[u8]) -> io::Result<Staged> {
    let staged = Staged::beside(target)?;
    std::fs::write(&staged.temp, bytes)?;
    Ok(staged)
}

/// A file being written beside its target, for output too large to hold
/// in memory (an audit package).
pub(crate) struct Staging {
    file: File,
    staged: Staged,
}

impl Staging {
    pub(crate) fn create(target: &Path) -> io::Result<Staging> {
        let staged = Staged::beside(target)?;
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&staged.temp)?;
        Ok(Staging { file, staged })
    }

    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// Done writing: the bytes are on disk, ready to be put in place.
    pub(crate) fn close(self) -> io::Result<Staged> {
        self.file.sync_all()?;
        Ok(self.staged)
    }
}

/// Writes `bytes` to `target` in one step as readers see it.
pub(crate) fn write(target: &Path, bytes: &[u8]) -> io::Result<()> {
    stage(target, bytes)?.put()
}

impl Staged {
    /// A hidden temporary name in the target's folder, so the rename that
    /// puts it in place never crosses file systems.
    fn beside(target: &Path) -> io::Result<Staged> {
        let name = target.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name")
        })?;
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let temp = dir.join(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            uuid::Uuid::new_v4().simple()
        ));
        Ok(Staged {
            temp,
            target: target.to_owned(),
            put: false,
        })
    }

    pub(crate) fn put(mut self) -> io::Result<()> {
        std::fs::rename(&self.temp, &self.target)?;
        self.put = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.put {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staged_file_appears_only_when_put_and_leaves_nothing_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("m.json");
        let staged = stage(&target, b"new").unwrap();
        assert!(!target.exists());
        drop(staged);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        std::fs::write(&target, b"old").unwrap();
        write(&target, b"new").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
