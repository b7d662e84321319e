//! `assay edit`, `assay undo` and `assay creator add|ls`.

use std::process::ExitCode;

use anyhow::Context;
use assay_core::licenses::PaymentTerms;
use assay_core::{Change, Filter, Library, NewCreator, Selection};

use crate::identity::Who;
use crate::output;

#[derive(clap::Args)]
pub struct EditArgs {
    #[command(flatten)]
    select: Select,
    /// Set a field of the rights metadata (FIELD=VALUE; an empty VALUE clears it).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    sets: Vec<String>,
    /// Set the license tag.
    #[arg(long)]
    license: Option<String>,
    /// Payment terms: one_time:FEE:CUR, royalty:RATE or rev_share:SHARE.
    #[arg(long)]
    payment: Option<String>,
    /// Link a creator profile (sets the creator's name, contact and payout reference).
    #[arg(long)]
    creator: Option<String>,
    /// Add a sensitive flag (privacy, location, pii, minors, model_release_required, ...).
    #[arg(long)]
    flag: Vec<String>,
    /// Remove a sensitive flag.
    #[arg(long)]
    unflag: Vec<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(library: &Library, who: &Who, args: EditArgs) -> anyhow::Result<ExitCode> {
    let selection = args.select.selection()?;
    let mut changes = Vec::new();
    for set in &args.sets {
        changes.push(Change::parse_set(set)?);
    }
    if let Some(tag) = &args.license {
        changes.push(Change::Set {
            field: "license_tag".into(),
            value: tag.clone().into(),
        });
    }
    if let Some(payment) = &args.payment {
        let terms = PaymentTerms::parse_cli(payment)?;
        changes.push(Change::Set {
            field: "payment_terms".into(),
            value: serde_json::to_value(terms)?,
        });
    }
    if let Some(name) = &args.creator {
        changes.push(Change::Creator(name.clone()));
    }
    changes.extend(args.flag.iter().cloned().map(Change::Flag));
    changes.extend(args.unflag.iter().cloned().map(Change::Unflag));
    let actor = who
        .actor(library)?
        .context("editing needs an acting user: --as NAME")?;
    let summary = library.edit(&actor, &selection, &changes)?;
    if args.json {
        output::json_line(&summary)?;
    } else {
        eprintln!(
            "{} selected, {} changed, {} unchanged, {} sent back to review",
            summary.selected, summary.changed, summary.unchanged, summary.reopened
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct UndoArgs {
    /// Take back your last approval or rejection instead (rights
    /// managers): its assets go back to pending review, unless exported,
    /// listed or changed since.
    #[arg(long)]
    decision: bool,
    /// Print what was undone as JSON.
    #[arg(long)]
    json: bool,
}

/// `assay undo`: the acting user's last edit (or decision), set back as a
/// new signed event.
pub fn undo(library: &Library, who: &Who, args: UndoArgs) -> anyhow::Result<ExitCode> {
    let actor = who
        .actor(library)?
        .context("undoing is signed: --as NAME")?;
    if args.decision {
        let undone = library.undo_last_decision(&actor)?;
        if args.json {
            output::json_line(&undone)?;
        } else {
            eprintln!(
                "took back the decision of {} ({}): {} of {} assets pending review again",
                undone.decided_at, undone.decision, undone.reopened, undone.assets
            );
            for kept in &undone.kept {
                eprintln!("kept: {}: {}", kept.asset_id, kept.reason);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let undone = library.undo_last_edit(&actor)?;
    if args.json {
        output::json_line(&undone)?;
    } else {
        eprintln!(
            "undid the edit of {}: {} of {} assets set back, {} sent back to review",
            undone.edit_at, undone.restored, undone.assets, undone.reopened
        );
        for kept in &undone.kept {
            eprintln!("kept: {}: {}", kept.asset_id, kept.reason);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Which assets a command acts on: named, or selected by a filter.
#[derive(clap::Args)]
pub struct Select {
    /// Asset ids (or unique prefixes), checksums or paths.
    assets: Vec<String>,
    /// Select by filter instead: KEY=VALUE, repeatable (keys: media_type,
    /// since, until, make, text, license_tag, state, creator).
    #[arg(long = "where", value_name = "KEY=VALUE")]
    filters: Vec<String>,
}

impl Select {
    /// The named assets, or the `--where` filter; not both.
    pub fn selection(&self) -> anyhow::Result<Selection> {
        let (assets, filters) = (&self.assets, &self.filters);
        match (assets.is_empty(), filters.is_empty()) {
            (false, true) => Ok(Selection::Assets(assets.to_vec())),
            (true, false) => Ok(Selection::Where(filter_of(filters)?)),
            (true, true) => anyhow::bail!("name assets, or select them with --where KEY=VALUE"),
            (false, false) => anyhow::bail!("name assets or use --where, not both"),
        }
    }
}

/// The filter `--where KEY=VALUE...` says (the filter language of `ls`,
/// `edit` and datasets).
pub fn filter_of(filters: &[String]) -> anyhow::Result<Filter> {
    let mut filter = Filter::default();
    for f in filters {
        let (key, value) = f
            .split_once('=')
            .with_context(|| format!("--where {f:?}: expected KEY=VALUE"))?;
        let value = Some(value.to_owned());
        match key {
            "media_type" => filter.media_type = value,
            "since" => filter.since = value,
            "until" => filter.until = value,
            "make" => filter.make = value,
            "text" => filter.text = value,
            "license_tag" => filter.license_tag = value,
            "state" => filter.state = value,
            "creator" => filter.creator = value,
            other => anyhow::bail!(
                "--where {other}: unknown key; use media_type, since, until, make, text, license_tag, state or creator"
            ),
        }
    }
    Ok(filter)
}

#[derive(clap::Subcommand)]
pub enum CreatorCommand {
    /// Add a creator profile (stewards and admins).
    Add {
        name: String,
        /// Payout reference: a wallet or marketplace account id.
        #[arg(long)]
        payout: String,
        #[arg(long)]
        contact: Option<String>,
        /// Id of the signed agreement with this creator.
        #[arg(long)]
        agreement: Option<String>,
        /// Attribution text buyers must show.
        #[arg(long)]
        attribution: Option<String>,
        /// The license tag linking this profile gives assets that have none.
        #[arg(long)]
        license: Option<String>,
        /// The creator user whose imports are linked to this profile on arrival.
        // Its own id: `user` is the global `--as`'s.
        #[arg(long = "user", id = "profile_user", value_name = "NAME")]
        user: Option<String>,
    },
    /// List creator profiles.
    Ls {
        #[arg(long)]
        json: bool,
    },
}

pub fn creator(library: &Library, who: &Who, command: CreatorCommand) -> anyhow::Result<ExitCode> {
    match command {
        CreatorCommand::Add {
            name,
            payout,
            contact,
            agreement,
            attribution,
            license,
            user,
        } => {
            let actor = who
                .actor(library)?
                .context("adding a creator needs an acting user: --as NAME")?;
            let new = NewCreator {
                name,
                contact,
                payout_ref: payout,
                agreement_id: agreement,
                attribution,
                default_license: license,
                user,
            };
            let c = library.add_creator(&actor, &new)?;
            eprintln!("added creator {} (payout {})", c.name, c.payout_ref);
        }
        CreatorCommand::Ls { json } => {
            for c in library.creators()? {
                if json {
                    output::json_line(&c)?;
                } else {
                    println!(
                        "{:<24} {:<30} {:<16} {}",
                        c.name,
                        c.payout_ref,
                        c.user.as_deref().unwrap_or("-"),
                        c.contact.as_deref().unwrap_or("-")
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
