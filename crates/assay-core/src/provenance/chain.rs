//! The chain in the catalog: events appended to an asset's chain inside the
//! caller's transaction (one at a time, or many signed as one batch), the
//! heads they move, and the backfill that gave assets imported before the
//! chain existed their first event.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

use crate::catalog::assets::now;
use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::formats::canonical::canonical_json;
use crate::provenance::batch;
use crate::provenance::event::{compose, seal, Auth, Composed, EventKind, Sealed, Signer};
use crate::provenance::merkle::{Hash, Tree};

/// The sequence number and hash the next event of `asset` chains onto.
pub(crate) fn head(conn: &Connection, asset: i64) -> Result<(i64, Option<String>)> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM events WHERE asset = ?1 ORDER BY seq DESC LIMIT 1",
            [asset],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match last {
        Some((seq, hash)) => (seq + 1, Some(hash)),
        None => (0, None),
    })
}

/// Stores a sealed event and moves the asset's `provenance_hash` to it.
pub(crate) fn store(
    conn: &Connection,
    asset: i64,
    seq: i64,
    kind: EventKind,
    key_id: &str,
    sealed: &Sealed,
) -> Result<()> {
    store_event(conn, asset, seq, kind, key_id, sealed)?;
    conn.prepare_cached("UPDATE assets SET provenance_hash = ?1 WHERE id = ?2")?
        .execute(params![sealed.hash, asset])?;
    Ok(())
}

/// Stores a sealed event; the caller moves the asset's `provenance_hash`
/// in the same transaction (bulk edits fold it into their own update).
pub(crate) fn store_event(
    conn: &Connection,
    asset: i64,
    seq: i64,
    kind: EventKind,
    key_id: &str,
    sealed: &Sealed,
) -> Result<()> {
    let body = std::str::from_utf8(&sealed.body).map_err(|_| Error::Provenance {
        asset_id: asset.to_string(),
        message: "event body is not UTF-8".into(),
    })?;
    let own;
    let (signature, batch, leaf): (&[u8], _, _) = match &sealed.auth {
        Auth::Own(signature) => {
            own = signature.to_bytes();
            (&own, None, None)
        }
        // A batched event's signature is its batch's.
        Auth::Batch { id, leaf } => (&[], Some(*id), Some(*leaf)),
    };
    conn.prepare_cached(
        "INSERT INTO events (asset, seq, kind, body, hash, signature, key_id, batch, leaf)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        asset,
        seq,
        kind.as_str(),
        body,
        sealed.hash,
        signature,
        key_id,
        batch,
        leaf
    ])?;
    Ok(())
}

/// Appends one event to an asset's chain, inside the caller's transaction.
pub(crate) fn append(
    conn: &Connection,
    asset: i64,
    asset_id: &str,
    kind: EventKind,
    data: Value,
    signer: &Signer,
) -> Result<String> {
    append_at(conn, asset, asset_id, kind, data, signer, &now())
}

/// [`append`] at the time `at`: the events of one decision over many
/// assets share their time, which is how an undo finds them together.
pub(crate) fn append_at(
    conn: &Connection,
    asset: i64,
    asset_id: &str,
    kind: EventKind,
    data: Value,
    signer: &Signer,
    at: &str,
) -> Result<String> {
    let (seq, prev) = head(conn, asset)?;
    let sealed = seal(signer, asset_id, seq, prev.as_deref(), kind, at, data);
    store(conn, asset, seq, kind, signer.key_id().as_str(), &sealed)?;
    Ok(sealed.hash)
}

/// Appends an event of `kind` with `data` to the chain of each of `items`
/// (catalog row, asset id) inside the caller's transaction, signed together
/// as one batch (batch.rs): the heads are read in one query, the events
/// composed on every core, and one signature covers them all. For actions
/// on many assets at once, where signing each event would dominate.
pub(crate) fn append_all(
    conn: &Connection,
    items: &[(i64, String)],
    kind: EventKind,
    data: &Value,
    signer: &Signer,
) -> Result<()> {
    let heads = heads(conn, items.iter().map(|i| i.0))?;
    append_all_onto(conn, items, &heads, kind, data, signer)
}

/// [`append_all`] onto `heads` read earlier in the same transaction, for a
/// caller that reads them while it does something else.
pub(crate) fn append_all_onto(
    conn: &Connection,
    items: &[(i64, String)],
    heads: &Heads,
    kind: EventKind,
    data: &Value,
    signer: &Signer,
) -> Result<()> {
    let at = now();
    let data = canonical_json(data);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(1);
    let parts: Vec<Option<Vec<(i64, Composed)>>> = std::thread::scope(|s| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let (at, data) = (&at, &data);
                s.spawn(move || {
                    part.iter()
                        .map(|(row, asset_id)| {
                            let (seq, prev) = heads.get(row).cloned().unwrap_or((0, None));
                            let event =
                                compose(signer, asset_id, seq, prev.as_deref(), kind, at, data);
                            (seq, event)
                        })
                        .collect()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().ok()).collect()
    });
    let mut events = Vec::with_capacity(items.len());
    for part in parts {
        events.extend(part.ok_or_else(|| Error::Internal("an event thread panicked".into()))?);
    }
    let (seqs, composed): (Vec<i64>, Vec<Composed>) = events.into_iter().unzip();
    let key_id = signer.key_id();
    for (((row, _), seq), sealed) in items
        .iter()
        .zip(seqs)
        .zip(seal_batch(conn, composed, signer)?)
    {
        store(conn, *row, seq, kind, key_id.as_str(), &sealed)?;
    }
    Ok(())
}

