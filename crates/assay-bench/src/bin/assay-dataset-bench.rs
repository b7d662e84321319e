//! Dataset builds (issue 27), each beside a peer in the same run, on a
//! library of generated JPEGs (10,000 by default), every one approved:
//!
//! 1. `Library::build_dataset` into WebDataset shards of 500 MB (each file
//!    streamed through SHA-256 and held to the catalog's checksum, a record
//!    and a license member per sample, the signed manifest, Croissant, an
//!    event on every asset, every shard fsynced) beside GNU `tar -cf` of the
//!    same files followed by `sync FILE` (and plain `tar`).
//! 2. The same build into Parquet shards beside pyarrow writing the same
//!    rows (the same columns, read from the same files, row groups of
//!    64 MiB, the bytes column stored as it is, snappy for the rest) and
//!    then `os.fsync`.
//!
//! 3. Verifying a version's shards as a pull does (`verify_dataset_manifest`
//!    with the shards' folder: the signed manifest, then each shard's size
//!    and SHA-256, a shard per core) beside `sha256sum` over the same shards.
//!
//! 4. Memory: the process's peak resident memory during a build (Linux's
//!    `VmHWM`, reset before each), for a dataset of the first 1,000 files
//!    and for all of them, in both formats: flat if it does not grow with
//!    the dataset.
//!
//! Rounds alternate between Assay and its peer, after a `sync`, with the
//! files in the page cache; each build is a new version of the dataset
//! into an empty folder, removed after.
//!
//! Usage: assay-dataset-bench [--files N] [--rounds R] [--cache DIR]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use assay_bench::stats::{max, median, min};
use assay_bench::{generate, machine::Machine};
use assay_bench::{reclaimed_mb, run_quietly as run, settle};
use assay_core::{
    BuildOptions, Change, Filter, Job, Library, Selection, ShardFormat, DEFAULT_SHARD_BYTES,
};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Generated 1280x960 JPEGs in the dataset.
    #[arg(long, default_value_t = 10_000)]
    files: usize,
    /// Rounds of each measurement.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    rounds: u16,
    #[arg(long)]
    cache: Option<PathBuf>,
}

/// What pyarrow writes: the rows Assay's Parquet shards hold, read from
/// the same files in the same order, with the same writer settings.
const PYARROW: &str = r#"
import hashlib, os, sys
import pyarrow as pa, pyarrow.parquet as pq
listing, out = sys.argv[1], sys.argv[2]
schema = pa.schema([
    ("asset_id", pa.string()), ("file_name", pa.string()), ("media_type", pa.string()),
    ("size_bytes", pa.int64()), ("checksum", pa.string()), ("license_tag", pa.string()),
    ("creator_attribution_text", pa.string()), ("capture_date", pa.string()),
    ("width", pa.int64()), ("height", pa.int64()), ("bytes", pa.large_binary()),
])
writer = pq.ParquetWriter(out, schema, compression={"bytes": "NONE"} | {
    n: "SNAPPY" for n in schema.names if n != "bytes"},
    use_dictionary=[n for n in schema.names if n != "bytes"],
    write_statistics=[n for n in schema.names if n != "bytes"])
rows, held = [], 0
def flush():
    global rows, held
    if rows:
        writer.write_table(pa.Table.from_pylist(rows, schema=schema))
    rows, held = [], 0
for line in open(listing):
    asset_id, path, width, height = line.rstrip("\n").split("\t")
    data = open(path, "rb").read()
    rows.append({"asset_id": asset_id, "file_name": os.path.basename(path),
        "media_type": "image/jpeg", "size_bytes": len(data),
        "checksum": "sha256:" + hashlib.sha256(data).hexdigest(),
        "license_tag": "CC-BY-4.0", "creator_attribution_text": "Cy",
        "capture_date": None, "width": int(width), "height": int(height), "bytes": data})
    held += len(data)
    if held >= 64 << 20:
        flush()
