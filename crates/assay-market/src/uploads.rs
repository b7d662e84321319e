//! tus 1.0 uploads of the files a publisher's manifests list: the core
//! protocol with the creation, checksum (sha1 and sha256), termination and
//! expiration extensions (see `assay_market_proto::tus`).
//!
//! An upload is of one manifest asset and has exactly its `size_bytes`. The
//! PATCH that brings it to its length answers only after the whole file's
//! SHA-256 matched the manifest's checksum; otherwise the bytes are
//! discarded and the upload is gone. At most one request writes an upload
//! at a time; the records' offset only moves once the bytes are durable.
//! An upload belongs to its publisher: to anyone else it does not exist.

use assay_market_proto::tus::{self, UploadFile, UploadMetadata};
use assay_market_proto::ErrorCode;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use crate::app::{blocking, App, AppState};
use crate::auth::Caller;
use crate::chunk::{self, Received};
use crate::clock;
use crate::error::{set_header, ApiError};
use crate::extract::{shown, UploadPath};
use crate::free_space;
use crate::ids::UploadId;
use crate::records::{Account, NewUpload, RecordsError, Upload, UploadState};
use crate::sweep;

/// An upload's URL, as `Location` gives it.
pub(crate) fn url(id: &UploadId) -> String {
    format!("{}/{id}", tus::UPLOADS_PATH)
}

/// Whether reading a body failed because it passed its limit.
pub(crate) fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(error) = source {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// `OPTIONS /v1/uploads`: what the server implements.
pub(crate) async fn options(State(app): State<AppState>) -> Response {
    let mut headers = HeaderMap::new();
    set_header(&mut headers, tus::TUS_VERSION, tus::VERSION);
    set_header(&mut headers, tus::TUS_EXTENSION, tus::EXTENSIONS);
    set_header(
        &mut headers,
        tus::TUS_CHECKSUM_ALGORITHM,
        tus::CHECKSUM_ALGORITHMS,
    );
    set_header(
        &mut headers,
        tus::TUS_MAX_SIZE,
        &app.config.max_upload_bytes.to_string(),
    );
    (StatusCode::NO_CONTENT, headers).into_response()
}

/// `POST /v1/uploads`: a new upload of one file of the caller's manifests
/// (an asset's original, or a dataset manifest's shard).
pub(crate) async fn create(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_version(&headers)?;
    let length = number(&headers, tus::UPLOAD_LENGTH)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "Upload-Length is required (deferred lengths are not supported)",
        )
    })?;
    let max = app.config.max_upload_bytes;
    if length > max {
        return Err(ApiError::new(
            ErrorCode::UploadTooLarge,
            format!("Upload-Length {length} is more than this server's Tus-Max-Size, {max}"),
        ));
    }
    let metadata = match headers.get(tus::UPLOAD_METADATA).map(|v| v.to_str()) {
        None => Err("Upload-Metadata is required".to_owned()),
        Some(Err(_)) => Err("Upload-Metadata is not ASCII".to_owned()),
        Some(Ok(text)) => UploadMetadata::parse(text).map_err(|e| e.to_string()),
    }
    .map_err(|why| ApiError::new(ErrorCode::UploadMetadataInvalid, why))?;
    let UploadMetadata { manifest_id, file } = metadata;
    let (m, f) = (manifest_id.clone(), file.clone());
    let size = app
        .records(move |r| match &f {
            UploadFile::Asset(id) => Ok(r
                .manifest_asset(account.id, &m, id)?
                .map(|a| a.entry.size_bytes)),
            UploadFile::Shard(name) => Ok(r
                .manifest_shard(account.id, &m, name)?
                .map(|s| s.entry.size_bytes)),
        })
        .await?
        .ok_or_else(|| {
            let (what, id) = match &file {
                UploadFile::Asset(id) => ("asset", id),
                UploadFile::Shard(name) => ("shard", name),
            };
            ApiError::new(
                ErrorCode::AssetNotInManifest,
                format!(
                    "{what} {:?} is not in manifest {:?}, or that manifest is not one of yours",
                    shown(id),
                    shown(&manifest_id)
                ),
            )
        })?;
    if size != length {
        return Err(ApiError::new(
            ErrorCode::UploadLengthMismatch,
            format!("Upload-Length {length} is not the size_bytes of {file}, {size}"),
        ));
    }
    let new = NewUpload {
        id: UploadId::random(),
        account: account.id,
        manifest_id,
        file,
        length,
        expires_at_ms: app.upload_expiry(),
        quota_bytes: app.config.account_quota_bytes,
    };
    free_space::check(app.blobs.as_ref(), length, app.config.min_free_bytes)?;
    let task = app.clone();
    let upload = blocking(move || start(&task, new)).await?;
    let mut response = StatusCode::CREATED.into_response();
    let headers = response.headers_mut();
    set_header(headers, header::LOCATION.as_str(), &url(&upload.id));
    state_headers(headers, &upload);
    Ok(response)
}

