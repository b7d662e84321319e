//! What the benchmark binaries share: generated camera-like test files,
//! cached between runs, and a description of the machine they ran on.

mod exif_segment;
pub mod generate;
pub mod machine;
mod synth;

use std::path::PathBuf;

use anyhow::Context;

/// Where generated files are cached: `given` (a `--cache DIR`), or
/// `$HOME/.cache/assay-bench`.
pub fn cache_dir(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match given {
        Some(dir) => Ok(dir),
        None => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|home| PathBuf::from(home).join(".cache").join("assay-bench"))
            .context("HOME is not set; pass --cache DIR"),
    }
}
