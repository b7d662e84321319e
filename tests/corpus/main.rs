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
}

/// Where this process keeps its import: a folder named for its pid under
/// the target's scratch folder. A static is never dropped, so a temporary
/// folder would outlive every run (and nextest runs each test in its own
/// process); instead each process removes the folders of processes that
/// have ended.
fn import_dir() -> PathBuf {
    let parent = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus-import");
    if let Ok(entries) = std::fs::read_dir(&parent) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let pid = name.to_str().and_then(|n| n.strip_prefix("pid-"));
            if pid.is_some_and(|pid| !Path::new("/proc").join(pid).exists()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = parent.join(format!("pid-{}", std::process::id()));
    // A pid the system reused: what is there is another run's.
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub fn imported() -> &'static Imported {
    static ONCE: OnceLock<Imported> = OnceLock::new();
    ONCE.get_or_init(|| {
        let dir = import_dir();
        let library = Library::open(dir.join("lib")).unwrap();
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
        Imported { library, reports }
    })
}
