use std::process::ExitCode;

use assay_core::{FixityEvent, FixityOptions, FixityStatus, Library};

use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// One JSON object per location on stdout.
    #[arg(long)]
    json: bool,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// Check every provenance chain (hashes, links, signatures, roles), who
    /// may sign, and that the catalog holds everything the newest checkpoint
    /// in the library folder saw, instead of the files.
    #[arg(long)]
    provenance: bool,
    /// With --provenance: check against this checkpoint (one you hold apart
    /// from the library, with its .heads file beside it) instead.
    #[arg(long, value_name = "FILE", requires = "provenance")]
    checkpoint: Option<std::path::PathBuf>,
    /// With --provenance: check against the last checkpoint the market NAME
    /// witnessed for this library (its countersignature checked), so a
    /// library rolled back or rewritten since a sync fails.
    #[arg(
        long,
        value_name = "NAME",
        requires = "provenance",
        conflicts_with = "checkpoint"
    )]
    market: Option<String>,
}

pub fn run(library: &Library, args: Args) -> anyhow::Result<ExitCode> {
    if args.provenance {
        let against = match (args.checkpoint, args.market) {
            (Some(file), _) => crate::provenance::Against::File(file),
            (None, Some(market)) => crate::provenance::Against::Market(market),
            (None, None) => crate::provenance::Against::Newest,
        };
        return crate::provenance::verify(library, against, args.json);
    }
    let bar = output::bytes_bar(args.json);
    let mut failure = None;
    let options = FixityOptions { jobs: args.jobs };
    let summary = library.check_fixity(&options, &mut |event| match event {
        FixityEvent::Planned { bytes, .. } => bar.set_length(bytes),
        FixityEvent::Checked { report, bytes } => {
            bar.inc(bytes);
            if args.json {
                if let Err(e) = output::json_line(report) {
                    failure.get_or_insert(e);
                }
            } else if report.status != FixityStatus::Ok {
                let detail = report.error.as_deref().unwrap_or("checksum differs");
                let status = match report.status {
                    FixityStatus::Modified => "modified",
                    _ => "missing",
                };
                bar.suspend(|| eprintln!("{status}: {}: {detail}", report.path));
            }
        }
    })?;
    bar.finish_and_clear();
    if let Some(e) = failure {
        return Err(e);
    }
    eprintln!(
        "{} ok, {} modified, {} missing",
        summary.ok, summary.modified, summary.missing
    );
    Ok(if summary.modified + summary.missing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
