//! The peer pipeline: what a script built from standard tools does to
//! match what `assay import` does — hash each file, read its metadata, and
//! make a thumbnail and a preview. Two ways: one file per process, and the
//! way a competent user scripts it, a batch of files per process (each of
//! these tools takes a list, so exiftool's Perl starts once per batch):
//!
//!     sha256sum F...
//!     exiftool -json F...
//!     vipsthumbnail F... -s 256 -o OUT/%s-256.jpg
//!     vipsthumbnail F... -s 1600 -o OUT/%s-1600.jpg

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use assay_deadline::OutputWithin;

/// The peer tools, found on PATH.
pub struct Tools {
    sha256sum: PathBuf,
    exiftool: PathBuf,
    vipsthumbnail: PathBuf,
}

impl Tools {
    pub fn find() -> anyhow::Result<Self> {
        Ok(Tools {
            sha256sum: on_path("sha256sum")?,
            exiftool: on_path("exiftool")?,
            vipsthumbnail: on_path("vipsthumbnail")?,
        })
    }

    /// Each tool's version, for the report.
    pub fn versions(&self) -> String {
        let version = |tool: &Path, arg: &str| {
            Command::new(tool)
                .arg(arg)
                .output_within(assay_bench::TOOL_LIMIT)
                .ok()
                .and_then(|o| {
                    let text = String::from_utf8_lossy(&o.stdout).into_owned();
                    text.lines().next().map(|l| l.trim().to_owned())
                })
                .unwrap_or_else(|| "unknown".into())
        };
        format!(
            "{}; exiftool {}; vipsthumbnail ({})",
            version(&self.sha256sum, "--version"),
            version(&self.exiftool, "-ver"),
            version(&self.vipsthumbnail, "--vips-version"),
        )
    }
}

fn on_path(tool: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
        .with_context(|| {
            format!("{tool} is not on PATH; run scripts/setup.sh --bench, or pass --skip-peer")
        })
}

/// Runs the pipeline over `files` in batches of `batch` files per process,
/// with `workers` batches in flight at once, writing thumbnails under
/// `out`. Returns the wall time.
pub fn run(
    tools: &Tools,
    files: &[PathBuf],
    (workers, batch): (usize, usize),
    out: &Path,
) -> anyhow::Result<Duration> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let batches: Vec<&[PathBuf]> = files.chunks(batch.max(1)).collect();
    let workers = workers.clamp(1, batches.len().max(1));
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let results: Vec<anyhow::Result<()>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    while let Some(batch) = batches.get(next.fetch_add(1, Ordering::Relaxed)) {
                        one_batch(tools, batch, out)?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("a peer worker panicked")))
            })
            .collect()
    });
    let wall = started.elapsed();
    results.into_iter().collect::<anyhow::Result<()>>()?;
    Ok(wall)
}

fn one_batch(tools: &Tools, files: &[PathBuf], out: &Path) -> anyhow::Result<()> {
    let hashes = run_tool(Command::new(&tools.sha256sum).args(files), files)?;
    if hashes.lines().filter(|l| l.len() >= 64).count() != files.len() {
        bail!("sha256sum printed fewer checksums than files");
    }
    let meta = run_tool(
        Command::new(&tools.exiftool).arg("-json").args(files),
        files,
    )?;
    if !meta.trim_start().starts_with('[') {
        bail!("exiftool printed no JSON");
    }
    for size in ["256", "1600"] {
        let target = out.join(format!("%s-{size}.jpg"));
        run_tool(
            Command::new(&tools.vipsthumbnail)
                .args(files)
                .args(["-s", size, "-o"])
                .arg(target),
            files,
        )?;
    }
    Ok(())
}

/// Runs one tool on `files`, returning its standard output.
fn run_tool(command: &mut Command, files: &[PathBuf]) -> anyhow::Result<String> {
    let tool = command.get_program().to_string_lossy().into_owned();
    let first = files
        .first()
        .map_or("no file".into(), |f| f.display().to_string());
    let output = command
        .output_within(assay_bench::TOOL_LIMIT)
        .with_context(|| {
            format!(
                "running {tool} on {first} and {} more",
                files.len().saturating_sub(1)
            )
        })?;
    if !output.status.success() {
        bail!(
            "{tool} failed on {first} and {} more ({}): {}",
            files.len().saturating_sub(1),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
