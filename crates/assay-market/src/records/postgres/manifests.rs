//! The PostgreSQL side of manifests: the signed manifests publishers post,
//! their bytes as posted, and their assets (`manifest_assets`) and shards,
//! with the asset columns and row readers listings share. Each function
//! runs inside the transaction [`super::PostgresRecords`] hands it.
//!
//! A manifest's assets and shards are inserted with one statement each
//! (`unnest` over arrays of their columns, in batches), not a round trip
//! per row: a manifest may list a couple of hundred thousand.

use assay_core::licenses::PaymentTerms;
use assay_market_proto::manifests::DatasetVersion;
use tokio_postgres::Row;

use super::values::{opt_text, text, texts};
use super::{conflict, corrupt, execute, first, get, one, rows, to_i64, to_u32, to_u64, Tx};
use crate::clock;
use crate::ids::BlobId;
use crate::records::{
    AccountId, AssetEntry, Insert, Manifest, NewManifest, RecordsError, Result, ShardEntry,
    StoredAsset, StoredShard, UsageHeaders,
};

/// Rows inserted by one statement: bounds the size of its arrays.
const BATCH: usize = 5_000;

/// The columns of `manifest_assets a` that make a [`StoredAsset`], in the
/// order [`asset`] reads them from `start`.
pub(super) const ASSET_COLUMNS: &str =
    "a.asset_id, a.title, a.file_name, a.checksum, a.size_bytes, a.media_type,
     a.license_tag, a.creator_wallet, a.payment_terms, a.blob, a.capture_date,
     a.content_usage, a.tdm_reservation, a.tdm_policy";
/// How many columns [`ASSET_COLUMNS`] names.
pub(super) const ASSET_COLUMN_COUNT: usize = 14;

pub(super) fn blob_id(id: &str) -> Result<BlobId> {
    BlobId::parse(id).ok_or_else(|| corrupt(format!("blob id {id:?} is malformed")))
}

/// The asset read from [`ASSET_COLUMNS`] at `start`.
pub(super) fn asset(row: &Row, start: usize) -> Result<StoredAsset> {
    let asset_id: String = get(row, start)?;
    let payment_terms = get::<Option<String>>(row, start + 8)?
        .map(|text| {
            serde_json::from_str::<PaymentTerms>(&text)
                .map_err(|e| corrupt(format!("asset {asset_id}: stored payment terms: {e}")))
        })
        .transpose()?;
    let blob = get::<Option<String>>(row, start + 9)?
        .map(|id| blob_id(&id))
        .transpose()?;
    Ok(StoredAsset {
        entry: AssetEntry {
            title: get(row, start + 1)?,
            file_name: get(row, start + 2)?,
            checksum: get(row, start + 3)?,
            size_bytes: to_u64(get(row, start + 4)?)?,
            media_type: get(row, start + 5)?,
            license_tag: get(row, start + 6)?,
            creator_wallet: get(row, start + 7)?,
            payment_terms,
            capture_date: get(row, start + 10)?,
            usage: usage(row, start + 11)?,
            asset_id,
        },
        blob,
    })
}

/// The usage headers stored from column `start` on (content usage, TDM
/// reservation, TDM policy).
pub(super) fn usage(row: &Row, start: usize) -> Result<Option<UsageHeaders>> {
    let content_usage: Option<String> = get(row, start)?;
    let reserved: Option<bool> = get(row, start + 1)?;
    content_usage
        .zip(reserved)
        .map(|(content_usage, tdm_reservation)| {
            Ok(UsageHeaders {
                content_usage,
                tdm_reservation,
                tdm_policy: get(row, start + 2)?,
            })
        })
        .transpose()
}

/// The columns of `manifests m` that make its [`DatasetVersion`], in the
/// order [`dataset`] reads them.
pub(super) const DATASET_COLUMNS: &str =
    "m.dataset_id, m.dataset_name, m.dataset_version, m.dataset_format, m.delta, m.parent_hash";

/// The dataset version read from [`DATASET_COLUMNS`] at `start`; `None`
/// for a manifest of assets.
pub(super) fn dataset(row: &Row, start: usize) -> Result<Option<DatasetVersion>> {
    let Some(dataset_id) = get::<Option<String>>(row, start)? else {
        return Ok(None);
    };
    let version = to_u32(get(row, start + 2)?, "manifests.dataset_version")?;
    Ok(Some(DatasetVersion {
        dataset_id,
        name: get(row, start + 1)?,
        version,
        format: get(row, start + 3)?,
        delta: get(row, start + 4)?,
        parent_manifest_hash: get(row, start + 5)?,
    }))
}

