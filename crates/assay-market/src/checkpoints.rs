//! The market as witness of libraries' checkpoints: `POST /v1/checkpoints`
//! accepts a library's newest checkpoint if its publisher's registered key
//! signed it and it extends the last one witnessed for that library (by
//! the consistency proofs sent with it), and countersigns it;
//! `GET /v1/checkpoints/latest` gives the publisher the last one witnessed
//! for a library, `GET /v1/listings/{id}/checkpoint` gives buyers the last
//! one of the listing's publisher, and `GET /v1/witness/key` the key the
//! countersignatures are checked with.

use assay_core::canonical::canonical_json;
use assay_core::{signature_verifies, CheckpointClaim};
use assay_market_proto::checkpoints::{NewCheckpoint, WitnessKey, Witnessed};
use assay_market_proto::ErrorCode;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use crate::app::AppState;
use crate::auth::Caller;
use crate::clock;
use crate::error::ApiError;
use crate::extract::{shown, ListingPath};
use crate::records::{AccountId, NewWitnessed, RecordsError, WitnessedRecord};

/// More hashes than a consistency proof of any tree of 2^64 leaves holds.
const MAX_PROOF: usize = 130;
/// Tries when other syncs of the same library keep witnessing first.
const ATTEMPTS: usize = 3;

pub(crate) async fn post(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    body: crate::extract::JsonBody<NewCheckpoint>,
) -> Result<Response, ApiError> {
    let NewCheckpoint {
        checkpoint,
        events_proof,
        identity_proof,
    } = body.0;
    if events_proof.len() > MAX_PROOF || identity_proof.len() > MAX_PROOF {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("a consistency proof holds at most {MAX_PROOF} hashes"),
        ));
    }
    let invalid = |e: assay_core::Error| ApiError::new(ErrorCode::CheckpointInvalid, e.to_string());
    let claim = CheckpointClaim::read(&checkpoint).map_err(invalid)?;
    let keys = app.records(move |r| r.keys(account.id)).await?;
    let stored = keys
        .iter()
        .find(|k| k.key_id == claim.key_id)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::KeyNotRegistered,
                format!(
                    "signer.key_id: {} is not one of your registered keys",
                    shown(&claim.key_id)
                ),
            )
        })?;
    let key = crate::publisher_keys::verifying_key(stored)?;
    if !signature_verifies(&checkpoint, &key) {
        return Err(ApiError::new(
            ErrorCode::CheckpointInvalid,
            format!(
                "signature: does not verify with key {}: the checkpoint was altered",
                claim.key_id
            ),
        ));
    }
    let bytes = canonical_json(&checkpoint);
    for _ in 0..ATTEMPTS {
        let library = claim.library.clone();
        let latest = app
            .records(move |r| r.latest_witnessed(account.id, Some(&library)))
            .await?;
        if let Some(latest) = &latest {
            if latest.checkpoint == bytes {
                return Ok((StatusCode::OK, Json(wire(latest)?)).into_response());
            }
            let earlier = serde_json::from_slice(&latest.checkpoint)
                .map_err(|e| e.to_string())
                .and_then(|doc| CheckpointClaim::read(&doc).map_err(|e| e.to_string()))
                .map_err(|e| {
                    ApiError::internal(format!("witnessed checkpoint {}: {e}", latest.seq))
                })?;
            claim
                .extends(&earlier, &events_proof, &identity_proof)
                .map_err(|e| ApiError::new(ErrorCode::CheckpointNotExtending, e.to_string()))?;
        }
        let at = clock::timestamp();
        let witness = canonical_json(&app.witness.statement(&claim, &bytes, &at));
        let new = NewWitnessed {
            account: account.id,
            library: claim.library.clone(),
            events_size: claim.events.size,
            checkpoint: bytes.clone(),
            witness,
            witnessed_at: at,
        };
        let after = latest.map(|l| l.seq);
        let added = app
            .records(move |r| match r.add_witnessed(new, after) {
                Err(RecordsError::WitnessMoved(_)) => Ok(None),
                other => other.map(Some),
            })
            .await?;
        if let Some(record) = added {
            return Ok((StatusCode::CREATED, Json(wire(&record)?)).into_response());
        }
    }
    Err(ApiError::new(
        ErrorCode::CheckpointNotExtending,
        "other checkpoints of this library kept being witnessed first; send it again",
    ))
}

/// `GET /v1/checkpoints/latest?library=ROOT`.
pub(crate) async fn latest(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Result<Json<Witnessed>, ApiError> {
    let library = library_query(query.as_deref().unwrap_or_default())?;
    latest_of(&app, account.id, Some(library)).await
}

/// `GET /v1/listings/{id}/checkpoint`: the last checkpoint witnessed for
/// the listing's publisher.
pub(crate) async fn of_listing(
    State(app): State<AppState>,
    ListingPath(id): ListingPath,
) -> Result<Json<Witnessed>, ApiError> {
    let publisher = crate::listings::load(&app, &id).await?.listing.account;
    latest_of(&app, publisher, None).await
}

/// `GET /v1/witness/key`.
pub(crate) async fn key(State(app): State<AppState>) -> Json<WitnessKey> {
    Json(app.witness.wire())
}

async fn latest_of(
    app: &AppState,
    account: AccountId,
    library: Option<String>,
) -> Result<Json<Witnessed>, ApiError> {
    let found = app
        .records(move |r| r.latest_witnessed(account, library.as_deref()))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no checkpoint witnessed yet"))?;
    Ok(Json(wire(&found)?))
}

/// The one parameter `library`: a library root as checkpoints name it.
fn library_query(query: &str) -> Result<String, ApiError> {
    let bad = |why: String| ApiError::new(ErrorCode::InvalidRequest, why);
    let mut library = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=').unwrap_or((pair, "")) {
            ("library", value) => {
                let ok = !value.is_empty()
                    && value.len() <= 100
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b':');
                if !ok {
                    return Err(bad(format!(
                        "library: {:?} is not a library root",
                        shown(value)
                    )));
                }
                library = Some(value.to_owned());
            }
            (other, _) => return Err(bad(format!("unknown query parameter {:?}", shown(other)))),
        }
    }
    library.ok_or_else(|| bad("library: required (the root the library's checkpoints name)".into()))
}

fn wire(record: &WitnessedRecord) -> Result<Witnessed, ApiError> {
    let parse = |bytes: &[u8], what: &str| {
        serde_json::from_slice(bytes).map_err(|e| {
            ApiError::internal(format!("witnessed checkpoint {} {what}: {e}", record.seq))
        })
    };
    Ok(Witnessed {
        checkpoint: parse(&record.checkpoint, "document")?,
        witness: parse(&record.witness, "statement")?,
    })
}
