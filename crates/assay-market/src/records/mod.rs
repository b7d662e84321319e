//! The server's records: accounts, publishers' keys, manifests and their
//! assets, uploads, stored files, listings, purchases with their
//! entitlements and payouts, the publishers' events, the webhook outbox,
//! rate buckets and the server's secrets. [`SqliteRecords`] is the embedded
//! one (one data folder, one server process); [`PostgresRecords`] keeps
//! them in a database several server processes share.
//!
//! Methods are synchronous and may block: the server calls them on tokio's
//! blocking threads, never on the async runtime. Every method that changes
//! more than one row does so in one transaction, so a refusal or a crash
//! leaves nothing half-recorded.

mod accounts;
mod events;
mod fingerprints;
mod listings;
mod manifests;
mod migrations;
mod postgres;
mod previews;
mod sales;
mod sqlite;
mod stored;
mod uploads;
mod webhooks;
mod witnessed;

use assay_core::licenses::PaymentTerms;
use assay_core::preview::Fingerprint;
use assay_market_proto::events::{EventKind, ReleaseReason};
use assay_market_proto::listings::{LaterVersion, ListingTerms, Withdrawn};
use assay_market_proto::manifests::DatasetVersion;
use assay_market_proto::purchases::{EscrowState, PayoutState};
use assay_market_proto::tus::UploadFile;
use assay_market_proto::Role;

use crate::ids::{
    BlobId, EventId, ListingId, PayoutId, PreviewId, PurchaseId, UploadId, WebhookId,
};

pub use postgres::PostgresRecords;
pub use sqlite::SqliteRecords;

pub type AccountId = i64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub role: Role,
    pub created_at: String,
}

/// A publisher's registered ed25519 key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    pub key_id: String,
    pub public_key: [u8; 32],
    pub created_at: String,
}

/// What an idempotent insert found: a new row, or the same one already there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Insert<T> {
    New(T),
    Existing(T),
}

impl<T> Insert<T> {
    pub fn into_inner(self) -> T {
        match self {
            Insert::New(t) | Insert::Existing(t) => t,
        }
    }
}

/// An accepted manifest, before it is stored.
#[derive(Clone, Debug)]
pub struct NewManifest {
    pub manifest_id: String,
    pub account: AccountId,
    pub manifest_hash: String,
    pub key_id: String,
    /// The bytes as posted: what buyers will verify.
    pub bytes: Vec<u8>,
    pub assets: Vec<AssetEntry>,
    /// For a dataset manifest, the version it signs, and its shards.
    pub dataset: Option<DatasetVersion>,
    pub shards: Vec<ShardEntry>,
}

/// A shard a dataset manifest lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardEntry {
    pub name: String,
    /// `sha256:` and hex.
    pub checksum: String,
    pub size_bytes: u64,
    /// How many assets' samples it holds.
    pub assets: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredShard {
    pub entry: ShardEntry,
    /// The stored file with the shard's checksum, once one was uploaded.
    pub blob: Option<BlobId>,
}

impl StoredShard {
    /// The shard as the protocol shows it, in receipts and listings.
    pub fn into_wire(self) -> assay_market_proto::manifests::ManifestShard {
        assay_market_proto::manifests::ManifestShard {
            uploaded: self.blob.is_some(),
            name: self.entry.name,
            size_bytes: self.entry.size_bytes,
            sha256: self.entry.checksum,
            assets: self.entry.assets,
        }
    }
}

/// The parts of a manifest entry the server acts on.
#[derive(Clone, Debug, PartialEq)]
pub struct AssetEntry {
    pub asset_id: String,
    pub title: Option<String>,
    pub file_name: String,
    /// `sha256:` and hex.
    pub checksum: String,
    pub size_bytes: u64,
    pub media_type: String,
    pub license_tag: String,
    pub creator_wallet: String,
    pub payment_terms: Option<PaymentTerms>,
    /// As the manifest gives it; shown in a listing's sample.
    pub capture_date: Option<String>,
    /// What the asset's license says of AI training, as its downloads and
    /// previews say it; `None` for a manifest stored before the market
    /// sent these headers.
    pub usage: Option<UsageHeaders>,
}

