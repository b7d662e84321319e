//! The assets whose preview an import left to its second phase
//! (`ingest::previews`): marked `previews_pending` when inserted, read in
//! batches in catalog order, and cleared in the same statement that records
//! the pictures made. Since the mark lives in the catalog, a second phase
//! stopped anywhere (cancelled, killed, the app closed) resumes where it
//! was by asking again.

use std::path::PathBuf;

use rusqlite::{params, Connection, OptionalExtension};

use crate::catalog::assets::path_from_bytes;
use crate::catalog::fingerprints;
use crate::catalog::record::Media;
use crate::error::{Error, Result};
use crate::formats::one_pass::Stamp;
use crate::preview::Fingerprint;

/// One asset awaiting its preview, with what making it needs.
pub(crate) struct PendingPreview {
    pub row: i64,
    pub asset_id: String,
    pub checksum: String,
    pub media_type: String,
    pub size: u64,
    /// What ffprobe found, for video and audio.
    pub media: Option<Media>,
    /// The quick thumbnail, replaced by the one made with the preview.
    pub thumbnail: Option<String>,
    /// Where copies of its bytes were seen, with the size and time they had.
    pub locations: Vec<(PathBuf, Stamp)>,
}

/// How many assets await their preview.
pub(crate) fn count(conn: &Connection) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM assets WHERE previews_pending = 1",
        [],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// Up to `limit` assets awaiting their preview, after row `after`, in row order.
pub(crate) fn next(conn: &Connection, after: i64, limit: usize) -> Result<Vec<PendingPreview>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, asset_id, checksum, media_type, size_bytes, media, thumbnail FROM assets
         WHERE previews_pending = 1 AND id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit as i64], |r| {
        let media: Option<String> = r.get(5)?;
        Ok((
            PendingPreview {
                row: r.get(0)?,
                asset_id: r.get(1)?,
                checksum: r.get(2)?,
                media_type: r.get(3)?,
                size: r.get::<_, i64>(4)? as u64,
                media: None,
                thumbnail: r.get(6)?,
                locations: Vec::new(),
            },
            media,
        ))
    })?;
    let mut pending = Vec::new();
    for row in rows {
        let (mut asset, media) = row?;
        asset.media = media
            .map(|m| serde_json::from_str(&m))
            .transpose()
            .map_err(|e| Error::Corrupt(format!("asset {}: media: {e}", asset.asset_id)))?;
        pending.push(asset);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT path, size_bytes, mtime_ns FROM locations
         WHERE asset = ?1 AND status = 'present' ORDER BY id",
    )?;
    for asset in &mut pending {
        let rows = stmt.query_map([asset.row], |r| {
            Ok((
                path_from_bytes(&r.get::<_, Vec<u8>>(0)?),
                Stamp {
                    size: r.get::<_, i64>(1)? as u64,
                    mtime_ns: r.get(2)?,
                },
            ))
        })?;
        asset.locations = rows.collect::<rusqlite::Result<_>>()?;
    }
    Ok(pending)
}

/// What the second phase made of one asset.
pub(crate) struct Made<'a> {
    pub thumbnail: Option<&'a str>,
    pub preview: Option<&'a str>,
    /// The size a decode found, kept only where the import found none.
    pub size: Option<(u32, u32)>,
    /// Added to the asset's warnings.
    pub warnings: &'a [String],
    /// The picture's perceptual hash, for near-duplicates.
    pub fingerprint: Option<Fingerprint>,
}

/// Records the pictures made for asset `row` and clears its mark; a
/// thumbnail not made keeps the quick one. False when the asset is no
/// longer waiting (another second phase got there first).
pub(crate) fn store(conn: &Connection, row: i64, made: &Made) -> Result<bool> {
    let warnings: Option<String> = conn
        .query_row(
            "SELECT warnings FROM assets WHERE id = ?1 AND previews_pending = 1",
            [row],
            |r| r.get(0),
        )
        .optional()?;
    let Some(warnings) = warnings else {
        return Ok(false);
    };
    let mut all: Vec<String> = serde_json::from_str(&warnings)
        .map_err(|e| Error::Corrupt(format!("asset row {row}: warnings: {e}")))?;
    all.extend(made.warnings.iter().cloned());
    let all = serde_json::to_string(&all).map_err(|e| Error::Internal(e.to_string()))?;
    let (width, height) = made.size.unzip();
    conn.execute(
        "UPDATE assets SET thumbnail = COALESCE(?2, thumbnail), preview = ?3,
            width = COALESCE(width, ?4), height = COALESCE(height, ?5), warnings = ?6,
            previews_pending = 0
         WHERE id = ?1",
        params![row, made.thumbnail, made.preview, width, height, all],
    )?;
    if let Some(fingerprint) = &made.fingerprint {
        fingerprints::store(conn, row, fingerprint)?;
    }
    Ok(true)
}
