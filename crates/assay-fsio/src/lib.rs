//! Files written so that nothing is ever half there, the one home of this
//! plumbing for the whole workspace (the core, the marketplace server and
//! its client): write-then-rename with fsync ([`atomic`]), secret files only
//! their owner can read ([`atomic::write_secret`]) and read back never
//! through a link and never left readable by others ([`secret`]), and
//! SHA-256 while
//! streaming ([`hashing`]). Knows nothing of assets, users or catalogs.

pub mod atomic;
pub mod hashing;
pub mod secret;

/// An I/O error as a user reads it, without the OS error number.
pub fn describe_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "file not found (deleted or moved)".to_owned(),
        PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}
