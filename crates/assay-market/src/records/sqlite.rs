//! [`Records`] in one SQLite file (`market.db`), in WAL mode so readers
//! never wait for the writer. Connections are pooled; each write is one
//! `BEGIN IMMEDIATE` transaction, and the busy timeout serialises writers,
//! including an `assay-market account add` run beside a serving process.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use assay_core::licenses::PaymentTerms;
use assay_market_proto::listings::{ListingTerms, Withdrawn};
use assay_market_proto::Role;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};

use super::{
    migrations, previews, sales, webhooks, Account, AccountId, AssetEntry, DueDelivery,
    EventRecord, Insert, ListedAsset, ListingDetail, ListingRecord, ListingRow, Manifest,
    NewListing, NewManifest, NewPurchase, NewUpload, PayoutFailure, PreviewRecord, PurchaseRecord,
    Records, RecordsError, Result, Settlement, StoredAsset, StoredKey, Upload, UploadState,
    WebhookRecord,
};
use crate::clock;
use crate::ids::{BlobId, ListingId, PayoutId, PreviewId, PurchaseId, UploadId, WebhookId};
use assay_market_proto::events::EventKind;

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

pub(super) fn corrupt(what: String) -> RecordsError {
    RecordsError::Backend(what.into())
}

pub(super) fn to_i64(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| corrupt(format!("{n} does not fit a 64-bit signed integer")))
}

pub(super) fn to_u64(n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| corrupt(format!("a stored count is negative ({n})")))
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

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

fn role(text: &str) -> Result<Role> {
    text.parse()
        .map_err(|e| corrupt(format!("accounts.role: {e}")))
}

fn account(r: &Row) -> rusqlite::Result<(AccountId, String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn into_account(
    (id, name, role_text, created_at): (AccountId, String, String, String),
) -> Result<Account> {
    Ok(Account {
        id,
        name,
        role: role(&role_text)?,
        created_at,
    })
}

fn key(r: &Row) -> rusqlite::Result<(String, Vec<u8>, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn into_key((key_id, public_key, created_at): (String, Vec<u8>, String)) -> Result<StoredKey> {
    let public_key = <[u8; 32]>::try_from(public_key.as_slice())
        .map_err(|_| corrupt(format!("publisher_keys {key_id}: not a 32-byte key")))?;
    Ok(StoredKey {
        key_id,
        public_key,
        created_at,
    })
}

/// The columns of `manifest_assets a` that make a [`StoredAsset`], in the
/// order [`asset`] reads them from `start`.
const ASSET_COLUMNS: &str =
    "a.asset_id, a.title, a.file_name, a.checksum, a.size_bytes, a.media_type,
     a.license_tag, a.creator_wallet, a.payment_terms, a.blob, a.capture_date";
/// How many columns [`ASSET_COLUMNS`] names.
const ASSET_COLUMN_COUNT: usize = 11;

struct AssetRow {
    entry: AssetEntry,
    payment_terms: Option<String>,
    blob: Option<String>,
}

fn asset(r: &Row, start: usize) -> rusqlite::Result<AssetRow> {
    let size: i64 = r.get(start + 4)?;
    Ok(AssetRow {
        entry: AssetEntry {
            asset_id: r.get(start)?,
            title: r.get(start + 1)?,
            file_name: r.get(start + 2)?,
            checksum: r.get(start + 3)?,
            size_bytes: u64::try_from(size).unwrap_or(0),
            media_type: r.get(start + 5)?,
            license_tag: r.get(start + 6)?,
            creator_wallet: r.get(start + 7)?,
            payment_terms: None,
            capture_date: r.get(start + 10)?,
        },
        payment_terms: r.get(start + 8)?,
        blob: r.get(start + 9)?,
    })
}

fn into_asset(row: AssetRow) -> Result<StoredAsset> {
    let AssetRow {
        mut entry,
        payment_terms,
        blob,
    } = row;
    if let Some(text) = payment_terms {
        entry.payment_terms = Some(serde_json::from_str::<PaymentTerms>(&text).map_err(|e| {
            corrupt(format!(
                "asset {}: stored payment terms: {e}",
                entry.asset_id
            ))
        })?);
    }
    let blob = match blob {
        Some(id) => Some(
            BlobId::parse(&id).ok_or_else(|| corrupt(format!("blob id {id:?} is malformed")))?,
        ),
        None => None,
    };
    Ok(StoredAsset { entry, blob })
}

fn load_manifest(conn: &Connection, row: i64) -> Result<Manifest> {
    let (manifest_id, account, manifest_hash, key_id, received_at) = conn.query_row(
        "SELECT manifest_id, account, manifest_hash, key_id, received_at FROM manifests WHERE id = ?1",
        [row],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {ASSET_COLUMNS} FROM manifest_assets a WHERE a.manifest = ?1 ORDER BY a.seq"
    ))?;
    let rows = stmt
        .query_map([row], |r| asset(r, 0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Manifest {
        manifest_id,
        account,
        manifest_hash,
        key_id,
        received_at,
        assets: rows.into_iter().map(into_asset).collect::<Result<_>>()?,
    })
}

/// The row of `account`'s manifest `manifest_id`.
fn manifest_row(conn: &Connection, account: AccountId, manifest_id: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT id FROM manifests WHERE manifest_id = ?1 AND account = ?2",
            params![manifest_id, account],
            |r| r.get(0),
        )
        .optional()?)
}

