//! The SQLite side of listings: a publisher's manifest put on sale with
//! its terms, the page of listings buyers browse, and the assets
//! withdrawn from a listing (`withdrawals`). Each function runs inside the
//! transaction or on the connection [`super::SqliteRecords`] hands it.

use assay_market_proto::listings::{LaterVersion, ListingTerms, Withdrawn};
use assay_market_proto::manifests::DatasetVersion;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::events;
use super::manifests::{
    asset, dataset, into_asset, manifest_row, shards, ASSET_COLUMNS, ASSET_COLUMN_COUNT,
    DATASET_COLUMNS,
};
use super::stored::{listing_id, to_i64, to_u64};
use super::{
    sales, AccountId, ListedAsset, ListingDetail, ListingRecord, ListingRow, NewListing,
    RecordsError, Result,
};
use crate::clock;
use crate::ids::ListingId;

/// A listing's columns, then its manifest's [`DATASET_COLUMNS`] and, for a
/// delta, the listing of the version it updates: [`LISTING_COLUMNS`] in all.
fn listing_select() -> String {
    format!(
        "SELECT l.id, l.account, ac.name, m.manifest_id, m.manifest_hash,
            l.title, l.description, l.price_minor, l.currency, l.created_at, l.updated_at,
            {DATASET_COLUMNS},
            (SELECT pl.id FROM manifests pm JOIN listings pl ON pl.manifest = pm.id
              WHERE m.delta AND pm.account = m.account AND pm.manifest_hash = m.parent_hash)"
    )
}
/// How many columns [`listing_select`] names.
const LISTING_COLUMNS: usize = 18;
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
            dataset: dataset(r, 11)?,
            parent_listing: r.get(17)?,
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
    dataset: Option<DatasetVersion>,
    parent_listing: Option<String>,
}

fn into_listing((c, price): (ListingRecordColumns, i64)) -> Result<ListingRecord> {
    Ok(ListingRecord {
        id: listing_id(&c.id)?,
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
        dataset: c.dataset,
        parent_listing: c.parent_listing.as_deref().map(listing_id).transpose()?,
    })
}

fn load_listing(conn: &Connection, id: &str) -> Result<Option<ListingRecord>> {
    conn.query_row(
        &format!("{} {LISTING_FROM} WHERE l.id = ?1", listing_select()),
        [id],
        listing_record,
    )
    .optional()?
    .map(into_listing)
    .transpose()
}

pub(super) fn create(tx: &Transaction, listing: NewListing) -> Result<ListingRecord> {
    let row = manifest_row(tx, listing.account, &listing.manifest_id)?.ok_or_else(|| {
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
            listing: listing_id(&id)?,
            manifest_id: listing.manifest_id,
        });
    }
    // A delta is sold to the buyers of its parent version's listing, so
    // that listing must exist first.
    let delta: Option<(String, u32, Option<String>)> = tx
        .query_row(
            "SELECT m.dataset_id, m.dataset_version,
                    (SELECT pl.id FROM manifests pm JOIN listings pl ON pl.manifest = pm.id
                      WHERE pm.account = m.account AND pm.manifest_hash = m.parent_hash)
             FROM manifests m WHERE m.id = ?1 AND m.delta",
            [row],
            |r| r.try_into(),
        )
        .optional()?;
    if let Some((dataset_id, version, None)) = delta {
        return Err(RecordsError::ParentVersionMissing(format!(
            "version {version} of dataset {dataset_id} is a delta of a version that is not listed; list the parent version first"
        )));
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
    let record = load_listing(tx, listing.id.as_str())?.ok_or_else(|| RecordsError::Missing {
        what: "listing",
        id: listing.id.to_string(),
    })?;
    sales::add_event(tx, listing.account, &events::listing_created(&record))?;
    Ok(record)
}

