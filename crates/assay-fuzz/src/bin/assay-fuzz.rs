//! Fuzzes every target (or those named) for a time each, and prints
//! executions per second per target and in total.
//!
//! Usage: assay-fuzz [--seconds N] [--seed S] [--memory-mb M] [--per-input-secs T] [TARGET...]

use std::time::{Duration, Instant};

use anyhow::Context as _;
use assay_fuzz::memory::Counting;
use assay_fuzz::run::{self, Limits};
use clap::Parser;

#[global_allocator]
static ALLOC: Counting = Counting;

#[derive(Parser)]
struct Args {
    /// Seconds per target.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Seeds the mutations; the same seed makes the same mutants.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Live memory past which an input fails.
    #[arg(long, default_value_t = 2048)]
    memory_mb: usize,
    /// Seconds one input may run.
    #[arg(long, default_value_t = 5)]
    per_input_secs: u64,
    /// Targets to run (all when none is named).
    targets: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let targets = assay_fuzz::targets::all(&assay_fuzz::corpus());
    for name in &args.targets {
        anyhow::ensure!(
            targets.iter().any(|t| t.name() == name),
            "no target {name}; the targets are {}",
            targets
                .iter()
                .map(|t| t.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let limits = Limits {
        per_input: Duration::from_secs(args.per_input_secs),
        memory: args.memory_mb << 20,
    };
    let started = Instant::now();
    let mut reports = Vec::new();
    for target in &targets {
        if !args.targets.is_empty() && !args.targets.iter().any(|n| n == target.name()) {
            continue;
        }
        eprintln!("fuzzing {} for {} s", target.name(), args.seconds);
        let report = run::fuzz(
            target.as_ref(),
            &assay_fuzz::regressions(target.name()),
            Duration::from_secs(args.seconds),
            args.seed,
            limits,
        )
        .with_context(|| format!("fuzzing {}", target.name()))?;
        for (path, message) in &report.panics {
            eprintln!("  panic: {message}\n    kept as {}", path.display());
        }
        reports.push(report);
    }
    println!("| Target | Seeds | Regressions | Executions | Seconds | Executions/s | Peak live memory | Panics |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let (mut execs, mut panics) = (0, 0);
    for r in &reports {
        println!(
            "| {} | {} | {} | {} | {:.1} | {:.0} | {:.1} MiB | {} |",
            r.target,
            r.seeds,
            r.regressions,
            r.execs,
            r.elapsed.as_secs_f64(),
            r.execs_per_second(),
            r.peak_memory as f64 / f64::from(1 << 20),
            r.panics.len()
        );
        execs += r.execs;
        panics += r.panics.len();
    }
    let total = started.elapsed().as_secs_f64();
    println!(
        "| all | | | {execs} | {total:.1} | {:.0} | | {panics} |",
        execs as f64 / total
    );
    anyhow::ensure!(
        panics == 0,
        "{panics} inputs panicked; each is kept under tests/fuzz/regressions"
    );
    Ok(())
}
