//! The PostgreSQL side of webhooks: registrations and the delivery outbox
//! (`webhook_deliveries`), filled by [`enqueue`] inside each event's
//! transaction and drained by the deliverers of every process.
//!
//! [`due`] leases what it hands out (`leased_until`) to publishers with no
//! lease, holding an advisory lock while it looks, so no two processes
//! lease one publisher's deliveries at once; [`delivered`] and [`failed`]
//! end the lease and change a delivery only while it is pending. A lease
//! that runs out (its process stopped) frees the deliveries for another.
//! Webhooks are at-least-once still (a stop between a receiver's 2xx and
//! its recording sends it again); receivers tell repeats by the event id.

use tokio_postgres::Row;

use super::sales::event;
use super::values::text;
use super::{execute, get, lock, locks, rows, to_u32, to_u64, Tx};
use crate::clock;
use crate::ids::WebhookId;
use crate::records::stored::webhook_id;
use crate::records::{AccountId, DueDelivery, Result, WebhookRecord};

/// A delivery to each of `account`'s webhooks of the event just inserted
/// as `event` (its sequence), due now.
pub(super) async fn enqueue(tx: &Tx<'_>, account: AccountId, event: i64) -> Result<()> {
    execute(
        tx,
        "INSERT INTO webhook_deliveries (webhook, event, next_at)
         SELECT id, $2::bigint, $3::bigint FROM webhooks WHERE account = $1",
        &[&account, &event, &clock::now_ms()],
    )
    .await?;
    Ok(())
}

pub(super) async fn add(
    tx: &Tx<'_>,
    id: &WebhookId,
    account: AccountId,
    url: &str,
    secret: &str,
) -> Result<WebhookRecord> {
    let created_at = clock::timestamp();
    execute(
        tx,
        "INSERT INTO webhooks (id, account, url, secret, created_at) VALUES ($1, $2, $3, $4, $5)",
        &[
            &text(id.as_str()),
            &account,
            &text(url),
            &text(secret),
            &text(&created_at),
        ],
    )
    .await?;
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

pub(super) async fn list(tx: &Tx<'_>, account: AccountId) -> Result<Vec<WebhookRecord>> {
    rows(
        tx,
        "SELECT w.id, w.url, w.created_at,
                count(*) FILTER (WHERE d.state = 'pending'),
                count(*) FILTER (WHERE d.state = 'delivered'),
                count(*) FILTER (WHERE d.state = 'failed')
         FROM webhooks w LEFT JOIN webhook_deliveries d ON d.webhook = w.id
         WHERE w.account = $1 GROUP BY w.id
         ORDER BY w.created_at COLLATE \"C\", w.id COLLATE \"C\"",
        &[&account],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(WebhookRecord {
            id: webhook_id(&get::<String>(r, 0)?)?,
            account,
            url: get(r, 1)?,
            created_at: get(r, 2)?,
            pending: to_u64(get(r, 3)?)?,
            delivered: to_u64(get(r, 4)?)?,
            failed: to_u64(get(r, 5)?)?,
        })
    })
    .collect()
}

pub(super) async fn delete(tx: &Tx<'_>, account: AccountId, id: &WebhookId) -> Result<bool> {
    execute(
        tx,
        "DELETE FROM webhook_deliveries
         WHERE webhook = (SELECT id FROM webhooks WHERE id = $1 AND account = $2)",
        &[&text(id.as_str()), &account],
    )
    .await?;
    let removed = execute(
        tx,
        "DELETE FROM webhooks WHERE id = $1 AND account = $2",
        &[&text(id.as_str()), &account],
    )
    .await?;
    Ok(removed > 0)
}

/// Runs at `READ COMMITTED` (see [`super::PostgresRecords`]), so the skip
/// sees the latest commits. A lease would turn this into
/// `UPDATE webhook_deliveries SET leased_until = ... WHERE seq IN (this
/// query) RETURNING ...`, and add `leased_until < now` to its condition.
pub(super) async fn due(
    tx: &Tx<'_>,
    now_ms: i64,
    limit: u32,
    lease_until_ms: i64,
) -> Result<Vec<DueDelivery>> {
    lock(tx, locks::DELIVERIES, 0).await?;
    let due: Vec<DueDelivery> = rows(
        tx,
        "SELECT d.seq, w.account, w.id, w.url, w.secret, d.attempts,
                e.seq, e.id, e.created_at, e.body
         FROM webhook_deliveries d
         JOIN webhooks w ON w.id = d.webhook
         JOIN events e ON e.seq = d.event
         WHERE d.state = 'pending' AND d.next_at <= $1
           AND NOT EXISTS (
               SELECT 1 FROM webhook_deliveries l JOIN webhooks lw ON lw.id = l.webhook
               WHERE lw.account = w.account AND l.state = 'pending' AND l.leased_until > $1)
         ORDER BY d.next_at, d.seq LIMIT $2",
        &[&now_ms, &i64::from(limit)],
    )
    .await?
    .iter()
    .map(due_delivery)
    .collect::<Result<_>>()?;
    let seqs: Vec<i64> = due.iter().map(|d| d.seq).collect();
    execute(
        tx,
        "UPDATE webhook_deliveries SET leased_until = $2 WHERE seq = ANY($1)",
        &[&seqs, &lease_until_ms],
    )
    .await?;
    Ok(due)
}

fn due_delivery(r: &Row) -> Result<DueDelivery> {
    Ok(DueDelivery {
        seq: get(r, 0)?,
        account: get(r, 1)?,
        webhook: webhook_id(&get::<String>(r, 2)?)?,
        url: get(r, 3)?,
        secret: get(r, 4)?,
        attempts: to_u32(get(r, 5)?, "webhook_deliveries.attempts")?,
        event: event(r, 6)?,
    })
}

pub(super) async fn delivered(tx: &Tx<'_>, seq: i64) -> Result<()> {
    execute(
        tx,
        "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1,
             last_error = NULL, delivered_at = $2, leased_until = NULL
         WHERE seq = $1 AND state = 'pending'",
        &[&seq, &text(&clock::timestamp())],
    )
    .await?;
    Ok(())
}

pub(super) async fn failed(
    tx: &Tx<'_>,
    seq: i64,
    error: &str,
    retry_at_ms: Option<i64>,
) -> Result<()> {
    match retry_at_ms {
        Some(at) => execute(
            tx,
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $2, next_at = $3,
                     leased_until = NULL
                 WHERE seq = $1 AND state = 'pending'",
            &[&seq, &text(error), &at],
        )
        .await?,
        None => {
            execute(
                tx,
                "UPDATE webhook_deliveries SET state = 'failed', attempts = attempts + 1,
                     last_error = $2, leased_until = NULL
                 WHERE seq = $1 AND state = 'pending'",
                &[&seq, &text(error)],
            )
            .await?
        }
    };
    Ok(())
}
