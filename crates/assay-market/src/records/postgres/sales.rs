//! The PostgreSQL side of buying: purchases, their entitlements and
//! payouts, and the publishers' events. Each function runs inside the
//! transaction [`super::PostgresRecords`] hands it.
//!
//! What several processes must never do twice, and how:
//!
//! - Charge a buyer twice for a listing: the live-purchase check runs in
//!   the serializable write, and the insert says `ON CONFLICT DO NOTHING`
//!   on the one-live-purchase index; of two buys at once one commits and
//!   the other runs again and answers with it ([`Insert::Existing`]).
//! - Settle a purchase twice, or both ways: [`settle`] locks the purchase's
//!   row before reading it, and moves it only out of `held`; the second
//!   settler waits for the first, runs again, and finds it settled.
//! - Fail a payout twice: [`fail_payout`] locks the payout and its
//!   purchase, and moves it only out of `sent`.
//!
//! Events are read by cursor (`after` a sequence). A sequence is drawn at
//! insert but seen at commit, and two transactions may commit in the other
//! order: a reader could pass the later one's event and never see the
//! earlier. So [`add_event`] first takes the publisher's feed lock, held to
//! the commit: a publisher's events are then committed in the order of
//! their sequences, and a cursor never skips one. (The lock is per
//! publisher, because feeds are: two publishers' sales do not wait on each
//! other.) Every writer of a feed (buying, settling, failing a payout,
//! creating a listing) takes that lock before its transaction begins
//! (`write_to_feed`), so writers queue for it instead of conflicting and
//! running again.

use assay_market_proto::events::EventKind;
use assay_market_proto::purchases::{EscrowState, PayoutState};
use tokio_postgres::Row;

use super::manifests::{blob_id, usage};
use super::values::{opt_text, text, texts};
use super::{conflict, corrupt, execute, first, get, lock, locks, one, rows, to_i64, to_u64, Tx};
use crate::clock;
use crate::ids::{EventId, ListingId, PayoutId, PurchaseId};
use crate::records::events;
use crate::records::stored::{asset_ids_json, escrow_state, listing_id, payout_state, purchase_id};
use crate::records::{
    AccountId, EntitledFile, EntitledShard, EventRecord, Insert, NewPurchase, PayoutFailure,
    PayoutRecord, PurchaseRecord, RecordsError, Result, Settlement,
};

/// Appends an event to `account`'s feed, with a delivery to each of its
/// webhooks in the same transaction (see the module doc for the lock).
pub(super) async fn add_event(tx: &Tx<'_>, account: AccountId, kind: &EventKind) -> Result<()> {
    let body = serde_json::to_string(kind)
        .map_err(|e| corrupt(format!("an event does not serialise: {e}")))?;
    lock(tx, locks::EVENTS, locks::account(account)).await?;
    let inserted = one(
        tx,
        "INSERT INTO events (id, account, body, created_at) VALUES ($1, $2, $3, $4)
         RETURNING seq",
        &[
            &text(EventId::random().as_str()),
            &account,
            &text(&body),
            &text(&clock::timestamp()),
        ],
    )
    .await?;
    super::webhooks::enqueue(tx, account, get(&inserted, 0)?).await
}

/// The publisher of listing `id`, whose feed buying it appends to.
pub(super) async fn listing_publisher(tx: &Tx<'_>, id: &ListingId) -> Result<Option<AccountId>> {
    publisher(
        tx,
        "SELECT account FROM listings WHERE id = $1",
        id.as_str(),
    )
    .await
}

/// The publisher of the listing purchase `id` bought, whose feed settling
/// it appends to.
pub(super) async fn purchase_publisher(tx: &Tx<'_>, id: &PurchaseId) -> Result<Option<AccountId>> {
    let query =
        "SELECT l.account FROM purchases p JOIN listings l ON l.seq = p.listing WHERE p.id = $1";
    publisher(tx, query, id.as_str()).await
}

