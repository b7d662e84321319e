//! Assay against exiftool on 160 real camera files: every file imports
//! without a panic, and the normalised EXIF values match exiftool's
//! reference output (`exiftool -json -n -G1`), except for the disagreements
//! listed in `KNOWN`, each with its reason.

// A test that cannot read its own fixtures should fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod compare;
mod credentials;
mod grid;
mod previews;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assay_core::{FileReport, ImportEvent, ImportOptions, Library};

/// The test corpus: real camera files and exiftool's reference output.
pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

/// One import of the whole corpus, shared by the tests in this binary.
pub struct Imported {
    pub library: Library,
    pub reports: Vec<FileReport>,
    _dir: tempfile::TempDir,
}

pub fn imported() -> &'static Imported {
    static ONCE: OnceLock<Imported> = OnceLock::new();
    ONCE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(dir.path().join("lib")).unwrap();
        let mut reports = Vec::new();
        library
            .import(
                &[corpus().join("files")],
                &ImportOptions::default(),
                &mut |e| {
                    if let ImportEvent::File(r) = e {
                        reports.push(r.clone());
                    }
                },
            )
            .unwrap();
        Imported {
            library,
            reports,
            _dir: dir,
        }
    })
}
