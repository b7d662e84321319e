//! Catalog reads and writes. Only this module writes SQL against the asset
//! tables, so the shape of the catalog is in one place.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::catalog::record::{
    AssetRecord, ContentCredentials, Exif, Location, LocationStatus, Media, Previews, Workflow,
};
use crate::catalog::stacks;
use crate::error::{Error, Result};
use crate::formats::one_pass::Stamp;

/// A path as the raw bytes the OS uses, so non-UTF-8 names round-trip.
pub(crate) fn path_bytes(path: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().into_owned().into_bytes()
    }
}

pub(crate) fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// Now, in RFC 3339 with six fraction digits always. Queues and reports
/// order by this text, and a trimmed fraction ("05.1Z" against "05.123Z",
/// or "05Z" against "05.5Z") would sort out of time order.
pub(crate) fn now() -> String {
    timestamp(time::OffsetDateTime::now_utc())
}

const TIMESTAMP: &[time::format_description::FormatItem<'_>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

fn timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(TIMESTAMP)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// What the catalog knows of a location, to skip unchanged files on re-scan.
pub(crate) struct Cached {
    pub stamp: Stamp,
    pub asset_id: String,
    pub checksum: String,
}

/// Every present location, keyed by path bytes.
pub(crate) fn scan_cache(conn: &Connection) -> Result<HashMap<Vec<u8>, Cached>> {
    let mut stmt = conn.prepare(
        "SELECT l.path, l.size_bytes, l.mtime_ns, a.asset_id, a.checksum
         FROM locations l JOIN assets a ON a.id = l.asset WHERE l.status = 'present'",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            Cached {
                stamp: Stamp {
                    size: r.get::<_, i64>(1)? as u64,
                    mtime_ns: r.get(2)?,
                },
                asset_id: r.get(3)?,
                checksum: r.get(4)?,
            },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn checksums(conn: &Connection) -> Result<HashSet<String>> {
    let mut stmt = conn.prepare("SELECT checksum FROM assets")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The row id and `asset_id` of the asset with `checksum`.
pub(crate) fn asset_by_checksum(
    conn: &Connection,
    checksum: &str,
) -> Result<Option<(i64, String)>> {
    Ok(conn
        .query_row(
            "SELECT id, asset_id FROM assets WHERE checksum = ?1",
            [checksum],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// The fields of a new asset row.
pub(crate) struct NewAsset<'a> {
    pub checksum: &'a str,
    pub size: u64,
    pub media_type: &'a str,
    pub title: Option<&'a str>,
    pub capture_date: Option<&'a str>,
    pub capture_date_source: Option<&'a str>,
    pub original_source: Option<&'a str>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub row_count: Option<u64>,
    pub exif: Option<&'a Exif>,
    pub content_credentials: Option<&'a ContentCredentials>,
    pub media: Option<&'a Media>,
    pub warnings: &'a [String],
    pub thumbnail: Option<&'a str>,
    pub preview: Option<&'a str>,
    /// The preview is yet to be made (`ingest::previews`).
    pub previews_pending: bool,
    /// The importing user; none when the library imported it before it had users.
    pub uploaded_by: Option<i64>,
    /// The first rights document (JSON object text): what import flagged.
    pub rights: &'a str,
}

pub(crate) fn insert_asset(conn: &Connection, a: &NewAsset) -> Result<(i64, String)> {
    let asset_id = uuid::Uuid::new_v4().to_string();
    let exif_json = a
        .exif
        .map(serde_json::to_string)
        .transpose()
        .map_err(json_err)?;
    let warnings = serde_json::to_string(a.warnings).map_err(json_err)?;
    let credentials = a
        .content_credentials
        .map(serde_json::to_string)
        .transpose()
        .map_err(json_err)?;
    let media = a
        .media
        .map(serde_json::to_string)
        .transpose()
        .map_err(json_err)?;
    conn.execute(
        "INSERT INTO assets (asset_id, checksum, size_bytes, media_type, title, capture_date,
            capture_date_source, original_source, width, height, row_count, make, model, exif,
            warnings, thumbnail, preview, imported_at, uploaded_by, rights, content_credentials,
            media, previews_pending)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20, ?21, ?22, ?23)",
        params![
            asset_id,
            a.checksum,
            a.size as i64,
            a.media_type,
            a.title,
            a.capture_date,
            a.capture_date_source,
            a.original_source,
            a.width,
            a.height,
            a.row_count.map(|n| n as i64),
            a.exif.and_then(|e| e.make.as_deref()),
            a.exif.and_then(|e| e.model.as_deref()),
            exif_json,
            warnings,
            a.thumbnail,
            a.preview,
            now(),
            a.uploaded_by,
            a.rights,
            credentials,
            media,
            a.previews_pending,
        ],
    )?;
    Ok((conn.last_insert_rowid(), asset_id))
}

fn json_err(e: serde_json::Error) -> Error {
    Error::Db(rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// Whether a location row was new, moved to another asset, or already there.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LocationChange {
    Added,
    Refreshed,
}

/// Records that `asset` is present at `path` with `stamp`.
pub(crate) fn upsert_location(
    conn: &Connection,
    asset: i64,
    path: &Path,
    stamp: Stamp,
) -> Result<LocationChange> {
    let bytes = path_bytes(path);
    let existing: Option<i64> = conn
        .query_row(
            "SELECT asset FROM locations WHERE path = ?1",
            [&bytes],
            |r| r.get(0),
        )
        .optional()?;
    conn.execute(
        "INSERT INTO locations (asset, path, path_text, size_bytes, mtime_ns, status, seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'present', ?6)
         ON CONFLICT(path) DO UPDATE SET asset = excluded.asset, size_bytes = excluded.size_bytes,
            mtime_ns = excluded.mtime_ns, status = 'present', seen_at = excluded.seen_at",
        params![
            asset,
            bytes,
            path.to_string_lossy(),
            stamp.size as i64,
            stamp.mtime_ns,
            now()
        ],
    )?;
    Ok(if existing == Some(asset) {
        LocationChange::Refreshed
    } else {
        LocationChange::Added
    })
}

/// Marks the location at `path` with `status`; returns whether one existed.
pub(crate) fn set_location_status(
    conn: &Connection,
    path: &Path,
    status: LocationStatus,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE locations SET status = ?2, verified_at = ?3 WHERE path = ?1",
        params![path_bytes(path), status.as_str(), now()],
    )?;
    Ok(n > 0)
}

/// The `asset_id` of the asset at `path`, if that path is a location.
pub(crate) fn asset_id_at(conn: &Connection, path: &Path) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT a.asset_id FROM locations l JOIN assets a ON a.id = l.asset WHERE l.path = ?1",
            [path_bytes(path)],
            |r| r.get(0),
        )
        .optional()?)
}

