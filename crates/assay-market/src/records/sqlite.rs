//! [`Records`] in one SQLite file (`market.db`), in WAL mode so readers
//! never wait for the writer. Connections are pooled; each write is one
//! `BEGIN IMMEDIATE` transaction, and the busy timeout serialises writers,
//! including an `assay-market account add` run beside a serving process.
//!
//! This file owns the connection plumbing: `connect` is the one place a
//! connection to the database is opened and given its pragmas,
//! [`SqliteRecords::open`] the one place the schema is migrated, and
//! `with`/`write` hand each call a pooled connection or an immediate
//! transaction. The SQL of each domain lives beside it (`accounts.rs`,
//! `manifests.rs`, `uploads.rs`, `listings.rs`, `sales.rs`, `previews.rs`,
//! `webhooks.rs`, `witnessed.rs`); the [`Records`] impl below only delegates
//! to them.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use assay_core::preview::Fingerprint;
use assay_market_proto::listings::ListingTerms;
use assay_market_proto::Role;
use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::{
    accounts, fingerprints, listings, manifests, migrations, previews, sales, uploads, webhooks,
    witnessed, Account, AccountId, DueDelivery, EventRecord, Insert, ListingDetail, ListingRecord,
    ListingRow, Manifest, NearListing, NewListing, NewManifest, NewPurchase, NewUpload,
    NewWitnessed, PayoutFailure, PreviewRecord, PurchaseRecord, Records, RecordsError, Result,
    Settlement, StoredAsset, StoredKey, StoredShard, Upload, WebhookRecord, WitnessedRecord,
};
use crate::ids::{BlobId, ListingId, PayoutId, PreviewId, PurchaseId, UploadId, WebhookId};

/// Idle connections kept for reuse; more are opened under load and closed after.
const POOL: usize = 8;

pub struct SqliteRecords {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl From<rusqlite::Error> for RecordsError {
    fn from(e: rusqlite::Error) -> Self {
        RecordsError::Backend(Box::new(e))
    }
}

impl SqliteRecords {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteRecords> {
        let mut conn = connect(path)?;
        migrations::migrate(&mut conn, &path.display().to_string())?;
        Ok(SqliteRecords {
            path: path.to_owned(),
            idle: Mutex::new(vec![conn]),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let mut conn = match pooled {
            Some(conn) => conn,
            None => connect(&self.path)?,
        };
        let result = f(&mut conn);
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < POOL {
                idle.push(conn);
            }
        }
        result
    }

    fn write<T>(&self, f: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
    }
}

/// Opens a connection to the database at `path` with the pragmas every
/// connection needs (busy timeout, WAL, full sync, foreign keys): the first
/// one, which [`SqliteRecords::open`] migrates, and each one the pool adds.
fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

impl Records for SqliteRecords {
    fn add_account(&self, name: &str, role: Role, token_sha256: &[u8; 32]) -> Result<Account> {
        self.write(|tx| accounts::add(tx, name, role, token_sha256))
    }

    fn account_by_token(&self, token_sha256: &[u8; 32]) -> Result<Option<Account>> {
        self.with(|conn| accounts::by_token(conn, token_sha256))
    }

    fn set_token(&self, name: &str, token_sha256: &[u8; 32]) -> Result<Account> {
        self.write(|tx| accounts::set_token(tx, name, token_sha256))
    }

    fn add_key(
        &self,
        account: AccountId,
        key_id: &str,
        public_key: &[u8; 32],
    ) -> Result<Insert<StoredKey>> {
        self.write(|tx| accounts::add_key(tx, account, key_id, public_key))
    }

    fn keys(&self, account: AccountId) -> Result<Vec<StoredKey>> {
        self.with(|conn| accounts::keys(conn, account))
    }

    fn add_manifest(&self, manifest: NewManifest) -> Result<Insert<Manifest>> {
        self.write(|tx| manifests::add(tx, manifest))
    }

