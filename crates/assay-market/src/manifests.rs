//! `POST /v1/manifests` and `GET /v1/manifests/{manifest_id}`: a
//! publisher's signed manifests, stored byte for byte as posted.

use std::sync::Arc;

use assay_market_proto::manifests::{ManifestAsset, ManifestReceipt};
use assay_market_proto::ErrorCode;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use crate::app::{blocking, AppState};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{announces_more_than, content_type, media_type_is, shown, PathText};
use crate::manifest_check;
use crate::records::{Insert, Manifest, NewManifest, StoredShard};

pub(crate) async fn post(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let kind = content_type(&headers);
    if headers.contains_key(header::CONTENT_TYPE)
        && !media_type_is(kind, &["application/json", "application/ld+json"])
    {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("a manifest is application/json, not {}", shown(kind)),
        ));
    }
    let limit = app.config.max_manifest_bytes;
    let too_large = || {
        ApiError::new(
            ErrorCode::ManifestTooLarge,
            format!("a manifest may hold at most {limit} bytes"),
        )
    };
    if announces_more_than(&headers, limit) {
        return Err(too_large());
    }
    // One turn among `manifests_at_once`, held while the body is read and
    // checked: memory stays bounded however many are posted at once.
    let _turn = Arc::clone(&app.manifest_turns)
        .acquire_owned()
        .await
        .map_err(|e| ApiError::internal(format!("manifest turns: {e}")))?;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        if crate::uploads::is_length_limit(&e) {
            too_large()
        } else {
            ApiError::new(
                ErrorCode::InvalidRequest,
                format!("the body could not be read: {e}"),
            )
        }
    })?;
    let keys = app.records(move |r| r.keys(account.id)).await?;
    let publisher = account.name.clone();
    let max_values = app.config.max_manifest_values;
    let (accepted, bytes) = blocking(move || {
        manifest_check::prescan(&bytes, max_values)?;
        manifest_check::check(&bytes, &publisher, &keys).map(|accepted| (accepted, bytes))
    })
    .await?;
    let manifest = NewManifest {
        manifest_id: accepted.manifest_id,
        account: account.id,
        manifest_hash: accepted.manifest_hash,
        key_id: accepted.key_id,
        bytes: bytes.to_vec(),
        assets: accepted.assets,
        dataset: accepted.dataset,
        shards: accepted.shards,
    };
    let inserted = app.records(move |r| r.add_manifest(manifest)).await?;
    let status = match inserted {
        Insert::New(_) => StatusCode::CREATED,
        Insert::Existing(_) => StatusCode::OK,
    };
    let receipt = receipt(inserted.into_inner());
    let location = url(&receipt.manifest_id);
    Ok((status, [(header::LOCATION, location)], Json(receipt)).into_response())
}

pub(crate) async fn get(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    PathText(manifest_id): PathText,
) -> Result<Response, ApiError> {
    let id = manifest_id.clone();
    let bytes = app
        .records(move |r| r.manifest_bytes(account.id, &id))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("no manifest {:?} among yours", shown(&manifest_id)),
            )
        })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response())
}

/// A manifest's URL.
pub(crate) fn url(manifest_id: &str) -> String {
    format!("/v1/manifests/{manifest_id}")
}

fn receipt(m: Manifest) -> ManifestReceipt {
    ManifestReceipt {
        manifest_id: m.manifest_id,
        manifest_hash: m.manifest_hash,
        key_id: m.key_id,
        received_at: m.received_at,
        assets: m
            .assets
            .into_iter()
            .map(|a| ManifestAsset {
                uploaded: a.blob.is_some(),
                asset_id: a.entry.asset_id,
                file_name: a.entry.file_name,
                size_bytes: a.entry.size_bytes,
                checksum: a.entry.checksum,
            })
            .collect(),
        dataset: m.dataset,
        shards: m.shards.into_iter().map(StoredShard::into_wire).collect(),
    }
}