/// Appends `events` (catalog row, asset id, kind, data), each with its own
/// kind and data and possibly several on one asset, inside the caller's
/// transaction, in order, signed as one batch (one event alone gets its own
/// signature). For records that arrive many at once with different content,
/// like a marketplace's feed.
pub(crate) fn append_each(
    conn: &Connection,
    events: &[(i64, &str, EventKind, Value)],
    signer: &Signer,
) -> Result<()> {
    if let [(row, asset_id, kind, data)] = events {
        append(conn, *row, asset_id, *kind, data.clone(), signer)?;
        return Ok(());
    }
    let mut heads = heads(conn, events.iter().map(|e| e.0))?;
    let at = now();
    let mut composed = Vec::with_capacity(events.len());
    for (row, asset_id, kind, data) in events {
        let (seq, prev) = heads.get(row).cloned().unwrap_or((0, None));
        let event = compose(
            signer,
            asset_id,
            seq,
            prev.as_deref(),
            *kind,
            &at,
            &canonical_json(data),
        );
        // The next event of the same asset chains onto this one.
        heads.insert(*row, (seq + 1, Some(event.hash())));
        composed.push((seq, event));
    }
    let (seqs, composed): (Vec<i64>, Vec<Composed>) = composed.into_iter().unzip();
    let key_id = signer.key_id();
    for (((row, _, kind, _), seq), sealed) in events
        .iter()
        .zip(seqs)
        .zip(seal_batch(conn, composed, signer)?)
    {
        store(conn, *row, seq, *kind, key_id.as_str(), &sealed)?;
    }
    Ok(())
}

/// Signs `events` (composed for `signer`) as one batch, stores the batch,
/// and returns the events sealed by it, in order, for the caller to store.
pub(crate) fn seal_batch(
    conn: &Connection,
    events: Vec<Composed>,
    signer: &Signer,
) -> Result<Vec<Sealed>> {
    let digests: Vec<Hash> = events.iter().map(|e| e.digest).collect();
    let Some(tree) = Tree::new(&digests) else {
        return Ok(Vec::new());
    };
    let signature = signer.sign(&batch::signed_digest(&tree.root(), tree.size()));
    let id = batch::store(conn, &tree, &digests, &signature, signer.key_id().as_str())?;
    Ok(events
        .into_iter()
        .enumerate()
        .map(|(leaf, event)| Sealed {
            hash: event.hash(),
            body: event.body,
            auth: Auth::Batch {
                id,
                leaf: leaf as i64,
            },
        })
        .collect())
}

/// The next sequence number and the hash to chain onto, by catalog row.
pub(crate) type Heads = HashMap<i64, (i64, Option<String>)>;

/// The heads of each of `rows` that has events: one seek per row in the
/// `(asset, seq)` index, which is cheaper than any query that groups.
pub(crate) fn heads(conn: &Connection, rows: impl Iterator<Item = i64>) -> Result<Heads> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, hash FROM events WHERE asset = ?1 ORDER BY seq DESC LIMIT 1",
    )?;
    let mut heads = HashMap::new();
    for row in rows {
        let head: Option<(i64, String)> = stmt
            .query_row([row], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((seq, hash)) = head {
            heads.insert(row, (seq + 1, Some(hash)));
        }
    }
    Ok(heads)
}

/// Gives assets imported before the chain existed (catalog version 1) their
/// first event, signed by the library, so every asset has a chain to verify.
pub(crate) fn backfill(library: &Library, conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let orphans: Vec<(i64, String, String, i64, String)> = {
        let mut stmt = tx.prepare(
            "SELECT id, asset_id, checksum, size_bytes, media_type FROM assets a
             WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.asset = a.id)",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    if orphans.is_empty() {
        return Ok(());
    }
    let key = library.library_key()?;
    let signer = Signer::Library(&key);
    for (row, asset_id, checksum, size, media_type) in orphans {
        let data = json!({
            "checksum": checksum,
            "size_bytes": size,
            "media_type": media_type,
            "recorded_after_import": true,
        });
        append(&tx, row, &asset_id, EventKind::Import, data, &signer)?;
    }
    tx.commit()?;
    Ok(())
}
