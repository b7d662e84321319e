//! The library's watched folders, kept imported while the window is open:
//! one thread runs the core's watcher as the acting user (a library with
//! users signs each import, so nothing is watched while nobody is unlocked).
//! What it imports reaches the window through `live`; a failure is told to
//! the window as a `WatchFailed` event.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use assay_core::WatchOptions;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager};
use tauri_specta::Event;

use crate::state::AppState;

/// Watching stopped: a folder went away or could not be watched.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct WatchFailed {
    pub code: String,
    pub message: String,
}

/// Stops the running watcher, if any, and starts one for the open library,
/// its watched folders and the acting user, if there is anything to watch.
pub fn restart(app: &AppHandle) {
    let state = app.state::<AppState>();
    let cancel = Arc::new(AtomicBool::new(false));
    if let Some(old) = state.swap_watcher(Some(cancel.clone())) {
        old.store(true, Ordering::Relaxed);
    }
    let Ok(library) = state.library() else {
        return;
    };
    let actor = state.actor();
    let has_users = library.users().map(|u| !u.is_empty()).unwrap_or(true);
    if has_users && actor.is_none() {
        return;
    }
    let folders = match library.watched_folders() {
        Ok(folders) if !folders.is_empty() => folders,
        _ => return,
    };
    let app = app.clone();
    std::thread::spawn(move || {
        let options = WatchOptions {
            cancel,
            actor,
            ..WatchOptions::default()
        };
        if let Err(e) = library.watch(&folders, &options, &mut |_| {}) {
            let _ = WatchFailed {
                code: e.code().to_owned(),
                message: e.to_string(),
            }
            .emit(&app);
        }
    });
}