pub(super) fn detail(tx: &Transaction, id: &ListingId) -> Result<Option<ListingDetail>> {
    let Some(listing) = load_listing(tx, id.as_str())? else {
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
    let manifest: i64 = tx.query_row(
        "SELECT manifest FROM listings WHERE id = ?1",
        [id.as_str()],
        |r| r.get(0),
    )?;
    let mut stmt = tx.prepare(
        "SELECT l.id, m.dataset_version, m.delta FROM manifests m
         JOIN manifests parent ON parent.account = m.account AND parent.manifest_hash = m.parent_hash
         JOIN listings l ON l.manifest = m.id
         WHERE parent.id = ?1 AND m.delta ORDER BY m.dataset_version",
    )?;
    let later = stmt
        .query_map([manifest], |r| <(String, u32, bool)>::try_from(r))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(ListingDetail {
        listing,
        items,
        shards: shards(tx, manifest)?,
        later_versions: later
            .into_iter()
            .map(|(listing_id, version, delta)| LaterVersion {
                listing_id,
                version,
                delta,
            })
            .collect(),
    }))
}

pub(super) fn page(
    conn: &Connection,
    after: Option<&ListingId>,
    limit: u32,
) -> Result<Vec<ListingRow>> {
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
        "{},
            (SELECT count(*) FROM manifest_assets a WHERE a.manifest = l.manifest),
            (SELECT count(*) FROM withdrawals w WHERE w.listing = l.seq),
            (SELECT count(*) FROM manifest_assets a
              WHERE a.manifest = l.manifest AND a.blob IS NOT NULL AND {on_sale}),
            (SELECT group_concat(tag, char(10)) FROM
              (SELECT DISTINCT a.license_tag AS tag FROM manifest_assets a
                WHERE a.manifest = l.manifest AND {on_sale} ORDER BY tag)),
            (SELECT count(*) FROM manifest_shards s WHERE s.manifest = l.manifest),
            (SELECT count(*) FROM manifest_shards s
              WHERE s.manifest = l.manifest AND s.blob IS NOT NULL)
         {LISTING_FROM}
         WHERE l.seq > ?1 ORDER BY l.seq LIMIT ?2",
        listing_select()
    ))?;
    let rows = stmt
        .query_map(params![after, limit], |r| {
            let at = LISTING_COLUMNS;
            Ok((
                listing_record(r)?,
                (
                    r.get::<_, i64>(at)?,
                    r.get::<_, i64>(at + 1)?,
                    r.get::<_, i64>(at + 2)?,
                ),
                r.get::<_, Option<String>>(at + 3)?,
                (r.get::<_, i64>(at + 4)?, r.get::<_, i64>(at + 5)?),
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(
            |(record, (assets, withdrawn, uploaded), tags, (shards, shards_uploaded))| {
                Ok(ListingRow {
                    listing: into_listing(record)?,
                    assets: to_u64(assets)?,
                    withdrawn: to_u64(withdrawn)?,
                    uploaded: to_u64(uploaded)?,
                    license_tags: tags
                        .map(|t| t.split('\n').map(str::to_owned).collect())
                        .unwrap_or_default(),
                    shards: to_u64(shards)?,
                    shards_uploaded: to_u64(shards_uploaded)?,
                })
            },
        )
        .collect()
}

pub(super) fn update(tx: &Transaction, id: &ListingId, terms: &ListingTerms) -> Result<()> {
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
}

pub(super) fn withdraw(
    tx: &Transaction,
    id: &ListingId,
    asset_id: &str,
    reason: &str,
) -> Result<()> {
    let (seq, manifest, dataset): (i64, i64, Option<String>) = tx
        .query_row(
            "SELECT l.seq, l.manifest, m.dataset_id
             FROM listings l JOIN manifests m ON m.id = l.manifest WHERE l.id = ?1",
            [id.as_str()],
            |r| r.try_into(),
        )
        .optional()?
        .ok_or_else(|| RecordsError::Missing {
            what: "listing",
            id: id.to_string(),
        })?;
    if dataset.is_some() {
        return Err(RecordsError::DatasetVersionImmutable(id.clone()));
    }
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
}
