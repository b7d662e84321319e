//! A marketplace's event feed (`GET /v1/events`), recorded in provenance:
//! each purchase, payout sent or failed, escrow release and refund becomes a signed
//! `payment` event on every asset it concerns, with the market, the feed
//! event's id and what was paid in its data. A release or a refund names
//! only its purchase; it concerns the purchase's assets, kept when the
//! purchase was recorded. Other feed events (a listing created) are only
//! marked seen.
//!
//! Each feed event is recorded once, by its id, in the transaction of its
//! provenance events, so a page read twice (a sync that stopped before
//! saving its cursor, or two syncs at once) records nothing the second
//! time. No network code: the client reads the pages and hands them here.

use std::collections::HashSet;

use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::catalog::assets::now;
use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::identity::roles::Action;
use crate::identity::users::Actor;
use crate::provenance::chain;
use crate::provenance::event::{EventKind, Signer};

/// The feed event types that are payments, as the protocol names them.
const PAYMENTS: [&str; 5] = [
    "purchase",
    "escrow_released",
    "refunded",
    "payout_sent",
    "payout_failed",
];

/// The members of a feed event carried into a payment event's data; anything
/// else a market sends stays out of the signed record.
const CARRIED: [&str; 9] = [
    "purchase_id",
    "listing_id",
    "manifest_id",
    "manifest_hash",
    "payout_id",
    "creator_wallet",
    "amount_minor",
    "currency",
    "reason",
];

/// What recording one page of a market's feed did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FeedRecorded {
    /// Feed events not seen before.
    pub new_events: usize,
    /// The new payments, each with the assets it was recorded on.
    pub payments: Vec<PaymentRecorded>,
}

/// One feed event recorded as `payment` events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentRecorded {
    pub feed_event_id: String,
    /// `purchase`, `escrow_released`, `refunded`, `payout_sent` or
    /// `payout_failed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The library's assets it concerns (the market may name others, of
    /// another library publishing under the same account).
    pub asset_ids: Vec<String>,
}

