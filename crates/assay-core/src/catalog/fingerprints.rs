//! Each asset's fingerprint in the catalog (`fingerprints`, one row per
//! asset whose picture was hashed), with the upright hash's four bands in
//! indexed columns, so the near-duplicates of one asset are found by index
//! lookups rather than a scan of every row.
//!
//! Multi-index hashing (`assay_preview`'s `bands` and `neighbours`): the
//! candidates are the hashes holding, in some band, a value within `d / 4`
//! bits of the query's, each checked in full; the rest are never looked
//! at. The same bands serve `duplicates::index`, which holds a whole
//! library in memory.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;
use crate::preview::{bands, Fingerprint};

/// Records (or replaces) the fingerprint of asset `row`.
pub(crate) fn store(conn: &Connection, row: i64, fingerprint: &Fingerprint) -> Result<()> {
    let [t0, t1, t2, t3] = fingerprint.turns.map(|t| t as i64);
    let [b0, b1, b2, b3] = bands(fingerprint.turns[0]);
    conn.execute(
        "INSERT INTO fingerprints (asset, upright, quarter, half, three_quarters,
            band0, band1, band2, band3)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(asset) DO UPDATE SET upright = excluded.upright,
            quarter = excluded.quarter, half = excluded.half,
            three_quarters = excluded.three_quarters, band0 = excluded.band0,
            band1 = excluded.band1, band2 = excluded.band2, band3 = excluded.band3",
        params![row, t0, t1, t2, t3, b0, b1, b2, b3],
    )?;
    Ok(())
}

fn from_row(r: &rusqlite::Row, first: usize) -> rusqlite::Result<Fingerprint> {
    let mut turns = [0u64; 4];
    for (i, turn) in turns.iter_mut().enumerate() {
        *turn = r.get::<_, i64>(first + i)? as u64;
    }
    Ok(Fingerprint { turns })
}

/// The fingerprint of asset `row`, if its picture was hashed.
pub(crate) fn of(conn: &Connection, row: i64) -> Result<Option<Fingerprint>> {
    Ok(conn
        .query_row(
            "SELECT upright, quarter, half, three_quarters FROM fingerprints WHERE asset = ?1",
            [row],
            |r| from_row(r, 0),
        )
        .optional()?)
}

/// Every fingerprint, by asset row, in row order.
pub(crate) fn all(conn: &Connection) -> Result<Vec<(i64, Fingerprint)>> {
    let mut stmt = conn.prepare(
        "SELECT asset, upright, quarter, half, three_quarters FROM fingerprints ORDER BY asset",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, from_row(r, 1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The assets whose picture lies within `max` bits of `query` (any of its
/// turns), with the distance, through the band indexes: one lookup per
/// band and turn, of every band value within `max / 4` bits.
pub(crate) fn near(conn: &Connection, query: &Fingerprint, max: u32) -> Result<Vec<(i64, u32)>> {
    let mut found = std::collections::BTreeMap::new();
    for (band, values) in query.probes(max) {
        // The probes are numbers made here, so they are written into the
        // statement: one index search for the whole list.
        let sql = format!(
            "SELECT asset, upright FROM fingerprints WHERE band{band} IN ({})",
            in_list(&values)
        );
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (asset, upright): (i64, i64) = (r.get(0)?, r.get(1)?);
            let d = query.distance(upright as u64);
            if d <= max {
                found.insert(asset, d);
            }
        }
    }
    Ok(found.into_iter().collect())
}

/// Band values as an SQL list.
fn in_list(values: &[u16]) -> String {
    let values: Vec<String> = values.iter().map(u16::to_string).collect();
    values.join(",")
}
