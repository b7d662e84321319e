//! What a failed command hands the front end: a stable code to branch on and
//! a message that names the file or field, as the core wrote it.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, specta::Type, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// The core's `Error::code()`, or one of the shell's own (`no_user`, `busy`).
    pub code: String,
    pub message: String,
}

impl AppError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        AppError {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

impl From<assay_core::Error> for AppError {
    fn from(e: assay_core::Error) -> Self {
        AppError::new(e.code(), e.to_string())
    }
}

pub type AppResult<T> = Result<T, AppError>;