/// An asset's AI-training terms as HTTP headers: IETF AI preferences
/// (`Content-Usage`) and W3C TDMRep (`tdm-reservation`, `tdm-policy`),
/// from the one mapping of the license taxonomy
/// ([`assay_core::licenses::LicenseTag::signals`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageHeaders {
    pub content_usage: String,
    pub tdm_reservation: bool,
    pub tdm_policy: Option<String>,
}

/// A stored manifest (without its bytes) and its assets in manifest order.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub manifest_id: String,
    pub account: AccountId,
    pub manifest_hash: String,
    pub key_id: String,
    pub received_at: String,
    pub assets: Vec<StoredAsset>,
    pub dataset: Option<DatasetVersion>,
    pub shards: Vec<StoredShard>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoredAsset {
    pub entry: AssetEntry,
    /// The stored file with the entry's checksum, once one was uploaded.
    pub blob: Option<BlobId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUpload {
    pub id: UploadId,
    pub account: AccountId,
    pub manifest_id: String,
    pub file: UploadFile,
    pub length: u64,
    pub expires_at_ms: i64,
    /// What the account may hold, this upload included: its stored files
    /// and its open uploads' lengths ([`RecordsError::QuotaExceeded`]).
    pub quota_bytes: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadState {
    /// Still receiving bytes.
    Open,
    /// Every byte arrived and matched the manifest; the file is a blob.
    Complete,
    /// Expired unfinished; its bytes were swept.
    Expired,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub id: UploadId,
    pub account: AccountId,
    pub manifest_id: String,
    pub file: UploadFile,
    pub length: u64,
    /// The bytes received and made durable.
    pub offset: u64,
    pub state: UploadState,
    pub expires_at_ms: i64,
    /// The manifest's checksum of the file (`sha256:` and hex).
    pub checksum: String,
}

/// An asset on sale whose picture is a near-duplicate of another's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NearListing {
    /// The listing's public id.
    pub listing: String,
    pub asset_id: String,
    /// Bits between the two pictures' perceptual hashes.
    pub distance: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewListing {
    pub id: ListingId,
    pub account: AccountId,
    pub manifest_id: String,
    pub terms: ListingTerms,
}

/// A listing's own fields, with its publisher's and manifest's names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListingRecord {
    pub id: ListingId,
    pub account: AccountId,
    pub publisher: String,
    pub manifest_id: String,
    pub manifest_hash: String,
    pub terms: ListingTerms,
    pub created_at: String,
    pub updated_at: String,
    /// For a dataset listing, the version it sells, and for a delta the
    /// listing of its parent version.
    pub dataset: Option<DatasetVersion>,
    pub parent_listing: Option<ListingId>,
}

/// A listing with the counts a page of listings shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListingRow {
    pub listing: ListingRecord,
    pub assets: u64,
    pub withdrawn: u64,
    /// Uploaded among the assets not withdrawn.
    pub uploaded: u64,
    /// The distinct license tags of the assets not withdrawn.
    pub license_tags: Vec<String>,
    /// A dataset listing's shards, and of them uploaded.
    pub shards: u64,
    pub shards_uploaded: u64,
}

/// A listing with every asset of its manifest.
#[derive(Clone, Debug, PartialEq)]
pub struct ListingDetail {
    pub listing: ListingRecord,
    pub items: Vec<ListedAsset>,
    pub shards: Vec<StoredShard>,
    /// Listed deltas of later versions that update this one.
    pub later_versions: Vec<LaterVersion>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ListedAsset {
    pub asset: StoredAsset,
    pub withdrawn: Option<Withdrawn>,
}

/// A purchase about to be recorded: the listing as the buyer saw it
/// (`listing_updated_at`), the files it entitles to and the payouts of the
/// split at that moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPurchase {
    pub id: PurchaseId,
    pub listing: ListingId,
    pub buyer: AccountId,
    pub listing_updated_at: String,
    pub amount_minor: u64,
    pub currency: String,
    pub hold_until_ms: i64,
    /// Asset ids and their files, in manifest order.
    pub files: Vec<(String, BlobId)>,
    /// For a dataset listing, its shards' names and files instead. A
    /// delta's buyer must hold a live purchase of its parent version's
    /// listing ([`RecordsError::ParentPurchaseRequired`]).
    pub shards: Vec<(String, BlobId)>,
    pub payouts: Vec<NewPayout>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPayout {
    pub id: PayoutId,
    /// `None` for the publisher's remainder.
    pub creator_wallet: Option<String>,
    pub asset_ids: Vec<String>,
    pub amount_minor: u64,
}

/// A recorded purchase with its entitlement and payouts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurchaseRecord {
    pub id: PurchaseId,
    pub listing: ListingId,
    /// The listing's publisher.
    pub publisher: AccountId,
    pub publisher_name: String,
    pub manifest_id: String,
    pub manifest_hash: String,
    pub buyer: AccountId,
    pub buyer_name: String,
    pub amount_minor: u64,
    pub currency: String,
    pub state: EscrowState,
    pub created_at: String,
    pub hold_until_ms: i64,
    pub settled_at: Option<String>,
    /// The assets bought: those of `files`, or a dataset version's.
    pub asset_ids: Vec<String>,
    pub files: Vec<EntitledFile>,
    pub shards: Vec<EntitledShard>,
    pub payouts: Vec<PayoutRecord>,
}

