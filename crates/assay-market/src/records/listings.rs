//! The SQLite side of listings: a publisher's manifest put on sale with
//! its terms, the page of listings buyers browse, and the assets
//! withdrawn from a listing (`withdrawals`). Each function runs inside the
//! transaction or on the connection [`super::SqliteRecords`] hands it.

use assay_market_proto::events::EventKind;
use assay_market_proto::listings::{ListingTerms, Withdrawn};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::manifests::{asset, into_asset, manifest_row, ASSET_COLUMNS, ASSET_COLUMN_COUNT};
use super::sqlite::{corrupt, to_i64, to_u64};
use super::{
    sales, AccountId, ListedAsset, ListingDetail, ListingRecord, ListingRow, NewListing,
    RecordsError, Result,
};
use crate::clock;
use crate::ids::ListingId;

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
    let record = load_listing(tx, listing.id.as_str())?.ok_or_else(|| RecordsError::Missing {
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
    Ok(Some(ListingDetail { listing, items }))
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
}
