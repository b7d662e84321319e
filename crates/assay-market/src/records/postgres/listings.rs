//! The PostgreSQL side of listings: a publisher's manifest put on sale with
//! its terms, the page of listings buyers browse, and the assets withdrawn
//! from a listing (`withdrawals`). Each function runs inside the
//! transaction [`super::PostgresRecords`] hands it.
//!
//! Buyers page through listings by their sequence (`after` a listing).
//! A sequence is drawn when the row is inserted but seen when its
//! transaction commits, and two processes may commit in the other order:
//! a reader could pass the later one and never come back for the earlier.
//! So listings are added one at a time (an advisory lock from before the
//! insert to the commit): sequences are visible in the order they were
//! drawn. Listings are added rarely; the wait costs nothing.

use assay_market_proto::listings::{LaterVersion, ListingTerms, Withdrawn};
use tokio_postgres::Row;

use super::manifests::{
    asset, dataset, manifest_row, shards, ASSET_COLUMNS, ASSET_COLUMN_COUNT, DATASET_COLUMNS,
};
use super::values::text;
use super::{execute, first, get, lock, locks, one, rows, sales, to_i64, to_u32, to_u64, Tx};
use crate::clock;
use crate::ids::ListingId;
use crate::records::events;
use crate::records::stored::listing_id;
use crate::records::{
    ListedAsset, ListingDetail, ListingRecord, ListingRow, NewListing, RecordsError, Result,
};

/// A listing's columns, then its manifest's [`DATASET_COLUMNS`] and, for a
/// delta, the listing of the version it updates: [`LISTING_COLUMNS`] in all.
fn listing_select() -> String {
    format!(
        "SELECT l.id, l.account, ac.name, m.manifest_id, m.manifest_hash,
            l.title, l.description, l.price_minor, l.currency, l.created_at, l.updated_at,
            {DATASET_COLUMNS},
            (SELECT pl.id FROM manifests pm JOIN listings pl ON pl.manifest = pm.id
              WHERE m.delta AND pm.account = m.account AND pm.manifest_hash = m.parent_hash
              ORDER BY pl.seq LIMIT 1)"
    )
}
/// How many columns [`listing_select`] names.
const LISTING_COLUMNS: usize = 18;
const LISTING_FROM: &str = "FROM listings l
     JOIN accounts ac ON ac.id = l.account
     JOIN manifests m ON m.id = l.manifest";

fn listing(row: &Row) -> Result<ListingRecord> {
    let id: String = get(row, 0)?;
    let parent: Option<String> = get(row, 17)?;
    Ok(ListingRecord {
        id: listing_id(&id)?,
        account: get(row, 1)?,
        publisher: get(row, 2)?,
        manifest_id: get(row, 3)?,
        manifest_hash: get(row, 4)?,
        terms: ListingTerms {
            title: get(row, 5)?,
            description: get(row, 6)?,
            price_minor: to_u64(get(row, 7)?)?,
            currency: get(row, 8)?,
        },
        created_at: get(row, 9)?,
        updated_at: get(row, 10)?,
        dataset: dataset(row, 11)?,
        parent_listing: parent.as_deref().map(listing_id).transpose()?,
    })
}

async fn load_listing(tx: &Tx<'_>, id: &str) -> Result<Option<ListingRecord>> {
    first(
        tx,
        &format!("{} {LISTING_FROM} WHERE l.id = $1", listing_select()),
        &[&text(id)],
    )
    .await?
    .map(|row| listing(&row))
    .transpose()
}