/// The shards of manifest `row`, in its order.
pub(super) async fn shards(tx: &Tx<'_>, row: i64) -> Result<Vec<StoredShard>> {
    rows(
        tx,
        "SELECT name, checksum, size_bytes, assets, blob FROM manifest_shards
         WHERE manifest = $1 ORDER BY seq",
        &[&row],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(StoredShard {
            entry: ShardEntry {
                name: get(r, 0)?,
                checksum: get(r, 1)?,
                size_bytes: to_u64(get(r, 2)?)?,
                assets: to_u64(get(r, 3)?)?,
            },
            blob: get::<Option<String>>(r, 4)?
                .map(|id| blob_id(&id))
                .transpose()?,
        })
    })
    .collect()
}

async fn load_manifest(tx: &Tx<'_>, row: i64) -> Result<Manifest> {
    let m = one(
        tx,
        &format!(
            "SELECT m.manifest_id, m.account, m.manifest_hash, m.key_id, m.received_at,
                    {DATASET_COLUMNS}
             FROM manifests m WHERE m.id = $1"
        ),
        &[&row],
    )
    .await?;
    let assets = rows(
        tx,
        &format!(
            "SELECT {ASSET_COLUMNS} FROM manifest_assets a WHERE a.manifest = $1 ORDER BY a.seq"
        ),
        &[&row],
    )
    .await?
    .iter()
    .map(|r| asset(r, 0))
    .collect::<Result<_>>()?;
    Ok(Manifest {
        manifest_id: get(&m, 0)?,
        account: get(&m, 1)?,
        manifest_hash: get(&m, 2)?,
        key_id: get(&m, 3)?,
        received_at: get(&m, 4)?,
        dataset: dataset(&m, 5)?,
        assets,
        shards: shards(tx, row).await?,
    })
}

/// The row of `account`'s manifest `manifest_id`.
pub(super) async fn manifest_row(
    tx: &Tx<'_>,
    account: AccountId,
    manifest_id: &str,
) -> Result<Option<i64>> {
    first(
        tx,
        "SELECT id FROM manifests WHERE manifest_id = $1 AND account = $2",
        &[&text(manifest_id), &account],
    )
    .await?
    .map(|r| get(&r, 0))
    .transpose()
}

pub(super) async fn add(tx: &Tx<'_>, manifest: &NewManifest) -> Result<Insert<Manifest>> {
    let existing = first(
        tx,
        "SELECT id, account, manifest_hash FROM manifests WHERE manifest_id = $1",
        &[&text(&manifest.manifest_id)],
    )
    .await?;
    if let Some(found) = existing {
        let (row, account, hash): (i64, AccountId, String) =
            (get(&found, 0)?, get(&found, 1)?, get(&found, 2)?);
        if account != manifest.account || hash != manifest.manifest_hash {
            return Err(RecordsError::ManifestConflict(manifest.manifest_id.clone()));
        }
        return Ok(Insert::Existing(load_manifest(tx, row).await?));
    }
    if let Some(dataset) = &manifest.dataset {
        check_version(tx, manifest.account, dataset).await?;
    }
    let d = manifest.dataset.as_ref();
    let version = d.map(|d| i64::from(d.version));
    // The same manifest posted meanwhile by another process: under
    // SERIALIZABLE the conflict on its id is a serialization failure, and
    // the write runs again into the branch above.
    let inserted = first(
        tx,
        "INSERT INTO manifests (manifest_id, account, manifest_hash, key_id, bytes, received_at,
             dataset_id, dataset_name, dataset_version, dataset_format, delta, parent_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (manifest_id) DO NOTHING RETURNING id",
        &[
            &text(&manifest.manifest_id),
            &manifest.account,
            &text(&manifest.manifest_hash),
            &text(&manifest.key_id),
            &manifest.bytes,
            &text(&clock::timestamp()),
            &opt_text(d.map(|d| d.dataset_id.as_str())),
            &opt_text(d.map(|d| d.name.as_str())),
            &version,
            &opt_text(d.map(|d| d.format.as_str())),
            &d.map(|d| d.delta),
            &opt_text(d.and_then(|d| d.parent_manifest_hash.as_deref())),
        ],
    )
    .await?
    .ok_or_else(|| conflict(format!("manifest {}", manifest.manifest_id)))?;
    let row: i64 = get(&inserted, 0)?;
    insert_shards(tx, row, &manifest.shards).await?;
    insert_assets(tx, row, &manifest.assets).await?;
    // Bytes this publisher stored before serve this manifest too, as an
    // asset's file or a shard.
    for table in ["manifest_assets", "manifest_shards"] {
        execute(
            tx,
            &format!(
                "UPDATE {table} SET blob =
                    (SELECT b.id FROM blobs b WHERE b.account = $1 AND b.checksum = {table}.checksum)
                 WHERE manifest = $2"
            ),
            &[&manifest.account, &row],
        )
        .await?;
    }
    Ok(Insert::New(load_manifest(tx, row).await?))
}

