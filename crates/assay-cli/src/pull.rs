//! `assay pull`: a trainer buys a listing and fetches it, every file
//! verified against the signed manifest; `--verify-only DIR` checks such a
//! folder again. No library needed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use assay_core::Job;
use assay_market_client::{PullEvent, PullOptions, PullTarget};

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
    /// Beside each file, its Content Credentials as a .c2pa sidecar (C2PA
    /// readers look there), once they validate against the file and name
    /// its asset and checksum.
    #[arg(long)]
    c2pa: bool,
    /// Only check a folder pulled before: the manifest's signature and
    /// every file's checksum.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["listing", "market", "token_file", "out", "confirm", "c2pa"])]
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

fn exit(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
