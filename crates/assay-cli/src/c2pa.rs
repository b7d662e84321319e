//! `assay c2pa export` and `assay c2pa trust`: Content Credentials on
//! copies of approved assets, and the certificate a buyer trusts them by.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use assay_core::{Actor, Job, Library, Progress, Selection};
use indicatif::{ProgressBar, ProgressStyle};

use crate::edit::Select;
use crate::identity::Who;
use crate::output;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Write a copy of each approved asset carrying Content Credentials
    /// (C2PA) signed with your key, or a .c2pa sidecar beside the copy
    /// where the format allows no embedding (rights managers). Originals
    /// are never touched.
    Export(ExportArgs),
    /// Print the library's certificate authority (PEM): add it as a trust
    /// anchor (c2patool --trust_anchors) to see the library's signers as
    /// trusted. With --add, trust another's: files signed under it import
    /// as `trusted` (administrators and rights managers).
    Trust(TrustArgs),
}

#[derive(clap::Args)]
pub struct TrustArgs {
    /// PEM certificates to trust as anchors when reading Content
    /// Credentials at import.
    #[arg(long, value_name = "FILE")]
    add: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    select: Select,
    /// The folder to write the copies into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(library: &Library, who: &Who, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Export(args) => export(library, who, args),
        Command::Trust(TrustArgs { add: None }) => {
            print!("{}", library.trust_anchor()?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Trust(TrustArgs { add: Some(file) }) => {
            let actor = who.actor(library)?.context(
                "trust anchors are added by an administrator or rights manager: --as NAME",
            )?;
            let pem = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let subjects = library
                .add_trust_anchors(&actor, &pem)
                .with_context(|| format!("{}", file.display()))?;
            for subject in &subjects {
                println!("trusted: {subject}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn export(library: &Library, who: &Who, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let selection = args.select.selection()?;
    let actor = who
        .actor(library)?
        .context("Content Credentials are signed by a rights manager: --as NAME")?;
    write(library, &actor, &selection, &args.out, args.json)
}

/// Writes the credentialed copies of `selection` into `out`, with a
/// progress bar (or a JSON line with `json`), and says what was left out.
pub fn write(
    library: &Library,
    actor: &Actor,
    selection: &Selection,
    out: &Path,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let bar = if json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{spinner} {wide_bar} {pos}/{len} assets signed")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    };
    let cancel = AtomicBool::new(false);
    let mut on_progress = |p: Progress| {
        bar.set_length(p.total);
        bar.set_position(p.done);
    };
    let export = library.export_credentials(
        actor,
        selection,
        out,
        &mut Job::new(&cancel, &mut on_progress),
    )?;
    bar.finish_and_clear();
    if json {
        output::json_line(&export)?;
    } else {
        output::left_out(&export.refused);
        for file in &export.files {
            match &file.sidecar {
                Some(sidecar) => println!("{} {} (sidecar {sidecar})", file.asset_id, file.file),
                None => println!("{} {}", file.asset_id, file.file),
            }
        }
        eprintln!(
            "{}: {} assets with Content Credentials, {} left out; checkpoint {}",
            out.display(),
            export.files.len(),
            export.refused.len(),
            export.checkpoint
        );
    }
    Ok(output::export_code(&export.refused))
}
