//! Checking every file the catalog knows against its checksum, with
//! throttled progress and cancel. The core records each location's status,
//! so missing and modified files show in the grid afterwards.

use assay_core::{FixityReport, FixityStatus, VerifyEvent, VerifyOptions, VerifySummary};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{AppError, AppResult};
use crate::progress::run_job;
use crate::state::AppState;

/// At most this many problems travel with each update; the counts are
/// always complete, and the grid's badges show every one.
const PROBLEMS_SHOWN: usize = 50;

/// Counts so far (`summary` tallies the files checked and their bytes);
/// the last one sent has `finished` set.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
pub struct CheckProgress {
    /// What the check will read.
    pub locations: u64,
    pub bytes: u64,
    pub summary: VerifySummary,
    /// The first modified or missing files found.
    pub problems: Vec<FixityReport>,
    pub current: Option<String>,
    pub finished: bool,
}

impl CheckProgress {
    fn on(&mut self, event: VerifyEvent) {
        match event {
            VerifyEvent::Planned { locations, bytes } => {
                self.locations = locations;
                self.bytes = bytes;
            }
            VerifyEvent::Checked { report, bytes } => {
                self.summary.count(report.status, bytes);
                if report.status != FixityStatus::Ok && self.problems.len() < PROBLEMS_SHOWN {
                    self.problems.push(report.clone());
                }
                self.current = Some(report.path.clone());
            }
        }
    }
}

/// Re-hashes every location of every asset. `job` is the front end's
/// number for `cancel_job`.
#[tauri::command]
#[specta::specta]
pub async fn check_files(
    state: State<'_, AppState>,
    job: u32,
    on_progress: Channel<CheckProgress>,
) -> AppResult<VerifySummary> {
    let library = state.library()?;
    run_job(&state, job, on_progress, "check", move |cancel, out| {
        let options = VerifyOptions { jobs: 0, cancel };
        let mut progress = CheckProgress::default();
        let summary = library.verify(&options, &mut |event| {
            progress.on(event);
            out.send(&progress);
        });
        if let Ok(summary) = &summary {
            progress.summary = summary.clone();
        }
        progress.finished = true;
        out.finish(&progress);
        summary
    })
    .await?
    .map_err(AppError::from)
}
