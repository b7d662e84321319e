//! The one error type of the HTTP layer: a protocol [`ErrorCode`] with a
//! message, sent as the JSON [`ErrorBody`] with the code's status.

use assay_market_proto::{ErrorBody, ErrorCode, Problem};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::blobs::BlobError;
use crate::records::RecordsError;

#[derive(Debug)]
pub(crate) struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub problems: Vec<Problem>,
    /// Headers the refusal carries: `Location` of the thing it is about (an
    /// upload in progress, an existing listing), `Tus-Version` on a 412.
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            problems: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> ApiError {
        self.headers.push((name, value.into()));
        self
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Internal, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            // The operator's only view of a failure; the client gets the same text.
            eprintln!("assay-market: {}", self.message);
        }
        let body = ErrorBody {
            code: self.code.as_str().to_owned(),
            message: self.message,
            problems: self.problems,
        };
        let mut response = (status, Json(body)).into_response();
        for (name, value) in self.headers {
            set_header(response.headers_mut(), name, &value);
        }
        response
    }
}

impl From<RecordsError> for ApiError {
    fn from(e: RecordsError) -> ApiError {
        let message = e.to_string();
        let (code, location) = match e {
            RecordsError::KeyRegisteredElsewhere(_) => (ErrorCode::KeyRegisteredElsewhere, None),
            RecordsError::ManifestConflict(_) | RecordsError::VersionTaken { .. } => {
                (ErrorCode::ManifestConflict, None)
            }
            RecordsError::AlreadyUploaded { .. } => (ErrorCode::AssetAlreadyUploaded, None),
            RecordsError::UploadInProgress { upload, .. } => (
                ErrorCode::UploadInProgress,
                Some(crate::uploads::url(&upload)),
            ),
            RecordsError::OffsetMoved { .. } => (ErrorCode::OffsetMismatch, None),
            RecordsError::ListingExists { listing, .. } => (
                ErrorCode::ListingExists,
                Some(crate::listings::url(&listing)),
            ),
            RecordsError::AssetNotInListing { .. } | RecordsError::Missing { .. } => {
                (ErrorCode::NotFound, None)
            }
            RecordsError::NameTaken(_) | RecordsError::PayoutNotSent { .. } => {
                (ErrorCode::InvalidRequest, None)
            }
            RecordsError::PurchaseSettled { .. } => (ErrorCode::PurchaseSettled, None),
            // Only if the listing keeps changing while it is bought again and
            // again: the request may be retried.
            RecordsError::ListingChanged(_) => (ErrorCode::Internal, None),
            // Two syncs of one library at once: the other one's checkpoint
            // is now the one to extend; the request may be retried.
            RecordsError::WitnessMoved(_) => (ErrorCode::CheckpointNotExtending, None),
            RecordsError::QuotaExceeded { .. } => (ErrorCode::StorageQuotaExceeded, None),
            RecordsError::ParentVersionMissing(_) => (ErrorCode::ParentVersionMissing, None),
            RecordsError::DatasetVersionImmutable(_) => (ErrorCode::DatasetVersionImmutable, None),
            RecordsError::ParentPurchaseRequired { parent, .. } => (
                ErrorCode::ParentPurchaseRequired,
                Some(crate::listings::url(&parent)),
            ),
            RecordsError::SchemaTooNew { .. } | RecordsError::Backend(_) => {
                (ErrorCode::Internal, None)
            }
        };
        let error = ApiError::new(code, message);
        match location {
            Some(url) => error.with_header("location", url),
            None => error,
        }
    }
}

impl From<BlobError> for ApiError {
    fn from(e: BlobError) -> ApiError {
        ApiError::internal(e.to_string())
    }
}

/// Sets a header named in the protocol's spelling (`Upload-Offset`); the
/// names and values the server sends are always valid, so a failure to
/// convert cannot happen and is skipped rather than panicking.
pub(crate) fn set_header(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        headers.insert(name, value);
    }
}