async fn insert_shards(tx: &Tx<'_>, row: i64, shards: &[ShardEntry]) -> Result<()> {
    for (batch, chunk) in shards.chunks(BATCH).enumerate() {
        let start = batch * BATCH;
        let mut seq = Vec::with_capacity(chunk.len());
        let mut name = Vec::with_capacity(chunk.len());
        let mut checksum = Vec::with_capacity(chunk.len());
        let mut size = Vec::with_capacity(chunk.len());
        let mut assets = Vec::with_capacity(chunk.len());
        for (i, shard) in chunk.iter().enumerate() {
            seq.push(to_i64((start + i) as u64)?);
            name.push(Some(shard.name.as_str()));
            checksum.push(Some(shard.checksum.as_str()));
            size.push(to_i64(shard.size_bytes)?);
            assets.push(to_i64(shard.assets)?);
        }
        execute(
            tx,
            "INSERT INTO manifest_shards (manifest, seq, name, checksum, size_bytes, assets)
             SELECT $1::bigint, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[],
                                              $6::bigint[])",
            &[&row, &seq, &texts(name), &texts(checksum), &size, &assets],
        )
        .await?;
    }
    Ok(())
}

async fn insert_assets(tx: &Tx<'_>, row: i64, assets: &[AssetEntry]) -> Result<()> {
    for (batch, chunk) in assets.chunks(BATCH).enumerate() {
        let start = batch * BATCH;
        let n = chunk.len();
        let mut seq = Vec::with_capacity(n);
        let mut asset_id = Vec::with_capacity(n);
        let mut title = Vec::with_capacity(n);
        let mut file_name = Vec::with_capacity(n);
        let mut checksum = Vec::with_capacity(n);
        let mut size = Vec::with_capacity(n);
        let mut media_type = Vec::with_capacity(n);
        let mut license_tag = Vec::with_capacity(n);
        let mut creator_wallet = Vec::with_capacity(n);
        let mut terms = Vec::with_capacity(n);
        let mut capture_date = Vec::with_capacity(n);
        let mut content_usage = Vec::with_capacity(n);
        let mut tdm_reservation = Vec::with_capacity(n);
        let mut tdm_policy = Vec::with_capacity(n);
        for (i, a) in chunk.iter().enumerate() {
            seq.push(to_i64((start + i) as u64)?);
            asset_id.push(Some(a.asset_id.as_str()));
            title.push(a.title.as_deref());
            file_name.push(Some(a.file_name.as_str()));
            checksum.push(Some(a.checksum.as_str()));
            size.push(to_i64(a.size_bytes)?);
            media_type.push(Some(a.media_type.as_str()));
            license_tag.push(Some(a.license_tag.as_str()));
            creator_wallet.push(Some(a.creator_wallet.as_str()));
            terms.push(
                a.payment_terms
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()
                    .map_err(|e| corrupt(format!("asset {}: payment terms: {e}", a.asset_id)))?,
            );
            capture_date.push(a.capture_date.as_deref());
            content_usage.push(a.usage.as_ref().map(|u| u.content_usage.as_str()));
            tdm_reservation.push(a.usage.as_ref().map(|u| u.tdm_reservation));
            tdm_policy.push(a.usage.as_ref().and_then(|u| u.tdm_policy.as_deref()));
        }
        execute(
            tx,
            "INSERT INTO manifest_assets (manifest, seq, asset_id, title, file_name, checksum,
                 size_bytes, media_type, license_tag, creator_wallet, payment_terms,
                 capture_date, content_usage, tdm_reservation, tdm_policy)
             SELECT $1::bigint, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[],
                 $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[],
                 $12::text[], $13::text[], $14::boolean[], $15::text[])",
            &[
                &row,
                &seq,
                &texts(asset_id),
                &texts(title),
                &texts(file_name),
                &texts(checksum),
                &size,
                &texts(media_type),
                &texts(license_tag),
                &texts(creator_wallet),
                &texts(terms.iter().map(Option::as_deref)),
                &texts(capture_date),
                &texts(content_usage),
                &tdm_reservation,
                &texts(tdm_policy),
            ],
        )
        .await?;
    }
    Ok(())
}

