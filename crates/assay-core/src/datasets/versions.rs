//! Versions: each build of a dataset is an immutable version, numbered from
//! 1, recorded with the assets it holds so the next version can say what
//! changed against it: which assets were added, which changed (their file or
//! their record, anything but the provenance head a build itself moves),
//! and which were withdrawn and why.

use std::collections::{BTreeSet, HashMap};

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::datasets::shards::ShardFormat;
use crate::error::{Error, Result};
use crate::exports::manifest::{Entry, RefusedAsset};

/// One built version of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DatasetVersion {
    pub version: u32,
    pub parent_version: Option<u32>,
    pub format: ShardFormat,
    /// Its shards hold only what was added and changed since the parent.
    pub delta: bool,
    /// `sha256:` of the signed dataset manifest's bytes.
    pub manifest_hash: String,
    /// Where the build wrote the manifest.
    pub manifest_path: String,
    /// Assets in the version (in its shards, or, for a delta, in its
    /// parent's too).
    pub assets: usize,
    pub shards: usize,
    pub shard_bytes: u64,
    pub created_at: String,
    pub created_by: String,
}

/// What a version changed against its parent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Changes {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    /// In the parent, not in this version: the tombstones a trainer
    /// applies, each with the reason.
    pub withdrawn: Vec<RefusedAsset>,
}

/// The newest version of a dataset, which the next one is built against.
pub(crate) struct Parent {
    pub version: u32,
    pub row: i64,
    pub manifest_hash: String,
    /// As the catalog holds it (`webdataset`, `parquet`).
    pub format: String,
    /// Asset id → record digest.
    pub members: HashMap<String, String>,
}

/// The versions of dataset row `dataset`, oldest first.
pub(crate) fn list(conn: &Connection, dataset: i64) -> Result<Vec<DatasetVersion>> {
    let mut stmt = conn.prepare(
        "SELECT v.version, p.version, v.format, v.delta, v.manifest_hash, v.manifest_path,
                v.assets, v.shards, v.shard_bytes, v.created_at, u.name
         FROM dataset_versions v JOIN users u ON u.id = v.created_by
         LEFT JOIN dataset_versions p ON p.id = v.parent
         WHERE v.dataset = ?1 ORDER BY v.version",
    )?;
    let rows = stmt.query_map([dataset], |r| {
        let format: String = r.get(2)?;
        Ok((
            format,
            DatasetVersion {
                version: r.get(0)?,
                parent_version: r.get(1)?,
                // Replaced below; a row's format is checked, not trusted.
                format: ShardFormat::WebDataset,
                delta: r.get(3)?,
                manifest_hash: r.get(4)?,
                manifest_path: r.get(5)?,
                assets: r.get(6)?,
                shards: r.get(7)?,
                shard_bytes: r.get(8)?,
                created_at: r.get(9)?,
                created_by: r.get(10)?,
            },
        ))
    })?;
    rows.map(|row| {
        let (format, mut version) = row?;
        version.format = format.parse().map_err(|e| {
            Error::Corrupt(format!(
                "dataset version {}: {e}; the catalog was edited behind Assay's back",
                version.version
            ))
        })?;
        Ok(version)
    })
    .collect()
}

/// The newest version of dataset row `dataset`, with its members.
pub(crate) fn latest(conn: &Connection, dataset: i64) -> Result<Option<Parent>> {
    let newest: Option<(i64, u32, String, String)> = conn
        .query_row(
            "SELECT id, version, manifest_hash, format FROM dataset_versions
             WHERE dataset = ?1 ORDER BY version DESC LIMIT 1",
            [dataset],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((row, version, manifest_hash, format)) = newest else {
        return Ok(None);
    };
    let members = conn
        .prepare("SELECT asset_id, record_digest FROM dataset_members WHERE version = ?1")?
        .query_map([row], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(Parent {
        version,
        row,
        manifest_hash,
        format,
        members,
    }))
}

/// The digest a version keeps of an asset's manifest entry, to tell next
/// time whether it changed: the entry's canonical JSON without its
/// provenance head, which every build moves.
pub(crate) fn record_digest(entry: &mut Entry) -> String {
    let head = entry.provenance_hash.take();
    let mut canonical = Vec::with_capacity(512);
    entry.write_canonical(&mut canonical);
    entry.provenance_hash = head;
    hex::encode(Sha256::digest(&canonical))
}

/// What `members` (asset id, record digest) change against `parent`; an
/// asset of the parent that is not among them is withdrawn with the reason
/// `left_out` gives, or because it left the selection or the library.
pub(crate) fn changes(
    conn: &Connection,
    parent: Option<&Parent>,
    members: &[(String, String)],
    left_out: &[RefusedAsset],
) -> Result<Changes> {
    let Some(parent) = parent else {
        return Ok(Changes {
            added: members.iter().map(|m| m.0.clone()).collect(),
            ..Changes::default()
        });
    };
    let mut changes = Changes::default();
    for (asset_id, digest) in members {
        match parent.members.get(asset_id) {
            None => changes.added.push(asset_id.clone()),
            Some(before) if before != digest => changes.changed.push(asset_id.clone()),
            Some(_) => {}
        }
    }
    let now: BTreeSet<&str> = members.iter().map(|m| m.0.as_str()).collect();
    let reasons: HashMap<&str, &str> = left_out
        .iter()
        .map(|r| (r.asset_id.as_str(), r.reason.as_str()))
        .collect();
    let mut exists = conn.prepare_cached("SELECT 1 FROM assets WHERE asset_id = ?1")?;
    let gone: BTreeSet<&String> = parent
        .members
        .keys()
        .filter(|id| !now.contains(id.as_str()))
        .collect();
    for asset_id in gone {
        let reason = match reasons.get(asset_id.as_str()) {
            Some(reason) => (*reason).to_owned(),
            None if exists.exists([asset_id])? => {
                "it no longer matches the dataset's selection".to_owned()
            }
            None => "it was deleted from the library".to_owned(),
        };
        changes.withdrawn.push(RefusedAsset {
            asset_id: asset_id.clone(),
            reason,
        });
    }
    Ok(changes)
}
