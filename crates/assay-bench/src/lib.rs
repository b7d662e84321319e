//! What the benchmark binaries share: generated camera-like test files,
//! cached between runs, and a description of the machine they ran on.

mod exif_segment;
pub mod generate;
mod grow;
pub mod machine;
pub mod market;
pub mod mpf_segment;
pub mod stats;
mod synth;

use std::path::{Path, PathBuf};

use anyhow::Context;

pub use grow::grow_catalog;

/// The longest one run of a tool (a peer, a version probe, `assay` itself
/// outside the timed import) may take before it is stopped and named.
pub const TOOL_LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs a tool to its end within [`TOOL_LIMIT`], its output discarded;
/// an error names it unless it succeeded.
pub fn run_quietly(command: &mut std::process::Command) -> anyhow::Result<()> {
    let what = assay_deadline::describe(command);
    let mut child = assay_deadline::spawn(
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
        &what,
    )?;
    let status = assay_deadline::wait(&mut child, TOOL_LIMIT, &what)?;
    anyhow::ensure!(status.success(), "{what}: {status}");
    Ok(())
}

/// Writes back whatever the last round left dirty, so it is not billed to
/// the next.
pub fn settle() -> anyhow::Result<()> {
    run_quietly(&mut std::process::Command::new("sync"))
}

/// MB of pages the kernel has reclaimed so far (by kswapd and directly,
/// `/proc/vmstat`), on Linux: a timed run that makes it reclaim pays for it
/// in CPU on a two-core machine, so the benches print it beside times.
pub fn reclaimed_mb() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/vmstat").ok()?;
    let pages: u64 = text
        .lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(' ')?;
            matches!(key, "pgsteal_kswapd" | "pgsteal_direct")
                .then(|| value.parse::<u64>().ok())
                .flatten()
        })
        .sum();
    Some(pages * 4096 / 1_000_000)
}

/// A library at `dir` with an administrator, a creator and a rights
/// manager (passphrase `pw`): the creator and rights manager, unlocked.
pub fn team_library(
    dir: &Path,
) -> anyhow::Result<(
    assay_core::Library,
    std::sync::Arc<assay_core::Actor>,
    assay_core::Actor,
)> {
    use assay_core::Role;
    let library = assay_core::Library::open(dir)?;
    library.add_user(None, "ada", Role::Admin, b"pw")?;
    let ada = library.unlock("ada", b"pw")?;
    library.add_user(Some(&ada), "cy", Role::Creator, b"pw")?;
    library.add_user(Some(&ada), "rosa", Role::RightsManager, b"pw")?;
    let cy = std::sync::Arc::new(library.unlock("cy", b"pw")?);
    let rosa = library.unlock("rosa", b"pw")?;
    Ok((library, cy, rosa))
}

/// `count` generated files of `kind`, imported by the creator of a new
/// team library (see [`team_library`]) in a scratch folder under `cache`
/// (deleted with `scratch`).
pub struct ImportedSet {
    pub set: generate::FileSet,
    pub scratch: tempfile::TempDir,
    pub library: assay_core::Library,
    pub cy: std::sync::Arc<assay_core::Actor>,
    pub rosa: assay_core::Actor,
}

pub fn imported_set(
    cache: &Path,
    kind: &generate::Kind,
    count: usize,
    threads: usize,
) -> anyhow::Result<ImportedSet> {
    let set = generate::ensure(cache, kind, count, threads)?;
    let scratch = tempfile::tempdir_in(cache)?;
    let (library, cy, rosa) = team_library(&scratch.path().join("library"))?;
    eprintln!(
        "importing {} files ({} bytes)",
        set.files.len(),
        set.total_bytes
    );
    let options = assay_core::ImportOptions {
        actor: Some(std::sync::Arc::clone(&cy)),
        ..assay_core::ImportOptions::default()
    };
    let summary = library.import(std::slice::from_ref(&set.dir), &options, &mut |_| {})?;
    anyhow::ensure!(summary.imported as usize == count, "imported {summary:?}");
    Ok(ImportedSet {
        set,
        scratch,
        library,
        cy,
        rosa,
    })
}

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

/// A scratch library (deleted with `scratch`) holding `n` imported text
/// files, with an admin `ada` and the steward `sam` who imported them,
/// both unlocked. Keys use cheap Argon2 parameters: unlocking is not what
/// the benchmarks measure.
pub struct TextLibrary {
    pub scratch: tempfile::TempDir,
    pub library: assay_core::Library,
    pub ada: assay_core::Actor,
    pub sam: std::sync::Arc<assay_core::Actor>,
}

pub fn text_library(cache: &Path, n: usize) -> anyhow::Result<TextLibrary> {
    use assay_core::{ImportOptions, Library, Role};
    let files = text_files(cache, n)?;
    let scratch = tempfile::tempdir_in(cache)?;
    let library = Library::open(scratch.path().join("library"))?;
    library.add_user(None, "ada", Role::Admin, b"pw")?;
    let ada = library.unlock("ada", b"pw")?;
    library.add_user(Some(&ada), "sam", Role::Steward, b"pw")?;
    let sam = std::sync::Arc::new(library.unlock("sam", b"pw")?);
    eprintln!("importing {n} files");
    let options = ImportOptions {
        actor: Some(std::sync::Arc::clone(&sam)),
        ..ImportOptions::default()
    };
    let summary = library.import(&[files], &options, &mut |_| {})?;
    anyhow::ensure!(summary.imported as usize == n, "imported {summary:?}");
    Ok(TextLibrary {
        scratch,
        library,
        ada,
        sam,
    })
}
