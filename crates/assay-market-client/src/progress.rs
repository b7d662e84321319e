//! What a sync reports while it runs, and what it did in the end.

use assay_core::RefusedAsset;
use serde::Serialize;

/// One step of a sync, as it happens; `assay sync --json` prints each as a
/// line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SyncEvent {
    /// Approved assets the sync cannot publish, and why.
    Refused { refused: Vec<RefusedAsset> },
    /// A manifest was posted; `files` of its files (`bytes` in all) are to
    /// upload, the others are on the market already.
    Manifest {
        manifest_id: String,
        assets: usize,
        files: usize,
        bytes: u64,
    },
    /// The market acknowledged bytes of a file up to `offset`.
    Bytes {
        asset_id: String,
        offset: u64,
        size: u64,
        /// What this sync has sent so far, every file included.
        sent: u64,
    },
    /// A file is on the market, verified against its checksum.
    Uploaded { asset_id: String },
    /// A manifest's listing, `created` by this sync or found.
    Listed {
        manifest_id: String,
        listing_id: String,
        created: bool,
    },
    /// `export_to_marketplace` events recorded on `assets` assets.
    Recorded {
        manifest_id: String,
        listing_id: String,
        assets: usize,
    },
    /// An asset taken off sale.
    Withdrawn {
        listing_id: String,
        asset_id: String,
        reason: String,
    },
    /// The market witnessed the library's checkpoint of `events` events:
    /// it extends every one it witnessed before.
    Witnessed { events: u64, witnessed_at: String },
    /// A payment on the market's feed (`purchase`, `escrow_released`,
    /// `refunded`, `payout_sent` or `payout_failed`) recorded as `payment` events on the
    /// library's assets it concerns.
    Payment {
        feed_event_id: String,
        #[serde(rename = "type")]
        kind: String,
        asset_ids: Vec<String>,
    },
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncReport {
    pub market: String,
    /// Manifests posted (new or resumed).
    pub manifests: usize,
    /// Files uploaded by this sync, and bytes sent for them.
    pub files_uploaded: usize,
    pub bytes_sent: u64,
    /// Files the market held already.
    pub files_present: usize,
    pub listings_created: usize,
    /// Asset previews sent to listings.
    pub previews_sent: usize,
    /// Assets whose Content Credentials were sent, to be delivered beside
    /// their files; and those that have none, with the reason.
    pub credentials_sent: usize,
    pub credentials_refused: Vec<RefusedAsset>,
    /// Assets on which an `export_to_marketplace` event was recorded.
    pub assets_recorded: usize,
    pub withdrawn: usize,
    /// Feed events read for the first time, and `payment` events recorded
    /// for them (one per asset a payment concerns).
    pub feed_events: usize,
    pub payments_recorded: usize,
    /// Approved assets the sync could not publish.
    pub refused: Vec<RefusedAsset>,
    /// The events of the library's checkpoint the market witnessed at the
    /// end of the sync.
    pub witnessed_events: Option<u64>,
    /// The sync was cancelled and stopped early; what it did is above.
    pub cancelled: bool,
}
