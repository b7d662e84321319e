//! Importing files and folders, with throttled progress and cancel.

use std::path::PathBuf;

use assay_core::{FileStatus, ImportEvent, ImportOptions, ImportSummary};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{AppError, AppResult};
use crate::progress::Throttled;
use crate::state::AppState;

/// Counts so far; the last one sent has `finished` set.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
pub struct ImportProgress {
    pub files_found: u32,
    pub files_done: u32,
    pub imported: u32,
    pub duplicates: u32,
    pub unchanged: u32,
    pub failed: u32,
    pub with_warnings: u32,
    pub bytes_found: u64,
    pub bytes_done: u64,
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
                match report.status {
                    FileStatus::Imported => self.imported += 1,
                    FileStatus::Duplicate => self.duplicates += 1,
                    FileStatus::Unchanged => self.unchanged += 1,
                    FileStatus::Failed => self.failed += 1,
                }
                if !report.warnings.is_empty() {
                    self.with_warnings += 1;
                }
                self.current = Some(report.path.clone());
            }
            ImportEvent::Skipped { .. } => {}
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
    let library = state.library();
    let options = ImportOptions {
        jobs: 0,
        cancel: state.start_job(job),
        actor: state.actor(),
    };
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    let run = tauri::async_runtime::spawn_blocking(move || {
        let mut progress = ImportProgress::default();
        let mut out = Throttled::new(on_progress);
        let summary = library.import(&paths, &options, &mut |event| {
            progress.on(event);
            out.send(&progress);
        });
        progress.finished = true;
        out.finish(&progress);
        summary
    });
    let summary = run.await;
    state.finish_job(job);
    summary
        .map_err(|e| AppError::new("internal", format!("the import stopped: {e}")))?
        .map_err(AppError::from)
}

/// Asks job `job` to stop after the files in flight; false if it is not running.
#[tauri::command]
#[specta::specta]
pub fn cancel_job(state: State<'_, AppState>, job: u32) -> bool {
    state.cancel_job(job)
}