/// The publisher of the listing whose purchase paid payout `id`, whose
/// feed failing it appends to.
pub(super) async fn payout_publisher(tx: &Tx<'_>, id: &PayoutId) -> Result<Option<AccountId>> {
    let query = "SELECT l.account FROM payouts o JOIN purchases p ON p.seq = o.purchase
         JOIN listings l ON l.seq = p.listing WHERE o.id = $1";
    publisher(tx, query, id.as_str()).await
}

/// The account `query` finds for `id`, if any.
async fn publisher(tx: &Tx<'_>, query: &str, id: &str) -> Result<Option<AccountId>> {
    first(tx, query, &[&text(id)])
        .await?
        .map(|row| get(&row, 0))
        .transpose()
}

pub(super) async fn create_purchase(
    tx: &Tx<'_>,
    purchase: &NewPurchase,
) -> Result<Insert<PurchaseRecord>> {
    let missing = || RecordsError::Missing {
        what: "listing",
        id: purchase.listing.to_string(),
    };
    let found = first(
        tx,
        "SELECT seq, account, updated_at FROM listings WHERE id = $1",
        &[&text(purchase.listing.as_str())],
    )
    .await?
    .ok_or_else(missing)?;
    let listing: i64 = get(&found, 0)?;
    let publisher: AccountId = get(&found, 1)?;
    let updated_at: String = get(&found, 2)?;
    let live = first(
        tx,
        "SELECT id FROM purchases WHERE listing = $1 AND buyer = $2 AND state <> 'refunded'",
        &[&listing, &purchase.buyer],
    )
    .await?;
    if let Some(live) = live {
        let id = purchase_id(&get::<String>(&live, 0)?)?;
        return Ok(Insert::Existing(load(tx, &id).await?.ok_or_else(missing)?));
    }
    if updated_at != purchase.listing_updated_at {
        return Err(RecordsError::ListingChanged(purchase.listing.clone()));
    }
    // A delta is sold only to a buyer holding its parent version.
    let parent = first(
        tx,
        "SELECT pl.id, (SELECT count(*) FROM purchases p
                         WHERE p.listing = pl.seq AND p.buyer = $2 AND p.state <> 'refunded')
         FROM listings l JOIN manifests m ON m.id = l.manifest
         LEFT JOIN manifests pm ON pm.account = m.account AND pm.manifest_hash = m.parent_hash
         LEFT JOIN listings pl ON pl.manifest = pm.id
         WHERE l.seq = $1 AND m.delta
         ORDER BY pl.seq LIMIT 1",
        &[&listing, &purchase.buyer],
    )
    .await?;
    if let Some(parent) = parent {
        let held: Option<i64> = get(&parent, 1)?;
        match get::<Option<String>>(&parent, 0)? {
            None => {
                return Err(RecordsError::ParentVersionMissing(format!(
                    "listing {} is a delta of a dataset version that is no longer listed",
                    purchase.listing
                )))
            }
            Some(_) if held.unwrap_or(0) >= 1 => {}
            Some(parent) => {
                return Err(RecordsError::ParentPurchaseRequired {
                    listing: purchase.listing.clone(),
                    parent: listing_id(&parent)?,
                })
            }
        }
    }
    let inserted = first(
        tx,
        "INSERT INTO purchases (id, listing, buyer, amount_minor, currency, created_at, hold_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (listing, buyer) WHERE state <> 'refunded' DO NOTHING
         RETURNING seq",
        &[
            &text(purchase.id.as_str()),
            &listing,
            &purchase.buyer,
            &to_i64(purchase.amount_minor)?,
            &text(&purchase.currency),
            &text(&clock::timestamp()),
            &purchase.hold_until_ms,
        ],
    )
    .await?
    .ok_or_else(|| {
        conflict(format!(
            "the buyer's purchase of listing {}",
            purchase.listing
        ))
    })?;
    let row: i64 = get(&inserted, 0)?;
    entitle(tx, "entitlements", "asset_id", row, &purchase.files).await?;
    entitle(tx, "shard_entitlements", "name", row, &purchase.shards).await?;
    for (seq, payout) in purchase.payouts.iter().enumerate() {
        execute(
            tx,
            "INSERT INTO payouts (id, purchase, seq, creator_wallet, asset_ids, amount_minor)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &text(payout.id.as_str()),
                &row,
                &to_i64(seq as u64)?,
                &opt_text(payout.creator_wallet.as_deref()),
                &text(&asset_ids_json(&payout.asset_ids)?),
                &to_i64(payout.amount_minor)?,
            ],
        )
        .await?;
    }
    let record = load(tx, &purchase.id).await?.ok_or_else(missing)?;
    add_event(tx, publisher, &events::purchase(&record)).await?;
    Ok(Insert::New(record))
}

