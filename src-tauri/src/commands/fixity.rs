//! Checking every file the catalog knows against its checksum, with
//! throttled progress and cancel. The core records each location's status,
//! so missing and modified files show in the grid afterwards.

use assay_core::{FixityEvent, FixityOptions, FixityReport, FixityStatus, FixitySummary};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{AppError, AppResult};
use crate::progress::{run_job, JobUpdate};
use crate::state::AppState;

/// At most this many problems travel with each update; the counts are
/// always complete, and the grid's badges show every one.
const PROBLEMS_SHOWN: usize = 50;

/// What a file check tallies beside its progress in bytes (of the sizes
/// the catalog holds): the locations planned, the counts so far
/// (`summary`), and the first modified or missing files found.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
pub struct CheckTally {
    pub locations: u64,
    pub summary: FixitySummary,
    pub problems: Vec<FixityReport>,
}

impl CheckTally {
    /// Counts `event`; returns the path it checked, if it checked one.
    fn on(&mut self, event: FixityEvent) -> Option<String> {
        match event {
            FixityEvent::Planned { locations, .. } => {
                self.locations = locations;
                None
            }
            FixityEvent::Checked { report, bytes } => {
                self.summary.count(report.status, bytes);
                if report.status != FixityStatus::Ok && self.problems.len() < PROBLEMS_SHOWN {
                    self.problems.push(report.clone());
                }
                Some(report.path.clone())
            }
        }
    }
}

/// A file check's progress in bytes, the file just checked, and its tally.
pub type CheckProgress = JobUpdate<CheckTally>;

/// Re-hashes every location of every asset. `job` is the front end's
/// number for `cancel_job`.
#[tauri::command]
#[specta::specta]
pub async fn check_files(
    state: State<'_, AppState>,
    job: u32,
    on_progress: Channel<CheckProgress>,
) -> AppResult<FixitySummary> {
    let library = state.library()?;
    run_job(&state, job, on_progress, "check", move |job, stream| {
        let options = FixityOptions { jobs: 0 };
        let summary = library.check_fixity_with(&options, job, &mut |event| {
            stream.tell(|update| {
                if let Some(path) = update.detail.on(event) {
                    update.current = Some(path);
                }
            })
        });
        if let Ok(summary) = &summary {
            stream.tell(|update| update.detail.summary = summary.clone());
        }
        summary
    })
    .await?
    .map_err(AppError::from)
}
