//! Delivery of what was bought: signed links to every file of a purchase
//! and to its manifest (`links.rs`), and the one route that serves an
//! original's bytes, `GET /v1/downloads/{token}`: only while the link is
//! unexpired, to the buyer it names (by bearer token) and while the
//! purchase is not refunded.

use std::io::Read;

use assay_market_proto::purchases::{FileLink, PurchaseFiles, SHA256_HEADER};
use assay_market_proto::ErrorCode;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use http_body_util::channel::Channel;

use crate::app::AppState;
use crate::auth::Caller;
use crate::clock;
use crate::error::{set_header, ApiError};
use crate::extract::{PathText, PurchasePath};
use crate::links::{Link, Target};
use crate::purchases::{self, entitled};
use crate::records::PurchaseRecord;
use crate::slots::Slot;

/// The name a purchase's manifest is listed under.
const MANIFEST_NAME: &str = "manifest.json";
/// How much of a file is read and sent at a time.
const CHUNK: usize = 256 << 10;

/// `GET /v1/purchases/{id}/files`: the buyer's signed links.
pub(crate) async fn files(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    PurchasePath(id): PurchasePath,
) -> Result<Json<PurchaseFiles>, ApiError> {
    let purchase = purchases::load(&app, &id).await?;
    if purchase.buyer != account.id {
        return Err(purchases::not_found(&id));
    }
    entitled(&purchase)?;
    let manifest = manifest_bytes(&app, &purchase).await?;
    let expires_ms = clock::after(clock::now_ms(), app.config.download_ttl);
    let link = |target: Target| {
        let token = app.links.sign(&Link {
            purchase: purchase.id.clone(),
            buyer: purchase.buyer,
            target,
            expires_ms,
        });
        format!("/v1/downloads/{token}")
    };
    Ok(Json(PurchaseFiles {
        purchase_id: purchase.id.to_string(),
        expires_at: clock::rfc3339(expires_ms),
        manifest: FileLink {
            asset_id: None,
            file_name: MANIFEST_NAME.to_owned(),
            size_bytes: manifest.len() as u64,
            sha256: purchase.manifest_hash.clone(),
            url: link(Target::Manifest),
            credentials: None,
        },
        files: purchase
            .files
            .iter()
            .map(|f| FileLink {
                asset_id: Some(f.asset_id.clone()),
                file_name: f.file_name.clone(),
                size_bytes: f.size_bytes,
                sha256: f.checksum.clone(),
                url: link(Target::Blob(f.blob.clone())),
                credentials: f
                    .credentials
                    .then(|| crate::credentials::url(&purchase.listing, &f.asset_id)),
            })
            .collect(),
        shards: purchase
            .shards
            .iter()
            .map(|s| FileLink {
                asset_id: None,
                file_name: s.name.clone(),
                size_bytes: s.size_bytes,
                sha256: s.checksum.clone(),
                url: link(Target::Blob(s.blob.clone())),
                credentials: None,
            })
            .collect(),
    }))
}

