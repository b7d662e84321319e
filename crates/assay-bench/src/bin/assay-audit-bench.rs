//! Measures audit-package export throughput on generated 6000x4000 JPEGs
//! beside GNU tar archiving the same files, in the same run. Both write to
//! the same folder and both outputs reach the disk before the clock stops:
//! the export syncs its package before putting it in place, so the peer is
//! `tar` followed by `sync FILE`; plain `tar` is shown as well. Rounds
//! alternate between the two, after a `sync`, with the files in the page
//! cache.
//!
//! Usage: assay-audit-bench [--files N] [--rounds R] [--cache DIR]

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use assay_bench::stats::{max, median, min};
use assay_bench::{generate, machine::Machine};
use assay_bench::{run_quietly as run, settle};
use assay_core::{Filter, Selection};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Generated 6000x4000 JPEGs to package.
    #[arg(long, default_value_t = 200)]
    files: usize,
    /// Rounds of each measurement.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    rounds: u16,
    #[arg(long)]
    cache: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cache = assay_bench::cache_dir(args.cache)?;
    let machine = Machine::detect();
    let assay_bench::ImportedSet {
        set,
        scratch,
        library,
        rosa,
        ..
    } = assay_bench::imported_set(&cache, &generate::LARGE, args.files, machine.cores)?;

    let all = Selection::Where(Filter::default());
    let (mut export, mut tar_synced, mut tar_plain) = (Vec::new(), Vec::new(), Vec::new());
    let mut package_bytes = 0;
    for round in 0..usize::from(args.rounds) {
        let out = scratch.path().join("audit.tar");
        settle()?;
        let started = Instant::now();
        let e = library.export_audit(&rosa, &all, &out)?;
        export.push(started.elapsed().as_secs_f64());
        anyhow::ensure!(e.assets == args.files && e.refused.is_empty(), "{e:?}");
        package_bytes = std::fs::metadata(&out)?.len();
        std::fs::remove_file(&out)?;

        let peer = scratch.path().join("peer.tar");
        settle()?;
        let started = Instant::now();
        run(Command::new("tar")
            .arg("-cf")
            .arg(&peer)
            .arg("-C")
            .arg(&set.dir)
            .arg("."))?;
        tar_plain.push(started.elapsed().as_secs_f64());
        run(Command::new("sync").arg(&peer))?;
        tar_synced.push(started.elapsed().as_secs_f64());
        std::fs::remove_file(&peer)?;
        eprintln!(
            "round {}: export {:.3} s, tar {:.3} s, tar + sync {:.3} s",
            round + 1,
            export[round],
            tar_plain[round],
            tar_synced[round]
        );
    }

    let mb = set.total_bytes as f64 / 1e6;
    let (e, ts, tp) = (median(&export), median(&tar_synced), median(&tar_plain));
    println!(
        "Machine: {}, {} cores, load {}; {}",
        machine.cpu, machine.cores, machine.load, machine.os
    );
    println!(
        "Files: {} JPEGs of {} ({:.0} MB); package {:.0} MB; median of {} rounds each\n",
        args.files,
        set.format,
        mb,
        package_bytes as f64 / 1e6,
        args.rounds
    );
    println!("| Measurement | Median (s) | Range (s) | Throughput |");
    println!("|---|---:|---:|---:|");
    for (name, times, median) in [
        (
            "assay audit export (hash, records, chains, signed index, fsync)",
            &export,
            e,
        ),
        ("peer: tar -cf, then sync FILE", &tar_synced, ts),
        ("peer: tar -cf alone (not yet on disk)", &tar_plain, tp),
    ] {
        println!(
            "| {name} | {median:.3} | {:.3}-{:.3} | {:.0} MB/s |",
            min(times),
            max(times),
            mb / median
        );
    }
    println!(
        "\nExport time / (tar + sync): {:.2}x (target at most 1.5x); / plain tar: {:.2}x",
        e / ts,
        e / tp
    );
    Ok(())
}
