//! `POST /v1/keys` and `GET /v1/keys`: the ed25519 keys a publisher's
//! manifests may be signed with. A key belongs to one publisher, and is
//! registered only with proof of holding it: its signature over a
//! challenge from `POST /v1/keys/challenge`.
//! `GET /v1/listings/{id}/keys` shows a listing's publisher's keys to any
//! buyer, so a trainer without the publisher's key file can still check a
//! manifest's signature against the keys the market vouches for.

use std::time::Duration;

use assay_core::keys;
use assay_market_proto::keys::{Key, KeyChallenge, KeyList, NewKey};
use assay_market_proto::ErrorCode;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ed25519_dalek::Signature;
use ed25519_dalek::VerifyingKey;
use rand_core::{OsRng, RngCore};

use crate::app::AppState;
use crate::auth::Caller;
use crate::clock;
use crate::error::ApiError;
use crate::extract::ListingPath;
use crate::records::{AccountId, Insert, StoredKey};

/// What a challenge's MAC is made for, apart from links.
const CHALLENGE_DOMAIN: &[u8] = b"assay-market key challenge";
/// How long a challenge is good for.
const CHALLENGE_TTL: Duration = Duration::from_secs(600);

/// `POST /v1/keys/challenge`: a challenge for the caller to sign with the
/// key it registers. Nothing is stored: the challenge names the caller and
/// its expiry under the server's MAC.
pub(crate) async fn challenge(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
) -> Result<Json<KeyChallenge>, ApiError> {
    let expires_ms = clock::after(clock::now_ms(), CHALLENGE_TTL);
    let mut nonce = [0u8; 16];
    OsRng
        .try_fill_bytes(&mut nonce)
        .map_err(|e| ApiError::internal(format!("no randomness for a challenge: {e}")))?;
    let payload = format!("{}.{expires_ms}.{}", account.id, hex::encode(nonce));
    let mac = app.links.mac(CHALLENGE_DOMAIN, payload.as_bytes());
    Ok(Json(KeyChallenge {
        challenge: format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(mac)
        ),
        expires_at: clock::rfc3339(expires_ms),
    }))
}

/// Why `challenge` is not one this server gave `account` and still good.
fn challenge_refused(app: &AppState, account: AccountId, challenge: &str) -> Option<String> {
    let opened = challenge.split_once('.').and_then(|(payload, mac)| {
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        app.links
            .mac_holds(CHALLENGE_DOMAIN, &payload, &mac)
            .then(|| String::from_utf8(payload).ok())
            .flatten()
    });
    let Some(payload) = opened else {
        return Some("challenge: not one this server gave".into());
    };
    let mut fields = payload.split('.');
    let owner = fields.next().and_then(|f| f.parse::<AccountId>().ok());
    let expires_ms = fields.next().and_then(|f| f.parse::<i64>().ok());
    if owner != Some(account) {
        return Some("challenge: given to another account".into());
    }
    if expires_ms.is_none_or(|at| at <= clock::now_ms()) {
        return Some("challenge: expired; ask POST /v1/keys/challenge for another".into());
    }
    None
}

pub(crate) async fn register(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    body: crate::extract::JsonBody<NewKey>,
) -> Result<Response, ApiError> {
    let key = keys::parse_public_key(&body.0.public_key)
        .map_err(|e| ApiError::new(ErrorCode::KeyInvalid, format!("public_key: {e}")))?;
    // Proof of possession: only the key's holder can sign the challenge,
    // so nobody registers another publisher's key before they do.
    let unproven = |why: String| ApiError::new(ErrorCode::KeyPossessionUnproven, why);
    if let Some(why) = challenge_refused(&app, account.id, &body.0.challenge) {
        return Err(unproven(why));
    }
    let signature = B64
        .decode(body.0.signature.trim())
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or_else(|| unproven("signature: not a base64 ed25519 signature".into()))?;
    key.verify_strict(&keys::possession_message(&body.0.challenge), &signature)
        .map_err(|_| unproven("signature: not the key's signature over the challenge".into()))?;
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
