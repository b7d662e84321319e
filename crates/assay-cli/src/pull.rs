//! `assay pull`: a trainer buys a listing and fetches it, every file
//! verified against the signed manifest: a listing's files, or a dataset
//! version's shards (`--format`, `--since` for a delta); `--verify-only DIR`
//! checks such a folder again. No library needed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use assay_core::Job;
use assay_market_client::{PullEvent, PullFormat, PullOptions, PullTarget};

use crate::output;
use crate::trusted::TrustArgs;

#[derive(clap::Args)]
pub struct Args {
    /// The listing to buy and fetch.
    #[arg(required_unless_present = "verify_only")]
    listing: Option<String>,
    /// The market's base URL, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL", required_unless_present = "verify_only")]
    market: Option<String>,
    /// The file holding the buyer's bearer token.
    #[arg(long, value_name = "FILE", required_unless_present = "verify_only")]
    token_file: Option<PathBuf>,
    /// The folder the files go to (made if missing).
    #[arg(long, value_name = "DIR", required_unless_present = "verify_only")]
    out: Option<PathBuf>,
    /// Once every file is verified, confirm the purchase (releases escrow).
    #[arg(long)]
    confirm: bool,
    /// For a dataset version: webdataset or parquet (its shards, in the
    /// format it was built in), or files (each sample unpacked as
    /// ASSET_ID.EXT). Default: as the listing sells it.
    #[arg(long, value_name = "FORMAT")]
    format: Option<PullFormat>,
    /// The dataset version DIR holds: the listing must be a delta of it;
    /// only its shards are fetched, and its tombstones (withdrawn and
    /// changed assets) are taken out of the folder.
    #[arg(long, value_name = "VERSION")]
    since: Option<u32>,
    /// Beside each file, its Content Credentials as a .c2pa sidecar (C2PA
    /// readers look there), once they validate against the file and name
    /// its asset and checksum.
    #[arg(long)]
    c2pa: bool,
    /// Only check a folder pulled before: the manifest's signature and
    /// every file's checksum.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["listing", "market", "token_file", "out", "confirm", "c2pa", "format", "since"])]
    verify_only: Option<PathBuf>,
    #[command(flatten)]
    trust: TrustArgs,
    /// One JSON object per step on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // No key given: trust the keys the market lists for the publisher
    // (kept in the folder for --verify-only), and say so.
    let trusted = args.trust.load()?;
    if let Some(dir) = &args.verify_only {
        if !dir.join(assay_market_client::MANIFEST_FILE).exists() {
            return verify_dataset(dir, &trusted, args.json);
        }
        let check = assay_market_client::verify_pulled(dir, &trusted)?;
        if args.json {
            output::json_line(&check)?;
        } else {
            if check.trusted_saved_keys {
                eprintln!(
                    "no --key given: checking against the publisher keys the market listed at pull time ({})",
                    dir.join(assay_market_client::MARKET_KEYS_FILE).display()
                );
            }
            for failure in &check.failures {
                println!("{failure}");
            }
            for name in &check.not_delivered {
                eprintln!(
                    "{name}: not in the folder; {} says it was not delivered (that record is not signed)",
                    assay_market_client::PURCHASE_FILE
                );
            }
            if check.failures.is_empty() {
                println!(
                    "{}: ok ({} files, manifest signature and every checksum checked)",
                    dir.display(),
                    check.files
                );
            }
        }
        return Ok(exit(check.failures.is_empty()));
    }
    let (Some(listing_id), Some(url), Some(token_file), Some(out)) =
        (&args.listing, &args.market, &args.token_file, &args.out)
    else {
        anyhow::bail!("give LISTING, --market, --token-file and --out, or --verify-only DIR");
    };
    let token = std::fs::read_to_string(token_file)
        .with_context(|| format!("reading the token file {}", token_file.display()))?;
    let target = PullTarget {
        url,
        token: token.trim(),
        listing_id,
        out,
        trusted: &trusted,
    };
    let options = PullOptions {
        confirm: args.confirm,
        credentials: args.c2pa,
        format: args.format,
        since: args.since,
        ..PullOptions::default()
    };
    let mut failure: Option<anyhow::Error> = None;
    let report = assay_market_client::pull(&target, &options, &mut Job::quiet(), &mut |event| {
        if args.json {
            if let Err(e) = output::json_line(event) {
                failure.get_or_insert(e);
            }
            return;
        }
        match event {
            PullEvent::MarketKeys { key_ids } => eprintln!(
                "no --key given: trusting the market's word for the publisher's keys ({}); \
                     give --key with a key the publisher sent you to check it yourself",
                key_ids.join(", ")
            ),
            PullEvent::Purchased {
                purchase_id,
                created,
                amount_minor,
                currency,
            } => eprintln!(
                "{} purchase {purchase_id} ({amount_minor} {currency} in minor units)",
                if *created { "made" } else { "holding" }
            ),
            PullEvent::Failed {
                file_name, problem, ..
            } => eprintln!("{file_name}: {problem}; deleted"),
            PullEvent::Witnessed {
                events,
                witnessed_at,
            } => eprintln!(
                "kept the checkpoint of {events} events the market witnessed at {witnessed_at}"
            ),
            PullEvent::Confirmed { purchase_id } => {
                eprintln!("confirmed purchase {purchase_id}")
            }
            PullEvent::Tombstones { removed } => {
                eprintln!("applied the delta's tombstones: {removed} samples removed")
            }
            _ => {}
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if args.json {
        output::json_line(&report)?;
    } else {
        for failure in &report.failures {
            println!("{failure}");
        }
        eprintln!(
            "{}: {} files fetched ({} bytes), {} already there, {} failed",
            report.out.display(),
            report.files_fetched,
            report.bytes,
            report.files_present,
            report.failures.len()
        );
        if args.c2pa {
            eprintln!(
                "{} with Content Credentials beside them{}",
                report.credentials.len(),
                match report.credentials_missing.len() {
                    0 => String::new(),
                    n => format!("; the publisher sent none for {n}"),
                }
            );
        }
    }
    Ok(exit(report.failures.is_empty()))
}

/// `--verify-only` of a folder holding a dataset version.
fn verify_dataset(
    dir: &std::path::Path,
    trusted: &[ed25519_dalek::VerifyingKey],
    json: bool,
) -> anyhow::Result<ExitCode> {
    let (check, saved_keys) = assay_market_client::verify_pulled_dataset(dir, trusted)?;
    if json {
        output::json_line(&check)?;
    } else {
        if saved_keys {
            eprintln!(
                "no --key given: checking against the publisher keys the market listed at pull time ({})",
                dir.join(assay_market_client::MARKET_KEYS_FILE).display()
            );
        }
        for failure in &check.failures {
            println!("{failure}");
        }
        if check.failures.is_empty() {
            println!(
                "{}: ok (version {} of dataset {}: {} samples in {} {}, each checked against the signed manifest)",
                dir.display(),
                check.version.unwrap_or_default(),
                check.dataset_id.as_deref().unwrap_or("?"),
                check.samples,
                if check.layout == "files" { check.samples } else { check.shards },
                check.layout
            );
        }
    }
    Ok(exit(check.failures.is_empty()))
}

fn exit(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
