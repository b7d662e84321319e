//! The PostgreSQL side of uploads: resumable uploads of a manifest's files
//! (its assets' originals, or a dataset manifest's shards), their offsets
//! and expiry, and the stored files (`blobs`) a completed upload becomes.
//! Each function runs inside the transaction [`super::PostgresRecords`]
//! hands it.
//!
//! Several processes may take chunks of one upload (a client resuming
//! through another server behind the balancer): an offset only moves from
//! the one recorded, by a conditional update, so of two chunks sent at the
//! same offset one is taken and the other told the offset moved.

use assay_market_proto::tus::UploadFile;
use tokio_postgres::Row;

use super::manifests::{blob_id, manifest_row};
use super::values::text;
use super::{corrupt, execute, first, get, one, rows, to_i64, to_u64, Tx};
use crate::clock;
use crate::ids::{BlobId, UploadId};
use crate::records::stored::{file_columns, upload_state};
use crate::records::{NewUpload, RecordsError, Result, Upload, UploadState};

fn upload_id(id: &str) -> Result<UploadId> {
    UploadId::parse(id).ok_or_else(|| corrupt(format!("upload id {id:?} is malformed")))
}

const UPLOAD_SELECT: &str =
    "SELECT u.id, u.account, m.manifest_id, u.asset_id, u.shard, u.length, u.received,
        u.state, u.expires_at, coalesce(a.checksum, s.checksum)
     FROM uploads u
     JOIN manifests m ON m.id = u.manifest
     LEFT JOIN manifest_assets a ON a.manifest = u.manifest AND a.asset_id = u.asset_id
     LEFT JOIN manifest_shards s ON s.manifest = u.manifest AND s.name = u.shard";

fn upload(row: &Row) -> Result<Upload> {
    let id: String = get(row, 0)?;
    let file = match (get(row, 3)?, get(row, 4)?) {
        (Some(asset), None) => UploadFile::Asset(asset),
        (None, Some(shard)) => UploadFile::Shard(shard),
        _ => return Err(corrupt(format!("upload {id} is of no one file"))),
    };
    let checksum = get::<Option<String>>(row, 9)?
        .ok_or_else(|| corrupt(format!("upload {id}: its {file} is in no manifest")))?;
    let state: String = get(row, 7)?;
    Ok(Upload {
        id: upload_id(&id)?,
        account: get(row, 1)?,
        manifest_id: get(row, 2)?,
        file,
        length: to_u64(get(row, 5)?)?,
        offset: to_u64(get(row, 6)?)?,
        state: upload_state(&state)?,
        expires_at_ms: get(row, 8)?,
        checksum,
    })
}

pub(super) async fn load(tx: &Tx<'_>, id: &UploadId) -> Result<Option<Upload>> {
    first(
        tx,
        &format!("{UPLOAD_SELECT} WHERE u.id = $1"),
        &[&text(id.as_str())],
    )
    .await?
    .map(|row| upload(&row))
    .transpose()
}

