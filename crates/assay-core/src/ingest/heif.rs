//! HEIF, HEIC and AVIF pictures through libheif's `heif-convert` (Debian's
//! `libheif-examples`), run as `tools.rs` runs a child: the primary image
//! decoded, libheif's own rotation and mirroring applied (a HEIF file's
//! EXIF orientation is not to be applied again), written as a JPEG into a
//! temporary folder for the preview pipeline. `ASSAY_HEIF_CONVERT` names
//! another program.

use std::path::Path;
use std::time::Duration;

use super::tools::{input, run};

/// How long decoding one picture may take (a 50-megapixel HEIF takes a
/// few seconds on one core).
const LIMIT: Duration = Duration::from_secs(60);

/// The picture of the HEIF or AVIF file at `path`, as JPEG bytes.
pub(crate) fn decode(path: &Path) -> Result<Vec<u8>, String> {
    if !path.is_file() {
        return Err(format!(
            "{} is not a file heif-convert can read",
            path.display()
        ));
    }
    let dir = tempfile::tempdir().map_err(|e| format!("a temporary folder: {e}"))?;
    let out = dir.path().join("picture.jpg");
    run(
        "heif-convert",
        "ASSAY_HEIF_CONVERT",
        &["-q", "92"],
        &[input("", path), out.clone().into_os_string()],
        LIMIT,
    )?;
    // A file of several top-level images gets one JPEG each, numbered; the
    // first is the primary one.
    let written = [out, dir.path().join("picture-1.jpg")]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| "heif-convert wrote no picture".to_owned())?;
    std::fs::read(&written).map_err(|e| format!("{}: {e}", written.display()))
}
