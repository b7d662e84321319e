//! The publishers' event feed: `GET /v1/events?after=CURSOR&limit=N`.
//!
//! A publisher sees its own events only, oldest first. `cursor` is opaque
//! and increases; pass the last one seen as `after` to read on. Every
//! event has an `event_id` that never changes, so a client records each
//! one once however often it reads it.

use serde::{Deserialize, Serialize};

/// One event of the feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub event_id: String,
    pub cursor: String,
    /// RFC 3339.
    pub at: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened, tagged by `type`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    ListingCreated {
        listing_id: String,
        manifest_id: String,
        manifest_hash: String,
    },
    /// A buyer paid; the money is held in escrow.
    Purchase {
        purchase_id: String,
        listing_id: String,
        manifest_id: String,
        asset_ids: Vec<String>,
        amount_minor: u64,
        currency: String,
    },
    EscrowReleased {
        purchase_id: String,
        listing_id: String,
        amount_minor: u64,
        currency: String,
        reason: ReleaseReason,
    },
    Refunded {
        purchase_id: String,
        listing_id: String,
        amount_minor: u64,
        currency: String,
    },
    /// One payout of a released purchase was sent.
    PayoutSent {
        payout_id: String,
        purchase_id: String,
        listing_id: String,
        /// Absent for the publisher's remainder.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        creator_wallet: Option<String>,
        asset_ids: Vec<String>,
        amount_minor: u64,
        currency: String,
    },
    /// A payout sent earlier came back: the payee's account refused it.
    PayoutFailed {
        payout_id: String,
        purchase_id: String,
        listing_id: String,
        /// Absent for the publisher's remainder.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        creator_wallet: Option<String>,
        asset_ids: Vec<String>,
        amount_minor: u64,
        currency: String,
        /// What the payment rail said, as the operator recorded it.
        reason: String,
    },
}

/// Why escrow was released.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseReason {
    /// The buyer confirmed a verified download.
    Confirmed,
    /// The hold period ended without a refund.
    HoldExpired,
}

/// A page of the feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPage {
    pub events: Vec<Event>,
    /// The cursor to pass as `after` next: the last event's, or the `after`
    /// that was asked for when there are none yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}