/// Records the upload and creates its part, taking over from an expired
/// upload of the same asset if one is in the way. An empty file is
/// finished at once.
fn start(app: &std::sync::Arc<App>, new: NewUpload) -> Result<Upload, ApiError> {
    let upload = match app.records.create_upload(new.clone()) {
        Err(RecordsError::UploadInProgress { upload, .. })
            if sweep::expire_if_due(app, &upload)? =>
        {
            app.records.create_upload(new)?
        }
        other => other?,
    };
    if let Err(e) = app.blobs.create_part(&upload.id) {
        app.records.remove_upload(&upload.id)?;
        return Err(e.into());
    }
    if upload.length > 0 {
        return Ok(upload);
    }
    let Some(_lock) = app.lock_upload(&upload.id) else {
        return Err(locked(&upload.id));
    };
    sweep::finish(app, &upload)?;
    Ok(Upload {
        state: UploadState::Complete,
        ..upload
    })
}

/// `HEAD /v1/uploads/{id}`: where the upload stands.
pub(crate) async fn head(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    UploadPath(id): UploadPath,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_version(&headers)?;
    let upload = owned(&app, &account, &id).await?;
    refuse_expired(&upload)?;
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    state_headers(headers, &upload);
    set_header(headers, tus::UPLOAD_LENGTH, &upload.length.to_string());
    set_header(headers, header::CACHE_CONTROL.as_str(), "no-store");
    Ok(response)
}

/// `PATCH /v1/uploads/{id}`: the next chunk, at the upload's offset.
pub(crate) async fn patch(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    UploadPath(id): UploadPath,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_version(&headers)?;
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if kind != tus::OFFSET_OCTET_STREAM {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "a PATCH body is {}, not {:?}",
                tus::OFFSET_OCTET_STREAM,
                shown(kind)
            ),
        ));
    }
    let offset = number(&headers, tus::UPLOAD_OFFSET)?
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest, "Upload-Offset is required"))?;
    let declared = headers
        .get(tus::UPLOAD_CHECKSUM)
        .map(|v| tus::parse_checksum(v.to_str().unwrap_or_default()))
        .transpose()
        .map_err(|e| ApiError::new(ErrorCode::ChecksumAlgorithmUnsupported, e.to_string()))?;
    // One of the account's few slots for chunks under way: a client that
    // trickles bytes on many connections holds only these.
    let _slot = app.uploading.take(account.id)?;
    let _lock = app.lock_upload(&id).ok_or_else(|| locked(&id))?;
    let upload = owned(&app, &account, &id).await?;
    if sweep::is_due(&upload, clock::now_ms()) {
        let (task, gone) = (app.clone(), id.clone());
        blocking(move || sweep::expire(&task, &gone)).await?;
    }
    refuse_expired(&upload)?;
    if upload.state == UploadState::Complete {
        return Err(ApiError::new(
            ErrorCode::UploadComplete,
            format!("upload {id} is complete; nothing more can be written to it"),
        ));
    }
    if offset != upload.offset {
        return Err(ApiError::new(
            ErrorCode::OffsetMismatch,
            format!(
                "Upload-Offset is {offset} but upload {id} is at {}; HEAD it to resume",
                upload.offset
            ),
        ));
    }
    let room = upload.length - upload.offset;
    if number(&headers, header::CONTENT_LENGTH.as_str())?.is_some_and(|n| n > room) {
        return Err(ApiError::new(
            ErrorCode::UploadExceedsLength,
            format!("the chunk would write past Upload-Length: only {room} bytes remain"),
        ));
    }
    // Room for the rest of the file, checked again: other uploads may have
    // taken what was free when this one began.
    free_space::check(app.blobs.as_ref(), room, app.config.min_free_bytes)?;
    let (kept, broken) = match chunk::receive(&app, &id, offset, room, declared, body).await? {
        Received::Whole(n) => (n, None),
        Received::Broken { kept, why } => (kept, Some(why)),
        Received::Refused(e) => return Err(e),
        Received::Ahead { held } => {
            // The bytes up to `held` were committed by a PATCH whose
            // process stopped before recording them: record them now and
            // let the client resume from there.
            let expires_at_ms = app.upload_expiry();
            let moved = id.clone();
            app.records(move |r| r.advance_upload(&moved, offset, held, expires_at_ms))
                .await?;
            return Err(ApiError::new(
                ErrorCode::OffsetMismatch,
                format!(
                    "Upload-Offset is {offset} but upload {id} is at {held}; HEAD it to resume"
                ),
            ));
        }
    };
    let now = offset + kept;
    let expires_at_ms = app.upload_expiry();
    if kept > 0 {
        let moved = id.clone();
        app.records(move |r| r.advance_upload(&moved, offset, now, expires_at_ms))
            .await?;
    }
    if let Some(why) = broken {
        // Nobody is listening any more; the next HEAD tells the offset.
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("the body broke off after {kept} bytes, which were kept: {why}"),
        ));
    }
    let mut upload = Upload {
        offset: now,
        expires_at_ms,
        ..upload
    };
    if now == upload.length {
        let (task, done) = (app.clone(), upload.clone());
        blocking(move || sweep::finish(&task, &done)).await?;
        upload.state = UploadState::Complete;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    state_headers(response.headers_mut(), &upload);
    Ok(response)
}

