//! The SQLite side of uploads: resumable uploads of a manifest's files
//! (its assets' originals, or a dataset manifest's shards),
//! their offsets and expiry, and the stored files (`blobs`) a completed
//! upload becomes. Each function runs inside the transaction or on the
//! connection [`super::SqliteRecords`] hands it.

use assay_market_proto::tus::UploadFile;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::manifests::manifest_row;
use super::stored::{corrupt, file_columns, to_i64, to_u64, upload_state};
use super::{AccountId, NewUpload, RecordsError, Result, Upload, UploadState};
use crate::clock;
use crate::ids::{BlobId, UploadId};

const UPLOAD_SELECT: &str =
    "SELECT u.id, u.account, m.manifest_id, u.asset_id, u.shard, u.length, u.received,
        u.state, u.expires_at, coalesce(a.checksum, s.checksum)
     FROM uploads u
     JOIN manifests m ON m.id = u.manifest
     LEFT JOIN manifest_assets a ON a.manifest = u.manifest AND a.asset_id = u.asset_id
     LEFT JOIN manifest_shards s ON s.manifest = u.manifest AND s.name = u.shard";

type UploadColumns = (
    String,
    AccountId,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    String,
    i64,
    Option<String>,
);

fn upload_columns(r: &Row) -> rusqlite::Result<UploadColumns> {
    r.try_into()
}

fn into_upload(c: UploadColumns) -> Result<Upload> {
    let (id, account, manifest_id, asset_id, shard, length, offset, state, expires_at_ms, checksum) =
        c;
    let file = match (asset_id, shard) {
        (Some(id), None) => UploadFile::Asset(id),
        (None, Some(name)) => UploadFile::Shard(name),
        _ => return Err(corrupt(format!("upload {id} is of no one file"))),
    };
    let checksum =
        checksum.ok_or_else(|| corrupt(format!("upload {id}: its {file} is in no manifest")))?;
    Ok(Upload {
        id: UploadId::parse(&id)
            .ok_or_else(|| corrupt(format!("upload id {id:?} is malformed")))?,
        account,
        manifest_id,
        file,
        length: to_u64(length)?,
        offset: to_u64(offset)?,
        state: upload_state(&state)?,
        expires_at_ms,
        checksum,
    })
}

pub(super) fn load(conn: &Connection, id: &UploadId) -> Result<Option<Upload>> {
    conn.query_row(
        &format!("{UPLOAD_SELECT} WHERE u.id = ?1"),
        [id.as_str()],
        upload_columns,
    )
    .optional()?
    .map(into_upload)
    .transpose()
}

