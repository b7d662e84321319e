//! `assay dupes`: groups of near-identical assets (resized, recompressed,
//! lightly cropped or turned copies, a raw file and its JPEG), each with
//! the copy to keep.

use std::process::ExitCode;

use assay_core::{Library, DEFAULT_MAX_DISTANCE, MAX_DISTANCE};

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
}

pub fn run(library: &Library, args: Args) -> anyhow::Result<ExitCode> {
    if let Some(asset) = &args.asset {
        for (asset_id, distance) in library.near_duplicates(asset, args.max_distance)? {
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