    fn manifest(&self, account: AccountId, manifest_id: &str) -> Result<Option<Manifest>> {
        self.with(|conn| manifests::find(conn, account, manifest_id))
    }

    fn manifest_bytes(&self, account: AccountId, manifest_id: &str) -> Result<Option<Vec<u8>>> {
        self.with(|conn| manifests::bytes(conn, account, manifest_id))
    }

    fn manifest_asset(
        &self,
        account: AccountId,
        manifest_id: &str,
        asset_id: &str,
    ) -> Result<Option<StoredAsset>> {
        self.with(|conn| manifests::find_asset(conn, account, manifest_id, asset_id))
    }

    fn manifest_shard(
        &self,
        account: AccountId,
        manifest_id: &str,
        name: &str,
    ) -> Result<Option<StoredShard>> {
        self.with(|conn| {
            let Some(row) = manifests::manifest_row(conn, account, manifest_id)? else {
                return Ok(None);
            };
            Ok(manifests::shards(conn, row)?
                .into_iter()
                .find(|s| s.entry.name == name))
        })
    }

    fn create_upload(&self, upload: NewUpload) -> Result<Upload> {
        self.write(|tx| uploads::create(tx, upload))
    }

    fn upload(&self, id: &UploadId) -> Result<Option<Upload>> {
        self.with(|conn| uploads::load(conn, id))
    }

    fn advance_upload(&self, id: &UploadId, from: u64, to: u64, expires_at_ms: i64) -> Result<()> {
        self.write(|tx| uploads::advance(tx, id, from, to, expires_at_ms))
    }

    fn complete_upload(&self, id: &UploadId) -> Result<BlobId> {
        self.write(|tx| uploads::complete(tx, id))
    }

    fn record_fingerprint(&self, blob: &BlobId, print: &Fingerprint) -> Result<()> {
        self.write(|tx| fingerprints::record(tx, blob, print))
    }

    fn near_listed(
        &self,
        account: AccountId,
        print: &Fingerprint,
        max: u32,
    ) -> Result<Option<NearListing>> {
        self.with(|conn| fingerprints::near_listed(conn, account, print, max))
    }

    fn manifest_fingerprints(
        &self,
        account: AccountId,
        manifest_id: &str,
    ) -> Result<Vec<(String, Fingerprint)>> {
        self.with(|conn| fingerprints::of_manifest(conn, account, manifest_id))
    }

    fn remove_upload(&self, id: &UploadId) -> Result<()> {
        self.write(|tx| uploads::remove(tx, id))
    }

    fn expire_upload(&self, id: &UploadId) -> Result<()> {
        self.write(|tx| uploads::expire(tx, id))
    }

    fn expired_uploads(&self, now_ms: i64) -> Result<Vec<UploadId>> {
        self.with(|conn| uploads::expired(conn, now_ms))
    }

    fn open_uploads(&self) -> Result<Vec<Upload>> {
        self.with(|conn| uploads::open(conn))
    }

    fn blob_ids(&self) -> Result<Vec<BlobId>> {
        self.with(|conn| uploads::blob_ids(conn))
    }

    fn create_listing(&self, listing: NewListing) -> Result<ListingRecord> {
        self.write(|tx| listings::create(tx, listing))
    }

