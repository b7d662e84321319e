//! Opening libraries and acting as a user.

use std::sync::Arc;

use assay_core::{FirstUser, Library, NewCreator, Permissions, Role, User};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, State};

use crate::commands::review::acting;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::watcher;

/// What the window shows about the open library and who acts in it.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct LibraryInfo {
    pub root: String,
    pub assets: u64,
    pub users: Vec<User>,
    pub acting: Option<Acting>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct Acting {
    pub name: String,
    pub role: Role,
    /// What the role may do: the window shows its screens and controls
    /// from this; it enables the controls that act on assets from the
    /// core's `permits` for those assets.
    pub may: Permissions,
}

fn info(state: &AppState) -> AppResult<LibraryInfo> {
    let library = state.library()?;
    Ok(LibraryInfo {
        root: library.root().to_string_lossy().into_owned(),
        assets: library.asset_count()?,
        users: library.users()?,
        acting: state.actor().map(|a| Acting {
            name: a.name().to_owned(),
            role: a.role(),
            may: Permissions::of(a.role()),
        }),
    })
}

/// What the window starts on: the open library, or why none is open and
/// where the picker proposes one.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct StartupInfo {
    pub library: Option<LibraryInfo>,
    /// Why the library expected at start did not open (`library_missing`, ...).
    pub problem: Option<AppError>,
    /// The folder the picker proposes: the default location on a first run,
    /// the missing folder when one went missing.
    pub suggested: String,
}

#[tauri::command]
#[specta::specta]
pub fn startup(state: State<'_, AppState>) -> AppResult<StartupInfo> {
    let library = match state.library() {
        Ok(_) => Some(info(&state)?),
        Err(_) => None,
    };
    Ok(StartupInfo {
        problem: state.start_problem().filter(|_| library.is_none()).cloned(),
        library,
        suggested: state.suggested().to_string_lossy().into_owned(),
    })
}

#[tauri::command]
#[specta::specta]
pub fn library_info(state: State<'_, AppState>) -> AppResult<LibraryInfo> {
    info(&state)
}

/// Opens the library at `path`; with `create`, makes it if it does not
/// exist. The next start opens it again.
#[tauri::command]
#[specta::specta]
pub fn open_library(
    app: AppHandle,
    state: State<'_, AppState>,
    path: String,
    create: bool,
) -> AppResult<LibraryInfo> {
    let library = if create {
        Library::open(&path)?
    } else {
        Library::open_existing(&path)?
    };
    if let Some(config) = state.config() {
        crate::startup::remember(config, library.root())?;
    }
    state.set_library(library);
    watcher::restart(&app);
    info(&state)
}

/// Adds a user; the first user of a library (an admin) needs no one acting.
#[tauri::command]
#[specta::specta]
pub fn add_user(
    state: State<'_, AppState>,
    name: String,
    role: Role,
    passphrase: String,
) -> AppResult<User> {
    let actor = state.actor();
    Ok(state
        .library()?
        .add_user(actor.as_deref(), &name, role, passphrase.as_bytes())?)
}

/// A creator's own profile, as the first-run form gives it.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct OwnProfile {
    /// The name buyers credit; the user's name when blank.
    pub name: Option<String>,
    pub payout_ref: String,
    pub contact: Option<String>,
    pub default_license: Option<String>,
}

/// A library's first run: creates `name` in `role` (with the administrator
/// and, for a creator, the profile the core adds) and acts as them.
#[tauri::command]
#[specta::specta]
pub fn set_up(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    role: Role,
    passphrase: String,
    profile: Option<OwnProfile>,
) -> AppResult<LibraryInfo> {
    let creator = profile.map(|p| NewCreator {
        name: p.name.unwrap_or_default(),
        payout_ref: p.payout_ref,
        contact: p.contact,
        default_license: p.default_license,
        ..NewCreator::default()
    });
    let actor = state.library()?.set_up(&FirstUser {
        name,
        role,
        passphrase: passphrase.into_bytes(),
        creator,
    })?;
    state.set_actor(Some(Arc::new(actor)));
    watcher::restart(&app);
    info(&state)
}

/// Encrypts the acting user's key under `next` instead of `current`.
#[tauri::command]
#[specta::specta]
pub fn change_passphrase(
    state: State<'_, AppState>,
    current: String,
    next: String,
) -> AppResult<()> {
    let actor = acting(&state)?;
    Ok(state
        .library()?
        .change_passphrase(actor.name(), current.as_bytes(), next.as_bytes())?)
}

/// Unlocks `name`'s key: from now on the window acts as them.
#[tauri::command]
#[specta::specta]
pub fn unlock(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    passphrase: String,
) -> AppResult<LibraryInfo> {
    let actor = state.library()?.unlock(&name, passphrase.as_bytes())?;
    state.set_actor(Some(Arc::new(actor)));
    // Watched folders are imported as whoever acts.
    watcher::restart(&app);
    info(&state)
}

#[tauri::command]
#[specta::specta]
pub fn lock(app: AppHandle, state: State<'_, AppState>) -> AppResult<LibraryInfo> {
    state.set_actor(None);
    watcher::restart(&app);
    info(&state)
}
