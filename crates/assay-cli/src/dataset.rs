//! `assay dataset create|ls|show`: datasets, each a saved selection of the
//! catalog that versioned builds are made from.

use std::process::ExitCode;

use anyhow::Context;
use assay_core::Library;

use crate::identity::Who;
use crate::output;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Save a selection as a dataset (stewards and rights managers).
    Create(CreateArgs),
    /// List the datasets.
    Ls(JsonArgs),
    /// What a dataset's selection holds now: the assets a build would take,
    /// and each one it would leave out, with the reason.
    Show(ShowArgs),
}

#[derive(clap::Args)]
pub struct CreateArgs {
    /// Letters, digits, '-', '_' and '.'; it names the build's files.
    name: String,
    /// The selection: KEY=VALUE, repeatable (keys: media_type, since,
    /// until, make, text, license_tag, state, creator), as `ls` takes.
    #[arg(long = "where", value_name = "KEY=VALUE", required = true)]
    filters: Vec<String>,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct JsonArgs {
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct ShowArgs {
    name: String,
    #[arg(long)]
    json: bool,
}

pub fn run(library: &Library, who: &Who, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Create(args) => {
            let filter = crate::edit::filter_of(&args.filters)?;
            let actor = who
                .actor(library)?
                .context("a dataset is saved by a steward or rights manager: --as NAME")?;
            let dataset = library.create_dataset(&actor, &args.name, &filter)?;
            if args.json {
                output::json_line(&dataset)?;
            } else {
                eprintln!("dataset {} ({})", dataset.name, dataset.dataset_id);
            }
        }
        Command::Ls(args) => {
            for dataset in library.datasets()? {
                if args.json {
                    output::json_line(&dataset)?;
                } else {
                    println!(
                        "{}\t{}\t{}\t{}",
                        dataset.name,
                        serde_json::to_string(&dataset.selector)?,
                        dataset.created_by,
                        dataset.created_at
                    );
                }
            }
        }
        Command::Show(args) => {
            let view = library.dataset(&args.name)?;
            if args.json {
                output::json_line(&view)?;
            } else {
                output::left_out(&view.left_out);
                println!(
                    "{}: {} assets match {}; a build would take {}",
                    view.dataset.name,
                    view.matched,
                    serde_json::to_string(&view.dataset.selector)?,
                    view.eligible
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