fn upload_state(text: &str) -> Result<UploadState> {
    match text {
        "open" => Ok(UploadState::Open),
        "complete" => Ok(UploadState::Complete),
        "expired" => Ok(UploadState::Expired),
        other => Err(corrupt(format!("uploads.state {other:?}"))),
    }
}

const UPLOAD_SELECT: &str =
    "SELECT u.id, u.account, m.manifest_id, u.asset_id, u.length, u.received,
        u.state, u.expires_at, a.checksum
     FROM uploads u
     JOIN manifests m ON m.id = u.manifest
     JOIN manifest_assets a ON a.manifest = u.manifest AND a.asset_id = u.asset_id";

type UploadColumns = (
    String,
    AccountId,
    String,
    String,
    i64,
    i64,
    String,
    i64,
    String,
);

fn upload_columns(r: &Row) -> rusqlite::Result<UploadColumns> {
    r.try_into()
}

fn into_upload(c: UploadColumns) -> Result<Upload> {
    let (id, account, manifest_id, asset_id, length, offset, state, expires_at_ms, checksum) = c;
    Ok(Upload {
        id: UploadId::parse(&id)
            .ok_or_else(|| corrupt(format!("upload id {id:?} is malformed")))?,
        account,
        manifest_id,
        asset_id,
        length: to_u64(length)?,
        offset: to_u64(offset)?,
        state: upload_state(&state)?,
        expires_at_ms,
        checksum,
    })
}

fn load_upload(conn: &Connection, id: &UploadId) -> Result<Option<Upload>> {
    conn.query_row(
        &format!("{UPLOAD_SELECT} WHERE u.id = ?1"),
        [id.as_str()],
        upload_columns,
    )
    .optional()?
    .map(into_upload)
    .transpose()
}

const LISTING_SELECT: &str = "SELECT l.id, l.account, ac.name, m.manifest_id, m.manifest_hash,
        l.title, l.description, l.price_minor, l.currency, l.created_at, l.updated_at";
const LISTING_FROM: &str = "FROM listings l
     JOIN accounts ac ON ac.id = l.account
     JOIN manifests m ON m.id = l.manifest";

fn listing_record(r: &Row) -> rusqlite::Result<(ListingRecordColumns, i64)> {
    Ok((
        ListingRecordColumns {
            id: r.get(0)?,
            account: r.get(1)?,
            publisher: r.get(2)?,
            manifest_id: r.get(3)?,
            manifest_hash: r.get(4)?,
            title: r.get(5)?,
            description: r.get(6)?,
            currency: r.get(8)?,
            created_at: r.get(9)?,
            updated_at: r.get(10)?,
        },
        r.get(7)?,
    ))
}

