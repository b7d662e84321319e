//! Buying: `POST /v1/listings/{listing_id}/purchases`,
//! `GET /v1/purchases/{purchase_id}`, its `refund` and `confirm`, and
//! delivery: `GET /v1/purchases/{purchase_id}/files` and
//! `GET /v1/downloads/{token}`.
//!
//! A purchase holds the listing's price in escrow (`held`) and entitles its
//! buyer to every file on sale at that moment, plus the manifest's bytes.
//! Escrow is `released` when the buyer confirms a verified download or the
//! hold period ends, and the payouts are then `sent`; while it is held, the
//! publisher may refund it (`refunded`): the entitlement is revoked and
//! the payouts cancelled.

use serde::{Deserialize, Serialize};

/// Where a purchase's money is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscrowState {
    Held,
    Released,
    Refunded,
}

impl EscrowState {
    pub fn as_str(self) -> &'static str {
        match self {
            EscrowState::Held => "held",
            EscrowState::Released => "released",
            EscrowState::Refunded => "refunded",
        }
    }
}

/// Where one payout of a purchase is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutState {
    /// Owed once escrow is released.
    Pending,
    Sent,
    /// The purchase was refunded.
    Cancelled,
    /// Sent, then returned: the payee's account refused it. The operator
    /// records it (`assay-market payout fail`); the money is still owed.
    Failed,
}

impl PayoutState {
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutState::Pending => "pending",
            PayoutState::Sent => "sent",
            PayoutState::Cancelled => "cancelled",
            PayoutState::Failed => "failed",
        }
    }
}

/// A purchase: what `POST /v1/listings/{id}/purchases` answers (201 new,
/// 200 when the buyer holds one already) and `GET /v1/purchases/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    pub purchase_id: String,
    pub listing_id: String,
    pub manifest_id: String,
    pub manifest_hash: String,
    /// The buying account's name.
    pub buyer: String,
    /// The publishing account's name.
    pub publisher: String,
    /// The price as paid, in the currency's minor unit.
    pub amount_minor: u64,
    pub currency: String,
    pub state: EscrowState,
    /// The assets the purchase entitles to, in manifest order.
    pub asset_ids: Vec<String>,
    /// The split at the moment of purchase: one payout per creator wallet
    /// owed more than nothing, and the publisher's remainder.
    pub payouts: Vec<Payout>,
    pub created_at: String,
    /// When a held purchase is released without the buyer's confirmation.
    pub hold_until: String,
    /// When it was released or refunded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_at: Option<String>,
}

/// One payee's share of a purchase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    pub payout_id: String,
    /// The creator's payout reference; absent for the publisher's remainder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_wallet: Option<String>,
    /// The purchased assets this payout is for (the wallet's, or every one
    /// for the publisher).
    pub asset_ids: Vec<String>,
    pub amount_minor: u64,
    pub currency: String,
    pub state: PayoutState,
    /// Why a `failed` payout failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// `GET /v1/purchases/{id}/files`: a signed link to every file and to the
/// manifest. Each link works for the buyer's own bearer token only, until
/// `expires_at`; ask again for fresh ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseFiles {
    pub purchase_id: String,
    /// RFC 3339; every link expires then.
    pub expires_at: String,
    /// The manifest's bytes exactly as the publisher posted them.
    pub manifest: FileLink,
    /// The assets' originals; empty for a dataset version.
    pub files: Vec<FileLink>,
    /// A dataset version's shards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<FileLink>,
}

/// One downloadable file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileLink {
    /// The manifest entry; absent for the manifest itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<String>,
    pub file_name: String,
    pub size_bytes: u64,
    /// `sha256:` and 64 hex digits: what the download must hash to.
    pub sha256: String,
    /// A path on the server, `/v1/downloads/TOKEN`.
    pub url: String,
    /// Where the file's Content Credentials are (a path on the server),
    /// when the publisher sent them: a C2PA sidecar bound to its bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
}

/// The response header of `GET /v1/downloads/{token}` that carries the
/// file's `sha256:HEX`.
pub const SHA256_HEADER: &str = "Assay-Sha256";