pub(super) async fn create(tx: &Tx<'_>, new: &NewListing) -> Result<ListingRecord> {
    let row = manifest_row(tx, new.account, &new.manifest_id)
        .await?
        .ok_or_else(|| RecordsError::Missing {
            what: "manifest",
            id: new.manifest_id.clone(),
        })?;
    let existing = first(tx, "SELECT id FROM listings WHERE manifest = $1", &[&row]).await?;
    if let Some(existing) = existing {
        return Err(RecordsError::ListingExists {
            listing: listing_id(&get::<String>(&existing, 0)?)?,
            manifest_id: new.manifest_id.clone(),
        });
    }
    // A delta is sold to the buyers of its parent version's listing, so
    // that listing must exist first.
    let delta = first(
        tx,
        "SELECT m.dataset_id, m.dataset_version,
                (SELECT pl.id FROM manifests pm JOIN listings pl ON pl.manifest = pm.id
                  WHERE pm.account = m.account AND pm.manifest_hash = m.parent_hash
                  ORDER BY pl.seq LIMIT 1)
         FROM manifests m WHERE m.id = $1 AND m.delta",
        &[&row],
    )
    .await?;
    if let Some(delta) = delta {
        if get::<Option<String>>(&delta, 2)?.is_none() {
            let dataset_id: String = get(&delta, 0)?;
            let version = to_u32(get(&delta, 1)?, "manifests.dataset_version")?;
            return Err(RecordsError::ParentVersionMissing(format!(
                "version {version} of dataset {dataset_id} is a delta of a version that is not listed; list the parent version first"
            )));
        }
    }
    lock(tx, locks::LISTINGS, 0).await?;
    let at = clock::timestamp();
    let terms = &new.terms;
    execute(
        tx,
        "INSERT INTO listings (id, account, manifest, title, description, price_minor,
             currency, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        &[
            &text(new.id.as_str()),
            &new.account,
            &row,
            &text(&terms.title),
            &text(&terms.description),
            &to_i64(terms.price_minor)?,
            &text(&terms.currency),
            &text(&at),
        ],
    )
    .await?;
    let record = load_listing(tx, new.id.as_str())
        .await?
        .ok_or_else(|| RecordsError::Missing {
            what: "listing",
            id: new.id.to_string(),
        })?;
    sales::add_event(tx, new.account, &events::listing_created(&record)).await?;
    Ok(record)
}

pub(super) async fn detail(tx: &Tx<'_>, id: &ListingId) -> Result<Option<ListingDetail>> {
    let Some(listing) = load_listing(tx, id.as_str()).await? else {
        return Ok(None);
    };
    let items = rows(
        tx,
        &format!(
            "SELECT {ASSET_COLUMNS}, w.reason, w.withdrawn_at
             FROM listings l
             JOIN manifest_assets a ON a.manifest = l.manifest
             LEFT JOIN withdrawals w ON w.listing = l.seq AND w.asset_id = a.asset_id
             WHERE l.id = $1 ORDER BY a.seq"
        ),
        &[&text(id.as_str())],
    )
    .await?
    .iter()
    .map(|r| {
        let reason: Option<String> = get(r, ASSET_COLUMN_COUNT)?;
        let at: Option<String> = get(r, ASSET_COLUMN_COUNT + 1)?;
        Ok(ListedAsset {
            asset: asset(r, 0)?,
            withdrawn: reason.zip(at).map(|(reason, at)| Withdrawn { reason, at }),
        })
    })
    .collect::<Result<_>>()?;
    let manifest: i64 = get(
        &one(
            tx,
            "SELECT manifest FROM listings WHERE id = $1",
            &[&text(id.as_str())],
        )
        .await?,
        0,
    )?;
    let later_versions = rows(
        tx,
        "SELECT l.id, m.dataset_version, m.delta FROM manifests m
         JOIN manifests parent ON parent.account = m.account AND parent.manifest_hash = m.parent_hash
         JOIN listings l ON l.manifest = m.id
         WHERE parent.id = $1 AND m.delta ORDER BY m.dataset_version",
        &[&manifest],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(LaterVersion {
            listing_id: get(r, 0)?,
            version: to_u32(get(r, 1)?, "manifests.dataset_version")?,
            delta: get(r, 2)?,
        })
    })
    .collect::<Result<_>>()?;
    Ok(Some(ListingDetail {
        listing,
        items,
        shards: shards(tx, manifest).await?,
        later_versions,
    }))
}

