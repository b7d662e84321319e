//! `assay contract`: the signed contracts the library holds.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use assay_core::Library;

use crate::identity::Who;
use crate::output;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Keep a copy of a signed contract under the id assets cite (rights managers).
    Add {
        /// The id, as in `signed_contract_id`.
        id: String,
        file: PathBuf,
    },
    /// List the contracts the library holds.
    Ls {
        /// One JSON line per contract.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(library: &Library, who: &Who, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Add { id, file } => {
            let actor = who
                .actor(library)?
                .context("a contract is added by a rights manager: --as NAME")?;
            let added = library.add_contract(&actor, &id, &file)?;
            eprintln!(
                "contract {}: {} ({} bytes, {})",
                added.contract_id, added.file_name, added.size_bytes, added.checksum
            );
        }
        Command::Ls { json } => {
            for c in library.contracts()? {
                if json {
                    output::json_line(&c)?;
                } else {
                    println!(
                        "{}\t{}\t{}\t{}",
                        c.contract_id, c.file_name, c.checksum, c.added_at
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