pub(super) fn create(tx: &Transaction, upload: NewUpload) -> Result<Upload> {
    let missing = || RecordsError::Missing {
        what: match upload.file {
            UploadFile::Asset(_) => "asset",
            UploadFile::Shard(_) => "shard",
        },
        id: format!("{} in manifest {}", upload.file.id(), upload.manifest_id),
    };
    let row = manifest_row(tx, upload.account, &upload.manifest_id)?.ok_or_else(missing)?;
    let (table, column, upload_column) = file_columns(&upload.file);
    let blob: Option<String> = tx
        .query_row(
            &format!("SELECT blob FROM {table} WHERE manifest = ?1 AND {column} = ?2"),
            params![row, upload.file.id()],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(missing)?;
    if blob.is_some() {
        return Err(RecordsError::AlreadyUploaded {
            manifest_id: upload.manifest_id,
            file: upload.file,
        });
    }
    let open: Option<String> = tx
        .query_row(
            &format!(
                "SELECT id FROM uploads WHERE manifest = ?1 AND {upload_column} = ?2 AND state = 'open'"
            ),
            params![row, upload.file.id()],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = open {
        return Err(RecordsError::UploadInProgress {
            upload: UploadId::parse(&id)
                .ok_or_else(|| corrupt(format!("upload id {id:?} is malformed")))?,
            manifest_id: upload.manifest_id,
            file: upload.file,
        });
    }
    // The quota, checked in the transaction that takes its share: two
    // uploads at once cannot both slip under it.
    let used: i64 = tx.query_row(
        "SELECT (SELECT coalesce(sum(size_bytes), 0) FROM blobs WHERE account = ?1)
              + (SELECT coalesce(sum(length), 0) FROM uploads WHERE account = ?1 AND state = 'open')",
        [upload.account],
        |r| r.get(0),
    )?;
    let used = to_u64(used)?;
    if used.saturating_add(upload.length) > upload.quota_bytes {
        return Err(RecordsError::QuotaExceeded {
            length: upload.length,
            used,
            quota: upload.quota_bytes,
        });
    }
    tx.execute(
        &format!(
            "INSERT INTO uploads (id, account, manifest, {upload_column}, length, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        ),
        params![
            upload.id.as_str(),
            upload.account,
            row,
            upload.file.id(),
            to_i64(upload.length)?,
            clock::timestamp(),
            upload.expires_at_ms
        ],
    )?;
    load(tx, &upload.id)?.ok_or_else(missing)
}

pub(super) fn advance(
    tx: &Transaction,
    id: &UploadId,
    from: u64,
    to: u64,
    expires_at_ms: i64,
) -> Result<()> {
    let changed = tx.execute(
        "UPDATE uploads SET received = ?1, expires_at = ?2
         WHERE id = ?3 AND received = ?4 AND state = 'open'",
        params![to_i64(to)?, expires_at_ms, id.as_str(), to_i64(from)?],
    )?;
    if changed == 0 {
        return Err(RecordsError::OffsetMoved {
            upload: id.clone(),
            expected: from,
        });
    }
    Ok(())
}

pub(super) fn complete(tx: &Transaction, id: &UploadId) -> Result<BlobId> {
    let upload = load(tx, id)?.ok_or_else(|| RecordsError::Missing {
        what: "upload",
        id: id.to_string(),
    })?;
    if upload.state != UploadState::Open || upload.offset != upload.length {
        return Err(RecordsError::OffsetMoved {
            upload: id.clone(),
            expected: upload.length,
        });
    }
    tx.execute(
        "INSERT OR IGNORE INTO blobs (id, account, checksum, size_bytes, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            id.as_str(),
            upload.account,
            upload.checksum,
            to_i64(upload.length)?,
            clock::timestamp()
        ],
    )?;
    let blob: String = tx.query_row(
        "SELECT id FROM blobs WHERE account = ?1 AND checksum = ?2",
        params![upload.account, upload.checksum],
        |r| r.get(0),
    )?;
    // The same bytes serve every file of the publisher's manifests that
    // lists them, an asset's or a shard's.
    for table in ["manifest_assets", "manifest_shards"] {
        tx.execute(
            &format!(
                "UPDATE {table} SET blob = ?1
                 WHERE blob IS NULL AND checksum = ?2
                   AND manifest IN (SELECT id FROM manifests WHERE account = ?3)"
            ),
            params![blob, upload.checksum, upload.account],
        )?;
    }
    tx.execute(
        "UPDATE uploads SET state = 'complete' WHERE id = ?1",
        [id.as_str()],
    )?;
    BlobId::parse(&blob).ok_or_else(|| corrupt(format!("blob id {blob:?} is malformed")))
}

pub(super) fn remove(tx: &Transaction, id: &UploadId) -> Result<()> {
    tx.execute("DELETE FROM uploads WHERE id = ?1", [id.as_str()])?;
    Ok(())
}

pub(super) fn expire(tx: &Transaction, id: &UploadId) -> Result<()> {
    tx.execute(
        "UPDATE uploads SET state = 'expired' WHERE id = ?1 AND state = 'open'",
        [id.as_str()],
    )?;
    Ok(())
}

pub(super) fn expired(conn: &Connection, now_ms: i64) -> Result<Vec<UploadId>> {
    let mut stmt = conn.prepare(
        "SELECT id FROM uploads WHERE state = 'open' AND expires_at < ?1 ORDER BY expires_at",
    )?;
    let ids = stmt
        .query_map([now_ms], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ids.iter().filter_map(|id| UploadId::parse(id)).collect())
}

pub(super) fn open(conn: &Connection) -> Result<Vec<Upload>> {
    let mut stmt = conn.prepare(&format!("{UPLOAD_SELECT} WHERE u.state = 'open'"))?;
    let rows = stmt
        .query_map([], upload_columns)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(into_upload).collect()
}

pub(super) fn blob_ids(conn: &Connection) -> Result<Vec<BlobId>> {
    let mut stmt = conn.prepare("SELECT id FROM blobs")?;
    let ids = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ids.iter().filter_map(|id| BlobId::parse(id)).collect())
}
