//! The desktop app's figures, in the real window under Xvfb: the time from
//! launching the app to the first page of thumbnails painted, and the
//! memory of the app and its web processes while the grid scrolls through
//! the whole library.
//!
//! The library is the corpus imported for real (its previews made by the
//! import), grown by SQL copies to `--assets` (copies keep their original's
//! thumbnail, so every cell has one to paint). The peer, in the same run,
//! is the same window on the corpus alone: what launching costs whatever
//! the library's size.
//!
//! Usage: assay-app-bench [--app PATH] [--assets N] [--runs R]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use assay_app_e2e::{repo, App};
use assay_core::{ImportOptions, Library, Role};
use serde_json::Value;

const PASSPHRASE: &[u8] = b"bench passphrase";
/// A launch, a scroll through the grid and the memory readings: the
/// watchdog stops a session that takes longer.
const SESSION_LIMIT: Duration = Duration::from_secs(600);

struct Args {
    app: PathBuf,
    assets: usize,
    runs: usize,
}

fn args() -> Result<Args> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    let mut args = Args {
        app: target.join("release/assay-app"),
        assets: 100_000,
        runs: 5,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let value = given
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--app" => args.app = value.into(),
            "--assets" => args.assets = value.parse()?,
            "--runs" => args.runs = value.parse()?,
            _ => bail!(
                "unknown flag {flag}; usage: assay-app-bench [--app PATH] [--assets N] [--runs R]"
            ),
        }
    }
    Ok(args)
}

/// The corpus imported by a creator into `root`, grown to `assets`.
fn library(root: &Path, assets: usize) -> Result<()> {
    let lib = Library::open(root)?;
    lib.add_user(None, "ada", Role::Admin, PASSPHRASE)?;
    let ada = lib.unlock("ada", PASSPHRASE)?;
    lib.add_user(Some(&ada), "cy", Role::Creator, PASSPHRASE)?;
    let options = ImportOptions {
        actor: Some(Arc::new(lib.unlock("cy", PASSPHRASE)?)),
        ..ImportOptions::default()
    };
    let corpus = repo().join("tests/corpus/files");
    lib.import(&[corpus], &options, &mut |_| {})?;
    if assets > 0 {
        assay_bench::grow_catalog(&lib.db_path(), assets)?;
    }
    Ok(())
}

/// The cells on screen, their thumbnails, and how many of those decoded.
const PAINTED: &str = "
    const imgs = [...document.querySelectorAll('.cell img')];
    return [document.querySelectorAll('.cell').length, imgs.length,
            imgs.filter(i => i.complete && i.naturalWidth > 0).length];";

