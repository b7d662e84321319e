//! Signed exports from the window, each checked again once written, as jobs
//! with throttled progress and cancel. Signing asks for the passphrase
//! again: what leaves the building is signed on purpose, not because someone
//! left the window unlocked.

use std::path::PathBuf;

use assay_core::{
    Actor, AuditCheck, AuditExport, AuditOptions, BuildOptions, DatasetBuild, DatasetCheck, Job,
    Library, ManifestCheck, ManifestExport, Selection, ShardFormat, XmpCheck, XmpExport,
};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::commands::review::acting;
use crate::error::AppResult;
use crate::progress::{run_job, JobUpdate};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ExportPhase {
    /// Reading, writing and signing; `done` of `total` assets.
    #[default]
    Export,
    /// Reading back what was written.
    Verify,
}

/// How far an export has come: the core's progress in assets while it
/// exports, then the phase that reads it back.
pub type ExportProgress = JobUpdate<ExportPhase>;

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

/// A dataset version built, and what checking its manifest and shards found.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct DatasetWritten {
    pub build: DatasetBuild,
    pub check: DatasetCheck,
}

/// The acting user's key, unlocked again with `passphrase`.
fn signer(state: &AppState, passphrase: &str) -> AppResult<(Library, Actor)> {
    let actor = acting(state)?;
    let library = state.library()?;
    let again = library.unlock(actor.name(), passphrase.as_bytes())?;
    Ok((library, again))
}

/// Runs `export` as the window's job `job`, then `verify` on what it wrote,
/// sending the progress of both. A cancel stops the export where the core
/// checks for it (nothing half-written); verification is not cancelled.
async fn export_job<E: Send + 'static, T: Send + 'static>(
    state: &AppState,
    job: u32,
    channel: Channel<ExportProgress>,
    export: impl FnOnce(&mut Job) -> assay_core::Result<E> + Send + 'static,
    verify: impl FnOnce(E) -> assay_core::Result<T> + Send + 'static,
) -> AppResult<T> {
    run_job(state, job, channel, "export", move |job, stream| {
        export(job).and_then(|exported| {
            stream.announce(|update| update.detail = ExportPhase::Verify);
            verify(exported)
        })
    })
    .await?
    .map_err(Into::into)
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
    job: u32,
    on_progress: Channel<ExportProgress>,
) -> AppResult<ManifestWritten> {
    let (library, actor) = signer(&state, &passphrase)?;
    let out = PathBuf::from(out);
    let (verifier, at) = (library.clone(), out.clone());
    export_job(
        &state,
        job,
        on_progress,
        move |job| library.export_manifest_with(&actor, &Selection::Assets(asset_ids), &out, job),
        move |export| {
            Ok(ManifestWritten {
                check: verifier.verify_manifest_file(&at)?,
                path: at.to_string_lossy().into_owned(),
                export,
            })
        },
    )
    .await
}

/// Writes an XMP sidecar for each of `asset_ids` (beside its file, or into
/// `out_dir`), then reads each back against the catalog. Sidecars carry
/// hashes, not signatures, and record no event, so the core asks for no
/// acting user (as `assay xmp` does not) and neither does this command.
#[tauri::command]
#[specta::specta]
pub async fn export_xmp(
    state: State<'_, AppState>,
    asset_ids: Vec<String>,
    out_dir: Option<String>,
    job: u32,
    on_progress: Channel<ExportProgress>,
) -> AppResult<XmpWritten> {
    let library = state.library()?;
    let dir = out_dir.filter(|d| !d.trim().is_empty()).map(PathBuf::from);
    let verifier = library.clone();
    export_job(
        &state,
        job,
        on_progress,
        move |job| library.export_xmp_with(&Selection::Assets(asset_ids), dir.as_deref(), job),
        // What was written is read back, also after a cancel.
        move |export| {
            Ok(XmpWritten {
                check: verifier.verify_xmp_files(&export.written)?,
                export,
            })
        },
    )
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
    content_credentials: bool,
    passphrase: String,
    job: u32,
    on_progress: Channel<ExportProgress>,
) -> AppResult<AuditWritten> {
    let (library, actor) = signer(&state, &passphrase)?;
    let out = PathBuf::from(out);
    let (verifier, at) = (library.clone(), out.clone());
    let options = AuditOptions {
        content_credentials,
    };
    export_job(
        &state,
        job,
        on_progress,
        move |job| {
            let selection = Selection::Assets(asset_ids);
            library.export_audit_with(&actor, &selection, &out, options, job)
        },
        move |export| {
            Ok(AuditWritten {
                check: verifier.verify_audit_file(&at)?,
                path: at.to_string_lossy().into_owned(),
                export,
            })
        },
    )
    .await
}

/// Builds the next version of dataset `name` into `out` (shards of about
/// `shard_bytes`, only what changed when `delta`, a C2PA sidecar per
/// sample when `content_credentials`), then checks its manifest and every
/// shard as a trainer would. Progress is in bytes of the files written.
#[tauri::command]
#[specta::specta]
#[allow(clippy::too_many_arguments)]
pub async fn build_dataset(
    state: State<'_, AppState>,
    name: String,
    format: ShardFormat,
    out: String,
    shard_bytes: u64,
    delta: bool,
    content_credentials: bool,
    passphrase: String,
    job: u32,
    on_progress: Channel<ExportProgress>,
) -> AppResult<DatasetWritten> {
    let (library, actor) = signer(&state, &passphrase)?;
    let options = BuildOptions {
        format,
        out: PathBuf::from(out),
        shard_bytes,
        delta,
        credentials: content_credentials,
    };
    let verifier = library.clone();
    export_job(
        &state,
        job,
        on_progress,
        move |job| library.build_dataset(&actor, &name, &options, job),
        move |build| {
            Ok(DatasetWritten {
                check: verifier
                    .verify_dataset_manifest_file(std::path::Path::new(&build.manifest_path))?,
                build,
            })
        },
    )
    .await
}
