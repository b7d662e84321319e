//! `assay dataset create|ls|show|build|verify|publish`: datasets, each a
//! saved selection of the catalog, built into signed, versioned shards,
//! and listed on a market.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::{bail, Context};
use assay_core::{BuildOptions, Job, Library, Progress, ShardFormat};

use assay_market_client::{Price, PublishEvent, PublishTarget, SyncOptions};

use crate::identity::Who;
use crate::output;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Save a selection as a dataset (stewards and rights managers).
    Create(CreateArgs),
    /// List the datasets.
    Ls(JsonArgs),
    /// What a dataset's selection holds now: the assets a build would take,
    /// and each one it would leave out, with the reason.
    Show(ShowArgs),
    /// Build the next version: the assets the selection holds that are
    /// approved and allowed for AI training, in shards, with a signed
    /// dataset manifest (rights managers). Assets left out are listed with
    /// the reason, and in the manifest; they do not fail the build.
    Build(BuildArgs),
    /// Check a dataset manifest and the shards beside it: signature,
    /// signer, checkpoint, and each shard's size and SHA-256.
    Verify(VerifyArgs),
    /// List a built version on a market: its signed manifest as built, its
    /// shards uploaded with tus (rights managers). A delta is sold to the
    /// buyers of the version it updates, so that one is published first.
    /// Running it again finishes what an interrupted one left.
    Publish(PublishArgs),
}

