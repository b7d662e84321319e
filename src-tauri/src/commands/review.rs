//! Tagging, review and approval: bulk edits and their undo, submit, approve, reject,
//! release, what the acting user may do to a selection, the queue, and the
//! license picker's tags.

use std::sync::Arc;

use assay_core::{
    Actor, Change, Decision, EditSummary, Permits, QueueItem, Selection, Undone, UndoneDecision,
};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{AppError, AppResult};
use crate::progress::{run_job, JobUpdate};
use crate::state::AppState;

/// The acting user, or the error the front end answers with an unlock prompt.
pub fn acting(state: &AppState) -> AppResult<Arc<Actor>> {
    state
        .actor()
        .ok_or_else(|| AppError::new("no_user", "unlock a user first: nobody is acting"))
}

/// One field to set, as `assay edit --set FIELD=VALUE` takes it (an empty
/// value clears the field; JSON fields take JSON).
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct FieldSet {
    pub field: String,
    pub value: String,
}

/// A bulk edit's progress in assets (as each chunk is written); it tallies
/// nothing beside it.
pub type EditProgress = JobUpdate<()>;

/// Applies every change to every asset of `asset_ids`, or to none, as the
/// window's job `job`: progress in assets, and a cancel that leaves the
/// catalog as it was (an edit is one transaction).
#[tauri::command]
#[specta::specta]
pub async fn edit_assets(
    state: State<'_, AppState>,
    asset_ids: Vec<String>,
    sets: Vec<FieldSet>,
    job: u32,
    on_progress: Channel<EditProgress>,
) -> AppResult<EditSummary> {
    let actor = acting(&state)?;
    let changes = sets
        .iter()
        .map(|s| Change::set_text(&s.field, &s.value))
        .collect::<assay_core::Result<Vec<_>>>()?;
    let library = state.library()?;
    run_job(&state, job, on_progress, "edit", move |job, _| {
        library.edit_with(&actor, &Selection::Assets(asset_ids), &changes, job)
    })
    .await?
    .map_err(AppError::from)
}

/// Undoes the acting user's last edit, as a new signed edit that sets back
/// what it changed on every asset not changed since.
#[tauri::command]
#[specta::specta]
pub fn undo_last_edit(state: State<'_, AppState>) -> AppResult<Undone> {
    let actor = acting(&state)?;
    Ok(state.library()?.undo_last_edit(&actor)?)
}

/// Takes back the acting rights manager's last approval or rejection: its
/// assets go back to pending review, but for those exported, listed or
/// changed since.
#[tauri::command]
#[specta::specta]
pub fn undo_last_decision(state: State<'_, AppState>) -> AppResult<UndoneDecision> {
    let actor = acting(&state)?;
    Ok(state.library()?.undo_last_decision(&actor)?)
}

#[tauri::command]
#[specta::specta]
pub fn submit(state: State<'_, AppState>, asset_ids: Vec<String>) -> AppResult<Vec<Decision>> {
    let actor = acting(&state)?;
    Ok(state
        .library()?
        .submit(&actor, &Selection::Assets(asset_ids))?)
}

#[tauri::command]
#[specta::specta]
pub fn approve(
    state: State<'_, AppState>,
    asset_ids: Vec<String>,
    comment: Option<String>,
) -> AppResult<Vec<Decision>> {
    let actor = acting(&state)?;
    Ok(state.library()?.approve(
        &actor,
        &Selection::Assets(asset_ids),
        comment.as_deref().filter(|c| !c.trim().is_empty()),
    )?)
}

#[tauri::command]
#[specta::specta]
pub fn reject(
    state: State<'_, AppState>,
    asset_ids: Vec<String>,
    comment: String,
) -> AppResult<Vec<Decision>> {
    let actor = acting(&state)?;
    Ok(state
        .library()?
        .reject(&actor, &Selection::Assets(asset_ids), &comment)?)
}

/// Sends quarantined assets back to draft, to be fixed and submitted again.
#[tauri::command]
#[specta::specta]
pub fn release(state: State<'_, AppState>, asset_ids: Vec<String>) -> AppResult<Vec<Decision>> {
    let actor = acting(&state)?;
    Ok(state
        .library()?
        .release(&actor, &Selection::Assets(asset_ids))?)
}

/// What the acting user may do to `asset_ids`, action by action, with the
/// rule that refuses each one it may not take: the window enables its
/// Edit, Submit, Approve, Reject and Release controls from this alone.
#[tauri::command]
#[specta::specta]
pub fn permits(state: State<'_, AppState>, asset_ids: Vec<String>) -> AppResult<Permits> {
    let actor = acting(&state)?;
    Ok(state
        .library()?
        .permits(&actor, &Selection::Assets(asset_ids))?)
}

/// What waits for the acting user's role, oldest first.
#[tauri::command]
#[specta::specta]
pub fn queue(state: State<'_, AppState>) -> AppResult<Vec<QueueItem>> {
    let actor = acting(&state)?;
    Ok(state.library()?.queue(&actor)?)
}

/// The rights fields a bulk edit may set, from the asset schema.
#[tauri::command]
#[specta::specta]
pub fn editable_fields() -> Vec<String> {
    let mut fields = assay_core::metadata::editable_fields();
    fields.sort();
    fields
}

/// A license tag as the picker shows it.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct LicenseChoice {
    pub tag: String,
    pub label: String,
    /// One plain sentence.
    pub explanation: String,
    pub ai_training_allowed: bool,
}

#[tauri::command]
#[specta::specta]
pub fn license_tags(state: State<'_, AppState>) -> AppResult<Vec<LicenseChoice>> {
    Ok(state
        .library()?
        .taxonomy()?
        .iter()
        .map(|t| LicenseChoice {
            tag: t.tag.clone(),
            label: t.label.clone(),
            explanation: t.explanation.clone(),
            ai_training_allowed: t.ai_training_allowed,
        })
        .collect())
}
