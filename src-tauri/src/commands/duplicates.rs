//! Near-duplicates and stacks: the groups left to decide, and what a
//! reviewer decides about one (stack it, keep its assets apart, mark the
//! copies); stacking and unstacking from the grid.

use assay_core::{DuplicateGroup, EditSummary, KeptApart, Stack, StackKind, DEFAULT_MAX_DISTANCE};
use tauri::State;

use crate::commands::review::acting;
use crate::error::AppResult;
use crate::state::AppState;

/// Every group of near-identical assets left to decide, largest first.
#[tauri::command]
#[specta::specta]
pub fn duplicates(
    state: State<'_, AppState>,
    max_distance: Option<u32>,
) -> AppResult<Vec<DuplicateGroup>> {
    Ok(state
        .library()?
        .duplicates(max_distance.unwrap_or(DEFAULT_MAX_DISTANCE))?)
}

/// Stacks `others` under `top`.
#[tauri::command]
#[specta::specta]
pub fn stack_assets(
    state: State<'_, AppState>,
    top: String,
    others: Vec<String>,
    kind: StackKind,
) -> AppResult<Stack> {
    let actor = state.actor();
    Ok(state
        .library()?
        .stack(actor.as_deref(), &top, &others, kind)?)
}

/// Dissolves the stack `asset_id` is in; returns the assets it held.
#[tauri::command]
#[specta::specta]
pub fn unstack(state: State<'_, AppState>, asset_id: String) -> AppResult<Vec<String>> {
    let actor = state.actor();
    Ok(state.library()?.unstack(actor.as_deref(), &asset_id)?)
}

/// Records that `asset_ids` are different works, however alike they look.
#[tauri::command]
#[specta::specta]
pub fn keep_apart(state: State<'_, AppState>, asset_ids: Vec<String>) -> AppResult<KeptApart> {
    let actor = state.actor();
    Ok(state.library()?.keep_apart(actor.as_deref(), &asset_ids)?)
}

/// Marks `others` as duplicates of `keeper`: a signed edit of their rights.
#[tauri::command]
#[specta::specta]
pub fn mark_duplicates(
    state: State<'_, AppState>,
    keeper: String,
    others: Vec<String>,
) -> AppResult<EditSummary> {
    let actor = acting(&state)?;
    Ok(state.library()?.mark_duplicates(&actor, &keeper, &others)?)
}
