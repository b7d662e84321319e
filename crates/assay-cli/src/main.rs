//! `assay`: the command line over assay-core. Glue only: parse arguments,
//! call the core, print. Every rule lives in the core.

mod audit;
mod c2pa;
mod contract;
mod dataset;
mod dupes;
mod edit;
mod identity;
mod import;
mod manifest;
mod market;
mod output;
mod previews;
mod provenance;
mod pull;
mod read;
mod report;
mod review;
mod sample;
mod stacks;
mod transfer;
mod trusted;
mod user;
mod verify;
mod watch;
mod xmp;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "assay",
    version,
    about = "Assay: a digital asset library that makes creative work ready to sell as AI training data, and proves it."
)]
struct Cli {
    /// Library folder (default: the platform data directory).
    #[arg(long, global = true, env = "ASSAY_LIBRARY", value_name = "DIR")]
    library: Option<PathBuf>,
    #[command(flatten)]
    who: identity::Who,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import files and folders (recursively) into the library.
    Import(import::Args),
    /// Groups of near-identical assets, each with the copy to keep.
    Dupes(dupes::Args),
    /// Stack assets under one (shown as one cell in the app's grid).
    Stack(stacks::StackArgs),
    /// Dissolve the stack an asset is in.
    Unstack(stacks::UnstackArgs),
    /// Make the previews an import left for later (`import --defer-previews`).
    Previews(previews::Args),
    /// Watch folders and import what appears or changes in them.
    Watch(watch::Args),
    /// Re-hash every location and report ok, modified or missing.
    Verify(verify::Args),
    /// List assets, with filters.
    Ls(read::LsArgs),
    /// Show one asset's full record.
    Show(read::ShowArgs),
    /// Manage the library's users and their keys.
    #[command(subcommand)]
    User(user::Command),
    /// Show an asset's provenance timeline.
    Provenance(provenance::Args),
    /// Write a signed checkpoint of the whole library (every event and
    /// identity event, committed in two Merkle tree heads) into
    /// checkpoints/, which `verify --provenance` checks the catalog against.
    Checkpoint,
    /// Edit the rights metadata of assets (all or nothing).
    Edit(edit::EditArgs),
    /// Undo your last edit (as a new signed edit restoring what it
    /// changed), or with --decision your last approval or rejection.
    Undo(edit::UndoArgs),
    /// Manage creator profiles.
    #[command(subcommand)]
    Creator(edit::CreatorCommand),
    /// Submit assets for review; one that fails an eligibility gate is quarantined.
    Submit(review::CommentArgs),
    /// Approve pending assets (rights managers; never your own uploads or edits).
    Approve(review::CommentArgs),
    /// Reject pending assets, with --comment.
    Reject(review::CommentArgs),
    /// Quarantine assets, with --reason.
    Quarantine(review::CommentArgs),
    /// Release quarantined assets back to draft.
    Release(review::CommentArgs),
    /// What waits for your role, oldest first, with what each asset is missing.
    Queue(review::QueueArgs),
    /// Signed manifests of approved assets: export, and verify with a public key.
    #[command(subcommand)]
    Manifest(manifest::Command),
    /// XMP sidecars carrying rights, license and the AI-training flag.
    #[command(subcommand)]
    Xmp(xmp::Command),
    /// Content Credentials (C2PA): signed copies of approved assets, and
    /// the library's certificate authority to trust them by.
    #[command(subcommand)]
    C2pa(c2pa::Command),
    /// Datasets for model trainers: saved selections of the catalog.
    #[command(subcommand)]
    Dataset(dataset::Command),
    /// Readiness figures: time to approval, completeness, states, licenses, eligibility.
    Report(report::Args),
    /// Transfer the rights to assets under a signed contract (rights managers).
    Transfer(transfer::Args),
    /// Signed contracts the library holds, for audit packages.
    #[command(subcommand)]
    Contract(contract::Command),
    /// Audit packages: export, and verify from the package alone.
    #[command(subcommand)]
    Audit(audit::Command),
    /// Marketplaces the library publishes to.
    #[command(subcommand)]
    Market(market::Command),
    /// Publish approved assets not yet listed to a marketplace, resuming any
    /// interrupted upload, withdraw those no longer eligible, and record the
    /// market's payments in provenance (rights managers).
    Sync(market::SyncArgs),
    /// Buy a listing and fetch it into a folder, every file verified against
    /// the signed manifest; or re-check such a folder with --verify-only.
    Pull(pull::Args),
    /// Create a sample library (users for every role, imported photos, some
    /// in review, one approved, one quarantined) where none exists yet.
    SampleLibrary(sample::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("assay: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Verifying a manifest or a package needs nothing but the file (and a
    // key), and a trainer's pull nothing but the market: no library.
    let command = match cli.command {
        Command::Manifest(manifest::Command::Verify(args)) => return manifest::verify(args),
        Command::Audit(audit::Command::Verify(args)) => return audit::verify(args),
        Command::Pull(args) => return pull::run(args),
        command => command,
    };
    let root = match cli.library {
        Some(dir) => dir,
        None => assay_core::Library::default_root()?,
    };
    // A sample library is made where none is, so it opens nothing first.
    let command = match command {
        Command::SampleLibrary(args) => return sample::run(root, &cli.who, args),
        command => command,
    };
    let library = assay_core::Library::open(&root)
        .with_context(|| format!("opening the library at {}", root.display()))?;
    match command {
        Command::Import(args) => import::run(&library, &cli.who, args),
        Command::Previews(args) => previews::run(&library, args),
        Command::Dupes(args) => dupes::run(&library, &cli.who, args),
        Command::Stack(args) => stacks::stack(&library, &cli.who, args),
        Command::Unstack(args) => stacks::unstack(&library, &cli.who, args),
        Command::Watch(args) => watch::run(&library, &cli.who, args),
        Command::Verify(args) => verify::run(&library, args),
        Command::Ls(args) => read::ls(&library, args),
        Command::Show(args) => read::show(&library, args),
        Command::User(command) => user::run(&library, &cli.who, command),
        Command::Provenance(args) => provenance::show(&library, args),
        Command::Checkpoint => provenance::checkpoint(&library, &cli.who),
        Command::Edit(args) => edit::run(&library, &cli.who, args),
        Command::Undo(args) => edit::undo(&library, &cli.who, args),
        Command::Creator(command) => edit::creator(&library, &cli.who, command),
        Command::Submit(args) => review::run(&library, &cli.who, review::Step::Submit, args),
        Command::Approve(args) => review::run(&library, &cli.who, review::Step::Approve, args),
        Command::Reject(args) => review::run(&library, &cli.who, review::Step::Reject, args),
        Command::Quarantine(args) => {
            review::run(&library, &cli.who, review::Step::Quarantine, args)
        }
        Command::Release(args) => review::run(&library, &cli.who, review::Step::Release, args),
        Command::Queue(args) => review::queue(&library, &cli.who, args),
        Command::Manifest(manifest::Command::Export(args)) => {
            manifest::export(&library, &cli.who, args)
        }
        Command::Manifest(manifest::Command::Verify(args)) => manifest::verify(args),
        Command::Xmp(command) => xmp::run(&library, command),
        Command::C2pa(command) => c2pa::run(&library, &cli.who, command),
        Command::Dataset(command) => dataset::run(&library, &cli.who, command),
        Command::Report(args) => report::run(&library, args),
        Command::Transfer(args) => transfer::run(&library, &cli.who, args),
        Command::Contract(command) => contract::run(&library, &cli.who, command),
        Command::Audit(audit::Command::Export(args)) => audit::export(&library, &cli.who, args),
        Command::Audit(audit::Command::Verify(args)) => audit::verify(args),
        Command::Market(command) => market::run(&library, command),
        Command::Sync(args) => market::sync(&library, &cli.who, args),
        Command::Pull(args) => pull::run(args),
        Command::SampleLibrary(args) => sample::run(root, &cli.who, args),
    }
}
