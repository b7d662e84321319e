//! Extractors whose refusals are protocol errors (JSON `{code, message}`),
//! not axum's plain-text rejections.

use assay_market_proto::ErrorCode;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use crate::app::AppState;
use crate::body_schemas::{Body, Refusal};
use crate::error::ApiError;
use crate::ids::{ListingId, PurchaseId, UploadId, WebhookId};

/// The most a JSON request body (a key, a listing) may hold.
const JSON_LIMIT: usize = 1 << 20;

/// The request's Content-Type as sent (empty when there is none or it is
/// not text), to test with [`media_type_is`] and to quote in a refusal.
pub(crate) fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Whether the Content-Type `sent` is one of `accepted`, parameters
/// (`; charset=...`) and case aside.
pub(crate) fn media_type_is(sent: &str, accepted: &[&str]) -> bool {
    let essence = sent.split(';').next().unwrap_or_default().trim();
    accepted.iter().any(|a| essence.eq_ignore_ascii_case(a))
}

/// Whether the request announces (Content-Length) a body of more than
/// `limit` bytes: refused before a byte of it is read.
pub(crate) fn announces_more_than(headers: &HeaderMap, limit: usize) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > limit as u64)
}

/// A JSON request body of type `T`: sent as `application/json`, and
/// exactly what `T`'s schema in the protocol describes.
pub(crate) struct JsonBody<T>(pub T);

impl<T: Body> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, app: &AppState) -> Result<Self, ApiError> {
        if !media_type_is(content_type(request.headers()), &["application/json"]) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "the body must be sent as Content-Type: application/json",
            ));
        }
        let bytes = axum::body::to_bytes(request.into_body(), JSON_LIMIT)
            .await
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidRequest,
                    format!("the body could not be read (at most {JSON_LIMIT} bytes): {e}"),
                )
            })?;
        let value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                format!("the body is not JSON: {e}"),
            )
        })?;
        app.bodies.read(value).map(JsonBody).map_err(|refusal| {
            let (code, why) = match refusal {
                Refusal::Shape(why) => (ErrorCode::InvalidRequest, why),
                Refusal::Value(why) => (T::INVALID, why),
            };
            ApiError::new(code, format!("the body is not a {}: {why}", T::SCHEMA))
        })
    }
}

/// The one path parameter of a route, as sent (percent-decoded).
pub(crate) struct PathText(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathText {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
        Ok(PathText(text))
    }
}

/// How much of a client's text a message repeats.
pub(crate) fn shown(text: &str) -> String {
    text.chars().take(100).collect::<String>()
}

/// An upload id from the path; anything that is not one is not found.
pub(crate) struct UploadPath(pub UploadId);

impl<S: Send + Sync> FromRequestParts<S> for UploadPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let PathText(text) = PathText::from_request_parts(parts, state).await?;
        UploadId::parse(&text).map(UploadPath).ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, format!("no upload {:?}", shown(&text)))
        })
    }
}

/// A listing id from the path; anything that is not one is not found.
pub(crate) struct ListingPath(pub ListingId);

impl<S: Send + Sync> FromRequestParts<S> for ListingPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let PathText(text) = PathText::from_request_parts(parts, state).await?;
        ListingId::parse(&text).map(ListingPath).ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("no listing {:?}", shown(&text)),
            )
        })
    }
}

/// A purchase id from the path; anything that is not one is not found.
pub(crate) struct PurchasePath(pub PurchaseId);

impl<S: Send + Sync> FromRequestParts<S> for PurchasePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let PathText(text) = PathText::from_request_parts(parts, state).await?;
        PurchaseId::parse(&text).map(PurchasePath).ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("no purchase {:?}", shown(&text)),
            )
        })
    }
}

/// A listing id and an asset id from the path; a listing id that is not
/// one is not found. The asset id is only ever compared with the listing's.
pub(crate) struct ListingAssetPath(pub ListingId, pub String);

impl<S: Send + Sync> FromRequestParts<S> for ListingAssetPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path((listing, asset)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
        let id = ListingId::parse(&listing).ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("no listing {:?}", shown(&listing)),
            )
        })?;
        Ok(ListingAssetPath(id, asset))
    }
}

/// A webhook id from the path; anything that is not one is not found.
pub(crate) struct WebhookPath(pub WebhookId);

impl<S: Send + Sync> FromRequestParts<S> for WebhookPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let PathText(text) = PathText::from_request_parts(parts, state).await?;
        WebhookId::parse(&text).map(WebhookPath).ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("no webhook {:?}", shown(&text)),
            )
        })
    }
}
