//! `POST /v1/keys` and `GET /v1/keys`: the ed25519 keys a publisher's
//! manifests may be signed with. A key belongs to one publisher.
//! `GET /v1/listings/{id}/keys` shows a listing's publisher's keys to any
//! buyer, so a trainer without the publisher's key file can still check a
//! manifest's signature against the keys the market vouches for.

use assay_core::keys;
use assay_market_proto::keys::{Key, KeyList, NewKey};
use assay_market_proto::ErrorCode;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ed25519_dalek::VerifyingKey;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ListingPath;
use crate::records::{AccountId, Insert, StoredKey};

pub(crate) async fn register(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    body: crate::extract::JsonBody<NewKey>,
) -> Result<Response, ApiError> {
    let key = keys::parse_public_key(&body.0.public_key)
        .map_err(|e| ApiError::new(ErrorCode::KeyInvalid, format!("public_key: {e}")))?;
    let key_id = keys::key_id(&key).to_string();
    let raw = key.to_bytes();
    let inserted = app
        .records(move |r| r.add_key(account.id, &key_id, &raw))
        .await?;
    let status = match inserted {
        Insert::New(_) => StatusCode::CREATED,
        Insert::Existing(_) => StatusCode::OK,
    };
    Ok((status, Json(wire(inserted.into_inner())?)).into_response())
}

pub(crate) async fn list(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
) -> Result<Json<KeyList>, ApiError> {
    key_list(&app, account.id).await
}

/// `GET /v1/listings/{id}/keys`: the keys of the listing's publisher, one
/// of which signed its manifest (the server refuses any other).
pub(crate) async fn of_listing(
    State(app): State<AppState>,
    ListingPath(id): ListingPath,
) -> Result<Json<KeyList>, ApiError> {
    let publisher = crate::listings::load(&app, &id).await?.listing.account;
    key_list(&app, publisher).await
}

async fn key_list(app: &AppState, account: AccountId) -> Result<Json<KeyList>, ApiError> {
    let stored = app.records(move |r| r.keys(account)).await?;
    let keys = stored.into_iter().map(wire).collect::<Result<_, _>>()?;
    Ok(Json(KeyList { keys }))
}

/// A registered key, as signatures are checked against it.
pub(crate) fn verifying_key(stored: &StoredKey) -> Result<VerifyingKey, ApiError> {
    VerifyingKey::from_bytes(&stored.public_key)
        .map_err(|e| ApiError::internal(format!("stored key {} is not a key: {e}", stored.key_id)))
}

fn wire(stored: StoredKey) -> Result<Key, ApiError> {
    let key = verifying_key(&stored)?;
    Ok(Key {
        key_id: stored.key_id,
        public_key: keys::public_key_compact(&key),
        created_at: stored.created_at,
    })
}
