//! The SQLite side of previews, one per listing asset, replaced in place;
//! and of each asset's Content Credentials, kept with the manifest's asset
//! (they are of its bytes, whichever listing offers it).

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::stored::{preview_id, to_i64, to_u64};
use super::{PreviewRecord, RecordsError, Result};
use crate::ids::{ListingId, PreviewId};

pub(super) fn set(
    tx: &Transaction,
    listing: &ListingId,
    preview: &PreviewRecord,
) -> Result<Option<PreviewId>> {
    let seq: i64 = tx
        .query_row(
            "SELECT l.seq FROM listings l
             JOIN manifest_assets a ON a.manifest = l.manifest AND a.asset_id = ?2
             WHERE l.id = ?1",
            params![listing.as_str(), preview.asset_id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| RecordsError::AssetNotInListing {
            listing: listing.clone(),
            asset_id: preview.asset_id.clone(),
        })?;
    let replaced: Option<String> = tx
        .query_row(
            "SELECT id FROM previews WHERE listing = ?1 AND asset_id = ?2",
            params![seq, preview.asset_id],
            |r| r.get(0),
        )
        .optional()?;
    tx.execute(
        "INSERT OR REPLACE INTO previews (listing, asset_id, id, width, height, size_bytes, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            seq,
            preview.asset_id,
            preview.id.as_str(),
            preview.width,
            preview.height,
            to_i64(preview.size_bytes)?,
            preview.created_at
        ],
    )?;
    replaced.map(|id| preview_id(&id)).transpose()
}

pub(super) fn list(conn: &Connection, listing: &ListingId) -> Result<Vec<PreviewRecord>> {
    let mut stmt = conn.prepare(
        "SELECT p.id, p.asset_id, p.width, p.height, p.size_bytes, p.created_at
         FROM previews p JOIN listings l ON l.seq = p.listing
         WHERE l.id = ?1 ORDER BY p.asset_id",
    )?;
    let rows = stmt
        .query_map([listing.as_str()], |r| {
            <(String, String, u32, u32, i64, String)>::try_from(r)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(id, asset_id, width, height, size, created_at)| {
            Ok(PreviewRecord {
                id: preview_id(&id)?,
                asset_id,
                width,
                height,
                size_bytes: to_u64(size)?,
                created_at,
            })
        })
        .collect()
}

pub(super) fn ids(conn: &Connection) -> Result<Vec<PreviewId>> {
    let mut stmt = conn.prepare("SELECT id FROM previews")?;
    let ids = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    ids.iter().map(|id| preview_id(id)).collect()
}

pub(super) fn set_credentials(
    tx: &Transaction,
    listing: &ListingId,
    asset_id: &str,
    store: &[u8],
) -> Result<()> {
    let changed = tx.execute(
        "UPDATE manifest_assets SET credentials = ?3
         WHERE asset_id = ?2 AND manifest = (SELECT manifest FROM listings WHERE id = ?1)",
        params![listing.as_str(), asset_id, store],
    )?;
    if changed == 0 {
        return Err(RecordsError::AssetNotInListing {
            listing: listing.clone(),
            asset_id: asset_id.to_owned(),
        });
    }
    Ok(())
}

pub(super) fn credentials(
    conn: &Connection,
    listing: &ListingId,
    asset_id: &str,
) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .query_row(
            "SELECT a.credentials FROM manifest_assets a JOIN listings l ON l.manifest = a.manifest
             WHERE l.id = ?1 AND a.asset_id = ?2",
            params![listing.as_str(), asset_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}