/// A dataset version is posted once per dataset (another manifest of the
/// same version is a conflict), and a delta only after the version it
/// updates, of the same dataset and publisher.
async fn check_version(tx: &Tx<'_>, account: AccountId, dataset: &DatasetVersion) -> Result<()> {
    let version = i64::from(dataset.version);
    let taken = first(
        tx,
        "SELECT manifest_id FROM manifests
         WHERE account = $1 AND dataset_id = $2 AND dataset_version = $3",
        &[&account, &text(&dataset.dataset_id), &version],
    )
    .await?;
    if let Some(other) = taken {
        return Err(RecordsError::VersionTaken {
            dataset_id: dataset.dataset_id.clone(),
            version: dataset.version,
            manifest_id: get(&other, 0)?,
        });
    }
    let Some(parent) = dataset
        .parent_manifest_hash
        .as_ref()
        .filter(|_| dataset.delta)
    else {
        return Ok(());
    };
    let found: Option<String> = first(
        tx,
        "SELECT dataset_id FROM manifests WHERE account = $1 AND manifest_hash = $2
         ORDER BY id LIMIT 1",
        &[&account, &text(parent)],
    )
    .await?
    .map(|r| get::<Option<String>>(&r, 0))
    .transpose()?
    .flatten();
    if found.as_deref() != Some(dataset.dataset_id.as_str()) {
        return Err(RecordsError::ParentVersionMissing(format!(
            "version {} of dataset {} is a delta of the manifest {parent}, which is not a version of that dataset among yours; post the parent version first",
            dataset.version, dataset.dataset_id
        )));
    }
    Ok(())
}

pub(super) async fn find(
    tx: &Tx<'_>,
    account: AccountId,
    manifest_id: &str,
) -> Result<Option<Manifest>> {
    match manifest_row(tx, account, manifest_id).await? {
        Some(row) => Ok(Some(load_manifest(tx, row).await?)),
        None => Ok(None),
    }
}

/// Shard `name` of `account`'s manifest `manifest_id`.
pub(super) async fn find_shard(
    tx: &Tx<'_>,
    account: AccountId,
    manifest_id: &str,
    name: &str,
) -> Result<Option<StoredShard>> {
    let Some(row) = manifest_row(tx, account, manifest_id).await? else {
        return Ok(None);
    };
    Ok(shards(tx, row)
        .await?
        .into_iter()
        .find(|s| s.entry.name == name))
}

pub(super) async fn bytes(
    tx: &Tx<'_>,
    account: AccountId,
    manifest_id: &str,
) -> Result<Option<Vec<u8>>> {
    first(
        tx,
        "SELECT bytes FROM manifests WHERE manifest_id = $1 AND account = $2",
        &[&text(manifest_id), &account],
    )
    .await?
    .map(|r| get(&r, 0))
    .transpose()
}

pub(super) async fn find_asset(
    tx: &Tx<'_>,
    account: AccountId,
    manifest_id: &str,
    asset_id: &str,
) -> Result<Option<StoredAsset>> {
    first(
        tx,
        &format!(
            "SELECT {ASSET_COLUMNS} FROM manifest_assets a JOIN manifests m ON m.id = a.manifest
             WHERE m.manifest_id = $1 AND m.account = $2 AND a.asset_id = $3"
        ),
        &[&text(manifest_id), &account, &text(asset_id)],
    )
    .await?
    .map(|r| asset(&r, 0))
    .transpose()
}
