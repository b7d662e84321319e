//! Files written so that nothing is ever half there: write-then-rename with
//! fsync, secret files only their owner can read, and hashing while
//! streaming. Knows nothing of assets, users or the catalog.

pub(crate) mod atomic;
pub(crate) mod hashing;

/// An I/O error as a user reads it, without the OS error number.
pub(crate) fn describe_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "file not found (deleted or moved)".to_owned(),
        PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}
