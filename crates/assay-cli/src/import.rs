use std::path::PathBuf;
use std::process::ExitCode;

use assay_core::{ImportEvent, ImportOptions, Library};

use crate::identity::Who;
use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// Files and folders to import.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// One JSON object per file on stdout instead of a progress bar.
    #[arg(long)]
    json: bool,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// Stop once every file is browsable (checksum, metadata, a quick
    /// thumbnail); `assay previews` makes the previews later.
    #[arg(long)]
    defer_previews: bool,
}

pub fn run(library: &Library, who: &Who, args: Args) -> anyhow::Result<ExitCode> {
    let bar = output::bytes_bar(args.json);
    let mut files_found = 0u64;
    let mut files_done = 0u64;
    let mut failure: Option<anyhow::Error> = None;
    let options = ImportOptions {
        jobs: args.jobs,
        actor: who.actor(library)?,
        defer_previews: args.defer_previews,
    };
    // The second phase's bar, once the files are in.
    let mut previews_bar = None;
    let summary = library.import(&args.paths, &options, &mut |event| match event {
        ImportEvent::Found { size } => {
            files_found += 1;
            bar.inc_length(size);
            bar.set_message(format!("{files_done}/{files_found} files"));
        }
        ImportEvent::File(report) => {
            files_done += 1;
            bar.inc(report.size);
            bar.set_message(format!("{files_done}/{files_found} files"));
            if args.json {
                if let Err(e) = output::json_line(report) {
                    failure.get_or_insert(e);
                }
            } else if let Some(error) = &report.error {
                bar.suspend(|| eprintln!("failed: {}: {error}", report.path));
            } else {
                for warning in &report.warnings {
                    bar.suspend(|| eprintln!("warning: {}: {warning}", report.path));
                }
            }
        }
        ImportEvent::Skipped { path, reason } => {
            bar.suspend(|| eprintln!("skipped: {}: {reason}", path.display()));
        }
        // The summary line says it.
        ImportEvent::Stacked(_) => {}
        ImportEvent::PreviewsStarted { pending } => {
            bar.finish_and_clear();
            previews_bar = Some(output::count_bar(args.json, pending, "previews"));
        }
        ImportEvent::Preview(report) => {
            if let Some(previews) = &previews_bar {
                previews.inc(1);
                // In --json the warnings are on the asset (`assay show`);
                // stdout holds one line per file.
                if !args.json {
                    crate::previews::warn(previews, report);
                }
            }
        }
    })?;
    bar.finish_and_clear();
    if let Some(previews) = previews_bar {
        previews.finish_and_clear();
    }
    if let Some(e) = failure {
        return Err(e);
    }
    eprintln!(
        "{} imported, {} duplicates, {} unchanged, {} with warnings, {} failed{}{}",
        summary.imported,
        summary.duplicates,
        summary.unchanged,
        summary.with_warnings,
        summary.failed,
        if summary.skipped > 0 {
            format!(", {} skipped", summary.skipped)
        } else {
            String::new()
        },
        if summary.stacked > 0 {
            format!(", {} in stacks (raw pairs, bursts)", summary.stacked)
        } else {
            String::new()
        }
    );
    Ok(if summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
