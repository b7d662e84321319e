//! The error body every failed request returns, and the codes it carries.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::auth::UnknownName;

/// What every error response holds (`application/json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// An [`ErrorCode`], as text so a client built against an older protocol
    /// still reads codes it does not know.
    pub code: String,
    /// For people: what was refused and why, naming the field or header.
    pub message: String,
    /// When a document is refused for several reasons (a manifest), each of
    /// them; the first one's code is `code`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            code: code.as_str().to_owned(),
            message: message.into(),
            problems: Vec::new(),
        }
    }

    /// The code, when this build of the protocol knows it.
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.code.parse().ok()
    }
}

/// One reason a document was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: String,
    /// The JSON pointer of the offending field in the posted document.
    pub pointer: String,
    /// The asset the field belongs to, when it belongs to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<String>,
    pub message: String,
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = ($code:literal, $status:literal), )*) => {
        /// The stable codes of [`ErrorBody::code`], each with the HTTP
        /// status it is sent with.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $( $(#[$doc])* #[serde(rename = $code)] $variant, )*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The HTTP status this code is sent with.
            pub fn status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)* }
            }
        }
    };
}

error_codes! {
    /// The request is malformed: a body that is not the expected JSON, a
    /// header that is not a number.
    InvalidRequest = ("invalid_request", 400),
    /// No bearer token, or one the server does not know.
    Unauthorized = ("unauthorized", 401),
    /// The token's role lacks the scope the route needs (named in the message).
    MissingScope = ("missing_scope", 403),
    /// The listing exists but belongs to another publisher.
    NotOwner = ("not_owner", 403),
    /// No such route, or no such resource among the caller's.
    NotFound = ("not_found", 404),
    MethodNotAllowed = ("method_not_allowed", 405),
    /// A manifest of this id was posted already with other bytes, or by
    /// another publisher.
    ManifestConflict = ("manifest_conflict", 409),
    /// The manifest has a listing already; its URL is in `Location`.
    ListingExists = ("listing_exists", 409),
    /// The key is registered to another publisher.
    KeyRegisteredElsewhere = ("key_registered_elsewhere", 409),
    /// The asset's file (or the dataset shard) is uploaded already.
    AssetAlreadyUploaded = ("asset_already_uploaded", 409),
    /// An unfinished upload of the asset exists; its URL is in `Location`.
    UploadInProgress = ("upload_in_progress", 409),
    /// `Upload-Offset` is not the upload's offset; HEAD tells the right one.
    OffsetMismatch = ("offset_mismatch", 409),
    /// The upload is finished; it can no longer be written or terminated.
    UploadComplete = ("upload_complete", 409),
    /// The upload expired before it was finished; its bytes are gone.
    UploadExpired = ("upload_expired", 410),
    /// `Tus-Resumable` is missing or names a version other than 1.0.0.
    TusVersionUnsupported = ("tus_version_unsupported", 412),
    /// The manifest is larger than the server accepts.
    ManifestTooLarge = ("manifest_too_large", 413),
    /// `Upload-Length` is larger than `Tus-Max-Size`.
    UploadTooLarge = ("upload_too_large", 413),
    /// The chunk would write past `Upload-Length`; nothing of it was kept.
    UploadExceedsLength = ("upload_exceeds_length", 413),
    UnsupportedMediaType = ("unsupported_media_type", 415),
    /// The manifest is not JSON, departs from the manifest schema, or lists
    /// an asset twice.
    ManifestInvalid = ("manifest_invalid", 422),
    /// The signature does not match the manifest under the signer's key.
    SignatureInvalid = ("signature_invalid", 422),
    /// The manifest's signing key is not registered to the caller.
    KeyNotRegistered = ("key_not_registered", 422),
    /// The manifest was not signed by a rights manager.
    SignerNotRightsManager = ("signer_not_rights_manager", 422),
    /// An asset's license is NO-TRAIN or does not allow AI training.
    LicenseForbidsTraining = ("license_forbids_training", 422),
    /// An asset has no `creator_wallet` (payout reference).
    PayoutReferenceMissing = ("payout_reference_missing", 422),
    /// An asset's `payment_terms` are not terms Assay defines.
    PaymentTermsInvalid = ("payment_terms_invalid", 422),
    /// An asset id holds characters other than letters, digits, `.`, `_`,
    /// `:` and `-`, or is longer than 128.
    AssetIdInvalid = ("asset_id_invalid", 422),
    /// A `file_name` is not a plain file name (a path, `..`, a control character).
    FileNameInvalid = ("file_name_invalid", 422),
    /// Not a PEM or `ed25519:` public key.
    KeyInvalid = ("key_invalid", 422),
    /// The signature does not prove the caller holds the key: not over a
    /// challenge this server gave the caller and still good, or not by that key.
    KeyPossessionUnproven = ("key_possession_unproven", 422),
    /// `Upload-Metadata` lacks `manifest_id` or `asset_id`, or is not valid.
    UploadMetadataInvalid = ("upload_metadata_invalid", 400),
    /// `Upload-Checksum` names an algorithm other than sha256, or is malformed.
    ChecksumAlgorithmUnsupported = ("checksum_algorithm_unsupported", 400),
    /// The asset (or the shard) is in none of the caller's manifests.
    AssetNotInManifest = ("asset_not_in_manifest", 422),
    /// `Upload-Length` differs from the asset's `size_bytes`.
    UploadLengthMismatch = ("upload_length_mismatch", 422),
    /// The finished file's SHA-256 differs from the manifest's checksum; the
    /// file was discarded and the upload removed.
    FileChecksumMismatch = ("file_checksum_mismatch", 422),
    /// A listing's title, description, price or currency is not acceptable.
    ListingInvalid = ("listing_invalid", 422),
    /// The revenue split cannot be made: a one-time fee in another currency
    /// than the listing's, or fees above the price.
    SplitInvalid = ("split_invalid", 422),
    /// The upload is being written by another request.
    UploadLocked = ("upload_locked", 423),
    /// The chunk's SHA-256 differs from `Upload-Checksum`; it was discarded.
    ChunkChecksumMismatch = ("chunk_checksum_mismatch", 460),
    /// The listing cannot be bought: a file on sale is not uploaded yet, or
    /// nothing is on sale.
    ListingIncomplete = ("listing_incomplete", 409),
    /// An asset's picture is a near-duplicate of one another publisher has
    /// on sale (the message names that listing and asset): the upload was
    /// discarded, or nothing was listed.
    NearDuplicate = ("near_duplicate", 409),
    /// A delta dataset version whose parent version is not the caller's:
    /// its manifest was not posted first, or, to list it, not listed.
    ParentVersionMissing = ("parent_version_missing", 409),
    /// A delta dataset version is sold only to buyers holding a live
    /// purchase of its parent version's listing.
    ParentPurchaseRequired = ("parent_purchase_required", 403),
    /// A dataset version is immutable: an asset cannot be withdrawn from
    /// it; the next version leaves it out.
    DatasetVersionImmutable = ("dataset_version_immutable", 409),
    /// The purchase is released or refunded; it can no longer be refunded
    /// or confirmed that way.
    PurchaseSettled = ("purchase_settled", 409),
    /// The purchase was refunded: its files and links are gone for the buyer.
    EntitlementRevoked = ("entitlement_revoked", 410),
    /// Not a download link this server signed (malformed or altered).
    DownloadLinkInvalid = ("download_link_invalid", 403),
    /// The download link's time is up; list the files again for new links.
    DownloadLinkExpired = ("download_link_expired", 410),
    /// The download link was made for another buyer than the bearer.
    DownloadLinkForeign = ("download_link_foreign", 403),
    /// The preview is larger than the server accepts.
    PreviewTooLarge = ("preview_too_large", 413),
    /// The preview is not a JPEG or PNG image, cannot be decoded, or has
    /// more pixels than the server decodes.
    PreviewInvalid = ("preview_invalid", 422),
    /// The Content Credentials are larger than the server accepts.
    CredentialsTooLarge = ("credentials_too_large", 413),
    /// The Content Credentials are not a C2PA manifest store that
    /// validates against the asset's stored file and names that asset.
    CredentialsInvalid = ("credentials_invalid", 422),
    /// The account asked for previews or samples faster than the server
    /// allows; `Retry-After` says when to try again.
    RateLimited = ("rate_limited", 429),
    /// A webhook's URL is not `http://` with a host, or its secret is not
    /// 16 to 256 characters.
    WebhookInvalid = ("webhook_invalid", 422),
    /// Not a library checkpoint this server reads, or its signature does
    /// not verify with the registered key it names.
    CheckpointInvalid = ("checkpoint_invalid", 422),
    /// The checkpoint does not extend the last one witnessed for its
    /// library (no consistency proof, or one that fails): the library was
    /// rolled back or rewritten since.
    CheckpointNotExtending = ("checkpoint_not_extending", 409),
    /// The upload would take the publisher past its storage quota (files
    /// stored and uploads under way); nothing was stored.
    StorageQuotaExceeded = ("storage_quota_exceeded", 507),
    /// The server's disk has too little room for the upload; try later.
    InsufficientStorage = ("insufficient_storage", 507),
    /// The server failed; the message says where, the request may be retried.
    Internal = ("internal", 500),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ErrorCode {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, UnknownName> {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "error code",
                name: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_read_back() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
            assert!((400..600).contains(&code.status()), "{code}");
        }
    }

    #[test]
    fn an_unknown_code_still_reads() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"code":"from_the_future","message":"m"}"#).unwrap();
        assert_eq!(body.error_code(), None);
        assert!(body.problems.is_empty());
        let body = ErrorBody::new(ErrorCode::NotFound, "gone");
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "not_found", "message": "gone"})
        );
    }
}
