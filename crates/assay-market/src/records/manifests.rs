//! The SQLite side of manifests: the signed manifests publishers post,
//! their bytes as posted, and their assets (`manifest_assets`), with the
//! asset columns and row readers listings share. Each function runs
//! inside the transaction or on the connection [`super::SqliteRecords`]
//! hands it.

use assay_core::licenses::PaymentTerms;
use assay_market_proto::manifests::DatasetVersion;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::stored::{corrupt, to_i64, to_u64};
use super::{
    AccountId, AssetEntry, Insert, Manifest, NewManifest, RecordsError, Result, ShardEntry,
    StoredAsset, StoredShard, UsageHeaders,
};
use crate::clock;
use crate::ids::BlobId;

/// The columns of `manifest_assets a` that make a [`StoredAsset`], in the
/// order [`asset`] reads them from `start`.
pub(super) const ASSET_COLUMNS: &str =
    "a.asset_id, a.title, a.file_name, a.checksum, a.size_bytes, a.media_type,
     a.license_tag, a.creator_wallet, a.payment_terms, a.blob, a.capture_date,
     a.content_usage, a.tdm_reservation, a.tdm_policy";
/// How many columns [`ASSET_COLUMNS`] names.
pub(super) const ASSET_COLUMN_COUNT: usize = 14;

pub(super) struct AssetRow {
    entry: AssetEntry,
    /// As stored: a negative size is damage, named by [`into_asset`].
    size_bytes: i64,
    payment_terms: Option<String>,
    blob: Option<String>,
}

pub(super) fn asset(r: &Row, start: usize) -> rusqlite::Result<AssetRow> {
    Ok(AssetRow {
        entry: AssetEntry {
            asset_id: r.get(start)?,
            title: r.get(start + 1)?,
            file_name: r.get(start + 2)?,
            checksum: r.get(start + 3)?,
            size_bytes: 0,
            media_type: r.get(start + 5)?,
            license_tag: r.get(start + 6)?,
            creator_wallet: r.get(start + 7)?,
            payment_terms: None,
            capture_date: r.get(start + 10)?,
            usage: usage(r, start + 11)?,
        },
        size_bytes: r.get(start + 4)?,
        payment_terms: r.get(start + 8)?,
        blob: r.get(start + 9)?,
    })
}

/// The usage headers stored from column `start` on (content usage, TDM
/// reservation, TDM policy).
pub(super) fn usage(r: &Row, start: usize) -> rusqlite::Result<Option<UsageHeaders>> {
    let content_usage: Option<String> = r.get(start)?;
    let reserved: Option<bool> = r.get(start + 1)?;
    content_usage
        .zip(reserved)
        .map(|(content_usage, tdm_reservation)| {
            Ok(UsageHeaders {
                content_usage,
                tdm_reservation,
                tdm_policy: r.get(start + 2)?,
            })
        })
        .transpose()
}

pub(super) fn into_asset(row: AssetRow) -> Result<StoredAsset> {
    let AssetRow {
        mut entry,
        size_bytes,
        payment_terms,
        blob,
    } = row;
    entry.size_bytes = to_u64(size_bytes)?;
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

/// The columns of `manifests m` that make its [`DatasetVersion`], in the
/// order [`dataset`] reads them.
pub(super) const DATASET_COLUMNS: &str =
    "m.dataset_id, m.dataset_name, m.dataset_version, m.dataset_format, m.delta, m.parent_hash";

/// The dataset version read from [`DATASET_COLUMNS`] at `start`; `None`
/// for a manifest of assets.
pub(super) fn dataset(r: &Row, start: usize) -> rusqlite::Result<Option<DatasetVersion>> {
    let Some(dataset_id) = r.get::<_, Option<String>>(start)? else {
        return Ok(None);
    };
    Ok(Some(DatasetVersion {
        dataset_id,
        name: r.get(start + 1)?,
        version: r.get(start + 2)?,
        format: r.get(start + 3)?,
        delta: r.get(start + 4)?,
        parent_manifest_hash: r.get(start + 5)?,
    }))
}

/// The shards of manifest `row`, in its order.
pub(super) fn shards(conn: &Connection, row: i64) -> Result<Vec<StoredShard>> {
    let mut stmt = conn.prepare(
        "SELECT name, checksum, size_bytes, assets, blob FROM manifest_shards
         WHERE manifest = ?1 ORDER BY seq",
    )?;
    let rows = stmt
        .query_map([row], |r| {
            <(String, String, i64, i64, Option<String>)>::try_from(r)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(name, checksum, size, assets, blob)| {
            let blob = blob
                .map(|id| {
                    BlobId::parse(&id)
                        .ok_or_else(|| corrupt(format!("blob id {id:?} is malformed")))
                })
                .transpose()?;
            Ok(StoredShard {
                entry: ShardEntry {
                    name,
                    checksum,
                    size_bytes: to_u64(size)?,
                    assets: to_u64(assets)?,
                },
                blob,
            })
        })
        .collect()
}

fn load_manifest(conn: &Connection, row: i64) -> Result<Manifest> {
    let (manifest_id, account, manifest_hash, key_id, received_at, dataset) = conn.query_row(
        &format!(
            "SELECT m.manifest_id, m.account, m.manifest_hash, m.key_id, m.received_at,
                    {DATASET_COLUMNS}
             FROM manifests m WHERE m.id = ?1"
        ),
        [row],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                dataset(r, 5)?,
            ))
        },
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
        dataset,
        shards: shards(conn, row)?,
    })
}

