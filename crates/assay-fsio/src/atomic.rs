//! Writing a file so that no reader ever sees half of it, the one home of
//! write-then-rename: the bytes go to a hidden temporary file beside the
//! target (import and watch skip hidden names), are fsynced, and the file is
//! then renamed over the target (or, for a secret that must never replace
//! another, linked into place) and the folder's new entry synced. A crash
//! leaves the old file or the whole new one.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Bytes written beside their target, not yet in place. Dropping it
/// without [`Staged::put`] removes the temporary file.
pub struct Staged {
    temp: PathBuf,
    target: PathBuf,
    put: bool,
}

/// Writes `bytes` beside `target`; [`Staged::put`] moves them into place.
/// For a caller that must do something else (commit a transaction) between
/// the two.
pub fn stage(target: &Path, bytes: &[u8]) -> io::Result<Staged> {
    let staged = Staged::beside(target)?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&staged.temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(staged)
}

/// A file being written beside its target, for output too large to hold
/// in memory (an audit package).
pub struct Staging {
    file: File,
    staged: Staged,
}

impl Staging {
    pub fn create(target: &Path) -> io::Result<Staging> {
        let staged = Staged::beside(target)?;
        // Readable too: some writers read back what they wrote (a C2PA
        // manifest is hashed over the file it is embedded in).
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&staged.temp)?;
        Ok(Staging { file, staged })
    }

    pub fn file(&self) -> &File {
        &self.file
    }

    /// A writer of the file from its start that hands its pages to the
    /// disk as they fill ([`WritingBack`]), for output of gigabytes.
    pub fn writing_back(&self) -> io::Result<WritingBack> {
        Ok(WritingBack::new(self.file.try_clone()?))
    }

    /// Done writing: the bytes are on disk, ready to be put in place.
    pub fn close(self) -> io::Result<Staged> {
        self.file.sync_all()?;
        Ok(self.staged)
    }

    /// Done writing, the bytes not yet on disk: for many files made durable
    /// together by [`sync_staged`], one flush instead of one per file. Put
    /// in place only after that.
    pub fn close_unsynced(self) -> Staged {
        self.staged
    }
}

/// A file written front to back, its pages handed to the disk every
/// [`WRITEBACK_STEP`] as they fill rather than all at the final flush, and
/// dropped from the cache once written. A dataset build of gigabytes then
/// overlaps its disk writes with its hashing, and reuses its own pages
/// instead of making the kernel reclaim everyone else's, which on two cores
/// takes the CPU the build hashes with. On Linux, each step is one
/// `posix_fadvise(DONTNEED)` from the step before to here: the earlier
/// step's pages, clean by then, are dropped, and this step's writeback
/// starts. Nothing here reads them back. Elsewhere it is the file alone.
pub struct WritingBack {
    file: File,
    written: u64,
    /// Where the step now being written back began.
    handed: u64,
    /// Where the step before it began: from here on pages may be cached.
    dropped: u64,
}

/// How many bytes [`WritingBack`] lets fill before handing them on.
pub const WRITEBACK_STEP: u64 = 8 << 20;

impl WritingBack {
    pub fn new(file: File) -> WritingBack {
        WritingBack {
            file,
            written: 0,
            handed: 0,
            dropped: 0,
        }
    }
}

impl Write for WritingBack {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.handed >= WRITEBACK_STEP {
            #[cfg(target_os = "linux")]
            rustix::fs::fadvise(
                &self.file,
                self.dropped,
                std::num::NonZeroU64::new(self.written - self.dropped),
                rustix::fs::Advice::DontNeed,
            )?;
            self.dropped = self.handed;
            self.handed = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Makes every file of `staged` durable. A few files (a dataset build's
/// shards) are fsynced each, so the flush waits for their bytes alone;
/// many (an export's copies) cost, on Linux, one `syncfs` per file system
/// they are on, since a flush costs about as much whatever it carries,
/// though it then waits for whatever else is dirty there too.
pub fn sync_staged(staged: &[&Staged]) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    if staged.len() > FSYNC_EACH_UP_TO {
        use std::os::unix::fs::MetadataExt;
        let mut devices = std::collections::HashSet::new();
        for s in staged {
            let file = File::open(&s.temp)?;
            if devices.insert(file.metadata()?.dev()) {
                rustix::fs::syncfs(&file)?;
            }
        }
        return Ok(());
    }
    for s in staged {
        File::open(&s.temp)?.sync_all()?;
    }
    Ok(())
}

/// Up to how many staged files [`sync_staged`] fsyncs one by one.
#[cfg(target_os = "linux")]
const FSYNC_EACH_UP_TO: usize = 16;

/// Puts every file of `staged` in place, then makes each folder's new
/// entries durable once (not once per file).
pub fn put_all(staged: Vec<Staged>) -> io::Result<()> {
    let mut folders: Vec<PathBuf> = Vec::new();
    for mut s in staged {
        std::fs::rename(&s.temp, &s.target)?;
        s.put = true;
        let folder = folder_of(&s.target).to_path_buf();
        if !folders.contains(&folder) {
            folders.push(folder);
        }
    }
    for folder in &folders {
        sync_folder(folder);
    }
    Ok(())
}

/// Writes `bytes` to `target` in one step as readers see it.
pub fn write(target: &Path, bytes: &[u8]) -> io::Result<()> {
    stage(target, bytes)?.put()
}

/// Writes `bytes` to `target` in one step as readers see it, but not yet
/// durably: for many small files (an import's previews) made durable
/// together by [`sync_filesystem`] before anything that names them
/// commits, one flush instead of two per file. Where there is no such
/// flush (not Linux), it is [`write`].
pub fn write_unsynced(target: &Path, bytes: &[u8]) -> io::Result<()> {
    if !cfg!(target_os = "linux") {
        return write(target, bytes);
    }
    let mut staged = Staged::beside(target)?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&staged.temp)?;
    file.write_all(bytes)?;
    drop(file);
    std::fs::rename(&staged.temp, &staged.target)?;
    staged.put = true;
    Ok(())
}

/// Makes everything written to the file system holding `path` durable,
/// the files [`write_unsynced`] wrote and their folders' entries among it:
/// on Linux one `syncfs`. Elsewhere those files were written durably, and
/// this does nothing.
pub fn sync_filesystem(path: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    rustix::fs::syncfs(&File::open(path)?)?;
    #[cfg(not(target_os = "linux"))]
    let _ = path;
    Ok(())
}

/// What writing a secret does when its target exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace it in one rename (a re-encrypted key, a new token).
    Replace,
    /// Keep it and fail with `AlreadyExists`: a key another process wrote
    /// first is never replaced.
    Keep,
}