/// `DELETE /v1/uploads/{id}`: gives up an unfinished upload and its bytes.
pub(crate) async fn terminate(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    UploadPath(id): UploadPath,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    require_version(&headers)?;
    let _lock = app.lock_upload(&id).ok_or_else(|| locked(&id))?;
    let upload = owned(&app, &account, &id).await?;
    if upload.state == UploadState::Complete {
        return Err(ApiError::new(
            ErrorCode::UploadComplete,
            format!("upload {id} is complete: its file belongs to the manifest now; withdraw the asset from its listing instead"),
        ));
    }
    blocking(move || {
        app.blobs.discard_part(&id)?;
        app.records.remove_upload(&id)?;
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's upload `id`; another publisher's is not found, like one
/// that does not exist.
async fn owned(app: &AppState, account: &Account, id: &UploadId) -> Result<Upload, ApiError> {
    let wanted = id.clone();
    app.records(move |r| r.upload(&wanted))
        .await?
        .filter(|u| u.account == account.id)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no upload {id}")))
}

fn refuse_expired(upload: &Upload) -> Result<(), ApiError> {
    if upload.state == UploadState::Expired || sweep::is_due(upload, clock::now_ms()) {
        return Err(ApiError::new(
            ErrorCode::UploadExpired,
            format!(
                "upload {} expired before it was finished; its bytes are gone, create a new upload",
                upload.id
            ),
        ));
    }
    Ok(())
}

fn locked(id: &UploadId) -> ApiError {
    ApiError::new(
        ErrorCode::UploadLocked,
        format!("upload {id} is being written by another request"),
    )
}

/// `Upload-Offset`, and `Upload-Expires` while the upload is unfinished.
fn state_headers(headers: &mut HeaderMap, upload: &Upload) {
    set_header(headers, tus::UPLOAD_OFFSET, &upload.offset.to_string());
    if upload.state == UploadState::Open {
        set_header(
            headers,
            tus::UPLOAD_EXPIRES,
            &clock::http_date(upload.expires_at_ms),
        );
    }
}

fn require_version(headers: &HeaderMap) -> Result<(), ApiError> {
    let version = headers
        .get(tus::TUS_RESUMABLE)
        .and_then(|v| v.to_str().ok());
    if version == Some(tus::VERSION) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::TusVersionUnsupported,
        format!(
            "Tus-Resumable is {:?}; this server speaks tus {}",
            version.unwrap_or("missing"),
            tus::VERSION
        ),
    )
    .with_header(tus::TUS_VERSION, tus::VERSION))
}

/// A header holding a non-negative integer, if present.
fn number(headers: &HeaderMap, name: &str) -> Result<Option<u64>, ApiError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str()
                .ok()
                .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|t| t.parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::InvalidRequest,
                        format!("{name} is not a non-negative integer"),
                    )
                })
        })
        .transpose()
}