/// Inserts `files` (name and blob, in order) into `table` for purchase
/// `row`, in one statement: a listing may hold many thousand files.
async fn entitle(
    tx: &Tx<'_>,
    table: &str,
    column: &str,
    row: i64,
    files: &[(String, crate::ids::BlobId)],
) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let mut seq = Vec::with_capacity(files.len());
    for i in 0..files.len() {
        seq.push(to_i64(i as u64)?);
    }
    let names = texts(files.iter().map(|(name, _)| Some(name.as_str())));
    let blobs = texts(files.iter().map(|(_, blob)| Some(blob.as_str())));
    execute(
        tx,
        &format!(
            "INSERT INTO {table} (purchase, seq, {column}, blob)
             SELECT $1::bigint, * FROM unnest($2::bigint[], $3::text[], $4::text[])"
        ),
        &[&row, &seq, &names, &blobs],
    )
    .await?;
    Ok(())
}

pub(super) async fn settle(
    tx: &Tx<'_>,
    id: &PurchaseId,
    how: Settlement,
) -> Result<PurchaseRecord> {
    let missing = || RecordsError::Missing {
        what: "purchase",
        id: id.to_string(),
    };
    // The row lock first: a concurrent settler (the sweeper of another
    // process, a confirm, a refund) waits here until this one commits.
    first(
        tx,
        "SELECT 1 FROM purchases WHERE id = $1 FOR UPDATE",
        &[&text(id.as_str())],
    )
    .await?
    .ok_or_else(missing)?;
    let purchase = load(tx, id).await?.ok_or_else(missing)?;
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
    let moved = execute(
        tx,
        "UPDATE purchases SET state = $1, settled_at = $2 WHERE id = $3 AND state = 'held'",
        &[
            &text(target.as_str()),
            &text(&clock::timestamp()),
            &text(id.as_str()),
        ],
    )
    .await?;
    if moved != 1 {
        return Err(conflict(format!("purchase {id}")));
    }
    execute(
        tx,
        "UPDATE payouts SET state = $1
         WHERE purchase = (SELECT seq FROM purchases WHERE id = $2) AND state = 'pending'",
        &[&text(payout_state.as_str()), &text(id.as_str())],
    )
    .await?;
    let kinds = match how {
        Settlement::Refund => vec![events::refunded(&purchase)],
        Settlement::Release(reason) => events::released(&purchase, reason),
    };
    for kind in &kinds {
        add_event(tx, purchase.publisher, kind).await?;
    }
    load(tx, id).await?.ok_or_else(missing)
}

