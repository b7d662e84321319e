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

use crate::measure::{RssProbe, Step};

#[derive(Parser)]
#[command(
    name = "assay-bench",
    about = "Measures `assay import` on generated 6000x4000 JPEGs (browsable, previews and \
             complete; without and with an MPF preview) beside a pipeline of sha256sum, \
             exiftool and vipsthumbnail, and prints a Markdown report."
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
    /// Files per process in the batched peer pipeline.
    #[arg(long, value_name = "B", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    peer_batch: u64,
    /// Do not measure the files that carry an MPF preview.
    #[arg(long)]
    skip_mpf: bool,
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
    let mpf = match args.skip_mpf {
        true => None,
        false => Some(generate::ensure(
            &cache,
            &generate::LARGE_MPF,
            args.files as usize,
            machine.cores,
        )?),
    };
    let small = generate::ensure(
        &cache,
        &generate::SMALL,
        args.small_files as usize,
        machine.cores,
    )?;

    let scratch = tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(&cache)
        .with_context(|| format!("creating a temporary folder in {}", cache.display()))?;
    let scratch = scratch.path();
    let measure = |what: &str, set: &generate::FileSet, library: &str, step: Step| {
        eprintln!("assay-bench: {what} ({} files)", set.files.len());
        measure::import(
            &assay,
            &scratch.join(library),
            step,
            (set.files.len() as u64, set.total_bytes),
            &probe,
            scratch,
        )
    };
    // Each set in three runs: the first phase alone, then the second on
    // its library, then both in one `assay import` on a fresh library.
    let phases = |set: &generate::FileSet, name: &str| -> anyhow::Result<report::Phases> {
        warm_page_cache(&set.files)?;
        let import = |defer_previews| Step::Import {
            dir: &set.dir,
            defer_previews,
        };
        let deferred = format!("library-{name}-deferred");
        Ok(report::Phases {
            browsable: measure(
                &format!("{name}: first phase"),
                set,
                &deferred,
                import(true),
            )?,
            previews: measure(&format!("{name}: previews"), set, &deferred, Step::Previews)?,
            complete: measure(
                &format!("{name}: complete import"),
                set,
                &format!("library-{name}"),
                import(false),
            )?,
        })
    };
    let plain = phases(&large, "large")?;
    let with_mpf = mpf
        .as_ref()
        .map(|set| phases(set, "large-mpf"))
        .transpose()?;
    let rescan = Step::Import {
        dir: &large.dir,
        defer_previews: false,
    };
    let large_rescan = measure(
        "re-scanning the large files",
        &large,
        "library-large",
        rescan,
    )?;
    let small_step = || Step::Import {
        dir: &small.dir,
        defer_previews: false,
    };
    let small_import = measure(
        "importing the small files",
        &small,
        "library-small",
        small_step(),
    )?;
    let small_rescan = measure(
        "re-scanning the small files",
        &small,
        "library-small",
        small_step(),
    )?;

    let peer = match &tools {
        None => None,
        Some(tools) => {
            warm_page_cache(&large.files)?;
            let k = args
                .peer_files
                .map_or(large.files.len(), |k| (k as usize).min(large.files.len()));
            let files = &large.files[..k];
            let bytes = files
                .iter()
                .map(|f| std::fs::metadata(f).map(|m| m.len()))
                .sum::<std::io::Result<u64>>()
                .context("reading the sizes of the peer's files")?;
            let workers = machine.cores;
            let batch = args.peer_batch as usize;
            eprintln!(
                "assay-bench: peer pipeline, one file per process, {workers} at a time ({k} files)"
            );
            let per_file = peer::run(tools, files, (workers, 1), &scratch.join("peer-per-file"))?;
            eprintln!("assay-bench: peer pipeline, {batch} files per process, {workers} at a time ({k} files)");
            let batched = peer::run(
                tools,
                files,
                (workers, batch),
                &scratch.join("peer-batched"),
            )?;
            Some(report::Peer {
                files: k,
                of: large.files.len(),
                bytes,
                per_file,
                batched,
                workers,
                batch,
            })
        }
    };

    let setup = report::Setup {
        machine: &machine,
        command_line: command_line(),
        assay: &assay,
        assay_version,
        large: &large,
        mpf: mpf.as_ref(),
        small: &small,
        rss_method: probe.describe(),
        peer_versions: tools.as_ref().map(peer::Tools::versions),
    };
    let results = report::Results {
        plain,
        with_mpf,
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
