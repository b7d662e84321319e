//! "Show in folder": opens the system's file manager on the folder that
//! holds a file. Only a location the catalog records for the asset is
//! opened, so the window cannot be used to open arbitrary paths.
//! `ASSAY_OPENER` names another program to run with the folder (the
//! end-to-end tests point it at a script that records what it was given).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{AppError, AppResult};

/// The platform's opener for a folder.
fn opener() -> String {
    if let Some(program) = std::env::var_os("ASSAY_OPENER") {
        return program.to_string_lossy().into_owned();
    }
    if cfg!(target_os = "macos") {
        "open".into()
    } else if cfg!(windows) {
        "explorer".into()
    } else {
        "xdg-open".into()
    }
}

/// Opens the folder holding `file`, which must exist.
pub fn show_in_folder(file: &Path) -> AppResult<()> {
    let folder = file
        .parent()
        .filter(|folder| folder.is_dir())
        .ok_or_else(|| {
            AppError::new(
                "not_found",
                format!(
                    "{}: its folder is not there (moved, or on a disk that is not connected)",
                    file.display()
                ),
            )
        })?;
    let program = opener();
    // The opener is left to run on its own; its window outlives the call.
    Command::new(&program)
        .arg(folder)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| AppError::new("io", format!("{program} {}: {e}", folder.display())))
}
