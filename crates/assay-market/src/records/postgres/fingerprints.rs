//! The PostgreSQL side of near-duplicates: each stored picture's
//! perceptual hash (`blob_fingerprints`, its upright hash's bands
//! indexed), and the listed assets of other publishers within a distance
//! of one, found by multi-index hashing as the library finds its own
//! (`assay_preview::bands` and `neighbours`).
//!
//! A hash is 64 bits and stored in a `BIGINT` bit for bit (as SQLite
//! stores it): the sign means nothing, and it is read back the same way.

use assay_core::preview::{bands, Fingerprint};

use super::values::text;
use super::{execute, get, rows, Tx};
use crate::ids::BlobId;
use crate::records::{AccountId, NearListing, Result};

/// Records the fingerprint of `blob` (once: a blob's bytes never change).
pub(super) async fn record(tx: &Tx<'_>, blob: &BlobId, print: &Fingerprint) -> Result<()> {
    let [t0, t1, t2, t3] = print.turns.map(|t| t as i64);
    let [b0, b1, b2, b3] = bands(print.turns[0]).map(i64::from);
    execute(
        tx,
        "INSERT INTO blob_fingerprints (blob, upright, quarter, half, three_quarters,
            band0, band1, band2, band3)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        &[&text(blob.as_str()), &t0, &t1, &t2, &t3, &b0, &b1, &b2, &b3],
    )
    .await?;
    Ok(())
}

/// The nearest asset on sale in a listing of a publisher other than
/// `account` (not withdrawn) whose picture lies within `max` bits of
/// `print`, if any.
pub(super) async fn near_listed(
    tx: &Tx<'_>,
    account: AccountId,
    print: &Fingerprint,
    max: u32,
) -> Result<Option<NearListing>> {
    let mut nearest: Option<NearListing> = None;
    for (band, values) in print.probes(max) {
        let values: Vec<i64> = values.into_iter().map(i64::from).collect();
        // The band is a number made here (0 to 3), written into the
        // statement; the probes are a parameter.
        let sql = format!(
            "SELECT f.upright, l.id, a.asset_id
             FROM blob_fingerprints f
             JOIN manifest_assets a ON a.blob = f.blob
             JOIN listings l ON l.manifest = a.manifest
             WHERE f.band{band} = ANY($2::bigint[]) AND l.account <> $1
               AND NOT EXISTS (SELECT 1 FROM withdrawals w
                               WHERE w.listing = l.seq AND w.asset_id = a.asset_id)"
        );
        for r in rows(tx, &sql, &[&account, &values]).await? {
            let distance = print.distance(get::<i64>(&r, 0)? as u64);
            let nearer = nearest.as_ref().is_none_or(|n| distance < n.distance);
            if distance <= max && nearer {
                nearest = Some(NearListing {
                    listing: get(&r, 1)?,
                    asset_id: get(&r, 2)?,
                    distance,
                });
            }
        }
    }
    Ok(nearest)
}

/// The fingerprinted assets of `account`'s manifest `manifest_id`.
pub(super) async fn of_manifest(
    tx: &Tx<'_>,
    account: AccountId,
    manifest_id: &str,
) -> Result<Vec<(String, Fingerprint)>> {
    rows(
        tx,
        "SELECT a.asset_id, f.upright, f.quarter, f.half, f.three_quarters
         FROM manifests m
         JOIN manifest_assets a ON a.manifest = m.id
         JOIN blob_fingerprints f ON f.blob = a.blob
         WHERE m.account = $1 AND m.manifest_id = $2
         ORDER BY a.seq",
        &[&account, &text(manifest_id)],
    )
    .await?
    .iter()
    .map(|r| {
        let mut turns = [0u64; 4];
        for (i, turn) in turns.iter_mut().enumerate() {
            *turn = get::<i64>(r, 1 + i)? as u64;
        }
        Ok((get(r, 0)?, Fingerprint { turns }))
    })
    .collect()
}
