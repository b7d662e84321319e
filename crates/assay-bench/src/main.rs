//! `assay-bench`: measures `assay import` on generated camera-like JPEGs
//! beside a peer pipeline of standard tools, and prints a Markdown report.
//! Run by `make bench`; see `--help`. Progress goes to stderr, the report
//! alone to stdout.

mod measure;
mod peer;
mod report;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context};
use assay_deadline::OutputWithin;
use clap::Parser;

use assay_bench::{generate, machine};

use crate::measure::RssProbe;

#[derive(Parser)]
#[command(
    name = "assay-bench",
    about = "Measures `assay import` on generated 6000x4000 JPEGs beside a pipeline of \
             sha256sum, exiftool and vipsthumbnail, and prints a Markdown report."
)]
struct Args {
    /// Large (6000x4000) files to import.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    files: u64,
    /// Small (64x48) files for the re-scan measurement.
    #[arg(long, value_name = "M", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    small_files: u64,
    /// Large files the peer pipeline processes (default: all N).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    peer_files: Option<u64>,
    /// Where generated files are cached (default: $HOME/.cache/assay-bench).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Do not run the peer pipeline.
    #[arg(long)]
    skip_peer: bool,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("assay-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    // Everything that can be missing is checked before the long parts.
    let assay = locate_assay()?;
    let assay_version = version_of(&assay)?;
    let tools = if args.skip_peer {
        None
    } else {
        Some(peer::Tools::find()?)
    };
    let cache = assay_bench::cache_dir(args.cache)?;
    std::fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    let machine = machine::Machine::detect();
    let probe = RssProbe::detect();

    let large = generate::ensure(&cache, &generate::LARGE, args.files as usize, machine.cores)?;
    let small = generate::ensure(
        &cache,
        &generate::SMALL,
        args.small_files as usize,
        machine.cores,
    )?;
    warm_page_cache(&large.files)?;

    let scratch = tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(&cache)
        .with_context(|| format!("creating a temporary folder in {}", cache.display()))?;
    let scratch = scratch.path();
    let measure = |what: &str, set: &generate::FileSet, library: &str| {
        eprintln!("assay-bench: {what} ({} files)", set.files.len());
        measure::import(
            &assay,
            &scratch.join(library),
            &set.dir,
            (set.files.len() as u64, set.total_bytes),
            &probe,
            scratch,
        )
    };
    let large_import = measure("importing the large files", &large, "library-large")?;
    let large_rescan = measure("re-scanning the large files", &large, "library-large")?;
    let small_import = measure("importing the small files", &small, "library-small")?;
    let small_rescan = measure("re-scanning the small files", &small, "library-small")?;

    let peer = match &tools {
        None => None,
        Some(tools) => {
            let k = args
                .peer_files
                .map_or(large.files.len(), |k| (k as usize).min(large.files.len()));
            let files = &large.files[..k];
            let bytes = files
                .iter()
                .map(|f| std::fs::metadata(f).map(|m| m.len()))
                .sum::<std::io::Result<u64>>()
                .context("reading the sizes of the peer's files")?;
            eprintln!("assay-bench: peer pipeline, sequential ({k} files)");
            let sequential = peer::run(tools, files, 1, &scratch.join("peer-sequential"))?;
            let workers = machine.cores;
            eprintln!("assay-bench: peer pipeline, {workers} in parallel ({k} files)");
            let parallel = peer::run(tools, files, workers, &scratch.join("peer-parallel"))?;
            Some(report::Peer {
                files: k,
                of: large.files.len(),
                bytes,
                sequential,
                parallel,
                workers,
            })
        }
    };

    let setup = report::Setup {
        machine: &machine,
        command_line: command_line(),
        assay: &assay,
        assay_version,
        large: &large,
        small: &small,
        rss_method: probe.describe(),
        peer_versions: tools.as_ref().map(peer::Tools::versions),
    };
    let results = report::Results {
        large_import,
        large_rescan,
        small_import,
        small_rescan,
        peer,
    };
    print!("{}", report::markdown(&setup, &results));
    Ok(())
}

/// The `assay` binary built beside this one.
fn locate_assay() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("finding the assay-bench binary")?;
    let dir = exe
        .parent()
        .with_context(|| format!("{} has no parent folder", exe.display()))?;
    let assay = dir.join(format!("assay{}", std::env::consts::EXE_SUFFIX));
    if !assay.is_file() {
        bail!(
            "{} is missing: build it with `cargo build --release -p assay-cli -p assay-bench` \
             (the benchmark runs the assay binary beside itself)",
            assay.display()
        );
    }
    Ok(assay)
}

fn version_of(assay: &Path) -> anyhow::Result<String> {
    let output = Command::new(assay)
        .arg("--version")
        .output_within(assay_bench::TOOL_LIMIT)
        .with_context(|| format!("running {} --version", assay.display()))?;
    if !output.status.success() {
        bail!("{} --version failed ({})", assay.display(), output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Reads every file once, so no measurement pays for the disk and the
/// assay and peer runs start from the same (warm) page cache.
fn warm_page_cache(files: &[PathBuf]) -> anyhow::Result<()> {
    eprintln!(
        "assay-bench: reading {} files into the page cache",
        files.len()
    );
    let mut buf = vec![0; 1 << 20];
    for file in files {
        let mut f =
            std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
        while f
            .read(&mut buf)
            .with_context(|| format!("reading {}", file.display()))?
            > 0
        {}
    }
    Ok(())
}

/// This run's command line, quoted for a POSIX shell where needed.
fn command_line() -> String {
    std::env::args()
        .map(|arg| {
            let plain = !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                arg
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
