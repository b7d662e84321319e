//! `assay provenance ASSET` and `assay verify --provenance`.

use std::process::ExitCode;

use assay_core::Library;

use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// An asset id (or a unique prefix), a checksum, or a file path.
    asset: String,
    /// One JSON event per line.
    #[arg(long)]
    json: bool,
}

pub fn show(library: &Library, args: Args) -> anyhow::Result<ExitCode> {
    for event in library.provenance(&args.asset)? {
        if args.json {
            output::json_line(&event)?;
        } else {
            let who = match &event.user {
                Some(user) => format!("{user} ({})", event.role),
                None => event.role.clone(),
            };
            println!(
                "{:>3}  {}  {:<20} {:<28} {}",
                event.seq, event.at, event.kind, who, event.data
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Which checkpoint `verify --provenance` checks the catalog against.
pub enum Against {
    /// The newest in the library folder.
    Newest,
    /// One held apart.
    File(std::path::PathBuf),
    /// The last one the market of this name witnessed.
    Market(String),
}

pub fn verify(library: &Library, against: Against, json: bool) -> anyhow::Result<ExitCode> {
    let report = match against {
        Against::Newest => library.verify_provenance()?,
        Against::File(file) => library.verify_provenance_against(Some(&file))?,
        Against::Market(market) => {
            let seen = assay_market_client::witnessed(library, Some(&market))?.ok_or_else(|| {
                anyhow::anyhow!(
                    "market {market} has witnessed no checkpoint of this library: run `assay sync` first"
                )
            })?;
            eprintln!(
                "market {market} witnessed a checkpoint of {} events at {} (witness key {})",
                seen.events, seen.witnessed_at, seen.key_id
            );
            let kept = library.keep_witnessed(&market, &seen.checkpoint)?;
            library.verify_provenance_against(Some(&kept))?
        }
    };
    // Which checkpoint was trusted, always said.
    match &report.checkpoint {
        Some(c) if json => output::json_line(&serde_json::json!({ "checkpoint": c }))?,
        Some(c) => {
            eprintln!(
                "checked against checkpoint {} ({} events, signed by {} at {})",
                c.path, c.events, c.signer, c.at
            );
            for problem in &c.problems {
                println!("checkpoint: {problem}");
            }
        }
        None => eprintln!(
            "no checkpoint to check against: chains and signers only (write one with `assay checkpoint`)"
        ),
    }
    for problem in &report.signers {
        if json {
            output::json_line(&serde_json::json!({ "signers": problem }))?;
        } else {
            println!("signers: {problem}");
        }
    }
    for b in &report.breaks {
        if json {
            output::json_line(b)?;
        } else {
            println!("broken: asset {}: {}", b.asset_id, b.problem);
        }
    }
    eprintln!(
        "{} assets, {} events, {} broken chains, {} problems with who may sign",
        report.assets,
        report.events,
        report.breaks.len(),
        report.signers.len()
    );
    Ok(if report.holds() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn checkpoint(library: &Library, who: &crate::identity::Who) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let actor = who
        .actor(library)?
        .context("a checkpoint is signed: act as a user with --as NAME")?;
    let written = library.checkpoint(&actor)?;
    eprintln!(
        "checkpoint {}: {} events, {} identity events, {} assets, signed by {}",
        written.path, written.events, written.identity_events, written.assets, written.signer
    );
    println!("{}", written.path);
    Ok(ExitCode::SUCCESS)
}
