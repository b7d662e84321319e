//! Signed exports from the window, each checked again once written. Signing
//! asks for the passphrase again: what leaves the building is signed on
//! purpose, not because someone left the window unlocked.

use std::path::PathBuf;

use assay_core::{
    Actor, AuditCheck, AuditExport, Library, ManifestCheck, ManifestExport, Selection, XmpCheck,
    XmpExport,
};
use serde::Serialize;
use tauri::State;

use crate::commands::review::acting;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// An export and what verifying the written file found.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ManifestWritten {
    pub path: String,
    pub export: ManifestExport,
    pub check: ManifestCheck,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct XmpWritten {
    pub export: XmpExport,
    pub check: XmpCheck,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AuditWritten {
    pub path: String,
    pub export: AuditExport,
    pub check: AuditCheck,
}

/// The acting user's key, unlocked again with `passphrase`.
fn signer(state: &AppState, passphrase: &str) -> AppResult<(Library, Actor)> {
    let actor = acting(state)?;
    let library = state.library()?;
    let again = library.unlock(actor.name(), passphrase.as_bytes())?;
    Ok((library, again))
}

/// Runs an export off the event loop: it reads and hashes many files.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| AppError::new("internal", format!("the export stopped: {e}")))?
}

/// Exports the approved assets among `asset_ids` as a signed manifest at
/// `out`, then verifies it as a buyer would.
#[tauri::command]
#[specta::specta]
pub async fn export_manifest(
    state: State<'_, AppState>,
    asset_ids: Vec<String>,
    out: String,
    passphrase: String,
) -> AppResult<ManifestWritten> {
    let (library, actor) = signer(&state, &passphrase)?;
    let out = PathBuf::from(out);
    blocking(move || {
        let export = library.export_manifest(&actor, &Selection::Assets(asset_ids), &out)?;
        let check = library.verify_manifest_file(&out)?;
        Ok(ManifestWritten {
            path: out.to_string_lossy().into_owned(),
            export,
            check,
        })
    })
    .await
}

/// Writes an XMP sidecar for each of `asset_ids` (beside its file, or into
/// `out_dir`), then reads each back against the catalog. Sidecars carry
/// hashes, not signatures, so no passphrase is asked.
#[tauri::command]
#[specta::specta]
pub async fn export_xmp(
    state: State<'_, AppState>,
    asset_ids: Vec<String>,
    out_dir: Option<String>,
) -> AppResult<XmpWritten> {
    acting(&state)?;
    let library = state.library()?;
    let dir = out_dir.filter(|d| !d.trim().is_empty()).map(PathBuf::from);
    blocking(move || {
        let selection = Selection::Assets(asset_ids);
        let export = library.export_xmp(&selection, dir.as_deref())?;
        let check = library.verify_xmp(&selection, dir.as_deref())?;
        Ok(XmpWritten { export, check })
    })
    .await
}

/// Writes a signed audit package of `asset_ids` at `out`, then checks it
/// from the package alone.
#[tauri::command]
#[specta::specta]
pub async fn export_audit(
    state: State<'_, AppState>,
    asset_ids: Vec<String>,
    out: String,
    passphrase: String,
) -> AppResult<AuditWritten> {
    let (library, actor) = signer(&state, &passphrase)?;
    let out = PathBuf::from(out);
    blocking(move || {
        let export = library.export_audit(&actor, &Selection::Assets(asset_ids), &out)?;
        let check = library.verify_audit_file(&out)?;
        Ok(AuditWritten {
            path: out.to_string_lossy().into_owned(),
            export,
            check,
        })
    })
    .await
}