pub(super) async fn page(
    tx: &Tx<'_>,
    after: Option<&ListingId>,
    limit: u32,
) -> Result<Vec<ListingRow>> {
    let after: i64 = match after {
        None => 0,
        Some(id) => {
            let found = first(
                tx,
                "SELECT seq FROM listings WHERE id = $1",
                &[&text(id.as_str())],
            )
            .await?
            .ok_or_else(|| RecordsError::Missing {
                what: "listing",
                id: id.to_string(),
            })?;
            get(&found, 0)?
        }
    };
    // An asset is on sale unless it has a withdrawal in this listing.
    let on_sale = "NOT EXISTS (SELECT 1 FROM withdrawals w
                               WHERE w.listing = l.seq AND w.asset_id = a.asset_id)";
    let sql = format!(
        "{},
            (SELECT count(*) FROM manifest_assets a WHERE a.manifest = l.manifest),
            (SELECT count(*) FROM withdrawals w WHERE w.listing = l.seq),
            (SELECT count(*) FROM manifest_assets a
              WHERE a.manifest = l.manifest AND a.blob IS NOT NULL AND {on_sale}),
            (SELECT string_agg(tag, E'\\n' ORDER BY tag) FROM
              (SELECT DISTINCT a.license_tag COLLATE \"C\" AS tag FROM manifest_assets a
                WHERE a.manifest = l.manifest AND {on_sale}) AS tags),
            (SELECT count(*) FROM manifest_shards s WHERE s.manifest = l.manifest),
            (SELECT count(*) FROM manifest_shards s
              WHERE s.manifest = l.manifest AND s.blob IS NOT NULL)
         {LISTING_FROM}
         WHERE l.seq > $1 ORDER BY l.seq LIMIT $2",
        listing_select()
    );
    rows(tx, &sql, &[&after, &i64::from(limit)])
        .await?
        .iter()
        .map(|r| {
            let at = LISTING_COLUMNS;
            let tags: Option<String> = get(r, at + 3)?;
            Ok(ListingRow {
                listing: listing(r)?,
                assets: to_u64(get(r, at)?)?,
                withdrawn: to_u64(get(r, at + 1)?)?,
                uploaded: to_u64(get(r, at + 2)?)?,
                license_tags: tags
                    .map(|t| t.split('\n').map(str::to_owned).collect())
                    .unwrap_or_default(),
                shards: to_u64(get(r, at + 4)?)?,
                shards_uploaded: to_u64(get(r, at + 5)?)?,
            })
        })
        .collect()
}

pub(super) async fn update(tx: &Tx<'_>, id: &ListingId, terms: &ListingTerms) -> Result<()> {
    let changed = execute(
        tx,
        "UPDATE listings SET title = $1, description = $2, price_minor = $3, currency = $4,
             updated_at = $5
         WHERE id = $6",
        &[
            &text(&terms.title),
            &text(&terms.description),
            &to_i64(terms.price_minor)?,
            &text(&terms.currency),
            &text(&clock::timestamp()),
            &text(id.as_str()),
        ],
    )
    .await?;
    if changed == 0 {
        return Err(RecordsError::Missing {
            what: "listing",
            id: id.to_string(),
        });
    }
    Ok(())
}

pub(super) async fn withdraw(
    tx: &Tx<'_>,
    id: &ListingId,
    asset_id: &str,
    reason: &str,
) -> Result<()> {
    let found = first(
        tx,
        "SELECT l.seq, l.manifest, m.dataset_id
         FROM listings l JOIN manifests m ON m.id = l.manifest WHERE l.id = $1",
        &[&text(id.as_str())],
    )
    .await?
    .ok_or_else(|| RecordsError::Missing {
        what: "listing",
        id: id.to_string(),
    })?;
    let (seq, manifest): (i64, i64) = (get(&found, 0)?, get(&found, 1)?);
    if get::<Option<String>>(&found, 2)?.is_some() {
        return Err(RecordsError::DatasetVersionImmutable(id.clone()));
    }
    let listed = first(
        tx,
        "SELECT 1 FROM manifest_assets WHERE manifest = $1 AND asset_id = $2",
        &[&manifest, &text(asset_id)],
    )
    .await?;
    if listed.is_none() {
        return Err(RecordsError::AssetNotInListing {
            listing: id.clone(),
            asset_id: asset_id.to_owned(),
        });
    }
    // Withdrawn already (here or by another process): the first reason
    // and time stay.
    let at = clock::timestamp();
    let added = execute(
        tx,
        "INSERT INTO withdrawals (listing, asset_id, reason, withdrawn_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        &[&seq, &text(asset_id), &text(reason), &text(&at)],
    )
    .await?;
    if added > 0 {
        execute(
            tx,
            "UPDATE listings SET updated_at = $1 WHERE seq = $2",
            &[&text(&at), &seq],
        )
        .await?;
    }
    Ok(())
}
