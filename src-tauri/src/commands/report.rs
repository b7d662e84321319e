//! The dashboard's figures: the core's readiness report, as `assay report`
//! prints it.

use assay_core::Report;
use tauri::State;

use crate::error::AppResult;
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub fn report(state: State<'_, AppState>) -> AppResult<Report> {
    Ok(state.library()?.report()?)
}
