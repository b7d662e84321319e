//! `assay transfer`: rights pass to a new holder under a signed contract.

use std::process::ExitCode;

use anyhow::Context;
use assay_core::{Library, Transfer};

use crate::edit::Select;
use crate::identity::Who;
use crate::output;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    select: Select,
    /// Id of the signed contract that transfers the rights.
    #[arg(long, value_name = "ID")]
    contract: String,
    /// The new rights holder.
    #[arg(long, value_name = "NAME")]
    to: String,
    /// The library's standing afterwards: owned, licensed or joint.
    #[arg(long, default_value = "owned")]
    ownership: String,
    /// When the transfer takes effect (YYYY-MM-DD; default today).
    #[arg(long, value_name = "DATE")]
    effective: Option<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(library: &Library, who: &Who, args: Args) -> anyhow::Result<ExitCode> {
    let selection = args.select.selection()?;
    let actor = who
        .actor(library)?
        .context("a transfer of rights needs an acting rights manager: --as NAME")?;
    let transfer = Transfer {
        contract_id: args.contract,
        to: args.to,
        ownership: args.ownership,
        effective_date: args.effective,
    };
    let summary = library.transfer_rights(&actor, &selection, &transfer)?;
    if args.json {
        output::json_line(&summary)?;
    } else {
        eprintln!(
            "rights to {} of {} assets transferred to {} under {}; {} sent back to review",
            summary.changed, summary.selected, transfer.to, transfer.contract_id, summary.reopened
        );
    }
    Ok(ExitCode::SUCCESS)
}
