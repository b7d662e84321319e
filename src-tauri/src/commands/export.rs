//! Signed exports from the window, each checked again once written.

use std::path::PathBuf;

use assay_core::{ManifestCheck, ManifestExport, Selection};
use serde::Serialize;
use tauri::State;

use crate::commands::review::acting;
use crate::error::AppResult;
use crate::state::AppState;

/// An export and what verifying the written file found.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ManifestWritten {
    pub path: String,
    pub export: ManifestExport,
    pub check: ManifestCheck,
}

/// Exports the approved assets among `asset_ids` as a signed manifest at
/// `out`, then verifies it as a buyer would.
#[tauri::command]
#[specta::specta]
pub async fn export_manifest(
    state: State<'_, AppState>,
    asset_ids: Vec<String>,
    out: String,
) -> AppResult<ManifestWritten> {
    let actor = acting(&state)?;
    let library = state.library();
    let out = PathBuf::from(out);
    tauri::async_runtime::spawn_blocking(move || {
        let export = library.export_manifest(&actor, &Selection::Assets(asset_ids), &out)?;
        let check = library.verify_manifest_file(&out)?;
        Ok(ManifestWritten {
            path: out.to_string_lossy().into_owned(),
            export,
            check,
        })
    })
    .await
    .map_err(|e| crate::error::AppError::new("internal", format!("the export stopped: {e}")))?
}
