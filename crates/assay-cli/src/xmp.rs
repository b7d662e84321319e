//! `assay xmp export`: XMP sidecars with rights and the AI-training flag.

use std::path::PathBuf;
use std::process::ExitCode;

use assay_core::Library;

use crate::edit::selection;
use crate::output;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Write NAME.EXT.xmp beside each original (never touching it), or into --out DIR.
    Export(ExportArgs),
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// Asset ids (or unique prefixes), checksums or paths.
    assets: Vec<String>,
    /// Select by filter instead: KEY=VALUE, repeatable.
    #[arg(long = "where", value_name = "KEY=VALUE")]
    filters: Vec<String>,
    /// Write the sidecars into this folder instead of beside the originals.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(library: &Library, command: Command) -> anyhow::Result<ExitCode> {
    let Command::Export(args) = command;
    let selection = selection(&args.assets, &args.filters)?;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)?;
    }
    let export = library.export_xmp(&selection, args.out.as_deref())?;
    if args.json {
        output::json_line(&export)?;
    } else {
        for r in &export.refused {
            eprintln!("left out {}: {}", r.asset_id, r.reason);
        }
        eprintln!(
            "{} sidecars written, {} left out",
            export.written.len(),
            export.refused.len()
        );
    }
    Ok(if export.refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
