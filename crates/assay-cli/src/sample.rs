//! `assay sample-library`: a library to look around in, made from a folder
//! of photos where no library exists yet (what `make run` opens first).

use std::path::PathBuf;
use std::process::ExitCode;

use assay_core::{Library, SAMPLE_USERS};

use crate::identity::Who;

/// The sample users' passphrase unless `--passphrase-file` gives another.
/// It is printed: a sample library holds nothing worth a secret.
const SAMPLE_PASSPHRASE: &str = "sample";

#[derive(clap::Args)]
pub struct Args {
    /// The photos to import (a folder, read recursively).
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
    /// Do nothing, successfully, when the library folder exists already.
    #[arg(long)]
    if_missing: bool,
}

pub fn run(root: PathBuf, who: &Who, args: Args) -> anyhow::Result<ExitCode> {
    if args.if_missing && root.exists() {
        println!("{} exists; left as it is", root.display());
        return Ok(ExitCode::SUCCESS);
    }
    let passphrase = match &who.passphrase_file {
        Some(_) => who.passphrase("")?,
        None => SAMPLE_PASSPHRASE.to_owned(),
    };
    let made = Library::create_sample(&root, &args.from, passphrase.as_bytes())?;
    let users: Vec<String> = SAMPLE_USERS
        .iter()
        .map(|(name, role)| format!("{name} ({role})"))
        .collect();
    println!(
        "sample library at {}: {} assets imported, {} licensed and in review, 1 approved, 1 quarantined",
        made.root.display(),
        made.imported,
        made.licensed.len(),
    );
    println!("users: {}", users.join(", "));
    if who.passphrase_file.is_none() {
        println!("passphrase of every sample user: {SAMPLE_PASSPHRASE}");
    }
    Ok(ExitCode::SUCCESS)
}