struct ListingRecordColumns {
    id: String,
    account: AccountId,
    publisher: String,
    manifest_id: String,
    manifest_hash: String,
    title: String,
    description: String,
    currency: String,
    created_at: String,
    updated_at: String,
}

fn into_listing((c, price): (ListingRecordColumns, i64)) -> Result<ListingRecord> {
    Ok(ListingRecord {
        id: ListingId::parse(&c.id)
            .ok_or_else(|| corrupt(format!("listing id {:?} is malformed", c.id)))?,
        account: c.account,
        publisher: c.publisher,
        manifest_id: c.manifest_id,
        manifest_hash: c.manifest_hash,
        terms: ListingTerms {
            title: c.title,
            description: c.description,
            price_minor: to_u64(price)?,
            currency: c.currency,
        },
        created_at: c.created_at,
        updated_at: c.updated_at,
    })
}

fn load_listing(conn: &Connection, id: &str) -> Result<Option<ListingRecord>> {
    conn.query_row(
        &format!("{LISTING_SELECT} {LISTING_FROM} WHERE l.id = ?1"),
        [id],
        listing_record,
    )
    .optional()?
    .map(into_listing)
    .transpose()
}

impl Records for SqliteRecords {
    fn add_account(&self, name: &str, role: Role, token_sha256: &[u8; 32]) -> Result<Account> {
        self.write(|tx| {
            let taken = tx
                .query_row("SELECT 1 FROM accounts WHERE name = ?1", [name], |_| Ok(()))
                .optional()?;
            if taken.is_some() {
                return Err(RecordsError::NameTaken(name.to_owned()));
            }
            let created_at = clock::timestamp();
            tx.execute(
                "INSERT INTO accounts (name, role, token_sha256, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![name, role.as_str(), &token_sha256[..], created_at],
            )?;
            Ok(Account {
                id: tx.last_insert_rowid(),
                name: name.to_owned(),
                role,
                created_at,
            })
        })
    }

    fn account_by_token(&self, token_sha256: &[u8; 32]) -> Result<Option<Account>> {
        self.with(|conn| {
            conn.query_row(
                "SELECT id, name, role, created_at FROM accounts WHERE token_sha256 = ?1",
                [&token_sha256[..]],
                account,
            )
            .optional()?
            .map(into_account)
            .transpose()
        })
    }