/// A dataset shard a purchase entitles its buyer to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntitledShard {
    pub name: String,
    pub size_bytes: u64,
    /// `sha256:` and hex.
    pub checksum: String,
    pub blob: BlobId,
}

/// A file a purchase entitles its buyer to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntitledFile {
    pub asset_id: String,
    pub file_name: String,
    pub size_bytes: u64,
    /// `sha256:` and hex.
    pub checksum: String,
    pub blob: BlobId,
    pub usage: Option<UsageHeaders>,
    /// Whether the publisher sent the asset's Content Credentials.
    pub credentials: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutRecord {
    pub id: PayoutId,
    pub creator_wallet: Option<String>,
    pub asset_ids: Vec<String>,
    pub amount_minor: u64,
    pub state: PayoutState,
    /// Why a failed payout failed.
    pub failure: Option<String>,
}

/// A failed payout and the purchase it is of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutFailure {
    pub purchase: PurchaseId,
    pub payout: PayoutRecord,
    /// False when it had failed already.
    pub newly: bool,
}

/// How a held purchase is settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// Escrow goes to the payees: payouts are sent.
    Release(ReleaseReason),
    /// Escrow goes back to the buyer: the entitlement is revoked and the
    /// payouts cancelled.
    Refund,
}

/// One event of a publisher's feed; `seq` is its cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    pub seq: i64,
    pub id: EventId,
    pub at: String,
    pub kind: EventKind,
}

/// A listing asset's watermarked preview.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviewRecord {
    pub id: PreviewId,
    pub asset_id: String,
    pub width: u32,
    pub height: u32,
    pub size_bytes: u64,
    pub created_at: String,
}

/// A registered webhook with its delivery counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookRecord {
    pub id: WebhookId,
    pub account: AccountId,
    pub url: String,
    pub created_at: String,
    pub pending: u64,
    pub delivered: u64,
    pub failed: u64,
}

/// A delivery whose time has come: where, under which secret, what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueDelivery {
    pub seq: i64,
    /// The publisher whose webhook it is.
    pub account: AccountId,
    pub webhook: WebhookId,
    pub url: String,
    pub secret: String,
    /// Attempts made before this one.
    pub attempts: u32,
    pub event: EventRecord,
}

/// A checkpoint the market witnessed for one of a publisher's libraries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessedRecord {
    /// The order witnessed in, across all libraries.
    pub seq: i64,
    pub account: AccountId,
    /// The library's root, as its checkpoints name it.
    pub library: String,
    /// The checkpoint's canonical JSON, as signed.
    pub checkpoint: Vec<u8>,
    /// The market's signed statement, canonical JSON.
    pub witness: Vec<u8>,
    pub witnessed_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewWitnessed {
    pub account: AccountId,
    pub library: String,
    pub events_size: u64,
    pub checkpoint: Vec<u8>,
    pub witness: Vec<u8>,
    pub witnessed_at: String,
}

