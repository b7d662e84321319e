//! Keeps an open window current: a thread asks the open library's catalog
//! twice a second whether anything was committed (by this window, a watched
//! folder's import, or `assay sync` in a terminal) and tells the window when
//! something was, so it refreshes what it shows without a reload.

use std::path::PathBuf;
use std::time::Duration;

use assay_core::CatalogChanges;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager};
use tauri_specta::Event;

use crate::state::AppState;

/// The catalog of the library at `root` changed.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct LibraryChanged {
    pub root: String,
}

const EVERY: Duration = Duration::from_millis(500);

/// Starts the thread; it lives as long as the app.
pub fn start(app: AppHandle) {
    std::thread::spawn(move || {
        let mut seen: Option<(PathBuf, CatalogChanges)> = None;
        loop {
            std::thread::sleep(EVERY);
            let Ok(library) = app.state::<AppState>().library() else {
                seen = None;
                continue;
            };
            match &mut seen {
                Some((root, changes)) if root == library.root() => {
                    // A catalog that cannot be read now is asked again next time.
                    if changes.changed().unwrap_or(false) {
                        let root = root.to_string_lossy().into_owned();
                        let _ = LibraryChanged { root }.emit(&app);
                    }
                }
                // Another library was opened: start noticing its changes.
                _ => {
                    seen = library
                        .changes()
                        .ok()
                        .map(|c| (library.root().to_owned(), c))
                }
            }
        }
    });
}
