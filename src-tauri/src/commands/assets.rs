//! Reading the catalog: grid pages, one asset, its provenance.

use assay_core::{AssetRecord, Event, Filter, GridItem, GridQuery};
use tauri::State;

use crate::error::AppResult;
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub fn grid_page(state: State<'_, AppState>, query: GridQuery) -> AppResult<Vec<GridItem>> {
    Ok(state.library()?.grid_page(&query)?)
}

#[tauri::command]
#[specta::specta]
pub fn grid_count(state: State<'_, AppState>, filter: Filter) -> AppResult<u64> {
    Ok(state.library()?.grid_count(&filter)?)
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
