//! [`Blobs`] in a local folder: `parts/ID` for uploads in progress,
//! `blobs/AB/ID` (`AB` the id's first two digits, so no folder grows huge)
//! for finished files and `previews/AB/ID` for watermarked previews. A part is the temporary file of its blob: it is
//! fsynced, then renamed into `blobs/`, then the folder is fsynced, so a
//! blob is never seen half-written.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{BlobError, Blobs, PartWriter, Result};
use crate::ids::{BlobId, PreviewId, UploadId};

pub struct FolderBlobs {
    root: PathBuf,
    parts: PathBuf,
    blobs: PathBuf,
    previews: PathBuf,
}

fn io<'a>(action: &'static str, id: &'a str) -> impl FnOnce(io::Error) -> BlobError + 'a {
    move |source| BlobError::Io {
        action,
        id: id.to_owned(),
        source,
    }
}

impl FolderBlobs {
    /// Blob storage under `root`, creating its folders.
    pub fn open(root: &Path) -> Result<FolderBlobs> {
        let blobs = FolderBlobs {
            root: root.to_owned(),
            parts: root.join("parts"),
            blobs: root.join("blobs"),
            previews: root.join("previews"),
        };
        for dir in [&blobs.parts, &blobs.blobs, &blobs.previews] {
            fs::create_dir_all(dir).map_err(io("creating", &dir.display().to_string()))?;
        }
        Ok(blobs)
    }

    fn part(&self, upload: &UploadId) -> PathBuf {
        self.parts.join(upload.as_str())
    }

    fn blob(&self, blob: &BlobId) -> PathBuf {
        let id = blob.as_str();
        self.blobs.join(&id[..2]).join(id)
    }

    fn preview(&self, preview: &PreviewId) -> PathBuf {
        let id = preview.as_str();
        self.previews.join(&id[..2]).join(id)
    }
}

/// Makes a new or renamed entry of `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn remove(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

struct FolderPart {
    file: File,
    id: String,
    start: u64,
}

impl PartWriter for FolderPart {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.file
            .write_all(bytes)
            .map_err(io("writing part", &self.id))
    }

    fn commit(self: Box<Self>) -> Result<u64> {
        self.file
            .sync_data()
            .map_err(io("syncing part", &self.id))?;
        let len = self.file.metadata().map_err(io("reading part", &self.id))?;
        Ok(len.len())
    }

    fn discard(self: Box<Self>) -> Result<()> {
        self.file
            .set_len(self.start)
            .and_then(|()| self.file.sync_data())
            .map_err(io("truncating part", &self.id))
    }
}

