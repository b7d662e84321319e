//! Settings: the library's watched folders, its users and creator profiles.
//! Each change that affects watching restarts the watcher.

use std::path::{Path, PathBuf};

use assay_core::{Creator, NewCreator, Role, RoleInfo, User};
use tauri::{AppHandle, State};

use crate::commands::review::acting;
use crate::error::AppResult;
use crate::state::AppState;
use crate::watcher;

fn texts(folders: Vec<PathBuf>) -> Vec<String> {
    folders
        .into_iter()
        .map(|f| f.to_string_lossy().into_owned())
        .collect()
}

#[tauri::command]
#[specta::specta]
pub fn watched_folders(state: State<'_, AppState>) -> AppResult<Vec<String>> {
    Ok(texts(state.library()?.watched_folders()?))
}

/// Adds `path` to the watched folders (it must exist) and starts watching it.
#[tauri::command]
#[specta::specta]
pub fn add_watched_folder(
    app: AppHandle,
    state: State<'_, AppState>,
    path: String,
) -> AppResult<Vec<String>> {
    let library = state.library()?;
    library.add_watched_folder(Path::new(&path))?;
    watcher::restart(&app);
    Ok(texts(library.watched_folders()?))
}

/// Stops watching `path`; what was imported from it stays.
#[tauri::command]
#[specta::specta]
pub fn remove_watched_folder(
    app: AppHandle,
    state: State<'_, AppState>,
    path: String,
) -> AppResult<Vec<String>> {
    let library = state.library()?;
    library.remove_watched_folder(Path::new(&path))?;
    watcher::restart(&app);
    Ok(texts(library.watched_folders()?))
}

#[tauri::command]
#[specta::specta]
pub fn users(state: State<'_, AppState>) -> AppResult<Vec<User>> {
    Ok(state.library()?.users()?)
}

#[tauri::command]
#[specta::specta]
pub fn creators(state: State<'_, AppState>) -> AppResult<Vec<Creator>> {
    Ok(state.library()?.creators()?)
}

/// Adds a creator profile: who made the work and where their money goes;
/// with `user`, that creator's imports are linked to it on arrival.
#[tauri::command]
#[specta::specta]
pub fn add_creator(
    state: State<'_, AppState>,
    name: String,
    payout_ref: String,
    contact: Option<String>,
    attribution: Option<String>,
    default_license: Option<String>,
    user: Option<String>,
) -> AppResult<Creator> {
    let actor = acting(&state)?;
    Ok(state.library()?.add_creator(
        &actor,
        &NewCreator {
            name,
            payout_ref,
            contact,
            agreement_id: None,
            attribution,
            default_license,
            user,
        },
    )?)
}

/// The roles a user may have, each with the core's answers the add-user
/// and first-run forms need (which is offered first, which owns a creator
/// profile, which makes an administrator at first run).
#[tauri::command]
#[specta::specta]
pub fn roles() -> Vec<RoleInfo> {
    Role::ALL.into_iter().map(Role::info).collect()
}