/// Writes a secret readable by its owner alone (0600 on Unix; elsewhere the
/// folder's permissions apply), in one step as readers see it. The mode is
/// set when the temporary file is created, so the secret is never readable
/// by others, even for a moment.
pub fn write_secret(target: &Path, bytes: &[u8], existing: Existing) -> io::Result<()> {
    let staged = Staged::beside(target)?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&staged.temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    match existing {
        Existing::Replace => staged.put(),
        Existing::Keep => staged.link(),
    }
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

    /// Where the bytes wait until [`Staged::put`].
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    pub fn put(mut self) -> io::Result<()> {
        std::fs::rename(&self.temp, &self.target)?;
        self.put = true;
        sync_dir(&self.target);
        Ok(())
    }

    /// Puts the file in place only if nothing is there: a hard link fails
    /// with `AlreadyExists` rather than replace what another writer put
    /// first. The temporary name is removed either way (on drop).
    fn link(self) -> io::Result<()> {
        match std::fs::hard_link(&self.temp, &self.target) {
            Ok(()) => {
                sync_dir(&self.target);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
            // Some file systems have no hard links; rename is still atomic,
            // only the no-clobber guarantee narrows to this check.
            Err(_) if self.target.exists() => Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the file exists already",
            )),
            Err(_) => self.put(),
        }
    }
}

/// Makes the new directory entry of `target` durable. A failure (or a
/// system where a folder cannot be opened) only weakens crash safety; the
/// file is already written, so it is not reported.
pub fn sync_dir(target: &Path) {
    sync_folder(folder_of(target));
}

/// The folder `target` is in (`.` for a bare name).
fn folder_of(target: &Path) -> &Path {
    match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Makes `dir`'s entries durable; see [`sync_dir`].
fn sync_folder(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
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
    fn an_unsynced_write_replaces_whole_and_a_flush_of_its_file_system_follows() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("p.jpg");
        write_unsynced(&target, b"first").unwrap();
        write_unsynced(&target, b"second").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left");
        sync_filesystem(dir.path()).unwrap();
        assert!(
            sync_filesystem(&dir.path().join("missing")).is_err() || !cfg!(target_os = "linux")
        );
    }

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

    #[test]
    fn files_staged_unsynced_are_flushed_together_and_put_in_place_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("sub");
        std::fs::create_dir(&nested).unwrap();
        let targets = [
            dir.path().join("a.jpg"),
            dir.path().join("b.c2pa"),
            nested.join("c.jpg"),
        ];
        let staged: Vec<Staged> = targets
            .iter()
            .map(|t| {
                let s = Staging::create(t).unwrap();
                s.file().write_all(t.to_string_lossy().as_bytes()).unwrap();
                s.close_unsynced()
            })
            .collect();
        assert!(
            targets.iter().all(|t| !t.exists()),
            "nothing is in place yet"
        );
        sync_staged(&staged.iter().collect::<Vec<_>>()).unwrap();
        put_all(staged).unwrap();
        for t in &targets {
            assert_eq!(std::fs::read(t).unwrap(), t.to_string_lossy().as_bytes());
        }
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
        assert_eq!(std::fs::read_dir(&nested).unwrap().count(), 1);

        // Dropped before they are put, staged files leave nothing.
        let again = Staging::create(&dir.path().join("d.jpg"))
            .unwrap()
            .close_unsynced();
        drop(again);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn a_secret_is_private_and_kept_or_replaced_as_asked() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("key");
        write_secret(&target, b"first", Existing::Keep).unwrap();
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        let kept = write_secret(&target, b"second", Existing::Keep).unwrap_err();
        assert_eq!(kept.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&target).unwrap(), b"first");
        write_secret(&target, b"third", Existing::Replace).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"third");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file is left"
        );
    }

    #[test]
    fn writing_back_keeps_every_byte_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shard");
        let bytes: Vec<u8> = (0..(2 * WRITEBACK_STEP as usize + 12_345))
            .map(|i| (i % 251) as u8)
            .collect();
        let mut out = WritingBack::new(File::create(&path).unwrap());
        // Odd-sized writes, so steps fall mid-write.
        for piece in bytes.chunks(1_000_003) {
            out.write_all(piece).unwrap();
        }
        out.flush().unwrap();
        drop(out);
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
    }
}
