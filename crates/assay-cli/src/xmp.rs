//! `assay xmp export`: XMP sidecars with rights and the AI-training flag.

use std::path::PathBuf;
use std::process::ExitCode;

use assay_core::Library;

use crate::edit::Select;
use crate::output;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Write NAME.EXT.xmp beside each original (never touching it), or into --out DIR.
    Export(ExportArgs),
}

#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    select: Select,
    /// Write the sidecars into this folder instead of beside the originals.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(library: &Library, command: Command) -> anyhow::Result<ExitCode> {
    let Command::Export(args) = command;
    let selection = args.select.selection()?;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)?;
    }
    let export = library.export_xmp(&selection, args.out.as_deref())?;
    if args.json {
        output::json_line(&export)?;
    } else {
        output::left_out(&export.refused);
        eprintln!(
            "{} sidecars written, {} left out",
            export.written.len(),
            export.refused.len()
        );
    }
    Ok(output::export_code(&export.refused))
}