#[derive(clap::Args)]
pub struct PublishArgs {
    name: String,
    /// The version to publish (default: the latest).
    #[arg(long)]
    version: Option<u32>,
    /// The market to publish to (default: the only one).
    #[arg(long)]
    market: Option<String>,
    /// The price of new listings, in the currency's minor unit (cents for EUR).
    #[arg(long, value_name = "MINOR")]
    price: u64,
    /// ISO 4217 currency of --price.
    #[arg(long, value_name = "CODE")]
    currency: String,
    /// Bytes per upload request.
    #[arg(long, default_value_t = 8 << 20)]
    chunk_size: usize,
    /// One JSON object per step on stdout instead of a progress bar.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct BuildArgs {
    name: String,
    /// webdataset (tar shards) or parquet.
    #[arg(long)]
    format: ShardFormat,
    /// The folder for the shards and the manifest.
    #[arg(long)]
    out: PathBuf,
    /// About how large each shard is: bytes, or with k, M or G (powers of
    /// 1000) or KiB, MiB or GiB.
    #[arg(long, default_value = "500MB", value_parser = parse_size)]
    shard_size: u64,
    /// Shards of only what was added and changed since the last version;
    /// the manifest lists what was withdrawn.
    #[arg(long)]
    delta: bool,
    /// Give each sample Content Credentials: a C2PA sidecar signed by you,
    /// bound to every byte of its file (`<id>.c2pa` in a tar shard, the
    /// `c2pa` column of a Parquet shard).
    #[arg(long)]
    c2pa: bool,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The dataset manifest (NAME-vN.manifest.json); its shards are read
    /// from the same folder.
    manifest: PathBuf,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct CreateArgs {
    /// Letters, digits, '-', '_' and '.'; it names the build's files.
    name: String,
    /// The selection: KEY=VALUE, repeatable (keys: media_type, since,
    /// until, make, text, license_tag, state, creator), as `ls` takes.
    #[arg(long = "where", value_name = "KEY=VALUE", required = true)]
    filters: Vec<String>,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct JsonArgs {
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct ShowArgs {
    name: String,
    #[arg(long)]
    json: bool,
}

pub fn run(library: &Library, who: &Who, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Create(args) => {
            let filter = crate::edit::filter_of(&args.filters)?;
            let actor = who
                .actor(library)?
                .context("a dataset is saved by a steward or rights manager: --as NAME")?;
            let dataset = library.create_dataset(&actor, &args.name, &filter)?;
            if args.json {
                output::json_line(&dataset)?;
            } else {
                eprintln!("dataset {} ({})", dataset.name, dataset.dataset_id);
            }
        }
        Command::Ls(args) => {
            for dataset in library.datasets()? {
                if args.json {
                    output::json_line(&dataset)?;
                } else {
                    println!(
                        "{}\t{}\t{}\t{}",
                        dataset.name,
                        serde_json::to_string(&dataset.selector)?,
                        dataset.created_by,
                        dataset.created_at
                    );
                }
            }
        }
        Command::Show(args) => {
            let view = library.dataset(&args.name)?;
            if args.json {
                output::json_line(&view)?;
            } else {
                output::left_out(&view.left_out);
                println!(
                    "{}: {} assets match {}; a build would take {}",
                    view.dataset.name,
                    view.matched,
                    serde_json::to_string(&view.dataset.selector)?,
                    view.eligible
                );
                for v in &view.versions {
                    println!(
                        "v{}\t{}{}\t{} assets\t{} shards\t{} bytes\t{} by {}\t{}",
                        v.version,
                        v.format.as_str(),
                        if v.delta { " delta" } else { "" },
                        v.assets,
                        v.shards,
                        v.shard_bytes,
                        v.created_at,
                        v.created_by,
                        v.manifest_path
                    );
                }
            }
        }
        Command::Build(args) => return build(library, who, args),
        Command::Publish(args) => return publish(library, who, args),
        Command::Verify(args) => {
            let check = library.verify_dataset_manifest_file(&args.manifest)?;
            if args.json {
                output::json_line(&check)?;
            }
            for failure in &check.failures {
                eprintln!("{}: {failure}", args.manifest.display());
            }
            if !check.failures.is_empty() {
                return Ok(ExitCode::from(1));
            }
            if !args.json {
                println!(
                    "{}: version {} of {} holds: {} assets, {} shards checked",
                    args.manifest.display(),
                    check.version.unwrap_or_default(),
                    check.dataset_id.unwrap_or_default(),
                    check.assets,
                    check.shards_checked
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn build(library: &Library, who: &Who, args: BuildArgs) -> anyhow::Result<ExitCode> {
    let actor = who
        .actor(library)?
        .context("a dataset version is built and signed by a rights manager: --as NAME")?;
    let bar = output::bytes_bar(args.json);
    let cancel = AtomicBool::new(false);
    let mut on_progress = |p: Progress| {
        bar.set_length(p.total);
        bar.set_position(p.done);
    };
    let options = BuildOptions {
        format: args.format,
        out: args.out,
        shard_bytes: args.shard_size,
        delta: args.delta,
        credentials: args.c2pa,
    };
    let built = library.build_dataset(
        &actor,
        &args.name,
        &options,
        &mut Job::new(&cancel, &mut on_progress),
    )?;
    bar.finish_and_clear();
    if args.json {
        output::json_line(&built)?;
        return Ok(ExitCode::SUCCESS);
    }
    output::left_out(&built.left_out);
    for shard in &built.shards {
        println!("{}\t{}\t{}", shard.name, shard.sha256, shard.size_bytes);
    }
    let c = &built.changes;
    eprintln!(
        "{} version {}: {} assets in {} shards; {} added, {} changed, {} withdrawn, {} left out; manifest {} ({}); checkpoint {}",
        built.name,
        built.version,
        built.assets,
        built.shards.len(),
        c.added.len(),
        c.changed.len(),
        c.withdrawn.len(),
        built.left_out.len(),
        built.manifest_path,
        built.manifest_hash,
        built.checkpoint
    );
    Ok(ExitCode::SUCCESS)
}

/// A size: bytes, or a number with k, M, G (powers of 1000, with or
/// without a trailing B) or KiB, MiB, GiB.
fn publish(library: &Library, who: &Who, args: PublishArgs) -> anyhow::Result<ExitCode> {
    let actor = who
        .actor(library)?
        .context("a dataset is published by a rights manager: --as NAME")?;
    let options = SyncOptions {
        chunk_size: args.chunk_size,
        price: Some(Price {
            minor: args.price,
            currency: args.currency,
        }),
        ..SyncOptions::default()
    };
    let target = PublishTarget {
        market: args.market.as_deref(),
        dataset: &args.name,
        version: args.version,
    };
    let bar = output::bytes_bar(args.json);
    let mut failure: Option<anyhow::Error> = None;
    let result = assay_market_client::publish_dataset(
        library,
        &actor,
        target,
        &options,
        &mut Job::quiet(),
        &mut |event| {
            if args.json {
                if let Err(e) = output::json_line(event) {
                    failure.get_or_insert(e);
                }
            }
            match event {
                PublishEvent::Manifest { bytes, .. } => bar.inc_length(*bytes),
                PublishEvent::Bytes { sent, shard, .. } => {
                    bar.set_position(*sent);
                    bar.set_message(shard.clone());
                }
                PublishEvent::Listed {
                    version,
                    listing_id,
                    created,
                } if !args.json => bar.suspend(|| {
                    let how = if *created { "listed" } else { "already listed" };
                    eprintln!("version {version}: {how} as {listing_id}");
                }),
                _ => {}
            }
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
            "{}: {} shards uploaded ({} bytes), {} already there, {} assets recorded",
            report.market,
            report.shards_uploaded,
            report.bytes_sent,
            report.shards_present,
            report.assets_recorded
        );
        if let Some(last) = report.versions.last() {
            println!("{}", last.listing_id);
        }
    }
    Ok(if report.cancelled {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn parse_size(text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .with_context(|| format!("{text:?} is not a size such as 500MB"))?;
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "k" | "K" | "kB" | "KB" => 1000,
        "M" | "MB" => 1000 * 1000,
        "G" | "GB" => 1000 * 1000 * 1000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => bail!("{other:?} in {text:?} is not a unit: use B, kB, MB, GB, KiB, MiB or GiB"),
    };
    number
        .checked_mul(scale)
        .filter(|n| *n > 0)
        .with_context(|| format!("{text:?} is not a shard size"))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(
            parse_size("500MB").unwrap(),
            assay_core::DEFAULT_SHARD_BYTES
        );
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert_eq!(parse_size("2G").unwrap(), 2_000_000_000);
        for bad in ["", "MB", "0", "5 parsecs", "-1"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }
}
