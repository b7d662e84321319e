//! `assay xmp export` and `assay xmp verify`: XMP sidecars with rights and
//! the AI-training flag, and checking them against the library.

use std::path::PathBuf;
use std::process::ExitCode;

use assay_core::Library;

use crate::edit::Select;
use crate::output;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Write NAME.EXT.xmp beside each original (never touching it), or into --out DIR.
    Export(ExportArgs),
    /// Check sidecars against the library: where export puts them, or --sidecar FILE...
    Verify(VerifyArgs),
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

#[derive(clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    select: Select,
    /// Look for the sidecars in this folder instead of beside the originals.
    #[arg(long, value_name = "DIR", conflicts_with = "sidecars")]
    dir: Option<PathBuf>,
    /// Check these sidecar files, each against the asset its assay:AssetID names.
    #[arg(long = "sidecar", value_name = "FILE", num_args = 1.., conflicts_with_all = ["assets", "filters"])]
    sidecars: Vec<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(library: &Library, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Export(args) => export(library, args),
        Command::Verify(args) => verify(library, args),
    }
}

fn export(library: &Library, args: ExportArgs) -> anyhow::Result<ExitCode> {
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

fn verify(library: &Library, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let check = if args.sidecars.is_empty() {
        let selection = args
            .select
            .selection()
            .map_err(|e| anyhow::anyhow!("{e}, or give sidecar files with --sidecar FILE..."))?;
        library.verify_xmp(&selection, args.dir.as_deref())?
    } else {
        library.verify_xmp_files(&args.sidecars)?
    };
    if args.json {
        output::json_line(&check)?;
    } else {
        for failure in &check.failures {
            println!("{failure}");
        }
        eprintln!(
            "{} sidecar{} checked, {}",
            check.checked,
            if check.checked == 1 { "" } else { "s" },
            match check.failures.len() {
                0 => "all hold".to_owned(),
                n => format!("{n} failure{}", if n == 1 { "" } else { "s" }),
            }
        );
    }
    Ok(ExitCode::from(u8::from(!check.failures.is_empty())))
}