impl Library {
    /// Where the next read of `market`'s feed starts: the `after` to send,
    /// none for the beginning.
    pub fn market_feed_cursor(&self, market: &str) -> Result<Option<String>> {
        let conn = self.connect()?;
        conn.query_row(
            "SELECT feed_cursor FROM markets WHERE name = ?1",
            [market],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("market {market}")))
    }

    /// Records one page of `market`'s feed, read with `after`, signed by
    /// `actor` (who may record payments), and moves the cursor to
    /// `next_after` unless another sync moved it meanwhile. `events` are the
    /// feed's events as JSON objects (`event_id`, `cursor`, `at`, `type` and
    /// the type's members).
    pub fn record_market_feed(
        &self,
        actor: &Actor,
        market: &str,
        after: Option<&str>,
        events: &[Value],
        next_after: Option<&str>,
    ) -> Result<FeedRecorded> {
        actor.may(Action::RecordPayment)?;
        let market = self.market(Some(market))?;
        let mut conn = self.connect()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let market_row = super::sync::market_row_in(&tx, &market.name)?;
        let mut recorded = FeedRecorded::default();
        let mut pending: Vec<(i64, String, Value)> = Vec::new();
        for (i, event) in events.iter().enumerate() {
            let text = |name: &str| event.get(name).and_then(Value::as_str);
            let (Some(event_id), Some(cursor), Some(kind)) =
                (text("event_id"), text("cursor"), text("type"))
            else {
                return Err(Error::MarketAnswer(format!(
                    "market {}: feed event {i} lacks an event_id, cursor or type",
                    market.name
                )));
            };
            let purchase_id = text("purchase_id");
            let named = strings(event.get("asset_ids"));
            let payment = PAYMENTS.contains(&kind);
            // A release or refund concerns its purchase's assets.
            let asset_ids = match kind {
                "escrow_released" | "refunded" => match purchase_id {
                    Some(id) => tx
                        .query_row(
                            "SELECT asset_ids FROM market_feed
                             WHERE market = ?1 AND purchase_id = ?2 AND type = 'purchase'",
                            params![market_row, id],
                            |r| r.get::<_, Option<String>>(0),
                        )
                        .optional()?
                        .flatten()
                        .and_then(|json| serde_json::from_str::<Value>(&json).ok())
                        .map(|ids| strings(Some(&ids)))
                        .unwrap_or_default(),
                    None => Vec::new(),
                },
                _ if payment => named.clone(),
                _ => Vec::new(),
            };
            let mut rows = Vec::new();
            for asset_id in &asset_ids {
                let row: Option<i64> = tx
                    .prepare_cached("SELECT id FROM assets WHERE asset_id = ?1")?
                    .query_row([asset_id], |r| r.get(0))
                    .optional()?;
                if let Some(row) = row {
                    rows.push((row, asset_id.clone()));
                }
            }
            let kept = (kind == "purchase")
                .then(|| serde_json::to_string(&named))
                .transpose()
                .map_err(|e| Error::Internal(e.to_string()))?;
            let inserted = tx.execute(
                "INSERT INTO market_feed
                     (market, event_id, cursor, type, purchase_id, asset_ids, recorded, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (market, event_id) DO NOTHING",
                params![
                    market_row,
                    event_id,
                    cursor,
                    kind,
                    purchase_id,
                    kept,
                    rows.len() as i64,
                    now()
                ],
            )?;
            if inserted == 0 {
                continue;
            }
            recorded.new_events += 1;
            if !payment || rows.is_empty() {
                continue;
            }
            let data = payment_data(&market.name, &market.url, event, asset_ids.len());
            for (row, asset_id) in &rows {
                pending.push((*row, asset_id.clone(), data.clone()));
            }
            recorded.payments.push(PaymentRecorded {
                feed_event_id: event_id.to_owned(),
                kind: kind.to_owned(),
                asset_ids: rows.into_iter().map(|(_, id)| id).collect(),
            });
        }
        let events: Vec<_> = pending
            .iter()
            .map(|(row, asset_id, data)| {
                (*row, asset_id.as_str(), EventKind::Payment, data.clone())
            })
            .collect();
        chain::append_each(&tx, &events, &Signer::User(actor))?;
        if let Some(next) = next_after {
            // Compare and set: a sync that read further already has the
            // cursor beyond this page; never move it back.
            tx.execute(
                "UPDATE markets SET feed_cursor = ?2 WHERE id = ?1 AND feed_cursor IS ?3",
                params![market_row, next, after],
            )?;
        }
        tx.commit()?;
        Ok(recorded)
    }
}

/// A payment event's data: the market, the feed event's id, type and time,
/// its known members, how many assets the amount covers, and for a payout
/// whether it is a creator's share or the publisher's remainder.
fn payment_data(market: &str, url: &str, event: &Value, assets: usize) -> Value {
    let mut data = Map::new();
    data.insert("market".into(), market.into());
    data.insert("market_url".into(), url.into());
    for (to, from) in [
        ("feed_event_id", "event_id"),
        ("feed_event", "type"),
        ("market_at", "at"),
    ] {
        if let Some(value) = event.get(from) {
            data.insert(to.into(), value.clone());
        }
    }
    for name in CARRIED {
        if let Some(value) = event.get(name) {
            data.insert(name.into(), value.clone());
        }
    }
    data.insert("assets".into(), assets.into());
    if matches!(
        event.get("type").and_then(Value::as_str),
        Some("payout_sent" | "payout_failed")
    ) {
        let payee = if event.get("creator_wallet").is_some_and(Value::is_string) {
            "creator"
        } else {
            "publisher"
        };
        data.insert("payee".into(), payee.into());
    }
    Value::Object(data)
}

/// The distinct strings of a JSON array, in order.
fn strings(value: Option<&Value>) -> Vec<String> {
    let mut seen = HashSet::new();
    value
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .filter(|s| seen.insert(*s))
        .map(str::to_owned)
        .collect()
}
