//! Listing the files an import covers: folders recursively, hidden and
//! system files skipped, XMP sidecars reported as skipped (they are read
//! with the file they describe), symlinks followed but never round a loop,
//! and the library's own folder never imported into itself.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::formats::one_pass::Stamp;

pub(crate) enum Found {
    File {
        path: PathBuf,
        stamp: Stamp,
    },
    /// A path that could not be listed or read at all.
    Failed {
        path: PathBuf,
        error: String,
    },
    /// Deliberately not imported (a sidecar, a symlink loop); not an error.
    Skipped {
        path: PathBuf,
        reason: String,
    },
}

/// Names operating systems and tools leave behind that are never assets.
const SYSTEM_NAMES: &[&str] = &[
    "Thumbs.db",
    "ehthumbs.db",
    "desktop.ini",
    "Desktop.ini",
    "Icon\r",
    "$RECYCLE.BIN",
    "System Volume Information",
    "@eaDir",
    "lost+found",
    "__MACOSX",
];

pub(crate) fn is_hidden_or_system(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with('.') || SYSTEM_NAMES.contains(&name.as_ref())
}

/// XMP sidecars describe another file; they are metadata, not assets. Even
/// one whose file is gone is no asset: a DAM's metadata is not training data.
pub(crate) fn is_sidecar(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xmp"))
}

/// Walks `roots`, calling `found` for each file; stops early when `cancel` is set
/// or `found` returns false.
pub(crate) fn walk(
    roots: &[PathBuf],
    library: &Path,
    cancel: &AtomicBool,
    mut found: impl FnMut(Found) -> bool,
) {
    for root in roots {
        let root = match std::fs::canonicalize(root) {
            Ok(root) => root,
            Err(e) => {
                if !found(Found::Failed {
                    path: root.clone(),
                    error: assay_fsio::describe_io(&e),
                }) {
                    return;
                }
                continue;
            }
        };
        let entries = walkdir::WalkDir::new(&root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                (e.depth() == 0 || !is_hidden_or_system(e.file_name()))
                    && !e.path().starts_with(library)
            });
        for entry in entries {
            if cancel.load(Ordering::Relaxed) {
                return;
            }
            let event = match entry {
                Ok(entry) if entry.file_type().is_file() && is_sidecar(entry.path()) => {
                    Found::Skipped {
                        path: entry.into_path(),
                        reason: "XMP sidecar: read as metadata of the file it describes".to_owned(),
                    }
                }
                Ok(entry) if entry.file_type().is_file() => match entry.metadata() {
                    Ok(meta) => Found::File {
                        path: entry.into_path(),
                        stamp: Stamp::of(&meta),
                    },
                    Err(e) => Found::Failed {
                        path: entry.into_path(),
                        error: e.to_string(),
                    },
                },
                Ok(_) => continue, // folders, sockets, devices
                Err(e) if e.loop_ancestor().is_some() => Found::Skipped {
                    path: e.path().map(Path::to_owned).unwrap_or_default(),
                    reason: "symbolic link loop; not followed".to_owned(),
                },
                Err(e) => Found::Failed {
                    path: e.path().map(Path::to_owned).unwrap_or_else(|| root.clone()),
                    error: e
                        .io_error()
                        .map(assay_fsio::describe_io)
                        .unwrap_or_else(|| e.to_string()),
                },
            };
            if !found(event) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_and_system_names() {
        for name in [".DS_Store", ".git", "Thumbs.db", "desktop.ini", "@eaDir"] {
            assert!(is_hidden_or_system(OsStr::new(name)), "{name}");
        }
        for name in ["IMG_0001.JPG", "photo.thumbs.db.jpg", "data.csv"] {
            assert!(!is_hidden_or_system(OsStr::new(name)), "{name}");
        }
        assert!(is_sidecar(Path::new("/a/IMG_1.CR2.xmp")));
        assert!(!is_sidecar(Path::new("/a/IMG_1.jpg")));
    }
}
