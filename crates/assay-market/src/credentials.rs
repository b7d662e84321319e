//! Content Credentials: `PUT /v1/listings/{id}/assets/{asset_id}/credentials`
//! (the listing's publisher sends a C2PA manifest store for an asset on
//! sale) and `GET` of the same (any account with `read:manifest`,
//! rate-limited). A store is kept only if C2PA's validator finds it valid
//! against the stored original and its `assay.asset` assertion names that
//! asset and its checksum, so a buyer is never handed credentials for
//! other bytes. Purchases link to them beside each file.

use std::io::{Seek, Write};

use assay_core::ASSAY_ASSERTION;
use assay_credentials::{CredentialReader, CredentialState, TrustAnchors};
use assay_market_proto::credentials::{
    CredentialsInfo, CREDENTIALS_MEDIA_TYPE, MAX_CREDENTIALS_BYTES,
};
use assay_market_proto::ErrorCode;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::app::{blocking, AppState};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{announces_more_than, content_type, media_type_is, shown, ListingAssetPath};
use crate::ids::ListingId;
use crate::listings::{load, own};
use crate::previews::on_sale;

/// Where an asset's credentials are served.
pub(crate) fn url(listing: &ListingId, asset_id: &str) -> String {
    format!("/v1/listings/{listing}/assets/{asset_id}/credentials")
}

/// `PUT .../credentials`: checks and keeps them, replacing any.
pub(crate) async fn put(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    ListingAssetPath(id, asset_id): ListingAssetPath,
    request: Request,
) -> Result<Json<CredentialsInfo>, ApiError> {
    c2pa_type(request.headers())?;
    let too_large = || {
        ApiError::new(
            ErrorCode::CredentialsTooLarge,
            format!("Content Credentials are at most {MAX_CREDENTIALS_BYTES} bytes"),
        )
    };
    if announces_more_than(request.headers(), MAX_CREDENTIALS_BYTES) {
        return Err(too_large());
    }
    let listing = load(&app, &id).await?;
    own(&listing.listing, &account)?;
    on_sale(&listing, &asset_id)?;
    let Some(stored) = listing
        .items
        .iter()
        .map(|i| &i.asset)
        .find(|a| a.entry.asset_id == asset_id)
        .cloned()
    else {
        return Err(ApiError::internal("an asset on sale vanished"));
    };
    let Some(blob) = stored.blob.clone() else {
        return Err(ApiError::new(
            ErrorCode::CredentialsInvalid,
            format!(
                "asset {asset_id}'s file is not uploaded yet; credentials are checked against it"
            ),
        ));
    };
    let store = axum::body::to_bytes(request.into_body(), MAX_CREDENTIALS_BYTES)
        .await
        .map_err(|_| too_large())?;
    let store_of = app.clone();
    let (listing_id, asset) = (id.clone(), asset_id.clone());
    let info = blocking(move || {
        let (mut original, _) = store_of.blobs.open(&blob)?;
        // C2PA's validator seeks: the original is spooled to a file that
        // disappears when dropped.
        let mut spool = tempfile::tempfile().map_err(|e| ApiError::internal(e.to_string()))?;
        std::io::copy(&mut original, &mut spool)
            .and_then(|_| spool.flush())
            .and_then(|()| spool.rewind())
            .map_err(|e| ApiError::internal(format!("reading a stored file: {e}")))?;
        let reader = CredentialReader::new(&TrustAnchors::default())
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let (read, assertion) = reader.read_sidecar_assertion(
            &store,
            &mut spool,
            &stored.entry.media_type,
            Some(ASSAY_ASSERTION),
        );
        let invalid = |why: String| {
            ApiError::new(
                ErrorCode::CredentialsInvalid,
                format!("the Content Credentials of asset {asset}: {why}"),
            )
        };
        if read.state == CredentialState::Invalid {
            return Err(invalid(format!(
                "they do not validate against its file ({})",
                read.failures.join(", ")
            )));
        }
        let assertion = assertion.unwrap_or(Value::Null);
        for (field, expected) in [
            ("asset_id", &stored.entry.asset_id),
            ("checksum", &stored.entry.checksum),
        ] {
            if assertion[field].as_str() != Some(expected.as_str()) {
                return Err(invalid(format!(
                    "their {ASSAY_ASSERTION} {field} is {}, not {expected}",
                    assertion[field]
                )));
            }
        }
        store_of
            .records
            .set_credentials(&listing_id, &asset, &store)?;
        Ok(CredentialsInfo {
            url: url(&listing_id, &asset),
            asset_id: asset,
            size_bytes: store.len() as u64,
            sha256: format!("sha256:{}", hex::encode(Sha256::digest(&store))),
        })
    })
    .await?;
    Ok(Json(info))
}

/// `GET .../credentials`: the manifest store, as sent.
pub(crate) async fn get(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    ListingAssetPath(id, asset_id): ListingAssetPath,
) -> Result<Response, ApiError> {
    crate::rate_limit::take(&app, account.id).await?;
    let listing = load(&app, &id).await?;
    on_sale(&listing, &asset_id)?;
    let (wanted, asset) = (id.clone(), asset_id.clone());
    let store = app
        .records(move |r| r.credentials(&wanted, &asset))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("asset {asset_id} of listing {id} has no Content Credentials"),
            )
        })?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, CREDENTIALS_MEDIA_TYPE),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        Body::from(store),
    )
        .into_response())
}

fn c2pa_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let kind = content_type(headers);
    if media_type_is(kind, &[CREDENTIALS_MEDIA_TYPE]) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::UnsupportedMediaType,
        format!(
            "Content Credentials are {CREDENTIALS_MEDIA_TYPE}, not {:?}",
            shown(kind)
        ),
    ))
}
