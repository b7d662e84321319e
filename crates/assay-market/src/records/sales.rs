//! The SQLite side of buying: purchases, their entitlements and payouts,
//! and the publishers' events. Each function runs inside the transaction
//! or on the connection [`super::SqliteRecords`] hands it.

use assay_market_proto::events::EventKind;
use assay_market_proto::purchases::{EscrowState, PayoutState};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::events;
use super::stored::{
    asset_ids_json, corrupt, escrow_state, payout_state, purchase_id, to_i64, to_u64,
};
use super::{
    AccountId, EntitledFile, EntitledShard, EventRecord, Insert, NewPurchase, PayoutFailure,
    PayoutRecord, PurchaseRecord, RecordsError, Result, Settlement,
};
use crate::clock;
use crate::ids::{BlobId, EventId, ListingId, PayoutId, PurchaseId};

/// Appends an event to `account`'s feed, with a delivery to each of its
/// webhooks in the same transaction.
pub(super) fn add_event(tx: &Transaction, account: AccountId, kind: &EventKind) -> Result<()> {
    let body = serde_json::to_string(kind)
        .map_err(|e| corrupt(format!("an event does not serialise: {e}")))?;
    tx.execute(
        "INSERT INTO events (id, account, body, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            EventId::random().as_str(),
            account,
            body,
            clock::timestamp()
        ],
    )?;
    super::webhooks::enqueue(tx, account, tx.last_insert_rowid())
}