    fn add_key(
        &self,
        account: AccountId,
        key_id: &str,
        public_key: &[u8; 32],
    ) -> Result<Insert<StoredKey>> {
        self.write(|tx| {
            let existing = tx
                .query_row(
                    "SELECT account, key_id, public_key, created_at FROM publisher_keys WHERE key_id = ?1",
                    [key_id],
                    |r| Ok((r.get::<_, AccountId>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))),
                )
                .optional()?;
            if let Some((owner, columns)) = existing {
                let stored = into_key(columns)?;
                if owner != account || stored.public_key != *public_key {
                    return Err(RecordsError::KeyRegisteredElsewhere(key_id.to_owned()));
                }
                return Ok(Insert::Existing(stored));
            }
            let created_at = clock::timestamp();
            tx.execute(
                "INSERT INTO publisher_keys (key_id, account, public_key, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![key_id, account, &public_key[..], created_at],
            )?;
            Ok(Insert::New(StoredKey {
                key_id: key_id.to_owned(),
                public_key: *public_key,
                created_at,
            }))
        })
    }

    fn keys(&self, account: AccountId) -> Result<Vec<StoredKey>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT key_id, public_key, created_at FROM publisher_keys WHERE account = ?1 ORDER BY rowid",
            )?;
            let rows = stmt
                .query_map([account], key)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(into_key).collect()
        })
    }

    fn add_manifest(&self, manifest: NewManifest) -> Result<Insert<Manifest>> {
        self.write(|tx| {
            let existing = tx
                .query_row(
                    "SELECT id, account, manifest_hash FROM manifests WHERE manifest_id = ?1",
                    [&manifest.manifest_id],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, AccountId>(1)?, r.get::<_, String>(2)?)),
                )
                .optional()?;
            if let Some((row, account, hash)) = existing {
                if account != manifest.account || hash != manifest.manifest_hash {
                    return Err(RecordsError::ManifestConflict(manifest.manifest_id));
                }
                return Ok(Insert::Existing(load_manifest(tx, row)?));
            }
            tx.execute(
                "INSERT INTO manifests (manifest_id, account, manifest_hash, key_id, bytes, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    manifest.manifest_id,
                    manifest.account,
                    manifest.manifest_hash,
                    manifest.key_id,
                    manifest.bytes,
                    clock::timestamp()
                ],
            )?;
            let row = tx.last_insert_rowid();
            let mut insert = tx.prepare(
                "INSERT INTO manifest_assets (manifest, seq, asset_id, title, file_name, checksum,
                     size_bytes, media_type, license_tag, creator_wallet, payment_terms,
                     capture_date)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for (seq, a) in manifest.assets.iter().enumerate() {
                let terms = a
                    .payment_terms
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()
                    .map_err(|e| corrupt(format!("asset {}: payment terms: {e}", a.asset_id)))?;
                insert.execute(params![
                    row,
                    to_i64(seq as u64)?,
                    a.asset_id,
                    a.title,
                    a.file_name,
                    a.checksum,
                    to_i64(a.size_bytes)?,
                    a.media_type,
                    a.license_tag,
                    a.creator_wallet,
                    terms,
                    a.capture_date
                ])?;
            }
            // Bytes this publisher stored before serve this manifest too.
            tx.execute(
                "UPDATE manifest_assets SET blob =
                    (SELECT b.id FROM blobs b WHERE b.account = ?1 AND b.checksum = manifest_assets.checksum)
                 WHERE manifest = ?2",
                params![manifest.account, row],
            )?;
            Ok(Insert::New(load_manifest(tx, row)?))
        })
    }

    fn manifest(&self, account: AccountId, manifest_id: &str) -> Result<Option<Manifest>> {
        self.with(|conn| {
            manifest_row(conn, account, manifest_id)?
                .map(|row| load_manifest(conn, row))
                .transpose()
        })
    }

    fn manifest_bytes(&self, account: AccountId, manifest_id: &str) -> Result<Option<Vec<u8>>> {
        self.with(|conn| {
            Ok(conn
                .query_row(
                    "SELECT bytes FROM manifests WHERE manifest_id = ?1 AND account = ?2",
                    params![manifest_id, account],
                    |r| r.get(0),
                )
                .optional()?)
        })
    }

    fn manifest_asset(
        &self,
        account: AccountId,
        manifest_id: &str,
        asset_id: &str,
    ) -> Result<Option<StoredAsset>> {
        self.with(|conn| {
            conn.query_row(
                &format!(
                    "SELECT {ASSET_COLUMNS} FROM manifest_assets a JOIN manifests m ON m.id = a.manifest
                     WHERE m.manifest_id = ?1 AND m.account = ?2 AND a.asset_id = ?3"
                ),
                params![manifest_id, account, asset_id],
                |r| asset(r, 0),
            )
            .optional()?
            .map(into_asset)
            .transpose()
        })
    }

    fn create_upload(&self, upload: NewUpload) -> Result<Upload> {
        self.write(|tx| {
            let missing = || RecordsError::Missing {
                what: "asset",
                id: format!("{} in manifest {}", upload.asset_id, upload.manifest_id),
            };
            let row = manifest_row(tx, upload.account, &upload.manifest_id)?.ok_or_else(missing)?;
            let blob: Option<String> = tx
                .query_row(
                    "SELECT blob FROM manifest_assets WHERE manifest = ?1 AND asset_id = ?2",
                    params![row, upload.asset_id],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(missing)?;
            if blob.is_some() {
                return Err(RecordsError::AlreadyUploaded {
                    manifest_id: upload.manifest_id,
                    asset_id: upload.asset_id,
                });
            }
            let open: Option<String> = tx
                .query_row(
                    "SELECT id FROM uploads WHERE manifest = ?1 AND asset_id = ?2 AND state = 'open'",
                    params![row, upload.asset_id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = open {
                return Err(RecordsError::UploadInProgress {
                    upload: UploadId::parse(&id)
                        .ok_or_else(|| corrupt(format!("upload id {id:?} is malformed")))?,
                    manifest_id: upload.manifest_id,
                    asset_id: upload.asset_id,
                });
            }
            tx.execute(
                "INSERT INTO uploads (id, account, manifest, asset_id, length, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    upload.id.as_str(),
                    upload.account,
                    row,
                    upload.asset_id,
                    to_i64(upload.length)?,
                    clock::timestamp(),
                    upload.expires_at_ms
                ],
            )?;
            load_upload(tx, &upload.id)?.ok_or_else(missing)
        })
    }

    fn upload(&self, id: &UploadId) -> Result<Option<Upload>> {
        self.with(|conn| load_upload(conn, id))
    }

    fn advance_upload(&self, id: &UploadId, from: u64, to: u64, expires_at_ms: i64) -> Result<()> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE uploads SET received = ?1, expires_at = ?2
                 WHERE id = ?3 AND received = ?4 AND state = 'open'",
                params![to_i64(to)?, expires_at_ms, id.as_str(), to_i64(from)?],
            )?;
            if changed == 0 {
                return Err(RecordsError::OffsetMoved {
                    upload: id.clone(),
                    expected: from,
                });
            }
            Ok(())
        })
    }

    fn complete_upload(&self, id: &UploadId) -> Result<BlobId> {
        self.write(|tx| {
            let upload = load_upload(tx, id)?.ok_or_else(|| RecordsError::Missing {
                what: "upload",
                id: id.to_string(),
            })?;
            if upload.state != UploadState::Open || upload.offset != upload.length {
                return Err(RecordsError::OffsetMoved {
                    upload: id.clone(),
                    expected: upload.length,
                });
            }
            tx.execute(
                "INSERT OR IGNORE INTO blobs (id, account, checksum, size_bytes, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    id.as_str(),
                    upload.account,
                    upload.checksum,
                    to_i64(upload.length)?,
                    clock::timestamp()
                ],
            )?;
            let blob: String = tx.query_row(
                "SELECT id FROM blobs WHERE account = ?1 AND checksum = ?2",
                params![upload.account, upload.checksum],
                |r| r.get(0),
            )?;
            tx.execute(
                "UPDATE manifest_assets SET blob = ?1
                 WHERE blob IS NULL AND checksum = ?2
                   AND manifest IN (SELECT id FROM manifests WHERE account = ?3)",
                params![blob, upload.checksum, upload.account],
            )?;
            tx.execute(
                "UPDATE uploads SET state = 'complete' WHERE id = ?1",
                [id.as_str()],
            )?;
            BlobId::parse(&blob).ok_or_else(|| corrupt(format!("blob id {blob:?} is malformed")))
        })
    }

    fn remove_upload(&self, id: &UploadId) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM uploads WHERE id = ?1", [id.as_str()])?;
            Ok(())
        })
    }

    fn expire_upload(&self, id: &UploadId) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE uploads SET state = 'expired' WHERE id = ?1 AND state = 'open'",
                [id.as_str()],
            )?;
            Ok(())
        })
    }

    fn expired_uploads(&self, now_ms: i64) -> Result<Vec<UploadId>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT id FROM uploads WHERE state = 'open' AND expires_at < ?1 ORDER BY expires_at",
            )?;
            let ids = stmt
                .query_map([now_ms], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(ids.iter().filter_map(|id| UploadId::parse(id)).collect())
        })
    }

    fn open_uploads(&self) -> Result<Vec<Upload>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(&format!("{UPLOAD_SELECT} WHERE u.state = 'open'"))?;
            let rows = stmt
                .query_map([], upload_columns)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(into_upload).collect()
        })
    }

    fn blob_ids(&self) -> Result<Vec<BlobId>> {
        self.with(|conn| {
            let mut stmt = conn.prepare("SELECT id FROM blobs")?;
            let ids = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(ids.iter().filter_map(|id| BlobId::parse(id)).collect())
        })
    }

    fn create_listing(&self, listing: NewListing) -> Result<ListingRecord> {
        self.write(|tx| {
            let row =
                manifest_row(tx, listing.account, &listing.manifest_id)?.ok_or_else(|| {
                    RecordsError::Missing {
                        what: "manifest",
                        id: listing.manifest_id.clone(),
                    }
                })?;
            let existing: Option<String> = tx
                .query_row("SELECT id FROM listings WHERE manifest = ?1", [row], |r| {
                    r.get(0)
                })
                .optional()?;
            if let Some(id) = existing {
                return Err(RecordsError::ListingExists {
                    listing: ListingId::parse(&id)
                        .ok_or_else(|| corrupt(format!("listing id {id:?} is malformed")))?,
                    manifest_id: listing.manifest_id,
                });
            }
            let at = clock::timestamp();
            let terms = &listing.terms;
            tx.execute(
                "INSERT INTO listings (id, account, manifest, title, description, price_minor,
                     currency, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                params![
                    listing.id.as_str(),
                    listing.account,
                    row,
                    terms.title,
                    terms.description,
                    to_i64(terms.price_minor)?,
                    terms.currency,
                    at
                ],
            )?;
            let record =
                load_listing(tx, listing.id.as_str())?.ok_or_else(|| RecordsError::Missing {
                    what: "listing",
                    id: listing.id.to_string(),
                })?;
            sales::add_event(
                tx,
                listing.account,
                &EventKind::ListingCreated {
                    listing_id: record.id.to_string(),
                    manifest_id: record.manifest_id.clone(),
                    manifest_hash: record.manifest_hash.clone(),
                },
            )?;
            Ok(record)
        })
    }

    fn listing(&self, id: &ListingId) -> Result<Option<ListingDetail>> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            let Some(listing) = load_listing(&tx, id.as_str())? else {
                return Ok(None);
            };
            let mut stmt = tx.prepare(&format!(
                "SELECT {ASSET_COLUMNS}, w.reason, w.withdrawn_at
                 FROM listings l
                 JOIN manifest_assets a ON a.manifest = l.manifest
                 LEFT JOIN withdrawals w ON w.listing = l.seq AND w.asset_id = a.asset_id
                 WHERE l.id = ?1 ORDER BY a.seq"
            ))?;
            let rows = stmt
                .query_map([id.as_str()], |r| {
                    let reason: Option<String> = r.get(ASSET_COLUMN_COUNT)?;
                    let at: Option<String> = r.get(ASSET_COLUMN_COUNT + 1)?;
                    Ok((asset(r, 0)?, reason.zip(at)))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let items = rows
                .into_iter()
                .map(|(row, withdrawn)| {
                    Ok(ListedAsset {
                        asset: into_asset(row)?,
                        withdrawn: withdrawn.map(|(reason, at)| Withdrawn { reason, at }),
                    })
                })
                .collect::<Result<_>>()?;
            Ok(Some(ListingDetail { listing, items }))
        })
    }

    fn listings(&self, after: Option<&ListingId>, limit: u32) -> Result<Vec<ListingRow>> {
        self.with(|conn| {
            let after = match after {
                None => 0,
                Some(id) => conn
                    .query_row(
                        "SELECT seq FROM listings WHERE id = ?1",
                        [id.as_str()],
                        |r| r.get::<_, i64>(0),
                    )
                    .optional()?
                    .ok_or_else(|| RecordsError::Missing {
                        what: "listing",
                        id: id.to_string(),
                    })?,
            };
            // An asset is on sale unless it has a withdrawal in this listing.
            let on_sale = "NOT EXISTS (SELECT 1 FROM withdrawals w
                                       WHERE w.listing = l.seq AND w.asset_id = a.asset_id)";
            let mut stmt = conn.prepare(&format!(
                "{LISTING_SELECT},
                    (SELECT count(*) FROM manifest_assets a WHERE a.manifest = l.manifest),
                    (SELECT count(*) FROM withdrawals w WHERE w.listing = l.seq),
                    (SELECT count(*) FROM manifest_assets a
                      WHERE a.manifest = l.manifest AND a.blob IS NOT NULL AND {on_sale}),
                    (SELECT group_concat(tag, char(10)) FROM
                      (SELECT DISTINCT a.license_tag AS tag FROM manifest_assets a
                        WHERE a.manifest = l.manifest AND {on_sale} ORDER BY tag))
                 {LISTING_FROM}
                 WHERE l.seq > ?1 ORDER BY l.seq LIMIT ?2"
            ))?;
            let rows = stmt
                .query_map(params![after, limit], |r| {
                    Ok((
                        listing_record(r)?,
                        r.get::<_, i64>(11)?,
                        r.get::<_, i64>(12)?,
                        r.get::<_, i64>(13)?,
                        r.get::<_, Option<String>>(14)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(record, assets, withdrawn, uploaded, tags)| {
                    Ok(ListingRow {
                        listing: into_listing(record)?,
                        assets: to_u64(assets)?,
                        withdrawn: to_u64(withdrawn)?,
                        uploaded: to_u64(uploaded)?,
                        license_tags: tags
                            .map(|t| t.split('\n').map(str::to_owned).collect())
                            .unwrap_or_default(),
                    })
                })
                .collect()
        })
    }

    fn update_listing(&self, id: &ListingId, terms: &ListingTerms) -> Result<()> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE listings SET title = ?1, description = ?2, price_minor = ?3, currency = ?4,
                     updated_at = ?5
                 WHERE id = ?6",
                params![
                    terms.title,
                    terms.description,
                    to_i64(terms.price_minor)?,
                    terms.currency,
                    clock::timestamp(),
                    id.as_str()
                ],
            )?;
            if changed == 0 {
                return Err(RecordsError::Missing {
                    what: "listing",
                    id: id.to_string(),
                });
            }
            Ok(())
        })
    }

    fn withdraw(&self, id: &ListingId, asset_id: &str, reason: &str) -> Result<()> {
        self.write(|tx| {
            let (seq, manifest): (i64, i64) = tx
                .query_row(
                    "SELECT seq, manifest FROM listings WHERE id = ?1",
                    [id.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or_else(|| RecordsError::Missing {
                    what: "listing",
                    id: id.to_string(),
                })?;
            let listed = tx
                .query_row(
                    "SELECT 1 FROM manifest_assets WHERE manifest = ?1 AND asset_id = ?2",
                    params![manifest, asset_id],
                    |_| Ok(()),
                )
                .optional()?;
            if listed.is_none() {
                return Err(RecordsError::AssetNotInListing {
                    listing: id.clone(),
                    asset_id: asset_id.to_owned(),
                });
            }
            let at = clock::timestamp();
            let added = tx.execute(
                "INSERT OR IGNORE INTO withdrawals (listing, asset_id, reason, withdrawn_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![seq, asset_id, reason, at],
            )?;
            if added > 0 {
                tx.execute(
                    "UPDATE listings SET updated_at = ?1 WHERE seq = ?2",
                    params![at, seq],
                )?;
            }
            Ok(())
        })
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

    fn due_deliveries(&self, now_ms: i64, limit: u32) -> Result<Vec<DueDelivery>> {
        self.with(|conn| webhooks::due(conn, now_ms, limit))
    }

    fn delivered(&self, seq: i64) -> Result<()> {
        self.write(|tx| webhooks::delivered(tx, seq))
    }

    fn delivery_failed(&self, seq: i64, error: &str, retry_at_ms: Option<i64>) -> Result<()> {
        self.write(|tx| webhooks::failed(tx, seq, error, retry_at_ms))
    }
}