/// Every location of the asset `asset_id`, with its status.
pub(crate) fn locations_of(
    conn: &Connection,
    asset_id: &str,
) -> Result<Vec<(PathBuf, LocationStatus)>> {
    let mut stmt = conn.prepare(
        "SELECT l.path, l.status FROM locations l JOIN assets a ON a.id = l.asset WHERE a.asset_id = ?1",
    )?;
    let rows = stmt.query_map([asset_id], |r| {
        Ok((
            path_from_bytes(&r.get::<_, Vec<u8>>(0)?),
            LocationStatus::parse(&r.get::<_, String>(1)?),
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Forgets the location at `path` (the file moved; its asset has another).
pub(crate) fn remove_location(conn: &Connection, path: &Path) -> Result<()> {
    conn.execute("DELETE FROM locations WHERE path = ?1", [path_bytes(path)])?;
    Ok(())
}

/// Every location under `dir` (a prefix match on the path bytes).
pub(crate) fn locations_under(
    conn: &Connection,
    dir: &Path,
) -> Result<Vec<(PathBuf, LocationStatus)>> {
    let mut prefix = path_bytes(dir);
    if !prefix.ends_with(b"/") {
        prefix.push(b'/');
    }
    let mut stmt =
        conn.prepare("SELECT path, status FROM locations WHERE substr(path, 1, ?2) = ?1")?;
    let rows = stmt.query_map(params![prefix, prefix.len() as i64], |r| {
        Ok((
            path_from_bytes(&r.get::<_, Vec<u8>>(0)?),
            LocationStatus::parse(&r.get::<_, String>(1)?),
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Relative paths of every preview the catalog references.
pub(crate) fn referenced_previews(conn: &Connection) -> Result<HashSet<String>> {
    let mut stmt = conn.prepare(
        "SELECT thumbnail FROM assets WHERE thumbnail IS NOT NULL
         UNION ALL SELECT preview FROM assets WHERE preview IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The asset id of row `row`.
pub(crate) fn asset_id_of(conn: &Connection, row: i64) -> Result<String> {
    let mut stmt = conn.prepare_cached("SELECT asset_id FROM assets WHERE id = ?1")?;
    Ok(stmt.query_row([row], |r| r.get(0))?)
}

/// Resolves what a user typed: a full or unambiguous partial `asset_id`, a
/// checksum (with or without `sha256:`), or a file path of a location.
pub(crate) fn resolve(conn: &Connection, key: &str) -> Result<i64> {
    let by_path = std::fs::canonicalize(key).ok().map(|p| path_bytes(&p));
    if let Some(bytes) = by_path {
        if let Some(id) = conn
            .query_row(
                "SELECT asset FROM locations WHERE path = ?1",
                [bytes],
                |r| r.get(0),
            )
            .optional()?
        {
            return Ok(id);
        }
    }
    let hex = key
        .strip_prefix("sha256:")
        .unwrap_or(key)
        .to_ascii_lowercase();
    if hex.len() == 64 {
        if let Some(id) = conn
            .query_row(
                "SELECT id FROM assets WHERE checksum = ?1",
                [format!("sha256:{hex}")],
                |r| r.get(0),
            )
            .optional()?
        {
            return Ok(id);
        }
    }
    if key.len() >= 4 && key.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        // A whole id is one index seek, and wins even where it is also the
        // start of another id; the window sends whole ids, thousands at once.
        let whole = key.to_ascii_lowercase();
        if let Some(id) = conn
            .query_row("SELECT id FROM assets WHERE asset_id = ?1", [&whole], |r| {
                r.get(0)
            })
            .optional()?
        {
            return Ok(id);
        }
        let mut stmt =
            conn.prepare("SELECT id FROM assets WHERE asset_id LIKE ?1 || '%' LIMIT 2")?;
        let ids: Vec<i64> = stmt
            .query_map([key.to_ascii_lowercase()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        match ids.as_slice() {
            [id] => return Ok(*id),
            [_, _] => return Err(Error::Ambiguous(key.to_owned())),
            _ => {}
        }
    }
    Err(Error::NotFound(key.to_owned()))
}

/// Filters for [`crate::Library::list`]; all given filters must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Filter {
    /// `image/jpeg`, or a family such as `image` or `image/`.
    pub media_type: Option<String>,
    /// Capture date on or after this ISO 8601 date or date-time prefix.
    pub since: Option<String>,
    /// Capture date on or before this prefix (`2024-05` includes all of May).
    pub until: Option<String>,
    /// Camera make, case-insensitive substring.
    pub make: Option<String>,
    /// Case-insensitive substring of the title, a location path or EXIF text.
    pub text: Option<String>,
    /// Exactly this license tag.
    pub license_tag: Option<String>,
    /// Exactly this workflow state (draft, pending, approved, rejected, quarantined).
    pub state: Option<String>,
    /// Linked to the creator profile of this name.
    pub creator: Option<String>,
}

const RECORD_COLUMNS: &str = "id, asset_id, checksum, size_bytes, media_type, title, capture_date,
    capture_date_source, original_source, width, height, row_count, exif, warnings, thumbnail,
    preview, imported_at, rights, workflow_state, provenance_hash,
    (SELECT name FROM users u WHERE u.id = a.uploaded_by),
    (SELECT name FROM users u WHERE u.id = a.last_edited_by), content_credentials, media,
    previews_pending";

/// The WHERE clause (starting with `WHERE`) and its arguments for `filter`.
pub(crate) fn where_clause(filter: &Filter) -> (String, Vec<String>) {
    let mut sql = String::from(" WHERE 1 = 1");
    let mut args: Vec<String> = Vec::new();
    // Every `?` in a clause stands for that clause's one argument.
    let mut arg = |sql: &mut String, clause: &str, value: String| {
        args.push(value);
        sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
    };
    if let Some(mt) = &filter.media_type {
        if mt.contains('/') && !mt.ends_with('/') {
            arg(&mut sql, " AND media_type = ?", mt.clone());
        } else {
            let family = format!("{}/", mt.trim_end_matches('/'));
            arg(
                &mut sql,
                " AND substr(media_type, 1, length(?)) = ?",
                family,
            );
        }
    }
    if let Some(since) = &filter.since {
        arg(
            &mut sql,
            " AND substr(capture_date, 1, length(?)) >= ?",
            since.clone(),
        );
    }
    if let Some(until) = &filter.until {
        arg(
            &mut sql,
            " AND substr(capture_date, 1, length(?)) <= ?",
            until.clone(),
        );
    }
    if let Some(make) = &filter.make {
        arg(
            &mut sql,
            " AND instr(lower(make), lower(?)) > 0",
            make.clone(),
        );
    }
    if let Some(tag) = &filter.license_tag {
        arg(
            &mut sql,
            " AND json_extract(rights, '$.license_tag') = ?",
            tag.clone(),
        );
    }
    if let Some(state) = &filter.state {
        arg(&mut sql, " AND workflow_state = ?", state.clone());
    }
    if let Some(creator) = &filter.creator {
        arg(
            &mut sql,
            " AND json_extract(rights, '$.creator') = ?",
            creator.clone(),
        );
    }
    if let Some(text) = &filter.text {
        arg(
            &mut sql,
            " AND (instr(lower(coalesce(title, '')), lower(?)) > 0
                 OR instr(lower(coalesce(exif, '')), lower(?)) > 0
                 OR EXISTS (SELECT 1 FROM locations l WHERE l.asset = a.id
                            AND instr(lower(l.path_text), lower(?)) > 0))",
            text.clone(),
        );
    }
    (sql, args)
}

pub(crate) fn list(conn: &Connection, root: &Path, filter: &Filter) -> Result<Vec<AssetRecord>> {
    let (clause, args) = where_clause(filter);
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM assets a{clause} ORDER BY capture_date IS NULL, capture_date, id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
        row_to_record(r, root)
    })?;
    let mut records = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    attach_locations(conn, &mut records)?;
    let stacks = stacks::all(conn)?;
    for record in &mut records {
        record.stack = stacks.get(&record.asset_id).cloned();
    }
    Ok(records)
}

/// The rows of the assets `filter` matches, in catalog order.
pub(crate) fn ids(conn: &Connection, filter: &Filter) -> Result<Vec<i64>> {
    let (clause, args) = where_clause(filter);
    let mut stmt = conn.prepare(&format!("SELECT id FROM assets a{clause} ORDER BY id"))?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn record(conn: &Connection, root: &Path, id: i64) -> Result<AssetRecord> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM assets a WHERE id = ?1");
    let mut records = vec![conn.query_row(&sql, [id], |r| row_to_record(r, root))?];
    attach_locations(conn, &mut records)?;
    let mut record = records
        .pop()
        .ok_or_else(|| Error::NotFound(id.to_string()))?;
    record.stack = stacks::of(conn, id)?;
    Ok(record)
}

fn row_to_record(r: &Row, root: &Path) -> rusqlite::Result<AssetRecord> {
    let exif: Option<String> = r.get(12)?;
    let preview_path = |p: Option<String>| p.map(|p| root.join(p).to_string_lossy().into_owned());
    Ok(AssetRecord {
        asset_id: r.get(1)?,
        checksum: r.get(2)?,
        size_bytes: r.get::<_, i64>(3)? as u64,
        media_type: r.get(4)?,
        locations: Vec::new(),
        title: r.get(5)?,
        capture_date: r.get(6)?,
        capture_date_source: r.get(7)?,
        original_source: r.get(8)?,
        width: r.get(9)?,
        height: r.get(10)?,
        row_count: r.get::<_, Option<i64>>(11)?.map(|n| n as u64),
        exif: exif.map(|e| parse_json(12, e)).transpose()?,
        content_credentials: r
            .get::<_, Option<String>>(22)?
            .map(|c| parse_json(22, c))
            .transpose()?,
        media: r
            .get::<_, Option<String>>(23)?
            .map(|m| parse_json(23, m))
            .transpose()?,
        warnings: parse_json(13, r.get(13)?)?,
        previews: Previews {
            thumbnail: preview_path(r.get(14)?),
            preview: preview_path(r.get(15)?),
            pending: r.get(24)?,
        },
        imported_at: r.get(16)?,
        rights: {
            let mut rights: serde_json::Map<String, serde_json::Value> =
                parse_json(17, r.get(17)?)?;
            // The title has its own column (import fills it); edits keep both in step.
            rights.remove("title");
            rights
        },
        workflow: Workflow::new(r.get(18)?, r.get(19)?, r.get(20)?, r.get(21)?),
        stack: None,
    })
}

fn parse_json<T: serde::de::DeserializeOwned>(column: usize, text: String) -> rusqlite::Result<T> {
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Fills `locations` of each record: one query per record for a few, one
/// scan of the table for many.
fn attach_locations(conn: &Connection, records: &mut [AssetRecord]) -> Result<()> {
    const SELECT: &str = "SELECT a.asset_id, l.path_text, l.status FROM locations l
         JOIN assets a ON a.id = l.asset";
    let mut by_asset: HashMap<String, Vec<Location>> = HashMap::new();
    let mut collect = |row: &Row| -> rusqlite::Result<()> {
        by_asset.entry(row.get(0)?).or_default().push(Location {
            path: row.get(1)?,
            status: LocationStatus::parse(&row.get::<_, String>(2)?),
        });
        Ok(())
    };
    if records.len() <= 32 {
        let mut stmt = conn.prepare(&format!("{SELECT} WHERE a.asset_id = ?1 ORDER BY l.id"))?;
        for record in records.iter() {
            let mut rows = stmt.query([&record.asset_id])?;
            while let Some(row) = rows.next()? {
                collect(row)?;
            }
        }
    } else {
        let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY l.id"))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            collect(row)?;
        }
    }
    for record in records {
        record.locations = by_asset.remove(&record.asset_id).unwrap_or_default();
    }
    Ok(())
}

#[cfg(test)]
mod timestamp_tests {
    use time::format_description::well_known::Rfc3339;
    use time::macros::datetime;

    use super::timestamp;

    #[test]
    fn timestamps_sort_as_text_in_time_order_and_parse_as_rfc3339() {
        let times = [
            datetime!(2026-12-02 10:00:05 UTC),
            datetime!(2026-12-02 10:00:05.1 UTC),
            datetime!(2026-12-02 10:00:05.123 UTC),
            datetime!(2026-12-02 10:00:05.5 UTC),
            datetime!(2026-12-02 10:00:06 UTC),
        ];
        let texts: Vec<String> = times.iter().map(|t| timestamp(*t)).collect();
        assert_eq!(texts[1], "2026-12-02T10:00:05.100000Z");
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(sorted, texts);
        for (text, t) in texts.iter().zip(times) {
            assert_eq!(time::OffsetDateTime::parse(text, &Rfc3339).ok(), Some(t));
        }
    }
}
