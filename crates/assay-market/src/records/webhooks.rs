//! The SQLite side of webhooks: registrations and the delivery outbox
//! (`webhook_deliveries`), filled by [`enqueue`] inside each event's
//! transaction and drained by the deliverer.

use rusqlite::{params, Connection, Transaction};

use super::stored::{corrupt, to_u64, webhook_id};
use super::{AccountId, DueDelivery, EventRecord, Result, WebhookRecord};
use crate::clock;
use crate::ids::{EventId, WebhookId};

/// A delivery to each of `account`'s webhooks of the event just inserted
/// as `event` (its sequence), due now.
pub(super) fn enqueue(tx: &Transaction, account: AccountId, event: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO webhook_deliveries (webhook, event, next_at)
         SELECT id, ?2, ?3 FROM webhooks WHERE account = ?1",
        params![account, event, clock::now_ms()],
    )?;
    Ok(())
}

pub(super) fn add(
    tx: &Transaction,
    id: &WebhookId,
    account: AccountId,
    url: &str,
    secret: &str,
) -> Result<WebhookRecord> {
    let created_at = clock::timestamp();
    tx.execute(
        "INSERT INTO webhooks (id, account, url, secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id.as_str(), account, url, secret, created_at],
    )?;
    Ok(WebhookRecord {
        id: id.clone(),
        account,
        url: url.to_owned(),
        created_at,
        pending: 0,
        delivered: 0,
        failed: 0,
    })
}

pub(super) fn list(conn: &Connection, account: AccountId) -> Result<Vec<WebhookRecord>> {
    let mut stmt = conn.prepare(
        "SELECT w.id, w.url, w.created_at,
                count(*) FILTER (WHERE d.state = 'pending'),
                count(*) FILTER (WHERE d.state = 'delivered'),
                count(*) FILTER (WHERE d.state = 'failed')
         FROM webhooks w LEFT JOIN webhook_deliveries d ON d.webhook = w.id
         WHERE w.account = ?1 GROUP BY w.id ORDER BY w.created_at, w.id",
    )?;
    let rows = stmt
        .query_map([account], |r| {
            <(String, String, String, i64, i64, i64)>::try_from(r)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(id, url, created_at, pending, delivered, failed)| {
            Ok(WebhookRecord {
                id: webhook_id(&id)?,
                account,
                url,
                created_at,
                pending: to_u64(pending)?,
                delivered: to_u64(delivered)?,
                failed: to_u64(failed)?,
            })
        })
        .collect()
}

pub(super) fn delete(tx: &Transaction, account: AccountId, id: &WebhookId) -> Result<bool> {
    tx.execute(
        "DELETE FROM webhook_deliveries
         WHERE webhook = (SELECT id FROM webhooks WHERE id = ?1 AND account = ?2)",
        params![id.as_str(), account],
    )?;
    let removed = tx.execute(
        "DELETE FROM webhooks WHERE id = ?1 AND account = ?2",
        params![id.as_str(), account],
    )?;
    Ok(removed > 0)
}

pub(super) fn due(
    tx: &Transaction,
    now_ms: i64,
    limit: u32,
    lease_until_ms: i64,
) -> Result<Vec<DueDelivery>> {
    let mut stmt = tx.prepare(
        "SELECT d.seq, w.account, w.id, w.url, w.secret, d.attempts, e.seq, e.id, e.created_at, e.body
         FROM webhook_deliveries d
         JOIN webhooks w ON w.id = d.webhook
         JOIN events e ON e.seq = d.event
         WHERE d.state = 'pending' AND d.next_at <= ?1
           AND NOT EXISTS (
               SELECT 1 FROM webhook_deliveries l JOIN webhooks lw ON lw.id = l.webhook
               WHERE lw.account = w.account AND l.state = 'pending' AND l.leased_until > ?1)
         ORDER BY d.next_at, d.seq LIMIT ?2",
    )?;
    type Row = (
        i64,
        AccountId,
        String,
        String,
        String,
        u32,
        i64,
        String,
        String,
        String,
    );
    let rows = stmt
        .query_map(params![now_ms, limit], |r| Row::try_from(r))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (seq, ..) in &rows {
        tx.execute(
            "UPDATE webhook_deliveries SET leased_until = ?2 WHERE seq = ?1",
            params![seq, lease_until_ms],
        )?;
    }
    rows.into_iter()
        .map(
            |(seq, account, webhook, url, secret, attempts, event_seq, event_id, at, body)| {
                Ok(DueDelivery {
                    seq,
                    account,
                    webhook: webhook_id(&webhook)?,
                    url,
                    secret,
                    attempts,
                    event: EventRecord {
                        seq: event_seq,
                        id: EventId::parse(&event_id).ok_or_else(|| {
                            corrupt(format!("event id {event_id:?} is malformed"))
                        })?,
                        at,
                        kind: serde_json::from_str(&body)
                            .map_err(|e| corrupt(format!("event {event_id}: stored body: {e}")))?,
                    },
                })
            },
        )
        .collect()
}

pub(super) fn delivered(tx: &Transaction, seq: i64) -> Result<()> {
    tx.execute(
        "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1,
             last_error = NULL, delivered_at = ?2, leased_until = NULL
         WHERE seq = ?1 AND state = 'pending'",
        params![seq, clock::timestamp()],
    )?;
    Ok(())
}

pub(super) fn failed(
    tx: &Transaction,
    seq: i64,
    error: &str,
    retry_at_ms: Option<i64>,
) -> Result<()> {
    match retry_at_ms {
        Some(at) => tx.execute(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = ?2, next_at = ?3,
                 leased_until = NULL
             WHERE seq = ?1 AND state = 'pending'",
            params![seq, error, at],
        )?,
        None => tx.execute(
            "UPDATE webhook_deliveries SET state = 'failed', attempts = attempts + 1, last_error = ?2,
                 leased_until = NULL
             WHERE seq = ?1 AND state = 'pending'",
            params![seq, error],
        )?,
    };
    Ok(())
}
