//! Reading the catalog: grid pages, one asset, its provenance, where a
//! video or audio asset plays from; showing an asset's file in the
//! system's file manager.

use assay_core::{AssetRecord, Event, Filter, GridItem, GridQuery};
use serde::Serialize;
use tauri::{AppHandle, Manager, State};

use crate::error::{AppError, AppResult};
use crate::media_server::MediaServer;
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

/// How a video or audio asset plays in the window.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct PlaybackView {
    /// Where the media element reads it (the loopback media server).
    pub url: String,
    pub media_type: String,
    /// A proxy rendition plays: the original's codecs would not.
    pub proxy: bool,
    /// The proxy holds only the start of a longer original.
    pub shortened: bool,
}

/// Readies a video or audio asset to play (making its proxy rendition
/// when its codecs would not play in the window, which can take a while)
/// and says where it plays from.
#[tauri::command]
#[specta::specta]
pub async fn prepare_playback(
    app: AppHandle,
    state: State<'_, AppState>,
    asset_id: String,
) -> AppResult<PlaybackView> {
    let media = app.try_state::<MediaServer>().ok_or_else(|| {
        AppError::new(
            "media_server",
            "video and audio cannot play: the media server did not start",
        )
    })?;
    let media = MediaServer::clone(&media);
    let library = state.library()?;
    let playback = tauri::async_runtime::spawn_blocking(move || library.playback(&asset_id))
        .await
        .map_err(|e| AppError::new("internal", e.to_string()))??;
    Ok(PlaybackView {
        url: media.url(&playback.asset_id),
        media_type: playback.media_type,
        proxy: playback.proxy,
        shortened: playback.shortened,
    })
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
