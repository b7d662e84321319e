//! The peer pipeline: what a script built from standard tools does per file
//! to match what `assay import` does — hash it, read its metadata, and make
//! a thumbnail and a preview.
//!
//!     sha256sum F
//!     exiftool -json F
//!     vipsthumbnail F -s 256 -o OUT/%s-256.jpg
//!     vipsthumbnail F -s 1600 -o OUT/%s-1600.jpg

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

/// Runs the pipeline over `files` with `workers` files in flight at once,
/// writing thumbnails under `out`. Returns the wall time.
pub fn run(
    tools: &Tools,
    files: &[PathBuf],
    workers: usize,
    out: &Path,
) -> anyhow::Result<Duration> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let workers = workers.clamp(1, files.len().max(1));
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let results: Vec<anyhow::Result<()>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    while let Some(file) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        one_file(tools, file, out)?;
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

fn one_file(tools: &Tools, file: &Path, out: &Path) -> anyhow::Result<()> {
    let hash = run_tool(Command::new(&tools.sha256sum).arg(file), file)?;
    if hash.len() < 64 {
        bail!("sha256sum printed no checksum for {}", file.display());
    }
    let meta = run_tool(Command::new(&tools.exiftool).arg("-json").arg(file), file)?;
    if !meta.trim_start().starts_with('[') {
        bail!("exiftool printed no JSON for {}", file.display());
    }
    for size in ["256", "1600"] {
        let target = out.join(format!("%s-{size}.jpg"));
        run_tool(
            Command::new(&tools.vipsthumbnail)
                .arg(file)
                .args(["-s", size, "-o"])
                .arg(target),
            file,
        )?;
    }
    Ok(())
}

/// Runs one tool on `file`, returning its standard output.
fn run_tool(command: &mut Command, file: &Path) -> anyhow::Result<String> {
    let tool = command.get_program().to_string_lossy().into_owned();
    let output = command
        .output_within(assay_bench::TOOL_LIMIT)
        .with_context(|| format!("running {tool} on {}", file.display()))?;
    if !output.status.success() {
        bail!(
            "{tool} failed on {} ({}): {}",
            file.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
