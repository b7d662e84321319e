//! `assay submit|approve|reject|quarantine|release`.

use std::process::ExitCode;

use anyhow::Context;
use assay_core::{Decision, Library};

use crate::edit::Select;
use crate::identity::Who;
use crate::output;

#[derive(clap::Args)]
pub struct CommentArgs {
    #[command(flatten)]
    select: Select,
    /// Why; recorded in the asset's provenance.
    #[arg(long, alias = "reason")]
    comment: Option<String>,
    /// One JSON decision per asset.
    #[arg(long)]
    json: bool,
}

pub enum Step {
    Submit,
    Approve,
    Reject,
    Quarantine,
    Release,
}

pub fn run(
    library: &Library,
    who: &Who,
    step: Step,
    args: CommentArgs,
) -> anyhow::Result<ExitCode> {
    let selection = args.select.selection()?;
    let actor = who
        .actor(library)?
        .context("this changes the library: act as a user with --as NAME")?;
    let comment = args.comment.as_deref();
    let reason = comment.unwrap_or_default();
    let decisions = match step {
        Step::Submit => library.submit(&actor, &selection)?,
        Step::Approve => library.approve(&actor, &selection, comment)?,
        Step::Reject => library.reject(&actor, &selection, reason)?,
        Step::Quarantine => library.quarantine(&actor, &selection, reason)?,
        Step::Release => library.release(&actor, &selection)?,
    };
    report(&decisions, args.json)?;
    Ok(ExitCode::SUCCESS)
}

fn report(decisions: &[Decision], json: bool) -> anyhow::Result<()> {
    for d in decisions {
        if json {
            output::json_line(d)?;
            continue;
        }
        println!("{}  {}", d.asset_id, d.state);
        for f in &d.failed_gates {
            println!("    failed {}: {}", f.gate, f.reason);
        }
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct QueueArgs {
    /// One JSON item per line.
    #[arg(long)]
    json: bool,
}

/// `assay queue`: what waits for the acting user's role, oldest first.
pub fn queue(library: &Library, who: &Who, args: QueueArgs) -> anyhow::Result<ExitCode> {
    let actor = who
        .actor(library)?
        .context("the queue depends on your role: --as NAME")?;
    for item in library.queue(&actor)? {
        if args.json {
            output::json_line(&item)?;
            continue;
        }
        let missing: Vec<&str> = item
            .failed_gates
            .iter()
            .map(|f| f.reason.as_str())
            .collect();
        println!(
            "{}  {:<11} {:>6}h  {}",
            item.asset_id,
            item.state,
            item.age_seconds / 3600,
            missing.join("; ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
