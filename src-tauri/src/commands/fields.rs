//! The metadata form: the fields the schema defines, and the problems of a
//! value as the user types it.

use assay_core::{FieldProblem, FieldSpec};
use tauri::State;

use crate::error::AppResult;
use crate::state::AppState;

/// Every editable field and the input it takes, read from the asset schema.
#[tauri::command]
#[specta::specta]
pub fn field_specs() -> Vec<FieldSpec> {
    assay_core::field_specs()
}

/// What is wrong with `value` for `field` (the text an edit takes), each
/// problem at the JSON pointer of its part; empty when it may be saved.
#[tauri::command]
#[specta::specta]
pub fn check_field(
    state: State<'_, AppState>,
    field: String,
    value: String,
) -> AppResult<Vec<FieldProblem>> {
    let taxonomy = state.library()?.taxonomy()?;
    Ok(assay_core::field_problems(&field, &value, &taxonomy))
}