pub(super) async fn create(tx: &Tx<'_>, upload: &NewUpload) -> Result<Upload> {
    let missing = || RecordsError::Missing {
        what: match upload.file {
            UploadFile::Asset(_) => "asset",
            UploadFile::Shard(_) => "shard",
        },
        id: format!("{} in manifest {}", upload.file.id(), upload.manifest_id),
    };
    let row = manifest_row(tx, upload.account, &upload.manifest_id)
        .await?
        .ok_or_else(missing)?;
    let (table, column, upload_column) = file_columns(&upload.file);
    let file = first(
        tx,
        &format!("SELECT blob FROM {table} WHERE manifest = $1 AND {column} = $2"),
        &[&row, &text(upload.file.id())],
    )
    .await?
    .ok_or_else(missing)?;
    if get::<Option<String>>(&file, 0)?.is_some() {
        return Err(RecordsError::AlreadyUploaded {
            manifest_id: upload.manifest_id.clone(),
            file: upload.file.clone(),
        });
    }
    let open = first(
        tx,
        &format!(
            "SELECT id FROM uploads WHERE manifest = $1 AND {upload_column} = $2 AND state = 'open'"
        ),
        &[&row, &text(upload.file.id())],
    )
    .await?;
    if let Some(open) = open {
        return Err(RecordsError::UploadInProgress {
            upload: upload_id(&get::<String>(&open, 0)?)?,
            manifest_id: upload.manifest_id.clone(),
            file: upload.file.clone(),
        });
    }
    // The quota, checked in the transaction that takes its share: two
    // uploads at once (in one process or two) cannot both slip under it,
    // as the one to commit second is run again and sees the first.
    let used: i64 = get(
        &one(
            tx,
            "SELECT (SELECT coalesce(sum(size_bytes), 0) FROM blobs WHERE account = $1)::bigint
                  + (SELECT coalesce(sum(length), 0) FROM uploads
                      WHERE account = $1 AND state = 'open')::bigint",
            &[&upload.account],
        )
        .await?,
        0,
    )?;
    let used = to_u64(used)?;
    if used.saturating_add(upload.length) > upload.quota_bytes {
        return Err(RecordsError::QuotaExceeded {
            length: upload.length,
            used,
            quota: upload.quota_bytes,
        });
    }
    execute(
        tx,
        &format!(
            "INSERT INTO uploads (id, account, manifest, {upload_column}, length, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ),
        &[
            &text(upload.id.as_str()),
            &upload.account,
            &row,
            &text(upload.file.id()),
            &to_i64(upload.length)?,
            &text(&clock::timestamp()),
            &upload.expires_at_ms,
        ],
    )
    .await?;
    load(tx, &upload.id).await?.ok_or_else(missing)
}

/// Moves the offset only from `from`: a conditional update, so of two
/// writers at the same offset (two processes taking chunks of one upload)
/// exactly one moves it; the other changes nothing and is told.
pub(super) async fn advance(
    tx: &Tx<'_>,
    id: &UploadId,
    from: u64,
    to: u64,
    expires_at_ms: i64,
) -> Result<()> {
    let changed = execute(
        tx,
        "UPDATE uploads SET received = $1, expires_at = $2
         WHERE id = $3 AND received = $4 AND state = 'open'",
        &[
            &to_i64(to)?,
            &expires_at_ms,
            &text(id.as_str()),
            &to_i64(from)?,
        ],
    )
    .await?;
    if changed == 0 {
        return Err(RecordsError::OffsetMoved {
            upload: id.clone(),
            expected: from,
        });
    }
    Ok(())
}

pub(super) async fn complete(tx: &Tx<'_>, id: &UploadId) -> Result<BlobId> {
    let upload = load(tx, id).await?.ok_or_else(|| RecordsError::Missing {
        what: "upload",
        id: id.to_string(),
    })?;
    if upload.state != UploadState::Open || upload.offset != upload.length {
        return Err(RecordsError::OffsetMoved {
            upload: id.clone(),
            expected: upload.length,
        });
    }
    // Identical bytes stored first (by this publisher, in any process)
    // keep their blob: the insert does nothing and the caller deletes its
    // own copy.
    execute(
        tx,
        "INSERT INTO blobs (id, account, checksum, size_bytes, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        &[
            &text(id.as_str()),
            &upload.account,
            &text(&upload.checksum),
            &to_i64(upload.length)?,
            &text(&clock::timestamp()),
        ],
    )
    .await?;
    let blob: String = get(
        &one(
            tx,
            "SELECT id FROM blobs WHERE account = $1 AND checksum = $2",
            &[&upload.account, &text(&upload.checksum)],
        )
        .await?,
        0,
    )?;
    // The same bytes serve every file of the publisher's manifests that
    // lists them, an asset's or a shard's.
    for table in ["manifest_assets", "manifest_shards"] {
        execute(
            tx,
            &format!(
                "UPDATE {table} SET blob = $1
                 WHERE blob IS NULL AND checksum = $2
                   AND manifest IN (SELECT id FROM manifests WHERE account = $3)"
            ),
            &[&text(&blob), &text(&upload.checksum), &upload.account],
        )
        .await?;
    }
    execute(
        tx,
        "UPDATE uploads SET state = 'complete' WHERE id = $1",
        &[&text(id.as_str())],
    )
    .await?;
    blob_id(&blob)
}

pub(super) async fn remove(tx: &Tx<'_>, id: &UploadId) -> Result<()> {
    execute(
        tx,
        "DELETE FROM uploads WHERE id = $1",
        &[&text(id.as_str())],
    )
    .await?;
    Ok(())
}

pub(super) async fn expire(tx: &Tx<'_>, id: &UploadId) -> Result<()> {
    execute(
        tx,
        "UPDATE uploads SET state = 'expired' WHERE id = $1 AND state = 'open'",
        &[&text(id.as_str())],
    )
    .await?;
    Ok(())
}

pub(super) async fn expired(tx: &Tx<'_>, now_ms: i64) -> Result<Vec<UploadId>> {
    let ids = rows(
        tx,
        "SELECT id FROM uploads WHERE state = 'open' AND expires_at < $1 ORDER BY expires_at",
        &[&now_ms],
    )
    .await?;
    // As the SQLite side: a malformed id names no part, so nothing to sweep.
    let mut found = Vec::with_capacity(ids.len());
    for row in &ids {
        if let Some(id) = UploadId::parse(&get::<String>(row, 0)?) {
            found.push(id);
        }
    }
    Ok(found)
}

pub(super) async fn open(tx: &Tx<'_>) -> Result<Vec<Upload>> {
    rows(tx, &format!("{UPLOAD_SELECT} WHERE u.state = 'open'"), &[])
        .await?
        .iter()
        .map(upload)
        .collect()
}

pub(super) async fn blob_ids(tx: &Tx<'_>) -> Result<Vec<BlobId>> {
    let ids = rows(tx, "SELECT id FROM blobs", &[]).await?;
    let mut found = Vec::with_capacity(ids.len());
    for row in &ids {
        if let Some(id) = BlobId::parse(&get::<String>(row, 0)?) {
            found.push(id);
        }
    }
    Ok(found)
}