/// Why a records operation failed: a rule the records keep (each its own
/// variant, for the API to name), or the backend.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    #[error("an account named {0:?} exists already")]
    NameTaken(String),
    #[error("key {0} is registered to another publisher")]
    KeyRegisteredElsewhere(String),
    #[error("manifest {0} was posted before, with other bytes or by another publisher")]
    ManifestConflict(String),
    #[error("{file} of manifest {manifest_id} is uploaded already")]
    AlreadyUploaded {
        manifest_id: String,
        file: UploadFile,
    },
    #[error("{file} of manifest {manifest_id} has an unfinished upload, {upload}")]
    UploadInProgress {
        manifest_id: String,
        file: UploadFile,
        upload: UploadId,
    },
    #[error(
        "version {version} of dataset {dataset_id} is posted already, as manifest {manifest_id}"
    )]
    VersionTaken {
        dataset_id: String,
        version: u32,
        manifest_id: String,
    },
    #[error("{0}")]
    ParentVersionMissing(String),
    #[error("listing {0} sells a dataset version, which cannot change; build a new version that leaves the asset out")]
    DatasetVersionImmutable(ListingId),
    #[error(
        "listing {listing} updates the dataset version of listing {parent}: buy that one first"
    )]
    ParentPurchaseRequired {
        listing: ListingId,
        parent: ListingId,
    },
    #[error("upload {upload} is no longer at offset {expected}")]
    OffsetMoved { upload: UploadId, expected: u64 },
    #[error("manifest {manifest_id} is listed already, as {listing}")]
    ListingExists {
        manifest_id: String,
        listing: ListingId,
    },
    #[error("listing {listing} has no asset {asset_id}")]
    AssetNotInListing {
        listing: ListingId,
        asset_id: String,
    },
    #[error("listing {0} changed while it was being bought; look at it again")]
    ListingChanged(ListingId),
    #[error("purchase {purchase} is {} already", state.as_str())]
    PurchaseSettled {
        purchase: PurchaseId,
        state: EscrowState,
    },
    #[error("payout {payout} is {}, not sent, so it cannot fail", state.as_str())]
    PayoutNotSent {
        payout: PayoutId,
        state: PayoutState,
    },
    #[error("no {what} {id}")]
    Missing { what: &'static str, id: String },
    #[error("the upload of {length} bytes would take the account past its quota of {quota} bytes ({used} held: files stored and uploads under way)")]
    QuotaExceeded { length: u64, used: u64, quota: u64 },
    #[error("another checkpoint of library {0} was witnessed meanwhile; check against it")]
    WitnessMoved(String),
    #[error("records {path}: schema version {found} is newer than this build knows ({known}); upgrade assay-market")]
    SchemaTooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("records: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type Result<T, E = RecordsError> = std::result::Result<T, E>;

/// Everything the server records. See the module documentation for the
/// rules every implementation keeps.
pub trait Records: Send + Sync {
    /// A new account, known by the SHA-256 of its token.
    fn add_account(&self, name: &str, role: Role, token_sha256: &[u8; 32]) -> Result<Account>;
    fn account_by_token(&self, token_sha256: &[u8; 32]) -> Result<Option<Account>>;
    /// Replaces the token of the account `name` (by its hash);
    /// [`RecordsError::Missing`] if there is no such account.
    fn set_token(&self, name: &str, token_sha256: &[u8; 32]) -> Result<Account>;

    /// Registers a key to `account`. A key belongs to one publisher:
    /// [`RecordsError::KeyRegisteredElsewhere`] if another holds it.
    fn add_key(
        &self,
        account: AccountId,
        key_id: &str,
        public_key: &[u8; 32],
    ) -> Result<Insert<StoredKey>>;
    /// `account`'s keys, oldest first.
    fn keys(&self, account: AccountId) -> Result<Vec<StoredKey>>;

    /// Stores an accepted manifest and its assets; the same manifest again
    /// (same id, publisher and hash) is [`Insert::Existing`], another with
    /// the same id is [`RecordsError::ManifestConflict`]. Assets whose
    /// bytes the publisher uploaded before are linked to that blob at once.
    fn add_manifest(&self, manifest: NewManifest) -> Result<Insert<Manifest>>;
    /// `account`'s manifest of that id, if it has one.
    fn manifest(&self, account: AccountId, manifest_id: &str) -> Result<Option<Manifest>>;
    fn manifest_bytes(&self, account: AccountId, manifest_id: &str) -> Result<Option<Vec<u8>>>;
    fn manifest_asset(
        &self,
        account: AccountId,
        manifest_id: &str,
        asset_id: &str,
    ) -> Result<Option<StoredAsset>>;
    /// Shard `name` of the caller's dataset manifest `manifest_id`.
    fn manifest_shard(
        &self,
        account: AccountId,
        manifest_id: &str,
        name: &str,
    ) -> Result<Option<StoredShard>>;

    /// A new open upload of a manifest asset, refused when the asset has
    /// its file already or an open upload.
    fn create_upload(&self, upload: NewUpload) -> Result<Upload>;
    fn upload(&self, id: &UploadId) -> Result<Option<Upload>>;
    /// Moves an open upload from offset `from` to `to` and pushes its expiry
    /// back; [`RecordsError::OffsetMoved`] if it was not at `from`.
    fn advance_upload(&self, id: &UploadId, from: u64, to: u64, expires_at_ms: i64) -> Result<()>;
    /// Marks a fully received, verified upload complete, records its blob
    /// (named after the upload) and gives it to every asset of the
    /// publisher with the same checksum and no file yet. Returns the blob
    /// the asset holds: another one when identical bytes were stored first,
    /// and then the caller deletes its own.
    fn complete_upload(&self, id: &UploadId) -> Result<BlobId>;
    /// Records the perceptual hash of a stored picture.
    fn record_fingerprint(&self, blob: &BlobId, print: &Fingerprint) -> Result<()>;
    /// The nearest asset on sale in another publisher's listing (not
    /// withdrawn) whose picture is within `max` bits of `print`.
    fn near_listed(
        &self,
        account: AccountId,
        print: &Fingerprint,
        max: u32,
    ) -> Result<Option<NearListing>>;
    /// The fingerprinted assets of `account`'s manifest, in manifest order.
    fn manifest_fingerprints(
        &self,
        account: AccountId,
        manifest_id: &str,
    ) -> Result<Vec<(String, Fingerprint)>>;
    /// Forgets an upload (terminated, or failed verification).
    fn remove_upload(&self, id: &UploadId) -> Result<()>;
    /// Marks an open upload expired (its bytes are being swept).
    fn expire_upload(&self, id: &UploadId) -> Result<()>;
    /// Open uploads whose expiry is before `now_ms`.
    fn expired_uploads(&self, now_ms: i64) -> Result<Vec<UploadId>>;
    /// Every open upload, for recovery at start.
    fn open_uploads(&self) -> Result<Vec<Upload>>;
    /// Every recorded blob, for recovery at start.
    fn blob_ids(&self) -> Result<Vec<BlobId>>;

    /// A listing of one of the account's manifests; a manifest has at most
    /// one ([`RecordsError::ListingExists`]).
    fn create_listing(&self, listing: NewListing) -> Result<ListingRecord>;
    fn listing(&self, id: &ListingId) -> Result<Option<ListingDetail>>;
    /// Up to `limit` listings created after `after`, oldest first.
    fn listings(&self, after: Option<&ListingId>, limit: u32) -> Result<Vec<ListingRow>>;
    fn update_listing(&self, id: &ListingId, terms: &ListingTerms) -> Result<()>;
    /// Takes an asset off a listing for good; withdrawing it again keeps
    /// the first reason and time.
    fn withdraw(&self, id: &ListingId, asset_id: &str, reason: &str) -> Result<()>;

    /// Records a purchase, its entitlement, its payouts and its `purchase`
    /// event in one transaction. A buyer's live purchase of the same listing
    /// is [`Insert::Existing`] (nothing is charged twice);
    /// [`RecordsError::ListingChanged`] when the listing was changed since
    /// `listing_updated_at`.
    fn create_purchase(&self, purchase: NewPurchase) -> Result<Insert<PurchaseRecord>>;
    fn purchase(&self, id: &PurchaseId) -> Result<Option<PurchaseRecord>>;
    /// Settles a held purchase and records its events (`escrow_released`
    /// and a `payout_sent` per payout, or `refunded`). Settling it the same
    /// way again changes nothing; the other way is
    /// [`RecordsError::PurchaseSettled`].
    fn settle(&self, id: &PurchaseId, how: Settlement) -> Result<PurchaseRecord>;
    /// Marks a sent payout failed for `reason` and records its
    /// `payout_failed` event; failing it again changes nothing. A payout not
    /// sent is [`RecordsError::PayoutNotSent`].
    fn fail_payout(&self, id: &PayoutId, reason: &str) -> Result<PayoutFailure>;
    /// Held purchases whose hold ended before `now_ms`.
    fn due_purchases(&self, now_ms: i64) -> Result<Vec<PurchaseId>>;
    /// Up to `limit` of `account`'s events after cursor `after`, in order.
    fn events(&self, account: AccountId, after: i64, limit: u32) -> Result<Vec<EventRecord>>;

    /// Records `preview` as the preview of a listing's asset, replacing
    /// any; returns the replaced one's id, whose bytes the caller deletes.
    /// [`RecordsError::AssetNotInListing`] if the listing lacks the asset.
    fn set_preview(
        &self,
        listing: &ListingId,
        preview: &PreviewRecord,
    ) -> Result<Option<PreviewId>>;
    /// The previews of a listing's assets.
    fn previews(&self, listing: &ListingId) -> Result<Vec<PreviewRecord>>;
    /// Every recorded preview, for recovery at start.
    fn preview_ids(&self) -> Result<Vec<PreviewId>>;

    /// Keeps `store` as the Content Credentials of a listing's asset,
    /// replacing any. [`RecordsError::AssetNotInListing`] if the listing
    /// lacks the asset.
    fn set_credentials(&self, listing: &ListingId, asset_id: &str, store: &[u8]) -> Result<()>;
    /// The Content Credentials of a listing's asset, when it has them.
    fn credentials(&self, listing: &ListingId, asset_id: &str) -> Result<Option<Vec<u8>>>;

    /// Registers a webhook; every event of `account` from now on gets a
    /// delivery to it, in the event's transaction.
    fn add_webhook(
        &self,
        id: &WebhookId,
        account: AccountId,
        url: &str,
        secret: &str,
    ) -> Result<WebhookRecord>;
    fn webhooks(&self, account: AccountId) -> Result<Vec<WebhookRecord>>;
    /// Removes `account`'s webhook and its deliveries; `false` if it has none
    /// of that id.
    fn delete_webhook(&self, account: AccountId, id: &WebhookId) -> Result<bool>;
    /// Leases up to `limit` pending deliveries due at `now_ms`, oldest
    /// first, until `lease_until_ms`, of publishers none of whose
    /// deliveries is leased now, by this process or another sharing the
    /// records: one process at a time sends a publisher's events, in
    /// order, and each delivery is sent by one process. [`Records::delivered`]
    /// and [`Records::delivery_failed`] end a lease; one that runs out (its
    /// process stopped) lets another process take the deliveries.
    fn due_deliveries(
        &self,
        now_ms: i64,
        limit: u32,
        lease_until_ms: i64,
    ) -> Result<Vec<DueDelivery>>;
    /// A delivery was answered 2xx: it is never sent again.
    fn delivered(&self, seq: i64) -> Result<()>;
    /// A delivery attempt failed: try again at `retry_at_ms`, or give up
    /// when `None`.
    fn delivery_failed(&self, seq: i64, error: &str, retry_at_ms: Option<i64>) -> Result<()>;

    /// Takes a token at `now_ms` from `account`'s bucket of previews and
    /// samples, holding up to `per_minute` and refilled continuously
    /// ([`crate::rate_limit::Bucket`]); `None` when one was taken, else
    /// the milliseconds until one is there. One bucket per account across
    /// every process sharing the records.
    fn take_token(&self, account: AccountId, per_minute: u32, now_ms: i64) -> Result<Option<u64>>;

    /// The server's secret named `name` (32 random bytes: the download
    /// links' key, the witness's signing key), made on first use. Every
    /// process sharing the records gets the same one.
    fn server_secret(&self, name: &str) -> Result<[u8; 32]>;

    /// The checkpoint last witnessed for `account`'s library `library`, or
    /// for any of its libraries when `None`.
    fn latest_witnessed(
        &self,
        account: AccountId,
        library: Option<&str>,
    ) -> Result<Option<WitnessedRecord>>;
    /// Records `new` as its library's latest, if the latest is still the
    /// one of seq `after` (the one it was checked against; `None` if there
    /// was none); else [`RecordsError::WitnessMoved`].
    fn add_witnessed(&self, new: NewWitnessed, after: Option<i64>) -> Result<WitnessedRecord>;
}
