//! `assay manifest export` and `assay manifest verify`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use assay_core::Library;

use crate::edit::Select;
use crate::identity::Who;
use crate::output;
use crate::trusted::TrustArgs;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Export approved assets to a manifest signed with your key, or to a
    /// Croissant 1.1 dataset (rights managers).
    Export(ExportArgs),
    /// Check a manifest's schema, signature and signer, and with --files each
    /// file's checksum; exit 0 only when all of it holds. Needs no library.
    Verify(VerifyArgs),
}

#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    select: Select,
    /// Where to write the manifest.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// What to write.
    #[arg(long, value_enum, default_value_t = Format::Signed)]
    format: Format,
    /// Also write a copy of each exported asset carrying Content
    /// Credentials into DIR (as `assay c2pa export` does; with --json, a
    /// second JSON line).
    #[arg(long, value_name = "DIR")]
    c2pa: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// The signed manifest, which `assay manifest verify` checks.
    Signed,
    /// A Croissant 1.1 dataset (MLCommons) of the same assets; not signed.
    Croissant,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    file: PathBuf,
    #[command(flatten)]
    trust: TrustArgs,
    /// The folder holding the assets' files, to check each one's checksum.
    #[arg(long, value_name = "DIR")]
    files: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn export(library: &Library, who: &Who, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let selection = args.select.selection()?;
    let actor = who
        .actor(library)?
        .context("a manifest is exported by a rights manager: --as NAME")?;
    let (export, what) = match args.format {
        Format::Signed => (
            library.export_manifest(&actor, &selection, &args.out)?,
            "manifest",
        ),
        Format::Croissant => (
            library.export_croissant(&actor, &selection, &args.out)?,
            "Croissant dataset",
        ),
    };
    if args.json {
        output::json_line(&export)?;
    } else {
        output::left_out(&export.refused);
        eprintln!(
            "{}: {} assets, {} left out; {what} {} ({})",
            args.out.display(),
            export.assets,
            export.refused.len(),
            export.manifest_id,
            export.manifest_hash
        );
        eprintln!("checkpoint {}", export.checkpoint);
    }
    if let Some(dir) = &args.c2pa {
        crate::c2pa::write(library, &actor, &selection, dir, args.json)?;
    }
    Ok(output::export_code(&export.refused))
}

pub fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let trusted = args.trust.load()?;
    anyhow::ensure!(
        !trusted.is_empty(),
        "give the signer's public key: --key FILE or --keys DIR (`assay user key NAME` prints it)"
    );
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let check = assay_core::verify_manifest(&bytes, &trusted, args.files.as_deref());
    if args.json {
        output::json_line(&check)?;
    } else {
        for failure in &check.failures {
            println!("{}: {failure}", args.file.display());
        }
        if check.failures.is_empty() {
            println!(
                "{}: ok ({} asset{}, {})",
                args.file.display(),
                check.assets,
                if check.assets == 1 { "" } else { "s" },
                if args.files.is_some() {
                    "signature and every file checked"
                } else {
                    "signature checked; give --files DIR to check the files too"
                }
            );
        }
    }
    Ok(if check.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