/// The row of `account`'s manifest `manifest_id`.
pub(super) fn manifest_row(
    conn: &Connection,
    account: AccountId,
    manifest_id: &str,
) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT id FROM manifests WHERE manifest_id = ?1 AND account = ?2",
            params![manifest_id, account],
            |r| r.get(0),
        )
        .optional()?)
}

pub(super) fn add(tx: &Transaction, manifest: NewManifest) -> Result<Insert<Manifest>> {
    let existing = tx
        .query_row(
            "SELECT id, account, manifest_hash FROM manifests WHERE manifest_id = ?1",
            [&manifest.manifest_id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, AccountId>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )
        .optional()?;
    if let Some((row, account, hash)) = existing {
        if account != manifest.account || hash != manifest.manifest_hash {
            return Err(RecordsError::ManifestConflict(manifest.manifest_id));
        }
        return Ok(Insert::Existing(load_manifest(tx, row)?));
    }
    if let Some(dataset) = &manifest.dataset {
        check_version(tx, manifest.account, dataset)?;
    }
    let d = manifest.dataset.as_ref();
    tx.execute(
        "INSERT INTO manifests (manifest_id, account, manifest_hash, key_id, bytes, received_at,
             dataset_id, dataset_name, dataset_version, dataset_format, delta, parent_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            manifest.manifest_id,
            manifest.account,
            manifest.manifest_hash,
            manifest.key_id,
            manifest.bytes,
            clock::timestamp(),
            d.map(|d| &d.dataset_id),
            d.map(|d| &d.name),
            d.map(|d| d.version),
            d.map(|d| &d.format),
            d.map(|d| d.delta),
            d.and_then(|d| d.parent_manifest_hash.as_ref()),
        ],
    )?;
    let row = tx.last_insert_rowid();
    let mut insert = tx.prepare(
        "INSERT INTO manifest_shards (manifest, seq, name, checksum, size_bytes, assets)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (seq, shard) in manifest.shards.iter().enumerate() {
        insert.execute(params![
            row,
            to_i64(seq as u64)?,
            shard.name,
            shard.checksum,
            to_i64(shard.size_bytes)?,
            to_i64(shard.assets)?,
        ])?;
    }
    let mut insert = tx.prepare(
        "INSERT INTO manifest_assets (manifest, seq, asset_id, title, file_name, checksum,
             size_bytes, media_type, license_tag, creator_wallet, payment_terms,
             capture_date, content_usage, tdm_reservation, tdm_policy)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
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
            a.capture_date,
            a.usage.as_ref().map(|u| &u.content_usage),
            a.usage.as_ref().map(|u| u.tdm_reservation),
            a.usage.as_ref().and_then(|u| u.tdm_policy.as_ref()),
        ])?;
    }
    // Bytes this publisher stored before serve this manifest too, as an
    // asset's file or a shard.
    for table in ["manifest_assets", "manifest_shards"] {
        tx.execute(
            &format!(
                "UPDATE {table} SET blob =
                    (SELECT b.id FROM blobs b WHERE b.account = ?1 AND b.checksum = {table}.checksum)
                 WHERE manifest = ?2"
            ),
            params![manifest.account, row],
        )?;
    }
    Ok(Insert::New(load_manifest(tx, row)?))
}

/// A dataset version is posted once per dataset (another manifest of the
/// same version is a conflict), and a delta only after the version it
/// updates, of the same dataset and publisher.
fn check_version(tx: &Transaction, account: AccountId, dataset: &DatasetVersion) -> Result<()> {
    let taken: Option<String> = tx
        .query_row(
            "SELECT manifest_id FROM manifests
             WHERE account = ?1 AND dataset_id = ?2 AND dataset_version = ?3",
            params![account, dataset.dataset_id, dataset.version],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(other) = taken {
        return Err(RecordsError::VersionTaken {
            dataset_id: dataset.dataset_id.clone(),
            version: dataset.version,
            manifest_id: other,
        });
    }
    let Some(parent) = dataset
        .parent_manifest_hash
        .as_ref()
        .filter(|_| dataset.delta)
    else {
        return Ok(());
    };
    let found: Option<String> = tx
        .query_row(
            "SELECT dataset_id FROM manifests WHERE account = ?1 AND manifest_hash = ?2",
            params![account, parent],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    if found.as_deref() != Some(dataset.dataset_id.as_str()) {
        return Err(RecordsError::ParentVersionMissing(format!(
            "version {} of dataset {} is a delta of the manifest {parent}, which is not a version of that dataset among yours; post the parent version first",
            dataset.version, dataset.dataset_id
        )));
    }
    Ok(())
}

pub(super) fn find(
    conn: &Connection,
    account: AccountId,
    manifest_id: &str,
) -> Result<Option<Manifest>> {
    manifest_row(conn, account, manifest_id)?
        .map(|row| load_manifest(conn, row))
        .transpose()
}

pub(super) fn bytes(
    conn: &Connection,
    account: AccountId,
    manifest_id: &str,
) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .query_row(
            "SELECT bytes FROM manifests WHERE manifest_id = ?1 AND account = ?2",
            params![manifest_id, account],
            |r| r.get(0),
        )
        .optional()?)
}

pub(super) fn find_asset(
    conn: &Connection,
    account: AccountId,
    manifest_id: &str,
    asset_id: &str,
) -> Result<Option<StoredAsset>> {
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
}
