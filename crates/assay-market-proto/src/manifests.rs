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
    /// The manifest's assets, in its order; for a dataset manifest, those
    /// its shards hold (a delta's added and changed assets).
    pub assets: Vec<ManifestAsset>,
    /// For a dataset manifest: which version of which dataset it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DatasetVersion>,
    /// For a dataset manifest: its shards, the files a buyer receives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ManifestShard>,
}

/// The version a dataset manifest (`@type` `DatasetManifest`) signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetVersion {
    pub dataset_id: String,
    pub name: String,
    pub version: u32,
    /// `webdataset` or `parquet`.
    pub format: String,
    /// The shards hold only what changed since `parent_manifest_hash`.
    pub delta: bool,
    /// The version it was built from (for a delta, the one it updates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_manifest_hash: Option<String>,
}

/// One shard of a dataset manifest, and whether its file is on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestShard {
    /// A plain file name, `NAME-vN-00000-of-000NN.tar|parquet`.
    pub name: String,
    pub size_bytes: u64,
    /// `sha256:` and hex, as in the manifest.
    pub sha256: String,
    /// How many assets' samples it holds.
    pub assets: u64,
    pub uploaded: bool,
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
