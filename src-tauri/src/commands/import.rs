//! Importing files and folders, with throttled progress and cancel.

use std::path::PathBuf;

use assay_core::{ImportEvent, ImportOptions, ImportSummary};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{AppError, AppResult};
use crate::progress::run_job;
use crate::state::AppState;

/// Counts so far; the last one sent has `finished` set.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
pub struct ImportProgress {
    pub files_found: u64,
    pub files_done: u64,
    pub bytes_found: u64,
    pub bytes_done: u64,
    /// New, duplicate, unchanged, failed and warned files, counted as the
    /// core counts them.
    pub summary: ImportSummary,
    /// The file last finished.
    pub current: Option<String>,
    pub finished: bool,
}

impl ImportProgress {
    fn on(&mut self, event: ImportEvent) {
        match event {
            ImportEvent::Found { size } => {
                self.files_found += 1;
                self.bytes_found += size;
            }
            ImportEvent::File(report) => {
                self.files_done += 1;
                self.bytes_done += report.size;
                self.summary.count(report);
                self.current = Some(report.path.clone());
            }
            ImportEvent::Skipped { .. } => self.summary.skipped += 1,
        }
    }
}

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
    run_job(&state, job, on_progress, "import", move |cancel, out| {
        let options = ImportOptions {
            jobs: 0,
            cancel,
            actor,
        };
        let mut progress = ImportProgress::default();
        let summary = library.import(&paths, &options, &mut |event| {
            progress.on(event);
            out.send(&progress);
        });
        progress.finished = true;
        out.finish(&progress);
        summary
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