pub(super) async fn fail_payout(tx: &Tx<'_>, id: &PayoutId, reason: &str) -> Result<PayoutFailure> {
    let missing = || RecordsError::Missing {
        what: "payout",
        id: id.to_string(),
    };
    // Locked with its purchase, which a settlement changes too.
    let found = first(
        tx,
        "SELECT p.id, o.state FROM payouts o JOIN purchases p ON p.seq = o.purchase
         WHERE o.id = $1 FOR UPDATE OF o, p",
        &[&text(id.as_str())],
    )
    .await?
    .ok_or_else(missing)?;
    let purchase: String = get(&found, 0)?;
    let state: String = get(&found, 1)?;
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
        let moved = execute(
            tx,
            "UPDATE payouts SET state = 'failed', failure = $2 WHERE id = $1 AND state = 'sent'",
            &[&text(id.as_str()), &text(reason)],
        )
        .await?;
        if moved != 1 {
            return Err(conflict(format!("payout {id}")));
        }
    }
    // Read after the update, so the record says `failed`.
    let purchase = load(tx, &purchase_id(&purchase)?)
        .await?
        .ok_or_else(missing)?;
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
        )
        .await?;
    }
    Ok(PayoutFailure {
        purchase: purchase.id,
        payout,
        newly,
    })
}

pub(super) async fn due_purchases(tx: &Tx<'_>, now_ms: i64) -> Result<Vec<PurchaseId>> {
    rows(
        tx,
        "SELECT id FROM purchases WHERE state = 'held' AND hold_until < $1 ORDER BY hold_until",
        &[&now_ms],
    )
    .await?
    .iter()
    .map(|r| purchase_id(&get::<String>(r, 0)?))
    .collect()
}

/// An event of the feed from `row` at column `start` (sequence, id,
/// time, body).
pub(super) fn event(row: &Row, start: usize) -> Result<EventRecord> {
    let id: String = get(row, start + 1)?;
    let body: String = get(row, start + 3)?;
    Ok(EventRecord {
        seq: get(row, start)?,
        id: EventId::parse(&id).ok_or_else(|| corrupt(format!("event id {id:?} is malformed")))?,
        at: get(row, start + 2)?,
        kind: serde_json::from_str(&body)
            .map_err(|e| corrupt(format!("event {id}: stored body: {e}")))?,
    })
}

pub(super) async fn events(
    tx: &Tx<'_>,
    account: AccountId,
    after: i64,
    limit: u32,
) -> Result<Vec<EventRecord>> {
    rows(
        tx,
        "SELECT seq, id, created_at, body FROM events
         WHERE account = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        &[&account, &after, &i64::from(limit)],
    )
    .await?
    .iter()
    .map(|r| event(r, 0))
    .collect()
}

pub(super) async fn load(tx: &Tx<'_>, id: &PurchaseId) -> Result<Option<PurchaseRecord>> {
    let Some(r) = first(
        tx,
        "SELECT p.seq, l.id, l.account, pa.name, m.manifest_id, m.manifest_hash,
                p.buyer, ba.name, p.amount_minor, p.currency, p.state, p.created_at,
                p.hold_until, p.settled_at
         FROM purchases p
         JOIN listings l ON l.seq = p.listing
         JOIN accounts pa ON pa.id = l.account
         JOIN accounts ba ON ba.id = p.buyer
         JOIN manifests m ON m.id = l.manifest
         WHERE p.id = $1",
        &[&text(id.as_str())],
    )
    .await?
    else {
        return Ok(None);
    };
    let seq: i64 = get(&r, 0)?;
    let listing: String = get(&r, 1)?;
    let state: String = get(&r, 10)?;
    Ok(Some(PurchaseRecord {
        id: id.clone(),
        listing: listing_id(&listing)?,
        publisher: get(&r, 2)?,
        publisher_name: get(&r, 3)?,
        manifest_id: get(&r, 4)?,
        manifest_hash: get(&r, 5)?,
        buyer: get(&r, 6)?,
        buyer_name: get(&r, 7)?,
        amount_minor: to_u64(get(&r, 8)?)?,
        currency: get(&r, 9)?,
        state: escrow_state(&state)?,
        created_at: get(&r, 11)?,
        hold_until_ms: get(&r, 12)?,
        settled_at: get(&r, 13)?,
        asset_ids: purchased_assets(tx, seq).await?,
        files: files(tx, seq).await?,
        shards: shards(tx, seq).await?,
        payouts: payouts(tx, seq).await?,
    }))
}