impl Blobs for FolderBlobs {
    fn create_part(&self, upload: &UploadId) -> Result<()> {
        let id = upload.as_str();
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.part(upload))
            .and_then(|f| f.sync_all())
            .and_then(|()| sync_dir(&self.parts))
            .map_err(io("creating part", id))
    }

    fn append(&self, upload: &UploadId, offset: u64) -> Result<Box<dyn PartWriter>> {
        let id = upload.as_str();
        let mut file = match OpenOptions::new().write(true).open(self.part(upload)) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(BlobError::NoPart(id.to_owned()))
            }
            Err(e) => return Err(io("opening part", id)(e)),
        };
        let held = file.metadata().map_err(io("reading part", id))?.len();
        if held < offset {
            return Err(BlobError::ShortPart {
                id: id.to_owned(),
                held,
                offset,
            });
        }
        if held > offset {
            file.set_len(offset).map_err(io("truncating part", id))?;
        }
        file.seek(SeekFrom::Start(offset))
            .map_err(io("seeking part", id))?;
        Ok(Box::new(FolderPart {
            file,
            id: id.to_owned(),
            start: offset,
        }))
    }

    fn read_part(&self, upload: &UploadId) -> Result<Box<dyn Read + Send>> {
        let file = File::open(self.part(upload)).map_err(io("opening part", upload.as_str()))?;
        Ok(Box::new(file))
    }

    fn part_len(&self, upload: &UploadId) -> Result<Option<u64>> {
        match fs::metadata(self.part(upload)) {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("reading part", upload.as_str())(e)),
        }
    }

    fn discard_part(&self, upload: &UploadId) -> Result<()> {
        remove(&self.part(upload)).map_err(io("removing part", upload.as_str()))
    }

    fn seal(&self, upload: &UploadId) -> Result<BlobId> {
        let blob = BlobId::from(upload);
        let (from, to) = (self.part(upload), self.blob(&blob));
        let id = upload.as_str();
        File::open(&from)
            .and_then(|f| f.sync_all())
            .map_err(io("syncing part", id))?;
        let dir = to.parent().unwrap_or(&self.blobs);
        fs::create_dir_all(dir).map_err(io("creating blob folder", id))?;
        fs::rename(&from, &to).map_err(io("sealing blob", id))?;
        sync_dir(dir)
            .and_then(|()| sync_dir(&self.parts))
            .map_err(io("syncing blob folder", id))?;
        Ok(blob)
    }

    fn exists(&self, blob: &BlobId) -> Result<bool> {
        self.blob(blob)
            .try_exists()
            .map_err(io("reading blob", blob.as_str()))
    }

    fn open(&self, blob: &BlobId) -> Result<(Box<dyn Read + Send>, u64)> {
        let file = File::open(self.blob(blob)).map_err(io("opening blob", blob.as_str()))?;
        let len = file
            .metadata()
            .map_err(io("reading blob", blob.as_str()))?
            .len();
        Ok((Box::new(file), len))
    }

    fn delete(&self, blob: &BlobId) -> Result<()> {
        remove(&self.blob(blob)).map_err(io("removing blob", blob.as_str()))
    }

    fn parts(&self) -> Result<Vec<UploadId>> {
        names(&self.parts)?
            .into_iter()
            .map(|name| Ok(UploadId::parse(&name)))
            .filter_map(Result::transpose)
            .collect()
    }

    fn blobs(&self) -> Result<Vec<BlobId>> {
        let mut found = Vec::new();
        for shard in names(&self.blobs)? {
            for name in names(&self.blobs.join(shard))? {
                found.extend(BlobId::parse(&name));
            }
        }
        Ok(found)
    }

    fn put_preview(&self, preview: &PreviewId, bytes: &[u8]) -> Result<()> {
        let id = preview.as_str();
        // Written as a part first (a part no open upload owns is swept at
        // start), so a crash never leaves half a preview under its name.
        let part = self.parts.join(id);
        let to = self.preview(preview);
        let dir = to.parent().unwrap_or(&self.previews);
        File::create(&part)
            .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
            .map_err(io("writing preview", id))?;
        fs::create_dir_all(dir).map_err(io("creating preview folder", id))?;
        fs::rename(&part, &to).map_err(io("storing preview", id))?;
        sync_dir(dir)
            .and_then(|()| sync_dir(&self.parts))
            .map_err(io("syncing preview folder", id))
    }

    fn read_preview(&self, preview: &PreviewId) -> Result<Vec<u8>> {
        fs::read(self.preview(preview)).map_err(io("reading preview", preview.as_str()))
    }

    fn delete_preview(&self, preview: &PreviewId) -> Result<()> {
        remove(&self.preview(preview)).map_err(io("removing preview", preview.as_str()))
    }

    fn previews(&self) -> Result<Vec<PreviewId>> {
        let mut found = Vec::new();
        for shard in names(&self.previews)? {
            for name in names(&self.previews.join(shard))? {
                found.extend(PreviewId::parse(&name));
            }
        }
        Ok(found)
    }

    fn local_root(&self) -> Option<&Path> {
        Some(&self.root)
    }
}

/// The names in `dir`; names that are not UTF-8 cannot be ids and are skipped.
fn names(dir: &Path) -> Result<Vec<String>> {
    let what = dir.display().to_string();
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(io("listing", &what))? {
        let entry = entry.map_err(io("listing", &what))?;
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_grows_by_committed_writes_and_becomes_a_blob() {
        let dir = tempfile::tempdir().unwrap();
        let store = FolderBlobs::open(dir.path()).unwrap();
        let id = UploadId::random();
        store.create_part(&id).unwrap();
        let mut w = store.append(&id, 0).unwrap();
        w.write(b"hello ").unwrap();
        assert_eq!(w.commit().unwrap(), 6);
        // A discarded write leaves the part as it was.
        let mut w = store.append(&id, 6).unwrap();
        w.write(b"garbage").unwrap();
        w.discard().unwrap();
        assert_eq!(store.part_len(&id).unwrap(), Some(6));
        // Bytes past the offset (a write that never committed) are dropped.
        let mut w = store.append(&id, 6).unwrap();
        w.write(b"world!").unwrap();
        drop(w);
        let mut w = store.append(&id, 6).unwrap();
        w.write(b"world").unwrap();
        assert_eq!(w.commit().unwrap(), 11);
        assert!(matches!(
            store.append(&id, 12).err(),
            Some(BlobError::ShortPart { held: 11, .. })
        ));
        let blob = store.seal(&id).unwrap();
        assert_eq!(store.part_len(&id).unwrap(), None);
        let text = fs::read_to_string(store.blob(&blob)).unwrap();
        assert_eq!(text, "hello world");
        assert_eq!(store.blobs().unwrap(), std::slice::from_ref(&blob));
        assert!(store.parts().unwrap().is_empty());
        store.delete(&blob).unwrap();
        store.delete(&blob).unwrap();
        assert!(!store.exists(&blob).unwrap());
    }
}
