//! Room on the blobs' volume: an upload is taken only if the volume keeps
//! `min_free_bytes` free once its bytes are written, so a full disk refuses
//! new bytes with a clear answer instead of failing writes half-way. Object
//! storage has no volume to fill; account quotas bound it.

use std::path::Path;

use assay_market_proto::ErrorCode;

use crate::blobs::Blobs;
use crate::error::ApiError;

/// Bytes an unprivileged process may still write on the volume of `path`.
fn available(path: &Path) -> std::io::Result<u64> {
    let stats = rustix::fs::statvfs(path)?;
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// Refuses `bytes` more unless `min_free` stays free on the volume of the
/// blobs' folder, if they are in one.
pub(crate) fn check(blobs: &dyn Blobs, bytes: u64, min_free: u64) -> Result<(), ApiError> {
    let Some(data) = blobs.local_root() else {
        return Ok(());
    };
    let free = available(data)
        .map_err(|e| ApiError::internal(format!("free space of {}: {e}", data.display())))?;
    if free < bytes.saturating_add(min_free) {
        return Err(ApiError::new(
            ErrorCode::InsufficientStorage,
            format!(
                "the server's disk has too little room for {bytes} more bytes; nothing was stored, try again later"
            ),
        ));
    }
    Ok(())
}
