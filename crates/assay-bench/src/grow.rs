//! Growing a catalog of imported assets to a benchmark's size by SQL
//! copies: a grid or a window reads only the catalog, so copies shaped
//! like imported rows measure it as a real library of that size would.

use std::path::Path;

/// Copies the imported assets (and their first location) until the catalog
/// holds `target`, each copy with its own ids, checksum, path and a capture
/// date spread over ten years. Copies keep their original's thumbnail and
/// preview paths, so a window shows them as it would the originals.
pub fn grow_catalog(db: &Path, target: usize) -> anyhow::Result<()> {
    let mut conn = rusqlite::Connection::open(db)?;
    let tx = conn.transaction()?;
    let base: i64 = tx.query_row("SELECT count(*) FROM assets", [], |r| r.get(0))?;
    anyhow::ensure!(base > 0, "{}: no assets to copy", db.display());
    let target = target as i64;
    let mut held = base;
    let mut copy: i64 = 1;
    while held < target {
        // The last copy takes only the originals still needed.
        let take = base.min(target - held);
        tx.execute(
            "INSERT INTO assets (asset_id, checksum, size_bytes, media_type, title, capture_date,
                 capture_date_source, original_source, width, height, row_count, make, model, exif,
                 warnings, thumbnail, preview, imported_at, provenance_hash, uploaded_by, rights,
                 workflow_state, state_since, last_edited_by)
             SELECT asset_id || '-' || ?1, checksum || '-' || ?1, size_bytes, media_type, title,
                 strftime('%Y-%m-%dT%H:%M:%S', 1400000000 + ((id + ?1 * 100003) * 7919) % 315360000, 'unixepoch'),
                 capture_date_source, original_source, width, height, row_count, make, model, exif,
                 warnings, thumbnail, preview, imported_at, provenance_hash, uploaded_by, rights,
                 workflow_state, state_since, last_edited_by
             FROM assets WHERE id <= ?2",
            [copy, take],
        )?;
        tx.execute(
            "INSERT INTO locations (asset, path, path_text, size_bytes, mtime_ns, status, seen_at)
             SELECT a.id, CAST(l.path_text || '#' || ?1 AS BLOB), l.path_text || '#' || ?1,
                    l.size_bytes, l.mtime_ns, l.status, l.seen_at
             FROM assets a JOIN assets o ON o.asset_id || '-' || ?1 = a.asset_id
             JOIN locations l ON l.asset = o.id
             WHERE o.id <= ?2",
            [copy, take],
        )?;
        held += take;
        copy += 1;
    }
    tx.commit()?;
    conn.execute_batch("ANALYZE")?;
    Ok(())
}