    fn listing(&self, id: &ListingId) -> Result<Option<ListingDetail>> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            listings::detail(&tx, id)
        })
    }

    fn listings(&self, after: Option<&ListingId>, limit: u32) -> Result<Vec<ListingRow>> {
        self.with(|conn| listings::page(conn, after, limit))
    }

    fn update_listing(&self, id: &ListingId, terms: &ListingTerms) -> Result<()> {
        self.write(|tx| listings::update(tx, id, terms))
    }

    fn withdraw(&self, id: &ListingId, asset_id: &str, reason: &str) -> Result<()> {
        self.write(|tx| listings::withdraw(tx, id, asset_id, reason))
    }

    fn create_purchase(&self, purchase: NewPurchase) -> Result<Insert<PurchaseRecord>> {
        self.write(|tx| sales::create_purchase(tx, purchase))
    }

    fn purchase(&self, id: &PurchaseId) -> Result<Option<PurchaseRecord>> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            sales::load(&tx, id)
        })
    }

    fn settle(&self, id: &PurchaseId, how: Settlement) -> Result<PurchaseRecord> {
        self.write(|tx| sales::settle(tx, id, how))
    }

    fn fail_payout(&self, id: &PayoutId, reason: &str) -> Result<PayoutFailure> {
        self.write(|tx| sales::fail_payout(tx, id, reason))
    }

    fn due_purchases(&self, now_ms: i64) -> Result<Vec<PurchaseId>> {
        self.with(|conn| sales::due_purchases(conn, now_ms))
    }

    fn events(&self, account: AccountId, after: i64, limit: u32) -> Result<Vec<EventRecord>> {
        self.with(|conn| sales::events(conn, account, after, limit))
    }

    fn set_preview(
        &self,
        listing: &ListingId,
        preview: &PreviewRecord,
    ) -> Result<Option<PreviewId>> {
        self.write(|tx| previews::set(tx, listing, preview))
    }

    fn previews(&self, listing: &ListingId) -> Result<Vec<PreviewRecord>> {
        self.with(|conn| previews::list(conn, listing))
    }

    fn preview_ids(&self) -> Result<Vec<PreviewId>> {
        self.with(|conn| previews::ids(conn))
    }

    fn set_credentials(&self, listing: &ListingId, asset_id: &str, store: &[u8]) -> Result<()> {
        self.write(|tx| previews::set_credentials(tx, listing, asset_id, store))
    }

    fn credentials(&self, listing: &ListingId, asset_id: &str) -> Result<Option<Vec<u8>>> {
        self.with(|conn| previews::credentials(conn, listing, asset_id))
    }

    fn add_webhook(
        &self,
        id: &WebhookId,
        account: AccountId,
        url: &str,
        secret: &str,
    ) -> Result<WebhookRecord> {
        self.write(|tx| webhooks::add(tx, id, account, url, secret))
    }

    fn webhooks(&self, account: AccountId) -> Result<Vec<WebhookRecord>> {
        self.with(|conn| webhooks::list(conn, account))
    }

    fn delete_webhook(&self, account: AccountId, id: &WebhookId) -> Result<bool> {
        self.write(|tx| webhooks::delete(tx, account, id))
    }

    fn due_deliveries(
        &self,
        now_ms: i64,
        limit: u32,
        lease_until_ms: i64,
    ) -> Result<Vec<DueDelivery>> {
        self.write(|tx| webhooks::due(tx, now_ms, limit, lease_until_ms))
    }

    fn take_token(&self, account: AccountId, per_minute: u32, now_ms: i64) -> Result<Option<u64>> {
        self.write(|tx| accounts::take_token(tx, account, per_minute, now_ms))
    }

    /// Kept in a file of the data folder beside `market.db` (where they
    /// were before the records held them), readable by the server's user
    /// only.
    fn server_secret(&self, name: &str) -> Result<[u8; 32]> {
        let data = self.path.parent().unwrap_or(Path::new("."));
        crate::server_keys::load_or_create(data, name)
            .map_err(|e| RecordsError::Backend(Box::new(e)))
    }

    fn delivered(&self, seq: i64) -> Result<()> {
        self.write(|tx| webhooks::delivered(tx, seq))
    }

    fn delivery_failed(&self, seq: i64, error: &str, retry_at_ms: Option<i64>) -> Result<()> {
        self.write(|tx| webhooks::failed(tx, seq, error, retry_at_ms))
    }

    fn latest_witnessed(
        &self,
        account: AccountId,
        library: Option<&str>,
    ) -> Result<Option<WitnessedRecord>> {
        self.with(|conn| witnessed::latest(conn, account, library))
    }

    fn add_witnessed(&self, new: NewWitnessed, after: Option<i64>) -> Result<WitnessedRecord> {
        self.write(|tx| witnessed::add(tx, new, after))
    }
}
