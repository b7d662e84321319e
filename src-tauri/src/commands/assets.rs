//! Reading the catalog: grid pages, one asset, its provenance; showing an
//! asset's file in the system's file manager.

use assay_core::{AssetRecord, Event, Filter, GridItem, GridQuery};
use tauri::State;

use crate::error::{AppError, AppResult};
use crate::reveal;
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub fn grid_page(state: State<'_, AppState>, query: GridQuery) -> AppResult<Vec<GridItem>> {
    Ok(state.library()?.grid_page(&query)?)
}

#[tauri::command]
#[specta::specta]
pub fn grid_count(
    state: State<'_, AppState>,
    filter: Filter,
    stack: Option<String>,
) -> AppResult<u64> {
    Ok(state.library()?.grid_count(&filter, stack.as_deref())?)
}

#[tauri::command]
#[specta::specta]
pub fn asset(state: State<'_, AppState>, asset_id: String) -> AppResult<AssetRecord> {
    Ok(state.library()?.record(&asset_id)?)
}

#[tauri::command]
#[specta::specta]
pub fn provenance(state: State<'_, AppState>, asset_id: String) -> AppResult<Vec<Event>> {
    Ok(state.library()?.provenance(&asset_id)?)
}

/// Opens the folder of `path`, one of `asset_id`'s recorded locations.
#[tauri::command]
#[specta::specta]
pub fn show_in_folder(state: State<'_, AppState>, asset_id: String, path: String) -> AppResult<()> {
    let record = state.library()?.record(&asset_id)?;
    if !record.locations.iter().any(|l| l.path == path) {
        return Err(AppError::new(
            "not_found",
            format!("{path}: not a location of asset {asset_id}"),
        ));
    }
    reveal::show_in_folder(std::path::Path::new(&path))
}
