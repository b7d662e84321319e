//! `assay previews`: the second phase of an import, for imports run with
//! `--defer-previews` (or stopped before it finished).

use std::process::ExitCode;

use assay_core::{Job, Library, PreviewOptions, PreviewReport, PreviewStatus};
use indicatif::ProgressBar;

use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// One JSON object per asset on stdout instead of a progress bar.
    #[arg(long)]
    json: bool,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    jobs: usize,
}

pub fn run(library: &Library, args: Args) -> anyhow::Result<ExitCode> {
    let pending = library.pending_previews()?;
    let bar = output::count_bar(args.json, pending, "previews");
    let mut failure = None;
    let options = PreviewOptions { jobs: args.jobs };
    let summary = library.make_previews(&options, &mut Job::quiet(), &mut |report| {
        bar.inc(1);
        if args.json {
            if let Err(e) = output::json_line(report) {
                failure.get_or_insert(e);
            }
        } else {
            warn(&bar, report);
        }
    })?;
    bar.finish_and_clear();
    if let Some(e) = failure {
        return Err(e);
    }
    eprintln!(
        "{} previews made, {} could not be made, {} files unavailable (still to do)",
        summary.made, summary.not_made, summary.unavailable
    );
    // Files that are not there now are not a failure of this run: the
    // assets stay marked for the next one.
    Ok(ExitCode::SUCCESS)
}

/// Prints what went wrong with one asset's preview, above the bar.
pub fn warn(bar: &ProgressBar, report: &PreviewReport) {
    let name = report.path.as_deref().unwrap_or(&report.asset_id);
    let label = match report.status {
        PreviewStatus::Unavailable => "unavailable",
        _ => "warning",
    };
    for warning in &report.warnings {
        bar.suspend(|| eprintln!("{label}: {name}: {warning}"));
    }
}