flush()
writer.close()
fd = os.open(out, os.O_RDONLY)
os.fsync(fd)
os.close(fd)
"#;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cache = assay_bench::cache_dir(args.cache)?;
    let machine = Machine::detect();
    let assay_bench::ImportedSet {
        set,
        scratch,
        library,
        cy,
        rosa,
    } = assay_bench::imported_set(&cache, &generate::MEDIUM, args.files, machine.cores)?;
    approve_all(&library, &cy, &rosa)?;
    library.create_dataset(&rosa, "bench", &Filter::default())?;
    let listing = listing(&library, scratch.path())?;
    let python = venv_python()?;

    let out = scratch.path().join("out");
    let options = |format: ShardFormat| BuildOptions {
        format,
        out: out.clone(),
        shard_bytes: DEFAULT_SHARD_BYTES,
        delta: false,
        credentials: false,
    };
    let build = |format: ShardFormat| -> anyhow::Result<f64> {
        settle()?;
        let (reclaimed, started) = (reclaimed_mb(), Instant::now());
        let built = library.build_dataset(&rosa, "bench", &options(format), &mut Job::quiet())?;
        let seconds = started.elapsed().as_secs_f64();
        report_reclaim(format.as_str(), reclaimed);
        anyhow::ensure!(built.assets == args.files, "built {}", built.assets);
        std::fs::remove_dir_all(&out)?;
        Ok(seconds)
    };
    let mut times: [Vec<f64>; 5] = Default::default();
    for round in 0..usize::from(args.rounds) {
        times[0].push(build(ShardFormat::WebDataset)?);
        let peer = scratch.path().join("peer.tar");
        settle()?;
        let (reclaimed, started) = (reclaimed_mb(), Instant::now());
        run(Command::new("tar")
            .arg("-cf")
            .arg(&peer)
            .arg("-C")
            .arg(&set.dir)
            .arg("."))?;
        times[2].push(started.elapsed().as_secs_f64());
        run(Command::new("sync").arg(&peer))?;
        times[1].push(started.elapsed().as_secs_f64());
        report_reclaim("tar + sync", reclaimed);
        std::fs::remove_file(&peer)?;

        times[3].push(build(ShardFormat::Parquet)?);
        let peer = scratch.path().join("peer.parquet");
        settle()?;
        let started = Instant::now();
        run(Command::new(&python)
            .args(["-c", PYARROW])
            .arg(&listing)
            .arg(&peer))?;
        times[4].push(started.elapsed().as_secs_f64());
        std::fs::remove_file(&peer)?;
        eprintln!(
            "round {}: webdataset {:.3} s, tar + sync {:.3} s, parquet {:.3} s, pyarrow {:.3} s",
            round + 1,
            times[0][round],
            times[1][round],
            times[3][round],
            times[4][round]
        );
    }

    // Verification, on one more WebDataset build kept for it.
    let kept = library.build_dataset(
        &rosa,
        "bench",
        &options(ShardFormat::WebDataset),
        &mut Job::quiet(),
    )?;
    let manifest = std::fs::read(&kept.manifest_path)?;
    let key = library.user_public_key("rosa")?;
    let shard_paths: Vec<PathBuf> = kept.shards.iter().map(|s| out.join(&s.name)).collect();
    let shard_bytes: u64 = kept.shards.iter().map(|s| s.size_bytes).sum();
    let (mut verify, mut sha256sum) = (Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        let started = Instant::now();
        let check = assay_core::verify_dataset_manifest(&manifest, &[key], Some(&out));
        verify.push(started.elapsed().as_secs_f64());
        anyhow::ensure!(check.failures.is_empty(), "{:?}", check.failures);
        let started = Instant::now();
        run(Command::new("sha256sum").args(&shard_paths))?;
        sha256sum.push(started.elapsed().as_secs_f64());
    }
    std::fs::remove_dir_all(&out)?;

    // Memory, on a tenth of the dataset (the first generated folder) and on all of it.
    library.create_dataset(
        &rosa,
        "tenth",
        &Filter {
            text: Some("/000/".into()),
            ..Filter::default()
        },
    )?;
    let mut memory = Vec::new();
    for format in [ShardFormat::WebDataset, ShardFormat::Parquet] {
        for name in ["tenth", "bench"] {
            let before = resident("VmRSS")?;
            // Writing 5 resets the peak (VmHWM) to what is resident now.
            std::fs::write("/proc/self/clear_refs", "5")?;
            let built = library.build_dataset(&rosa, name, &options(format), &mut Job::quiet())?;
            let peak = resident("VmHWM")?;
            std::fs::remove_dir_all(&out)?;
            memory.push((format, built.assets, before, peak));
        }
    }

    let mb = set.total_bytes as f64 / 1e6;
    println!(
        "Machine: {}, {} cores, load {}; {}",
        machine.cpu, machine.cores, machine.load, machine.os
    );
    println!(
        "Files: {} JPEGs of {} ({:.0} MB); shards of 500 MB; median of {} rounds each\n",
        args.files, set.format, mb, args.rounds
    );
    println!("| Measurement | Median (s) | Range (s) | Throughput |");
    println!("|---|---:|---:|---:|");
    let names = [
        "assay dataset build --format webdataset (hash-checked, records, signed manifest, Croissant, events, fsync)",
        "peer: tar -cf of the same files, then sync FILE",
        "peer: tar -cf alone (not yet on disk)",
        "assay dataset build --format parquet (the same, one row per asset)",
        "peer: pyarrow writing the same rows (read, SHA-256, row groups of 64 MiB), then fsync",
    ];
    for (name, t) in names.iter().zip(&times) {
        println!(
            "| {name} | {:.3} | {:.3}-{:.3} | {:.0} MB/s |",
            median(t),
            min(t),
            max(t),
            mb / median(t)
        );
    }
    let shard_mb = shard_bytes as f64 / 1e6;
    for (name, t) in [
        (
            "pull verification of the shards (signed manifest, then every shard's size and SHA-256)",
            &verify,
        ),
        ("peer: sha256sum over the same shards", &sha256sum),
    ] {
        println!(
            "| {name} | {:.3} | {:.3}-{:.3} | {:.0} MB/s of shards |",
            median(t),
            min(t),
            max(t),
            shard_mb / median(t)
        );
    }
    println!("\n| Build | Assets | Resident before (MiB) | Peak during (MiB) | Growth (MiB) |");
    println!("|---|---:|---:|---:|---:|");
    for (format, assets, before, peak) in &memory {
        let mib = |b: u64| b as f64 / (1 << 20) as f64;
        println!(
            "| {} | {assets} | {:.0} | {:.0} | {:.0} |",
            format.as_str(),
            mib(*before),
            mib(*peak),
            mib(peak.saturating_sub(*before))
        );
    }
    println!(
        "\nWebDataset / (tar + sync): {:.2}x (target at most 1.3x); Parquet / pyarrow: {:.2}x (target at most 1x); verification / sha256sum: {:.2}x",
        median(&times[0]) / median(&times[1]),
        median(&times[3]) / median(&times[4]),
        median(&verify) / median(&sha256sum)
    );
    Ok(())
}

