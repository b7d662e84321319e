//! Importing files and folders, with throttled progress and cancel.

use std::path::PathBuf;

use assay_core::{ImportEvent, ImportOptions, ImportSummary};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{AppError, AppResult};
use crate::progress::{run_job, JobUpdate};
use crate::state::AppState;

/// An import's progress in files (done of those found so far), the file
/// just done, and the tallies so far.
pub type ImportProgress = JobUpdate<ImportSummary>;

/// Imports `paths` (files and folders, recursively) as the acting user, or
/// as the library itself while it has no users. `job` is the front end's
/// number for [`cancel_job`].
#[tauri::command]
#[specta::specta]
pub async fn import_paths(
    state: State<'_, AppState>,
    paths: Vec<String>,
    job: u32,
    on_progress: Channel<ImportProgress>,
) -> AppResult<ImportSummary> {
    let library = state.library()?;
    let actor = state.actor();
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    run_job(&state, job, on_progress, "import", move |job, stream| {
        // Browsable at once; the previews follow in the background
        // (`background_previews`), never holding the window's job.
        let options = ImportOptions {
            jobs: 0,
            actor,
            defer_previews: true,
        };
        library.import_with(&paths, &options, job, &mut |event| {
            stream.tell(|update| match event {
                ImportEvent::File(report) => {
                    update.detail.count(report);
                    update.current = Some(report.path.clone());
                }
                ImportEvent::Skipped { .. } => update.detail.skipped += 1,
                ImportEvent::Stacked(assets) => update.detail.stacked = assets,
                _ => {}
            })
        })
    })
    .await?
    .map_err(AppError::from)
}

/// Asks job `job` to stop after the files in flight; false if it is not running.
#[tauri::command]
#[specta::specta]
pub fn cancel_job(state: State<'_, AppState>, job: u32) -> bool {
    state.cancel_job(job)
}
