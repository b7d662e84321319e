//! Listings: a manifest's assets offered for sale at one price.
//! `POST /v1/listings`, `GET /v1/listings`, `GET`/`PUT`/`PATCH /v1/listings/{listing_id}`,
//! and `POST /v1/listings/{listing_id}/withdrawals`.
//!
//! The revenue split is derived from the manifest, never sent by a client;
//! the rule is in the spec (`Split`) and in [`Split`].

use serde::{Deserialize, Serialize};

/// The body of `POST /v1/listings`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewListing {
    /// One of the caller's manifests; a manifest has at most one listing.
    pub manifest_id: String,
    #[serde(flatten)]
    pub terms: ListingTerms,
}

/// What a publisher sets on a listing; the body of `PUT /v1/listings/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingTerms {
    /// 1 to 200 characters.
    pub title: String,
    /// Up to 10,000 characters.
    pub description: String,
    /// The price of the whole listing in the currency's minor unit (cents
    /// for EUR, yen for JPY).
    pub price_minor: u64,
    /// ISO 4217, three capital letters.
    pub currency: String,
}

/// The body of `PATCH /v1/listings/{id}`: the terms to change, the others
/// kept. A member the protocol does not know is refused, so a misspelt
/// field cannot pass for a change that was made.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListingChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_minor: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

impl ListingChanges {
    /// `terms` with these changes made.
    pub fn apply(&self, terms: &ListingTerms) -> ListingTerms {
        ListingTerms {
            title: self.title.clone().unwrap_or_else(|| terms.title.clone()),
            description: self
                .description
                .clone()
                .unwrap_or_else(|| terms.description.clone()),
            price_minor: self.price_minor.unwrap_or(terms.price_minor),
            currency: self
                .currency
                .clone()
                .unwrap_or_else(|| terms.currency.clone()),
        }
    }
}

/// The body of `POST /v1/listings/{id}/withdrawals`: take an asset off sale,
/// for good. Withdrawing an asset already withdrawn changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    pub asset_id: String,
    /// Why, for buyers and the publisher's records: `revoked` and
    /// `no_train` are what `assay sync` sends; 1 to 500 characters.
    pub reason: String,
}

/// A listing as `GET /v1/listings` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingSummary {
    pub listing_id: String,
    /// The publishing account's name.
    pub publisher: String,
    pub manifest_id: String,
    pub manifest_hash: String,
    #[serde(flatten)]
    pub terms: ListingTerms,
    /// The distinct license tags of the assets on sale.
    pub license_tags: Vec<String>,
    /// Assets in the manifest, of which withdrawn, and of the others uploaded.
    pub assets: u64,
    pub withdrawn: u64,
    pub uploaded: u64,
    /// Every asset not withdrawn has its file on the server (for a
    /// dataset version: every shard).
    pub complete: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Set when the listing sells a dataset version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<ListingDataset>,
}

/// The dataset version a listing sells.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingDataset {
    pub dataset_id: String,
    pub name: String,
    pub version: u32,
    /// `webdataset` or `parquet`.
    pub format: String,
    /// Its shards hold only what changed since the parent version; only a
    /// buyer of the parent's listing may buy it.
    pub delta: bool,
    /// The listing of the version a delta updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_listing_id: Option<String>,
    pub shards: u64,
    pub shards_uploaded: u64,
}

/// A later version of a listing's dataset, offered as a delta to the
/// buyers of this one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaterVersion {
    pub listing_id: String,
    pub version: u32,
    pub delta: bool,
}

/// A listing in full: `GET /v1/listings/{id}`, and the answer of every
/// change to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    #[serde(flatten)]
    pub summary: ListingSummary,
    pub split: Split,
    pub items: Vec<ListingItem>,
    /// A dataset listing's shards, the files its buyers receive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<crate::manifests::ManifestShard>,
    /// For a dataset listing: the listed deltas that update this version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub later_versions: Vec<LaterVersion>,
}

/// One asset of a listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingItem {
    pub asset_id: String,
    pub title: Option<String>,
    pub file_name: String,
    pub media_type: String,
    pub size_bytes: u64,
    pub checksum: String,
    pub license_tag: String,
    pub creator_wallet: String,
    pub uploaded: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<Withdrawn>,
}

/// When and why an asset was taken off sale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawn {
    pub reason: String,
    pub at: String,
}

/// Who earns what from one sale at the listing's current price, in its
/// currency's minor unit. Derived from the manifest's entries (assets
/// withdrawn left out), recomputed whenever the price or the assets change:
///
/// 1. One-time fees (`payment_terms.kind = one_time`) are paid first, each
///    to its asset's `creator_wallet`, converted to minor units; the fee's
///    currency must be the listing's, and their sum may not exceed the price.
/// 2. What remains is divided into equal parts, one per asset on sale.
/// 3. An asset with `rev_share` (`share`) or `royalty` (`rate`) terms earns
///    its creator that fraction of its part (to the millionth, rounded down).
/// 4. The publisher keeps the rest: the parts of assets without such terms
///    and every rounding remainder, so the amounts add up to the price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    pub currency: String,
    pub price_minor: u64,
    /// The publisher's amount: the price less every creator's.
    pub publisher_minor: u64,
    /// One entry per creator wallet of the assets on sale, by wallet; a
    /// wallet whose assets carry no share or fee earns 0.
    pub creators: Vec<CreatorShare>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatorShare {
    pub creator_wallet: String,
    /// The wallet's assets on sale.
    pub assets: u64,
    pub amount_minor: u64,
}

/// A page of `GET /v1/listings?after=&limit=`, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingPage {
    pub listings: Vec<ListingSummary>,
    /// The `after` of the next page, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}