/// Tags every asset with a license that allows training and a payout
/// reference, submits and approves it.
fn approve_all(
    library: &Library,
    cy: &assay_core::Actor,
    rosa: &assay_core::Actor,
) -> anyhow::Result<()> {
    let all = Selection::Where(Filter::default());
    let set = |field: &str, value: &str| Change::Set {
        field: field.into(),
        value: value.into(),
    };
    library.edit(
        cy,
        &all,
        &[
            set("license_tag", "CC-BY-4.0"),
            set("tax_and_payout_info", "acct_bench"),
            set("signed_contract_id", "K-bench"),
            set("creator_name", "Cy"),
        ],
    )?;
    library.submit(cy, &all)?;
    library.approve(rosa, &all, None)?;
    Ok(())
}

/// The peer's input: each asset's id, path, width and height, in the order
/// a build writes them.
fn listing(library: &Library, dir: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join("listing.tsv");
    let mut lines = String::new();
    for record in library.list(&Filter::default())? {
        let location = record
            .locations
            .first()
            .ok_or_else(|| anyhow::anyhow!("{} has no location", record.asset_id))?;
        lines.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            record.asset_id,
            location.path,
            record.width.unwrap_or_default(),
            record.height.unwrap_or_default()
        ));
    }
    std::fs::write(&path, lines)?;
    Ok(path)
}

/// The Python that scripts/setup.sh gives pyarrow.
fn venv_python() -> anyhow::Result<PathBuf> {
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".cache/assay/venv/bin/python"))
        .filter(|p| p.is_file())
        .ok_or_else(|| anyhow::anyhow!("no ~/.cache/assay/venv/bin/python: run scripts/setup.sh"))
}

/// A `/proc/self/status` figure (`VmRSS`, `VmHWM`), in bytes.
fn resident(field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
        .ok_or_else(|| anyhow::anyhow!("no {field} in /proc/self/status"))?;
    Ok(kib * 1024)
}

/// Says how much the kernel reclaimed while `what` ran, since `before`.
fn report_reclaim(what: &str, before: Option<u64>) {
    if let (Some(before), Some(after)) = (before, reclaimed_mb()) {
        eprintln!(
            "  {what}: the kernel reclaimed {} MB of cache meanwhile",
            after - before
        );
    }
}
