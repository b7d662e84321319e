//! `assay audit export` and `assay audit verify`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use assay_core::{AuditOptions, Job, Library};

use crate::edit::Select;
use crate::identity::Who;
use crate::output;
use crate::trusted::TrustArgs;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Package assets with their records, provenance chains, signers' keys
    /// and contracts, under an index signed with your key (rights managers).
    Export(ExportArgs),
    /// Re-check a package from the package alone; exit 0 only when all of it
    /// holds. Needs no library.
    Verify(VerifyArgs),
}

#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    select: Select,
    /// Where to write the package (a tar file).
    #[arg(long, value_name = "PKG.tar")]
    out: PathBuf,
    /// Beside each approved asset's file, Content Credentials: a C2PA
    /// sidecar (.c2pa) bound to every byte of it, signed with your key.
    #[arg(long)]
    c2pa: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    package: PathBuf,
    /// Without keys, the index's signature is checked with the key it names,
    /// whose id is printed to compare with the rights manager's.
    #[command(flatten)]
    trust: TrustArgs,
    /// Once everything holds, write the members under DIR (new or empty).
    #[arg(long, value_name = "DIR")]
    extract: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn export(library: &Library, who: &Who, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let selection = args.select.selection()?;
    let actor = who
        .actor(library)?
        .context("an audit package is signed by a rights manager: --as NAME")?;
    let options = AuditOptions {
        content_credentials: args.c2pa,
    };
    let export =
        library.export_audit_with(&actor, &selection, &args.out, options, &mut Job::quiet())?;
    if args.json {
        output::json_line(&export)?;
    } else {
        output::left_out(&export.refused);
        for refused in &export.credentials_refused {
            eprintln!(
                "{}: packaged without Content Credentials: {}",
                refused.asset_id, refused.reason
            );
        }
        for id in &export.contracts_not_held {
            eprintln!("contract {id} is cited but not held (`assay contract add`)");
        }
        eprintln!(
            "{}: {} assets ({} bytes of files), {} members, {} left out; package {} ({})",
            args.out.display(),
            export.assets,
            export.file_bytes,
            export.members,
            export.refused.len(),
            export.package_id,
            export.index_hash
        );
        if args.c2pa {
            eprintln!("{} with Content Credentials", export.credentials);
        }
        eprintln!("checkpoint {}", export.checkpoint);
    }
    Ok(output::export_code(&export.refused))
}

pub fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let trusted = args.trust.load()?;
    let check = assay_core::verify_audit(&args.package, &trusted, args.extract.as_deref())?;
    let shown = args.package.display();
    if args.json {
        output::json_line(&check)?;
    } else {
        for failure in &check.failures {
            println!("{shown}: {failure}");
        }
        if check.failures.is_empty() {
            let signer = format!(
                "{} ({})",
                check.signer.as_deref().unwrap_or("?"),
                check.signer_key_id.as_deref().unwrap_or("?")
            );
            println!(
                "{shown}: ok ({} assets, {} members; signed by {signer}{})",
                check.assets,
                check.members,
                match check.pinned {
                    Some(_) => ", a trusted key",
                    None => "; compare the key id with the rights manager's, or pass --key",
                }
            );
            if let Some(dir) = &check.extracted {
                println!("{shown}: extracted into {}", dir.display());
            }
        }
    }
    Ok(if check.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
