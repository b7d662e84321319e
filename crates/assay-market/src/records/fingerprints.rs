//! The SQLite side of near-duplicates: each stored picture's perceptual
//! hash (`blob_fingerprints`, its upright hash's bands indexed), and the
//! listed assets of other publishers within a distance of one, found by
//! multi-index hashing as the library finds its own
//! (`assay_preview::bands` and `neighbours`).

use assay_core::preview::{bands, Fingerprint};
use rusqlite::{params, Connection, Transaction};

use super::{AccountId, NearListing, Result};
use crate::ids::BlobId;

/// Records the fingerprint of `blob` (once: a blob's bytes never change).
pub(super) fn record(tx: &Transaction, blob: &BlobId, print: &Fingerprint) -> Result<()> {
    let [t0, t1, t2, t3] = print.turns.map(|t| t as i64);
    let [b0, b1, b2, b3] = bands(print.turns[0]);
    tx.execute(
        "INSERT OR IGNORE INTO blob_fingerprints (blob, upright, quarter, half, three_quarters,
            band0, band1, band2, band3)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![blob.to_string(), t0, t1, t2, t3, b0, b1, b2, b3],
    )?;
    Ok(())
}

/// The nearest asset on sale in a listing of a publisher other than
/// `account` (not withdrawn) whose picture lies within `max` bits of
/// `print`, if any.
pub(super) fn near_listed(
    conn: &Connection,
    account: AccountId,
    print: &Fingerprint,
    max: u32,
) -> Result<Option<NearListing>> {
    let mut nearest: Option<NearListing> = None;
    for (band, values) in print.probes(max) {
        // The probes are numbers made here, written into the statement.
        let values: Vec<String> = values.iter().map(u16::to_string).collect();
        let sql = format!(
            "SELECT f.upright, l.id, a.asset_id
             FROM blob_fingerprints f
             JOIN manifest_assets a ON a.blob = f.blob
             JOIN listings l ON l.manifest = a.manifest
             WHERE f.band{band} IN ({}) AND l.account != ?1
               AND NOT EXISTS (SELECT 1 FROM withdrawals w
                               WHERE w.listing = l.seq AND w.asset_id = a.asset_id)",
            values.join(",")
        );
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query([account])?;
        while let Some(r) = rows.next()? {
            let distance = print.distance(r.get::<_, i64>(0)? as u64);
            let nearer = nearest.as_ref().is_none_or(|n| distance < n.distance);
            if distance <= max && nearer {
                nearest = Some(NearListing {
                    listing: r.get(1)?,
                    asset_id: r.get(2)?,
                    distance,
                });
            }
        }
    }
    Ok(nearest)
}

/// The fingerprinted assets of `account`'s manifest `manifest_id`.
pub(super) fn of_manifest(
    conn: &Connection,
    account: AccountId,
    manifest_id: &str,
) -> Result<Vec<(String, Fingerprint)>> {
    let mut stmt = conn.prepare(
        "SELECT a.asset_id, f.upright, f.quarter, f.half, f.three_quarters
         FROM manifests m
         JOIN manifest_assets a ON a.manifest = m.id
         JOIN blob_fingerprints f ON f.blob = a.blob
         WHERE m.account = ?1 AND m.manifest_id = ?2
         ORDER BY a.seq",
    )?;
    let rows = stmt.query_map(params![account, manifest_id], |r| {
        let mut turns = [0u64; 4];
        for (i, turn) in turns.iter_mut().enumerate() {
            *turn = r.get::<_, i64>(1 + i)? as u64;
        }
        Ok((r.get(0)?, Fingerprint { turns }))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