/// The assets purchase `purchase` bought: those it entitles to, or those
/// of the dataset version it bought (whose shards hold them).
async fn purchased_assets(tx: &Tx<'_>, purchase: i64) -> Result<Vec<String>> {
    rows(
        tx,
        "SELECT e.asset_id, e.seq FROM entitlements e WHERE e.purchase = $1
         UNION ALL
         SELECT a.asset_id, a.seq FROM purchases p
         JOIN listings l ON l.seq = p.listing
         JOIN manifests m ON m.id = l.manifest
         JOIN manifest_assets a ON a.manifest = m.id
         WHERE p.seq = $1 AND m.dataset_id IS NOT NULL
         ORDER BY 2",
        &[&purchase],
    )
    .await?
    .iter()
    .map(|r| get(r, 0))
    .collect()
}

async fn shards(tx: &Tx<'_>, purchase: i64) -> Result<Vec<EntitledShard>> {
    rows(
        tx,
        "SELECT e.name, s.size_bytes, s.checksum, e.blob
         FROM shard_entitlements e
         JOIN purchases p ON p.seq = e.purchase
         JOIN listings l ON l.seq = p.listing
         JOIN manifest_shards s ON s.manifest = l.manifest AND s.name = e.name
         WHERE e.purchase = $1 ORDER BY e.seq",
        &[&purchase],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(EntitledShard {
            name: get(r, 0)?,
            size_bytes: to_u64(get(r, 1)?)?,
            checksum: get(r, 2)?,
            blob: blob_id(&get::<String>(r, 3)?)?,
        })
    })
    .collect()
}

async fn files(tx: &Tx<'_>, purchase: i64) -> Result<Vec<EntitledFile>> {
    rows(
        tx,
        "SELECT e.asset_id, a.file_name, a.size_bytes, a.checksum, e.blob,
                a.content_usage, a.tdm_reservation, a.tdm_policy, a.credentials IS NOT NULL
         FROM entitlements e
         JOIN purchases p ON p.seq = e.purchase
         JOIN listings l ON l.seq = p.listing
         JOIN manifest_assets a ON a.manifest = l.manifest AND a.asset_id = e.asset_id
         WHERE e.purchase = $1 ORDER BY e.seq",
        &[&purchase],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(EntitledFile {
            asset_id: get(r, 0)?,
            file_name: get(r, 1)?,
            size_bytes: to_u64(get(r, 2)?)?,
            checksum: get(r, 3)?,
            blob: blob_id(&get::<String>(r, 4)?)?,
            usage: usage(r, 5)?,
            credentials: get(r, 8)?,
        })
    })
    .collect()
}

async fn payouts(tx: &Tx<'_>, purchase: i64) -> Result<Vec<PayoutRecord>> {
    rows(
        tx,
        "SELECT id, creator_wallet, asset_ids, amount_minor, state, failure
         FROM payouts WHERE purchase = $1 ORDER BY seq",
        &[&purchase],
    )
    .await?
    .iter()
    .map(|r| {
        let id: String = get(r, 0)?;
        let asset_ids: String = get(r, 2)?;
        let state: String = get(r, 4)?;
        Ok(PayoutRecord {
            id: PayoutId::parse(&id)
                .ok_or_else(|| corrupt(format!("payout id {id:?} is malformed")))?,
            creator_wallet: get(r, 1)?,
            asset_ids: serde_json::from_str(&asset_ids)
                .map_err(|e| corrupt(format!("payout {id}: asset ids: {e}")))?,
            amount_minor: to_u64(get(r, 3)?)?,
            state: payout_state(&state)?,
            failure: get(r, 5)?,
        })
    })
    .collect()
}
