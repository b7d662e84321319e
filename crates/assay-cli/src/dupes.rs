//! `assay dupes`: groups of near-identical assets (resized, recompressed,
//! lightly cropped or turned copies, a raw file and its JPEG), each with
//! the copy to keep; and what to do about one asset's near-duplicates
//! (stack them under it, keep them apart from it, or mark them as its
//! copies).

use std::process::ExitCode;

use anyhow::Context;
use assay_core::{Library, StackKind, DEFAULT_MAX_DISTANCE, MAX_DISTANCE};

use crate::identity::Who;
use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// Only the near-duplicates of this asset (id, checksum or path).
    #[arg(value_name = "ASSET")]
    asset: Option<String>,
    /// Bits two pictures' perceptual hashes may differ by and still count as one.
    #[arg(long, default_value_t = DEFAULT_MAX_DISTANCE, value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_DISTANCE)))]
    max_distance: u32,
    /// One JSON object per group (or per match) on stdout.
    #[arg(long)]
    json: bool,
    /// Stack ASSET's near-duplicates under it.
    #[arg(long, requires = "asset", group = "decision")]
    stack: bool,
    /// Record that ASSET and its near-duplicates are different works: they
    /// never group again.
    #[arg(long, requires = "asset", group = "decision")]
    keep_apart: bool,
    /// Mark ASSET's near-duplicates as its copies (a signed edit of their
    /// `duplicate_of`, which keeps them from approval for sale).
    #[arg(long, requires = "asset", group = "decision")]
    mark: bool,
}

pub fn run(library: &Library, who: &Who, args: Args) -> anyhow::Result<ExitCode> {
    if let Some(asset) = &args.asset {
        let near = library.near_duplicates(asset, args.max_distance)?;
        if args.stack || args.keep_apart || args.mark {
            return decide(library, who, &args, asset, near);
        }
        for (asset_id, distance) in near {
            if args.json {
                output::json_line(&serde_json::json!({
                    "asset_id": asset_id,
                    "distance": distance,
                }))?;
            } else {
                println!("{asset_id}  {distance} bits");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let groups = library.duplicates(args.max_distance)?;
    for group in &groups {
        if args.json {
            output::json_line(group)?;
            continue;
        }
        println!(
            "{} near-identical, keep {} ({}):",
            group.members.len(),
            group.keeper,
            group.reason
        );
        for m in &group.members {
            let size = match (m.width, m.height) {
                (Some(w), Some(h)) => format!("{w}x{h}"),
                _ => "?".to_owned(),
            };
            println!(
                "  {}  {:<28} {:>11} {:>10} bytes  {} bits  {}",
                m.asset_id,
                m.title.as_deref().unwrap_or("-"),
                size,
                m.size_bytes,
                m.distance,
                m.workflow_state
            );
        }
    }
    if !args.json {
        eprintln!("{} groups of near-identical assets", groups.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// Applies the decision `args` names to `asset` and its `near` duplicates.
fn decide(
    library: &Library,
    who: &Who,
    args: &Args,
    asset: &str,
    near: Vec<(String, u32)>,
) -> anyhow::Result<ExitCode> {
    if near.is_empty() {
        anyhow::bail!(
            "{asset} has no near-duplicates within {} bits",
            args.max_distance
        );
    }
    let others: Vec<String> = near.into_iter().map(|(id, _)| id).collect();
    let actor = who.actor(library)?;
    if args.stack {
        let stack = library.stack(actor.as_deref(), asset, &others, StackKind::Duplicates)?;
        crate::stacks::print_stack(&stack, args.json)?;
    } else if args.keep_apart {
        let mut all = vec![asset.to_owned()];
        all.extend(others);
        let kept = library.keep_apart(actor.as_deref(), &all)?;
        if args.json {
            output::json_line(&kept)?;
        } else {
            eprintln!(
                "{} assets kept apart ({} pairs recorded)",
                kept.assets.len(),
                kept.pairs
            );
        }
    } else {
        let actor = actor.context("marking duplicates is a signed edit: --as NAME")?;
        let summary = library.mark_duplicates(&actor, asset, &others)?;
        if args.json {
            output::json_line(&summary)?;
        } else {
            eprintln!(
                "{} marked as duplicates of {asset} ({} reopened for review)",
                summary.changed, summary.reopened
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