/// Waits until the grid shows cells and every thumbnail among them has
/// decoded; returns the time since the app was launched.
async fn first_thumbnails(app: &App) -> Result<Duration> {
    loop {
        let counts = app.client.execute(PAINTED, vec![]).await?;
        let n = |i: usize| counts.get(i).and_then(Value::as_u64).unwrap_or(0);
        if n(0) > 0 && n(1) > 0 && n(2) == n(1) {
            return Ok(app.launched.elapsed());
        }
        if app.launched.elapsed() > Duration::from_secs(60) {
            bail!("no thumbnails painted after a minute: {counts}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The processes a window is made of: the app (Rust, GTK) and WebKit's.
const NAMES: [&str; 4] = [
    "assay-app",
    "WebKitWebProces",
    "WebKitNetworkPr",
    "WebKitGPUProces",
];

/// Proportional set size (KiB) per process name of [`NAMES`]: shared pages
/// counted once, split among the processes that share them.
fn memory_kib() -> [u64; 4] {
    let mut total = [0; 4];
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return total;
    };
    for entry in procs.flatten() {
        let dir = entry.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        let Some(i) = NAMES.iter().position(|n| *n == comm.trim()) else {
            continue;
        };
        let rollup = std::fs::read_to_string(dir.join("smaps_rollup")).unwrap_or_default();
        total[i] += rollup
            .lines()
            .find_map(|l| l.strip_prefix("Pss:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

/// The larger of two samples, by their sum.
fn larger(a: [u64; 4], b: [u64; 4]) -> [u64; 4] {
    if b.iter().sum::<u64>() > a.iter().sum::<u64>() {
        b
    } else {
        a
    }
}

/// Scrolls the grid a screen at a time from top to bottom (at most `steps`
/// screens, spread evenly over the library), then back to the top; returns
/// the peak memory seen.
async fn scroll(app: &App, steps: u32) -> Result<[u64; 4]> {
    let mut peak = memory_kib();
    for step in 0..=steps {
        app.client
            .execute(
                "const s = document.querySelector('.scroller');
                 s.scrollTop = (s.scrollHeight - s.clientHeight) * arguments[0];",
                vec![Value::from(f64::from(step) / f64::from(steps))],
            )
            .await?;
        tokio::time::sleep(Duration::from_millis(40)).await;
        peak = larger(peak, memory_kib());
    }
    app.client
        .execute("document.querySelector('.scroller').scrollTop = 0;", vec![])
        .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(larger(peak, memory_kib()))
}

struct Figures {
    launches: Vec<Duration>,
    idle_kib: [u64; 4],
    peak_kib: [u64; 4],
}

async fn measure(args: &Args, assets: usize, cache: &Path) -> Result<Figures> {
    let prepared = cache.join(format!("app-library-{assets}"));
    if !prepared.join("library.db").is_file() {
        eprintln!("preparing a library of {assets} assets");
        let _ = std::fs::remove_dir_all(&prepared);
        library(&prepared, assets)?;
    }
    let mut launches = Vec::new();
    let (mut idle_kib, mut peak_kib) = ([0; 4], [0; 4]);
    // One launch to warm the page cache and the app's files, then the runs.
    for run in 0..=args.runs {
        let app = App::start_binary(args.app.clone(), SESSION_LIMIT, |root| {
            copy_library(&prepared, root)
        })
        .await?;
        let took = first_thumbnails(&app).await?;
        if run > 0 {
            launches.push(took);
        }
        if run == args.runs {
            tokio::time::sleep(Duration::from_secs(1)).await;
            idle_kib = memory_kib();
            peak_kib = scroll(&app, 300).await?;
        }
        app.close().await?;
    }
    launches.sort();
    Ok(Figures {
        launches,
        idle_kib,
        peak_kib,
    })
}

/// The prepared library's catalog and previews, under the test's folder
/// (the app may write to it; the prepared copy stays as made).
fn copy_library(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to.join("previews"))?;
    std::fs::copy(from.join("library.db"), to.join("library.db"))?;
    // Previews are named by content and never change: links are enough.
    for entry in walk(&from.join("previews"))? {
        let relative = entry.strip_prefix(from)?;
        let target = to.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::hard_link(&entry, &target)
            .or_else(|_| std::fs::copy(&entry, &target).map(drop))?;
    }
    Ok(())
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    Ok(files)
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = args()?;
    if !args.app.is_file() {
        bail!(
            "{} is missing: build it with `npm --prefix ui run build && cargo build --release -p assay-app`",
            args.app.display()
        );
    }
    let cache = assay_bench::cache_dir(None)?;
    std::fs::create_dir_all(&cache)?;
    let peer = measure(&args, 0, &cache).await?;
    let big = measure(&args, args.assets, &cache).await?;
    let machine = assay_bench::machine::Machine::detect();
    println!(
        "Machine: {}, {} cores, load {}; {}\n",
        machine.cpu, machine.cores, machine.load, machine.os
    );
    println!(
        "| Library | Launch to first thumbnails, median of {} (ms) | min | max | Memory after first paint (MiB) | Peak while scrolling every screen (MiB) | Peak: app · web · network (MiB) |",
        args.runs
    );
    println!("|---|---:|---:|---:|---:|---:|---|");
    let mib = |kib: u64| format!("{:.0}", kib as f64 / 1024.0);
    for (name, f) in [
        (format!("{} assets", args.assets), &big),
        ("peer: the corpus alone".to_owned(), &peer),
    ] {
        let median = f.launches[f.launches.len() / 2];
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} · {} · {} |",
            ms(median),
            ms(f.launches[0]),
            ms(f.launches[f.launches.len() - 1]),
            mib(f.idle_kib.iter().sum()),
            mib(f.peak_kib.iter().sum()),
            mib(f.peak_kib[0]),
            mib(f.peak_kib[1]),
            mib(f.peak_kib[2] + f.peak_kib[3]),
        );
    }
    println!("\nMemory is the proportional set size (PSS) of the app and its WebKit processes.");
    Ok(())
}
