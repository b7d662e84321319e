//! `assay stack` and `assay unstack`: assets shown as one cell, by hand.
//! Import stacks raw pairs and bursts itself; `assay dupes --stack` stacks
//! near-duplicates.

use std::process::ExitCode;

use assay_core::{Library, Stack, StackKind};

use crate::identity::Who;
use crate::output;

#[derive(clap::Args)]
pub struct StackArgs {
    /// The asset the stack is shown as (id, checksum or path).
    #[arg(value_name = "TOP")]
    top: String,
    /// The assets to stack under it; any stack one of them is in joins whole.
    #[arg(value_name = "ASSET", required = true)]
    assets: Vec<String>,
    /// The stack as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct UnstackArgs {
    /// Any asset of the stack to dissolve.
    #[arg(value_name = "ASSET")]
    asset: String,
    /// The freed assets as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn stack(library: &Library, who: &Who, args: StackArgs) -> anyhow::Result<ExitCode> {
    let actor = who.actor(library)?;
    let stack = library.stack(actor.as_deref(), &args.top, &args.assets, StackKind::Manual)?;
    print_stack(&stack, args.json)?;
    Ok(ExitCode::SUCCESS)
}

/// A stack on stdout, as JSON or one asset per line (the top marked).
pub fn print_stack(stack: &Stack, json: bool) -> anyhow::Result<()> {
    if json {
        return output::json_line(stack);
    }
    for member in &stack.members {
        let mark = if *member == stack.top { "top" } else { "" };
        println!("{member}  {mark}");
    }
    eprintln!(
        "{} assets in one stack ({}), shown as {}",
        stack.members.len(),
        stack.kind.as_str(),
        stack.top
    );
    Ok(())
}

pub fn unstack(library: &Library, who: &Who, args: UnstackArgs) -> anyhow::Result<ExitCode> {
    let actor = who.actor(library)?;
    let freed = library.unstack(actor.as_deref(), &args.asset)?;
    if args.json {
        output::json_line(&serde_json::json!({ "unstacked": freed }))?;
    } else if freed.is_empty() {
        eprintln!("{} is in no stack", args.asset);
    } else {
        eprintln!("{} assets unstacked", freed.len());
    }
    Ok(ExitCode::SUCCESS)
}
