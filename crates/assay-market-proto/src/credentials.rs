//! Content Credentials delivered with purchases:
//! `PUT`/`GET /v1/listings/{listing_id}/assets/{asset_id}/credentials`.
//!
//! The publisher uploads, per asset on sale, a C2PA manifest store to keep
//! beside the original as a `.c2pa` sidecar: signed by the library's
//! rights manager, bound to every byte of the original by a SHA-256 data
//! hash, and carrying Assay's `assay.asset` assertion (asset id, checksum,
//! license tag, provenance head). The server accepts it only if it
//! validates against the stored original and names that asset and
//! checksum; a purchase's file links then point at it, and `assay pull
//! --c2pa` checks it again and writes it beside each file.

use serde::{Deserialize, Serialize};

/// The media type of a C2PA manifest store (a `.c2pa` sidecar).
pub const CREDENTIALS_MEDIA_TYPE: &str = "application/c2pa";

/// The largest manifest store the server accepts, in bytes.
pub const MAX_CREDENTIALS_BYTES: usize = 1 << 20;

/// What `PUT .../credentials` stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsInfo {
    pub asset_id: String,
    /// Where they are served (`GET`).
    pub url: String,
    pub size_bytes: u64,
    /// `sha256:` and hex, of the manifest store's bytes.
    pub sha256: String,
}
