//! What the benchmark binaries share: generated camera-like test files,
//! cached between runs, and a description of the machine they ran on.

mod exif_segment;
pub mod generate;
pub mod machine;
mod synth;

use std::path::{Path, PathBuf};

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

/// `n` one-line text files under `cache/text-N/` (a thousand per folder),
/// generated once: assets whose import costs little, for benchmarks of
/// what comes after import.
pub fn text_files(cache: &Path, n: usize) -> anyhow::Result<PathBuf> {
    let dir = cache.join(format!("text-{n}"));
    let done = dir.join(".complete");
    if done.exists() {
        return Ok(dir);
    }
    eprintln!("generating {n} text files in {}", dir.display());
    for i in 0..n {
        let sub = dir.join(format!("{:03}", i / 1000));
        std::fs::create_dir_all(&sub)?;
        std::fs::write(sub.join(format!("{i}.txt")), format!("row {i}\n"))?;
    }
    std::fs::write(&done, b"")?;
    Ok(dir)
}
