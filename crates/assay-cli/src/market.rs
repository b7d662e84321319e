//! `assay market add|ls` and `assay sync`: the marketplaces the library
//! publishes to, and publishing to one (which also records its payments).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use assay_core::{Job, Library};
use assay_market_client::{Price, SyncEvent, SyncOptions};

use crate::identity::Who;
use crate::output;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Add a marketplace; the token stays in its file, read at each sync.
    Add(AddArgs),
    /// List the marketplaces.
    Ls(LsArgs),
}

#[derive(clap::Args)]
pub struct AddArgs {
    name: String,
    /// The server's base URL, e.g. http://127.0.0.1:8080.
    url: String,
    /// The file holding the publisher's bearer token.
    #[arg(long, value_name = "FILE")]
    token_file: PathBuf,
}

#[derive(clap::Args)]
pub struct LsArgs {
    /// One JSON object per market.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct SyncArgs {
    /// The market to publish to (default: the only one).
    #[arg(long, value_name = "NAME")]
    market: Option<String>,
    /// The price of new listings, in the currency's minor unit (cents for EUR).
    #[arg(long, value_name = "MINOR", requires = "currency")]
    price: Option<u64>,
    /// ISO 4217 currency of --price.
    #[arg(long, value_name = "CODE", requires = "price")]
    currency: Option<String>,
    /// Bytes per upload request.
    #[arg(long, value_name = "BYTES", default_value_t = 8 << 20)]
    chunk_size: usize,
    /// One JSON object per step on stdout instead of a progress bar.
    #[arg(long)]
    json: bool,
}

pub fn run(library: &Library, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Add(args) => {
            let market = library.add_market(&args.name, &args.url, &args.token_file)?;
            eprintln!("added market {} at {}", market.name, market.url);
        }
        Command::Ls(args) => {
            for market in library.markets()? {
                if args.json {
                    output::json_line(&market)?;
                } else {
                    println!(
                        "{}\t{}\t{}",
                        market.name,
                        market.url,
                        market.token_file.display()
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn sync(library: &Library, who: &Who, args: SyncArgs) -> anyhow::Result<ExitCode> {
    let actor = who
        .actor(library)?
        .context("a sync is signed by a rights manager: --as NAME")?;
    let options = SyncOptions {
        chunk_size: args.chunk_size,
        price: args
            .price
            .zip(args.currency)
            .map(|(minor, currency)| Price { minor, currency }),
        ..SyncOptions::default()
    };
    let bar = output::bytes_bar(args.json);
    let (mut files, mut done) = (0usize, 0usize);
    let mut failure: Option<anyhow::Error> = None;
    let result = assay_market_client::sync(
        library,
        &actor,
        args.market.as_deref(),
        &options,
        &mut Job::quiet(),
        &mut |event| {
            if args.json {
                if let Err(e) = output::json_line(event) {
                    failure.get_or_insert(e);
                }
            }
            match event {
                SyncEvent::Refused { refused } => bar.suspend(|| output::left_out(refused)),
                SyncEvent::Manifest {
                    files: f, bytes, ..
                } => {
                    files += f;
                    bar.inc_length(*bytes);
                }
                SyncEvent::Bytes { sent, .. } => bar.set_position(*sent),
                SyncEvent::Uploaded { .. } => done += 1,
                SyncEvent::Withdrawn {
                    listing_id,
                    asset_id,
                    reason,
                } if !args.json => {
                    bar.suspend(|| eprintln!("withdrew {asset_id} from {listing_id}: {reason}"))
                }
                SyncEvent::Witnessed { events, .. } if !args.json => bar.suspend(|| {
                    eprintln!("the market witnessed the library's checkpoint of {events} events")
                }),
                SyncEvent::Payment {
                    feed_event_id,
                    kind,
                    asset_ids,
                } if !args.json => bar.suspend(|| {
                    eprintln!(
                        "recorded {kind} {feed_event_id} on {} assets",
                        asset_ids.len()
                    )
                }),
                _ => {}
            }
            bar.set_message(format!("{done}/{files} files"));
        },
    );
    bar.finish_and_clear();
    if let Some(e) = failure {
        return Err(e);
    }
    let report = result?;
    if args.json {
        output::json_line(&report)?;
    } else {
        eprintln!(
            "{}: {} files uploaded ({} bytes), {} already there, {} listings created, {} assets recorded, {} withdrawn, {} payment events recorded, {} left out",
            report.market,
            report.files_uploaded,
            report.bytes_sent,
            report.files_present,
            report.listings_created,
            report.assets_recorded,
            report.withdrawn,
            report.payments_recorded,
            report.refused.len()
        );
    }
    Ok(output::export_code(&report.refused))
}