/// `GET /v1/downloads/{token}`: one file's bytes, streamed, with its
/// length and SHA-256 in the headers. Checked in this order, each with its
/// own code: the signature, the expiry, the bearer, the entitlement.
pub(crate) async fn download(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    PathText(token): PathText,
) -> Result<Response, ApiError> {
    let link = app.links.open(&token).ok_or_else(|| {
        ApiError::new(
            ErrorCode::DownloadLinkInvalid,
            "this is not a download link this server made",
        )
    })?;
    if link.expires_ms <= clock::now_ms() {
        return Err(ApiError::new(
            ErrorCode::DownloadLinkExpired,
            format!(
                "the link expired at {}; list the purchase's files again for new links",
                clock::rfc3339(link.expires_ms)
            ),
        ));
    }
    if link.buyer != account.id {
        return Err(ApiError::new(
            ErrorCode::DownloadLinkForeign,
            format!("the link was made for another buyer than {}", account.name),
        ));
    }
    let purchase = purchases::load(&app, &link.purchase).await?;
    entitled(&purchase)?;
    // Held until the body is sent or abandoned: a buyer that never reads
    // holds only its own few slots.
    let slot = app.downloading.take(account.id)?;
    match link.target {
        Target::Manifest => {
            let bytes = manifest_bytes(&app, &purchase).await?;
            let size = bytes.len() as u64;
            Ok(serve(
                "application/json",
                size,
                &purchase.manifest_hash,
                stream(Box::new(std::io::Cursor::new(bytes)), slot),
            ))
        }
        Target::Blob(blob) => {
            // An asset's original, with its license's usage headers, or a
            // dataset's shard, which holds many licenses (in its records).
            let (size, checksum, usage) = match purchase.files.iter().find(|f| f.blob == blob) {
                Some(file) => (file.size_bytes, file.checksum.clone(), file.usage.clone()),
                None => {
                    let shard = purchase
                        .shards
                        .iter()
                        .find(|s| s.blob == blob)
                        .ok_or_else(|| purchases::not_found(&purchase.id))?;
                    (shard.size_bytes, shard.checksum.clone(), None)
                }
            };
            let blobs = std::sync::Arc::clone(&app.blobs);
            let opened = blob.clone();
            let (reader, len) =
                crate::app::blocking(move || blobs.open(&opened).map_err(ApiError::from)).await?;
            if len != size {
                return Err(ApiError::internal(format!(
                    "blob {blob} holds {len} bytes, the manifest says {size}"
                )));
            }
            let mut response = serve(
                "application/octet-stream",
                size,
                &checksum,
                stream(reader, slot),
            );
            crate::usage_headers::set(response.headers_mut(), usage.as_ref());
            Ok(response)
        }
    }
}

/// A download's response: `body` with its type, length and SHA-256
/// (`checksum`, `sha256:HEX`).
fn serve(content_type: &'static str, size: u64, checksum: &str, body: Body) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_LENGTH, HeaderValue::from(size)),
        ],
        body,
    )
        .into_response();
    set_header(response.headers_mut(), SHA256_HEADER, checksum);
    response
}

/// A body read from `reader` a chunk at a time through a bounded channel,
/// so memory stays flat whatever the file's size. Each read is a blocking
/// task of its own: a thread waits on the disk, never on the client, so a
/// buyer that stops reading holds its download slot (until the write-stall
/// deadline cuts it off) and no thread. A reader that fails aborts the
/// body: the client sees a short response, never bytes that are not the
/// file's.
fn stream(reader: Box<dyn Read + Send>, slot: Slot) -> Body {
    let (mut sender, body) = Channel::<Bytes, std::io::Error>::new(4);
    tokio::spawn(async move {
        // The account's download slot, given back when this ends.
        let _slot = slot;
        let mut reader = reader;
        loop {
            let read = tokio::task::spawn_blocking(move || {
                let mut buffer = vec![0u8; CHUNK];
                let n = read_some(&mut reader, &mut buffer);
                (reader, buffer, n)
            })
            .await;
            let Ok((back, mut buffer, n)) = read else {
                return;
            };
            reader = back;
            match n {
                Ok(0) => return,
                Ok(n) => {
                    buffer.truncate(n);
                    // An error means the client went away.
                    if sender.send_data(Bytes::from(buffer)).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    sender.abort(e);
                    return;
                }
            }
        }
    });
    Body::new(body)
}

/// One `read`, retried when a signal interrupted it.
fn read_some(reader: &mut dyn Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match reader.read(buffer) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

async fn manifest_bytes(app: &AppState, purchase: &PurchaseRecord) -> Result<Vec<u8>, ApiError> {
    let (publisher, manifest_id) = (purchase.publisher, purchase.manifest_id.clone());
    app.records(move |r| r.manifest_bytes(publisher, &manifest_id))
        .await?
        .ok_or_else(|| {
            ApiError::internal(format!(
                "purchase {}: its manifest {} is gone",
                purchase.id, purchase.manifest_id
            ))
        })
}
