//! Signed manifests: `POST /v1/manifests` takes the exact bytes
//! `assay manifest export` wrote (`Content-Type: application/json`);
//! `GET /v1/manifests/{manifest_id}` gives them back, byte for byte.

use serde::{Deserialize, Serialize};

/// What the server holds of a posted manifest. `POST /v1/manifests`
/// answers 201 with it, or 200 when the same bytes were posted before;
/// posting again is how a client learns which files are still to upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestReceipt {
    pub manifest_id: String,
    /// `sha256:` and the hex SHA-256 of the bytes as posted.
    pub manifest_hash: String,
    /// The registered key that signed it.
    pub key_id: String,
    pub received_at: String,
    /// The manifest's assets, in its order.
    pub assets: Vec<ManifestAsset>,
}

/// One asset of a manifest, and whether its file is on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestAsset {
    pub asset_id: String,
    pub file_name: String,
    pub size_bytes: u64,
    /// `sha256:` and hex, as in the manifest.
    pub checksum: String,
    /// The file was uploaded and matched `checksum` (by this manifest's
    /// upload, or an earlier upload of the same bytes by the same publisher).
    pub uploaded: bool,
}
