//! Expiry and recovery of uploads. An unfinished upload expires
//! `upload_ttl` after its last write: its part is deleted and it is marked
//! expired (410 from then on). At start, whatever a crash interrupted is
//! brought back to a state the records and the blobs agree on.

use std::collections::HashSet;
use std::sync::Arc;

use assay_fsio::hashing::Hashing;
use assay_market_proto::tus::UploadFile;
use assay_market_proto::ErrorCode;

use crate::app::App;
use crate::clock;
use crate::error::ApiError;
use crate::ids::{BlobId, UploadId};
use crate::near_duplicates;
use crate::records::{Upload, UploadState};

/// Frees an expired upload's bytes and marks it expired. The caller holds
/// the upload's lock.
pub(crate) fn expire(app: &App, id: &UploadId) -> Result<(), ApiError> {
    app.blobs.discard_part(id)?;
    app.records.expire_upload(id)?;
    Ok(())
}

/// Whether an open upload is past its expiry.
pub(crate) fn is_due(upload: &Upload, now_ms: i64) -> bool {
    upload.state == UploadState::Open && upload.expires_at_ms < now_ms
}

/// Expires upload `id` if it is due and no request holds it; says whether it did.
pub(crate) fn expire_if_due(app: &Arc<App>, id: &UploadId) -> Result<bool, ApiError> {
    let Some(_lock) = app.lock_upload(id) else {
        return Ok(false);
    };
    // Read again under the lock: a write may just have pushed the expiry back.
    match app.records.upload(id)? {
        Some(upload) if is_due(&upload, clock::now_ms()) => {
            expire(app, id)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Expires every due upload no request holds; returns how many.
pub(crate) fn sweep(app: &Arc<App>) -> Result<usize, ApiError> {
    let mut swept = 0;
    for id in app.records.expired_uploads(clock::now_ms())? {
        if expire_if_due(app, &id)? {
            swept += 1;
        }
    }
    Ok(swept)
}

/// Every `sweep_every` until the task is dropped: sweeps expired uploads
/// and releases purchases whose hold ended.
pub(crate) async fn run(app: Arc<App>) {
    let mut every = tokio::time::interval(app.config.sweep_every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let uploads = Arc::clone(&app);
        if let Err(e) = crate::app::blocking(move || sweep(&uploads)).await {
            eprintln!("assay-market: sweeping expired uploads: {}", e.message);
        }
        let escrow = Arc::clone(&app);
        if let Err(e) = crate::app::blocking(move || crate::purchases::release_due(&escrow)).await {
            eprintln!(
                "assay-market: releasing escrow past its hold: {}",
                e.message
            );
        }
    }
}

/// Verifies a fully received upload against the manifest's checksum and,
/// when it matches, makes it the asset's blob. A mismatch discards the
/// bytes and forgets the upload. The caller holds the upload's lock.
pub(crate) fn finish(app: &App, upload: &Upload) -> Result<(), ApiError> {
    // A picture is spooled to a file as it is hashed, for its fingerprint:
    // the part is read once either way, and never held in memory.
    let picture = match &upload.file {
        UploadFile::Asset(asset_id) => app
            .records
            .manifest_asset(upload.account, &upload.manifest_id, asset_id)?
            .map(|a| a.entry.media_type)
            .filter(|media_type| near_duplicates::is_picture(media_type, upload.length))
            .map(|media_type| (asset_id, media_type)),
        UploadFile::Shard(_) => None,
    };
    let reading =
        |e: std::io::Error| ApiError::internal(format!("reading upload {}: {e}", upload.id));
    let mut part = Hashing::new(app.blobs.read_part(&upload.id)?);
    let spool = match picture {
        Some(_) => Some(near_duplicates::spool(&mut part).map_err(|e| {
            ApiError::internal(format!(
                "copying upload {} to a temporary file to fingerprint it: {e}",
                upload.id
            ))
        })?),
        None => {
            part.drain(1 << 20).map_err(reading)?;
            None
        }
    };
    let actual = part.checksum();
    if actual != upload.checksum {
        discard(app, upload)?;
        return Err(ApiError::new(
            ErrorCode::FileChecksumMismatch,
            format!(
                "{} of manifest {}: the uploaded file's checksum is {actual} but the manifest says {}; the file was discarded, create a new upload",
                upload.file, upload.manifest_id, upload.checksum
            ),
        ));
    }
    let print = picture
        .zip(spool)
        .and_then(|((asset_id, media_type), spool)| {
            near_duplicates::fingerprint(spool, &media_type).map(|print| (asset_id, print))
        });
    if let Some((asset_id, print)) = &print {
        let refused = near_duplicates::refuse_if_listed(
            app,
            upload.account,
            asset_id,
            print,
            "the file was discarded",
        );
        if refused.is_err() {
            discard(app, upload)?;
            return refused;
        }
    }
    let blob = app.blobs.seal(&upload.id)?;
    let kept = record_blob(app, &upload.id, &blob)?;
    if let Some((_, print)) = print {
        app.records.record_fingerprint(&kept, &print)?;
    }
    Ok(())
}

/// Deletes a refused upload's bytes and forgets it.
fn discard(app: &App, upload: &Upload) -> Result<(), ApiError> {
    app.blobs.discard_part(&upload.id)?;
    app.records.remove_upload(&upload.id)?;
    Ok(())
}

/// Records a sealed blob as its upload's result; when the publisher's
/// identical bytes were recorded first, this copy is deleted. Returns the
/// blob kept.
fn record_blob(app: &App, id: &UploadId, blob: &BlobId) -> Result<BlobId, ApiError> {
    let kept = app.records.complete_upload(id)?;
    if kept != *blob {
        app.blobs.delete(blob)?;
    }
    Ok(kept)
}

/// Reconciles records and blobs after a stop, before anything is served.
/// With storage other processes share, what they touched within the
/// store's settling time may be their work under way: it is left to them
/// (or to the next start, once settled).
pub(crate) fn recover(app: &App) -> Result<(), ApiError> {
    let settled = clock::now_ms()
        .saturating_sub(i64::try_from(app.blobs.settling().as_millis()).unwrap_or(i64::MAX));
    let ttl = i64::try_from(app.config.upload_ttl.as_millis()).unwrap_or(i64::MAX);
    let open = app.records.open_uploads()?;
    let open_ids: HashSet<&UploadId> = open.iter().map(|u| &u.id).collect();
    // Parts of uploads that were removed, expired or finished.
    for part in app.blobs.parts()? {
        if !open_ids.contains(&part) {
            app.blobs.discard_part(&part)?;
        }
    }
    // An upload's last write was its expiry less the time to live.
    let touched = |u: &&Upload| u.expires_at_ms.saturating_sub(ttl) > settled;
    for upload in open.iter().filter(|u| !touched(u)) {
        let held = app.blobs.part_len(&upload.id)?;
        let sealed = BlobId::from(&upload.id);
        match held {
            // Stopped between the last write and the verification.
            Some(_) if upload.offset == upload.length => match finish(app, upload) {
                Err(e) if e.code == ErrorCode::FileChecksumMismatch => {}
                other => other?,
            },
            // Fewer bytes than were recorded as durable: nothing to resume from.
            Some(len) if len < upload.offset => {
                app.blobs.discard_part(&upload.id)?;
                app.records.remove_upload(&upload.id)?;
            }
            // Committed bytes the record missed (the process stopped
            // between the two): the record catches up.
            Some(len) if len > upload.offset && app.blobs.holds_only_committed() => {
                let expires_at_ms = app.upload_expiry();
                app.records
                    .advance_upload(&upload.id, upload.offset, len, expires_at_ms)?;
            }
            // Bytes past the offset are dropped by the next write.
            Some(_) => {}
            // Stopped between sealing the blob and recording it.
            None if upload.offset == upload.length && app.blobs.exists(&sealed)? => {
                record_blob(app, &upload.id, &sealed)?;
            }
            None => app.records.remove_upload(&upload.id)?,
        }
    }
    let known: HashSet<BlobId> = app.records.blob_ids()?.into_iter().collect();
    for blob in app.blobs.blobs()? {
        if !known.contains(&blob) {
            app.blobs.delete(&blob)?;
        }
    }
    // Previews stored but never recorded, or replaced and not yet deleted.
    let known: HashSet<_> = app.records.preview_ids()?.into_iter().collect();
    for preview in app.blobs.previews()? {
        if !known.contains(&preview) {
            app.blobs.delete_preview(&preview)?;
        }
    }
    Ok(())
}
