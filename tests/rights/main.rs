//! Identities, roles and the provenance chain, driven through the core API on
//! temporary libraries of real corpus files. Tamper tests change the catalog
//! behind the core's back, as an attacker with the database file would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod batch;
mod croissant;
mod dataset_builds;
mod datasets;
mod edit;
mod imported_rights;
mod jobs;
mod manifest;
mod media;
mod playback;
mod setup;
mod tamper;
mod undo;
mod users;
mod workflow;
mod xmp;
mod xmp_verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use assay_core::{Actor, ImportOptions, Library, Role};
use assay_deadline::OutputWithin;

pub const PASS: &[u8] = b"correct horse";

/// The longest a tool the tests run (exiftool, mlcroissant) may take: past
/// it the tool is stopped and the test fails naming the command.
pub const CHILD_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Renders `seconds` of ffmpeg's test pattern at `size` to `to`, encoded
/// with `codec` (ffmpeg's output options).
pub fn test_clip(to: &Path, seconds: f64, size: &str, codec: &[&str]) {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=duration={seconds}:size={size}:rate=25"))
        .args(codec)
        .arg(to)
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus/files")
        .join(name)
}

/// Photos from two cameras, copied so each test owns its files.
pub fn photos(dir: &Path) -> PathBuf {
    let photos = dir.join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for (from, to) in [
        ("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "a.jpg"),
        ("exif-py/jpg/exif-org/kodak-dc210.jpg", "b.jpg"),
    ] {
        std::fs::copy(corpus(from), photos.join(to)).unwrap();
    }
    photos
}

pub fn fast_kdf() {
    // Argon2id at full strength costs a second per key; tests need many keys.
    std::env::set_var("ASSAY_KDF_FAST", "1");
}

/// A new library with no users, in its own temporary folder.
pub fn empty_library() -> (tempfile::TempDir, Library) {
    fast_kdf();
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(dir.path().join("library")).unwrap();
    (dir, library)
}

/// A library with an admin `ada`, a creator `cy` who imported two photos,
/// and a rights manager `rosa`.
pub struct World {
    pub dir: tempfile::TempDir,
    pub library: Library,
    pub ada: Actor,
    pub cy: Arc<Actor>,
    pub rosa: Actor,
}

impl World {
    #[allow(clippy::new_without_default)]
    pub fn new() -> World {
        fast_kdf();
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(dir.path().join("library")).unwrap();
        library.add_user(None, "ada", Role::Admin, PASS).unwrap();
        let ada = library.unlock("ada", PASS).unwrap();
        library
            .add_user(Some(&ada), "cy", Role::Creator, PASS)
            .unwrap();
        library
            .add_user(Some(&ada), "rosa", Role::RightsManager, PASS)
            .unwrap();
        let cy = Arc::new(library.unlock("cy", PASS).unwrap());
        let rosa = library.unlock("rosa", PASS).unwrap();
        let options = ImportOptions {
            actor: Some(Arc::clone(&cy)),
            ..ImportOptions::default()
        };
        let summary = library
            .import(&[photos(dir.path())], &options, &mut |_| {})
            .unwrap();
        assert_eq!(summary.imported, 2);
        World {
            dir,
            library,
            ada,
            cy,
            rosa,
        }
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.library.db_path()).unwrap()
    }
}
