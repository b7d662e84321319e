//! What an operator can tune. [`Config::new`] gives the defaults
//! `assay-market serve` runs with.

use std::path::PathBuf;
use std::time::Duration;

pub use crate::connections::ConnectionLimits;

use crate::blobs::S3Location;

/// Where the blobs are kept (`serve --blobs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobsAt {
    Folder(PathBuf),
    S3(S3Location),
}

impl std::str::FromStr for BlobsAt {
    type Err = String;

    /// `s3://BUCKET[/PREFIX]?endpoint=URL` or a folder's path.
    fn from_str(given: &str) -> Result<BlobsAt, String> {
        match S3Location::parse(given) {
            Some(location) => location.map(BlobsAt::S3),
            None if given.is_empty() => Err("an empty path names no folder".to_owned()),
            None => Ok(BlobsAt::Folder(PathBuf::from(given))),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// The data folder: `market.db` and the blobs.
    pub data: PathBuf,
    /// The records in a PostgreSQL database instead of `market.db`: a
    /// `postgres://` URL. Several server processes may share it.
    pub database: Option<String>,
    /// Where files' bytes live instead of the data folder: another folder,
    /// or an S3-compatible bucket several server processes may share.
    pub blobs: Option<BlobsAt>,
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
    /// The largest preview image `PUT .../preview` reads.
    pub max_preview_bytes: usize,
    /// Preview and sample requests an account may make per minute (a token
    /// bucket holding as many); 0 for no limit.
    pub preview_rate_per_minute: u32,
    /// Attempts at delivering one event to one webhook, the first included.
    pub webhook_attempts: u32,
    /// The wait after a webhook delivery's first failure; it doubles after
    /// each one, up to an hour.
    pub webhook_first_retry: Duration,
    /// How often the deliverer looks for deliveries that are due.
    pub webhook_poll: Duration,
    /// Upload chunks (PATCH) one account may be sending at once.
    pub uploads_at_once_per_account: usize,
    /// Downloads one account may be receiving at once.
    pub downloads_at_once_per_account: usize,
    /// Bytes one publisher may keep: files stored and uploads under way.
    pub account_quota_bytes: u64,
    /// Room an upload must leave free on the data volume.
    pub min_free_bytes: u64,
    /// JSON values a manifest may hold (parsing one costs about a hundred
    /// bytes each, whatever its size in the body).
    pub max_manifest_values: usize,
    /// Manifests read and checked at once; more wait their turn, so memory
    /// stays bounded however many are posted together.
    pub manifests_at_once: usize,
    /// Webhooks may be delivered to loopback, private and link-local
    /// addresses (tests, a relay on the same host); off by default.
    pub allow_private_webhooks: bool,
    /// How long a peer may keep a connection waiting.
    pub connections: ConnectionLimits,
    /// Threads for blocking work (SQLite, files, hashing); more work waits
    /// its turn. A thread waits on the disk, never on a client: uploads
    /// and downloads take one per batch they write or read.
    pub blocking_threads: usize,
}

impl Config {
    pub fn new(data: impl Into<PathBuf>) -> Config {
        Config {
            data: data.into(),
            database: None,
            blobs: None,
            max_upload_bytes: 64 << 30,
            // A manifest entry is about 700 bytes and 20 JSON values: these
            // hold about 200,000 entries.
            max_manifest_bytes: 160 << 20,
            max_manifest_values: 4_000_000,
            uploads_at_once_per_account: 8,
            downloads_at_once_per_account: 8,
            account_quota_bytes: 1 << 40,
            min_free_bytes: 1 << 30,
            manifests_at_once: 2,
            upload_ttl: Duration::from_secs(24 * 3600),
            sweep_every: Duration::from_secs(600),
            escrow_hold: Duration::from_secs(14 * 24 * 3600),
            download_ttl: Duration::from_secs(15 * 60),
            max_preview_bytes: 16 << 20,
            preview_rate_per_minute: 60,
            // 30 s doubling 8 times: the last attempt about two hours after the event.
            webhook_attempts: 9,
            webhook_first_retry: Duration::from_secs(30),
            webhook_poll: Duration::from_secs(1),
            allow_private_webhooks: false,
            connections: ConnectionLimits::default(),
            blocking_threads: 64,
        }
    }
}
