//! The PostgreSQL side of previews, one per listing asset, replaced in
//! place; and of each asset's Content Credentials, kept with the
//! manifest's asset (they are of its bytes, whichever listing offers it).

use super::values::text;
use super::{execute, first, get, rows, to_i64, to_u32, to_u64, Tx};
use crate::ids::{ListingId, PreviewId};
use crate::records::stored::preview_id;
use crate::records::{PreviewRecord, RecordsError, Result};

pub(super) async fn set(
    tx: &Tx<'_>,
    listing: &ListingId,
    preview: &PreviewRecord,
) -> Result<Option<PreviewId>> {
    let found = first(
        tx,
        "SELECT l.seq FROM listings l
         JOIN manifest_assets a ON a.manifest = l.manifest AND a.asset_id = $2
         WHERE l.id = $1",
        &[&text(listing.as_str()), &text(&preview.asset_id)],
    )
    .await?
    .ok_or_else(|| RecordsError::AssetNotInListing {
        listing: listing.clone(),
        asset_id: preview.asset_id.clone(),
    })?;
    let seq: i64 = get(&found, 0)?;
    let replaced: Option<String> = first(
        tx,
        "SELECT id FROM previews WHERE listing = $1 AND asset_id = $2",
        &[&seq, &text(&preview.asset_id)],
    )
    .await?
    .map(|r| get(&r, 0))
    .transpose()?;
    execute(
        tx,
        "INSERT INTO previews (listing, asset_id, id, width, height, size_bytes, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (listing, asset_id) DO UPDATE SET
             id = excluded.id, width = excluded.width, height = excluded.height,
             size_bytes = excluded.size_bytes, created_at = excluded.created_at",
        &[
            &seq,
            &text(&preview.asset_id),
            &text(preview.id.as_str()),
            &i64::from(preview.width),
            &i64::from(preview.height),
            &to_i64(preview.size_bytes)?,
            &text(&preview.created_at),
        ],
    )
    .await?;
    replaced.map(|id| preview_id(&id)).transpose()
}

pub(super) async fn list(tx: &Tx<'_>, listing: &ListingId) -> Result<Vec<PreviewRecord>> {
    rows(
        tx,
        "SELECT p.id, p.asset_id, p.width, p.height, p.size_bytes, p.created_at
         FROM previews p JOIN listings l ON l.seq = p.listing
         WHERE l.id = $1 ORDER BY p.asset_id COLLATE \"C\"",
        &[&text(listing.as_str())],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(PreviewRecord {
            id: preview_id(&get::<String>(r, 0)?)?,
            asset_id: get(r, 1)?,
            width: to_u32(get(r, 2)?, "previews.width")?,
            height: to_u32(get(r, 3)?, "previews.height")?,
            size_bytes: to_u64(get(r, 4)?)?,
            created_at: get(r, 5)?,
        })
    })
    .collect()
}

pub(super) async fn ids(tx: &Tx<'_>) -> Result<Vec<PreviewId>> {
    rows(tx, "SELECT id FROM previews", &[])
        .await?
        .iter()
        .map(|r| preview_id(&get::<String>(r, 0)?))
        .collect()
}

pub(super) async fn set_credentials(
    tx: &Tx<'_>,
    listing: &ListingId,
    asset_id: &str,
    store: &[u8],
) -> Result<()> {
    let changed = execute(
        tx,
        "UPDATE manifest_assets SET credentials = $3
         WHERE asset_id = $2 AND manifest = (SELECT manifest FROM listings WHERE id = $1)",
        &[&text(listing.as_str()), &text(asset_id), &store],
    )
    .await?;
    if changed == 0 {
        return Err(RecordsError::AssetNotInListing {
            listing: listing.clone(),
            asset_id: asset_id.to_owned(),
        });
    }
    Ok(())
}

pub(super) async fn credentials(
    tx: &Tx<'_>,
    listing: &ListingId,
    asset_id: &str,
) -> Result<Option<Vec<u8>>> {
    Ok(first(
        tx,
        "SELECT a.credentials FROM manifest_assets a JOIN listings l ON l.manifest = a.manifest
         WHERE l.id = $1 AND a.asset_id = $2",
        &[&text(listing.as_str()), &text(asset_id)],
    )
    .await?
    .map(|r| get::<Option<Vec<u8>>>(&r, 0))
    .transpose()?
    .flatten())
}