pub(super) fn create_purchase(
    tx: &Transaction,
    purchase: NewPurchase,
) -> Result<Insert<PurchaseRecord>> {
    let missing = || RecordsError::Missing {
        what: "listing",
        id: purchase.listing.to_string(),
    };
    let (listing, publisher, updated_at): (i64, AccountId, String) = tx
        .query_row(
            "SELECT seq, account, updated_at FROM listings WHERE id = ?1",
            [purchase.listing.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or_else(missing)?;
    let live: Option<String> = tx
        .query_row(
            "SELECT id FROM purchases WHERE listing = ?1 AND buyer = ?2 AND state <> 'refunded'",
            params![listing, purchase.buyer],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = live {
        let id = purchase_id(&id)?;
        return Ok(Insert::Existing(load(tx, &id)?.ok_or_else(missing)?));
    }
    if updated_at != purchase.listing_updated_at {
        return Err(RecordsError::ListingChanged(purchase.listing));
    }
    // A delta is sold only to a buyer holding its parent version.
    let parent: Option<Option<(String, i64)>> = tx
        .query_row(
            "SELECT pl.id, (SELECT count(*) FROM purchases p
                             WHERE p.listing = pl.seq AND p.buyer = ?2 AND p.state <> 'refunded')
             FROM listings l JOIN manifests m ON m.id = l.manifest
             LEFT JOIN manifests pm ON pm.account = m.account AND pm.manifest_hash = m.parent_hash
             LEFT JOIN listings pl ON pl.manifest = pm.id
             WHERE l.seq = ?1 AND m.delta",
            params![listing, purchase.buyer],
            |r| {
                Ok(r.get::<_, Option<String>>(0)?
                    .zip(r.get::<_, Option<i64>>(1)?))
            },
        )
        .optional()?;
    match parent {
        None | Some(Some((_, 1..))) => {}
        Some(Some((parent, _))) => {
            return Err(RecordsError::ParentPurchaseRequired {
                listing: purchase.listing,
                parent: ListingId::parse(&parent)
                    .ok_or_else(|| corrupt(format!("listing id {parent:?} is malformed")))?,
            })
        }
        Some(None) => {
            return Err(RecordsError::ParentVersionMissing(format!(
                "listing {} is a delta of a dataset version that is no longer listed",
                purchase.listing
            )))
        }
    }
    tx.execute(
        "INSERT INTO purchases (id, listing, buyer, amount_minor, currency, created_at, hold_until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            purchase.id.as_str(),
            listing,
            purchase.buyer,
            to_i64(purchase.amount_minor)?,
            purchase.currency,
            clock::timestamp(),
            purchase.hold_until_ms
        ],
    )?;
    let row = tx.last_insert_rowid();
    let mut entitle = tx.prepare(
        "INSERT INTO entitlements (purchase, seq, asset_id, blob) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (seq, (asset_id, blob)) in purchase.files.iter().enumerate() {
        entitle.execute(params![row, to_i64(seq as u64)?, asset_id, blob.as_str()])?;
    }
    let mut entitle = tx.prepare(
        "INSERT INTO shard_entitlements (purchase, seq, name, blob) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (seq, (name, blob)) in purchase.shards.iter().enumerate() {
        entitle.execute(params![row, to_i64(seq as u64)?, name, blob.as_str()])?;
    }
    let mut pay = tx.prepare(
        "INSERT INTO payouts (id, purchase, seq, creator_wallet, asset_ids, amount_minor)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (seq, payout) in purchase.payouts.iter().enumerate() {
        pay.execute(params![
            payout.id.as_str(),
            row,
            to_i64(seq as u64)?,
            payout.creator_wallet,
            asset_ids_json(&payout.asset_ids)?,
            to_i64(payout.amount_minor)?
        ])?;
    }
    let record = load(tx, &purchase.id)?.ok_or_else(missing)?;
    add_event(tx, publisher, &events::purchase(&record))?;
    Ok(Insert::New(record))
}

pub(super) fn settle(tx: &Transaction, id: &PurchaseId, how: Settlement) -> Result<PurchaseRecord> {
    let missing = || RecordsError::Missing {
        what: "purchase",
        id: id.to_string(),
    };
    let purchase = load(tx, id)?.ok_or_else(missing)?;
    let target = match how {
        Settlement::Release(_) => EscrowState::Released,
        Settlement::Refund => EscrowState::Refunded,
    };
    if purchase.state == target {
        return Ok(purchase);
    }
    if purchase.state != EscrowState::Held {
        return Err(RecordsError::PurchaseSettled {
            purchase: id.clone(),
            state: purchase.state,
        });
    }
    let payout_state = match how {
        Settlement::Release(_) => PayoutState::Sent,
        Settlement::Refund => PayoutState::Cancelled,
    };
    tx.execute(
        "UPDATE purchases SET state = ?1, settled_at = ?2 WHERE id = ?3 AND state = 'held'",
        params![target.as_str(), clock::timestamp(), id.as_str()],
    )?;
    tx.execute(
        "UPDATE payouts SET state = ?1
         WHERE purchase = (SELECT seq FROM purchases WHERE id = ?2) AND state = 'pending'",
        params![payout_state.as_str(), id.as_str()],
    )?;
    let kinds = match how {
        Settlement::Refund => vec![events::refunded(&purchase)],
        Settlement::Release(reason) => events::released(&purchase, reason),
    };
    for kind in &kinds {
        add_event(tx, purchase.publisher, kind)?;
    }
    load(tx, id)?.ok_or_else(missing)
}

pub(super) fn fail_payout(tx: &Transaction, id: &PayoutId, reason: &str) -> Result<PayoutFailure> {
    let missing = || RecordsError::Missing {
        what: "payout",
        id: id.to_string(),
    };
    let (purchase, state): (String, String) = tx
        .query_row(
            "SELECT p.id, o.state FROM payouts o JOIN purchases p ON p.seq = o.purchase
             WHERE o.id = ?1",
            [id.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(missing)?;
    let newly = match payout_state(&state)? {
        PayoutState::Failed => false,
        PayoutState::Sent => true,
        state => {
            return Err(RecordsError::PayoutNotSent {
                payout: id.clone(),
                state,
            })
        }
    };
    if newly {
        tx.execute(
            "UPDATE payouts SET state = 'failed', failure = ?2 WHERE id = ?1 AND state = 'sent'",
            params![id.as_str(), reason],
        )?;
    }
    // Read after the update, so the record says `failed`.
    let purchase = load(tx, &purchase_id(&purchase)?)?.ok_or_else(missing)?;
    let payout = purchase
        .payouts
        .iter()
        .find(|p| p.id == *id)
        .cloned()
        .ok_or_else(missing)?;
    if newly {
        add_event(
            tx,
            purchase.publisher,
            &events::payout_failed(&purchase, &payout, reason),
        )?;
    }
    Ok(PayoutFailure {
        purchase: purchase.id,
        payout,
        newly,
    })
}

pub(super) fn due_purchases(conn: &Connection, now_ms: i64) -> Result<Vec<PurchaseId>> {
    let mut stmt = conn.prepare(
        "SELECT id FROM purchases WHERE state = 'held' AND hold_until < ?1 ORDER BY hold_until",
    )?;
    let ids = stmt
        .query_map([now_ms], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    ids.iter().map(|id| purchase_id(id)).collect()
}

pub(super) fn events(
    conn: &Connection,
    account: AccountId,
    after: i64,
    limit: u32,
) -> Result<Vec<EventRecord>> {
    let mut stmt = conn.prepare(
        "SELECT seq, id, created_at, body FROM events
         WHERE account = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![account, after, limit], |r| {
            <(i64, String, String, String)>::try_from(r)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(seq, id, at, body)| {
            Ok(EventRecord {
                seq,
                id: EventId::parse(&id)
                    .ok_or_else(|| corrupt(format!("event id {id:?} is malformed")))?,
                at,
                kind: serde_json::from_str(&body)
                    .map_err(|e| corrupt(format!("event {id}: stored body: {e}")))?,
            })
        })
        .collect()
}

pub(super) fn load(conn: &Connection, id: &PurchaseId) -> Result<Option<PurchaseRecord>> {
    type Columns = (
        i64,
        String,
        AccountId,
        String,
        String,
        String,
        AccountId,
        String,
        i64,
        String,
        String,
        String,
        i64,
        Option<String>,
    );
    let row: Option<Columns> = conn
        .query_row(
            "SELECT p.seq, l.id, l.account, pa.name, m.manifest_id, m.manifest_hash,
                    p.buyer, ba.name, p.amount_minor, p.currency, p.state, p.created_at,
                    p.hold_until, p.settled_at
             FROM purchases p
             JOIN listings l ON l.seq = p.listing
             JOIN accounts pa ON pa.id = l.account
             JOIN accounts ba ON ba.id = p.buyer
             JOIN manifests m ON m.id = l.manifest
             WHERE p.id = ?1",
            [id.as_str()],
            |r| r.try_into(),
        )
        .optional()?;
    let Some((
        seq,
        listing,
        publisher,
        publisher_name,
        manifest_id,
        manifest_hash,
        buyer,
        buyer_name,
        amount,
        currency,
        state,
        created_at,
        hold_until_ms,
        settled_at,
    )) = row
    else {
        return Ok(None);
    };
    Ok(Some(PurchaseRecord {
        id: id.clone(),
        listing: ListingId::parse(&listing)
            .ok_or_else(|| corrupt(format!("listing id {listing:?} is malformed")))?,
        publisher,
        publisher_name,
        manifest_id,
        manifest_hash,
        buyer,
        buyer_name,
        amount_minor: to_u64(amount)?,
        currency,
        state: escrow_state(&state)?,
        created_at,
        hold_until_ms,
        settled_at,
        asset_ids: purchased_assets(conn, seq)?,
        files: files(conn, seq)?,
        shards: shards(conn, seq)?,
        payouts: payouts(conn, seq)?,
    }))
}

/// The assets purchase `purchase` bought: those it entitles to, or those
/// of the dataset version it bought (whose shards hold them).
fn purchased_assets(conn: &Connection, purchase: i64) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT e.asset_id, e.seq FROM entitlements e WHERE e.purchase = ?1
         UNION ALL
         SELECT a.asset_id, a.seq FROM purchases p
         JOIN listings l ON l.seq = p.listing
         JOIN manifests m ON m.id = l.manifest
         JOIN manifest_assets a ON a.manifest = m.id
         WHERE p.seq = ?1 AND m.dataset_id IS NOT NULL
         ORDER BY 2",
    )?;
    let ids = stmt
        .query_map([purchase], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(ids)
}

fn shards(conn: &Connection, purchase: i64) -> Result<Vec<EntitledShard>> {
    let mut stmt = conn.prepare(
        "SELECT e.name, s.size_bytes, s.checksum, e.blob
         FROM shard_entitlements e
         JOIN purchases p ON p.seq = e.purchase
         JOIN listings l ON l.seq = p.listing
         JOIN manifest_shards s ON s.manifest = l.manifest AND s.name = e.name
         WHERE e.purchase = ?1 ORDER BY e.seq",
    )?;
    let rows = stmt
        .query_map([purchase], |r| <(String, i64, String, String)>::try_from(r))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(name, size, checksum, blob)| {
            Ok(EntitledShard {
                name,
                size_bytes: to_u64(size)?,
                checksum,
                blob: BlobId::parse(&blob)
                    .ok_or_else(|| corrupt(format!("blob id {blob:?} is malformed")))?,
            })
        })
        .collect()
}

fn files(conn: &Connection, purchase: i64) -> Result<Vec<EntitledFile>> {
    let mut stmt = conn.prepare(
        "SELECT e.asset_id, a.file_name, a.size_bytes, a.checksum, e.blob,
                a.content_usage, a.tdm_reservation, a.tdm_policy, a.credentials IS NOT NULL
         FROM entitlements e
         JOIN purchases p ON p.seq = e.purchase
         JOIN listings l ON l.seq = p.listing
         JOIN manifest_assets a ON a.manifest = l.manifest AND a.asset_id = e.asset_id
         WHERE e.purchase = ?1 ORDER BY e.seq",
    )?;
    let rows = stmt
        .query_map([purchase], |r| {
            Ok((
                <(String, String, i64, String, String)>::try_from(r)?,
                super::manifests::usage(r, 5)?,
                r.get::<_, bool>(8)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(
            |((asset_id, file_name, size, checksum, blob), usage, credentials)| {
                Ok(EntitledFile {
                    usage,
                    credentials,
                    asset_id,
                    file_name,
                    size_bytes: to_u64(size)?,
                    checksum,
                    blob: BlobId::parse(&blob)
                        .ok_or_else(|| corrupt(format!("blob id {blob:?} is malformed")))?,
                })
            },
        )
        .collect()
}

fn payouts(conn: &Connection, purchase: i64) -> Result<Vec<PayoutRecord>> {
    let mut stmt = conn.prepare(
        "SELECT id, creator_wallet, asset_ids, amount_minor, state, failure
         FROM payouts WHERE purchase = ?1 ORDER BY seq",
    )?;
    let rows = stmt
        .query_map([purchase], |r| {
            <(String, Option<String>, String, i64, String, Option<String>)>::try_from(r)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(id, creator_wallet, asset_ids, amount, state, failure)| {
            Ok(PayoutRecord {
                id: PayoutId::parse(&id)
                    .ok_or_else(|| corrupt(format!("payout id {id:?} is malformed")))?,
                creator_wallet,
                asset_ids: serde_json::from_str(&asset_ids)
                    .map_err(|e| corrupt(format!("payout {id}: asset ids: {e}")))?,
                amount_minor: to_u64(amount)?,
                state: payout_state(&state)?,
                failure,
            })
        })
        .collect()
}
