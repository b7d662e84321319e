//! What an operator can tune. [`Config::new`] gives the defaults
//! `assay-market serve` runs with.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Config {
    /// The data folder: `market.db` and the blobs.
    pub data: PathBuf,
    /// The largest file an upload may be (`Tus-Max-Size`).
    pub max_upload_bytes: u64,
    /// The largest manifest `POST /v1/manifests` reads.
    pub max_manifest_bytes: usize,
    /// How long an unfinished upload lives after its last write.
    pub upload_ttl: Duration,
    /// How often expired uploads are swept and purchases past their hold
    /// released.
    pub sweep_every: Duration,
    /// How long a purchase's money stays in escrow when its buyer does not
    /// confirm the download; then it is released to the payees.
    pub escrow_hold: Duration,
    /// How long a signed download link works.
    pub download_ttl: Duration,
}

impl Config {
    pub fn new(data: impl Into<PathBuf>) -> Config {
        Config {
            data: data.into(),
            max_upload_bytes: 64 << 30,
            // A manifest entry is about 700 bytes; this holds 300,000 of them.
            max_manifest_bytes: 256 << 20,
            upload_ttl: Duration::from_secs(24 * 3600),
            sweep_every: Duration::from_secs(600),
            escrow_hold: Duration::from_secs(14 * 24 * 3600),
            download_ttl: Duration::from_secs(15 * 60),
        }
    }
}
