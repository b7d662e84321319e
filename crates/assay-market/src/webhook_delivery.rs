//! Delivers the webhook outbox (`webhook_deliveries`, filled in each
//! event's transaction). One task polls every `webhook_poll` for due
//! deliveries and hands each publisher's to a task of its own, which
//! POSTs each event's JSON with its signature (see the protocol's
//! `webhooks` module), over HTTP or HTTPS, only to addresses checked as
//! public (`webhook_address`). A 2xx marks the delivery done, so it is
//! never sent again; anything else is retried after `webhook_first_retry`,
//! doubling up to an hour, until `webhook_attempts` were made. Since the
//! outbox is in the records, a restart resumes what was pending.
//!
//! HTTPS is rustls, trusting the system's root certificates (read once at
//! start; `SSL_CERT_FILE` or `SSL_CERT_DIR` point elsewhere).
//!
//! Delivery is at least once: a stop between the receiver's 2xx and its
//! recording sends that event again. Receivers dedupe on `event_id`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use assay_market_proto::events::Event;
use assay_market_proto::webhooks::{self, EVENT_ID_HEADER, SIGNATURE_HEADER};
use tokio::task::JoinSet;

use crate::app::App;
use crate::clock;
use crate::error::ApiError;
use crate::records::{AccountId, DueDelivery};
use crate::webhook_address;

/// Deliveries taken per poll; the rest wait for the next.
const BATCH: u32 = 50;
const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_DELAY: Duration = Duration::from_secs(3600);

/// Publishers whose deliveries may be under way at once, in this process.
const PUBLISHERS_AT_ONCE: usize = 16;

/// How long the deliveries a process takes are its own: longer than a
/// batch takes to send ([`BATCH`] requests of at most [`TIMEOUT`] each).
const LEASE: Duration = Duration::from_secs(15 * 60);

/// The client deliveries are made with: no redirects (a receiver could
/// point one anywhere), a deadline per request, and the resolver that
/// checks every address it connects to.
fn client(allow_private: bool) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(webhook_address::Checked { allow_private }))
        .build()
}

/// Every `webhook_poll` until the task is dropped, which also stops the
/// deliveries under way. Each publisher's due deliveries are made in a
/// task of their own, in order, while the poll goes on: one publisher's
/// dead or slow endpoints never delay another's. The records lease them
/// ([`crate::Records::due_deliveries`]), so with several server processes
/// each publisher's deliveries are made by one at a time.
pub(crate) async fn run(app: Arc<App>) {
    let client = match client(app.config.allow_private_webhooks) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("assay-market: webhooks will not be delivered: {e}");
            return;
        }
    };
    let mut workers = JoinSet::new();
    let mut every = tokio::time::interval(app.config.webhook_poll);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        // Reaps the workers that finished.
        while workers.try_join_next().is_some() {}
        if workers.len() >= PUBLISHERS_AT_ONCE {
            continue;
        }
        let task = Arc::clone(&app);
        let due = crate::app::blocking(move || due(&task).map_err(ApiError::from)).await;
        let due = match due {
            Ok(due) => due,
            Err(e) => {
                eprintln!("assay-market: delivering webhooks: {}", e.message);
                continue;
            }
        };
        let room = PUBLISHERS_AT_ONCE - workers.len();
        // Publishers past the room keep their lease until it runs out;
        // their turn comes then.
        for (_, deliveries) in due.into_iter().take(room) {
            let (app, client) = (Arc::clone(&app), client.clone());
            workers.spawn(async move {
                if let Err(e) = deliver(&app, &client, deliveries).await {
                    eprintln!("assay-market: delivering webhooks: {}", e.message);
                }
            });
        }
    }
}

/// The deliveries due now, leased to this process, by publisher.
fn due(app: &App) -> crate::records::Result<BTreeMap<AccountId, Vec<DueDelivery>>> {
    let now = clock::now_ms();
    let lease_until = clock::after(now, LEASE);
    let mut by_publisher: BTreeMap<AccountId, Vec<DueDelivery>> = BTreeMap::new();
    for delivery in app.records.due_deliveries(now, BATCH, lease_until)? {
        by_publisher
            .entry(delivery.account)
            .or_default()
            .push(delivery);
    }
    Ok(by_publisher)
}

/// One publisher's due deliveries, in order.
async fn deliver(
    app: &Arc<App>,
    client: &reqwest::Client,
    deliveries: Vec<DueDelivery>,
) -> Result<(), ApiError> {
    for delivery in deliveries {
        let sent = send(client, &delivery, app.config.allow_private_webhooks).await;
        let app = Arc::clone(app);
        crate::app::blocking(move || {
            match sent {
                Ok(()) => app.records.delivered(delivery.seq)?,
                Err(error) => {
                    let made = delivery.attempts.saturating_add(1);
                    let retry = (made < app.config.webhook_attempts).then(|| {
                        clock::after(
                            clock::now_ms(),
                            backoff(app.config.webhook_first_retry, made),
                        )
                    });
                    app.records.delivery_failed(delivery.seq, &error, retry)?;
                }
            }
            Ok(())
        })
        .await?;
    }
    Ok(())
}

/// The wait after failed attempt `n` (1 for the first).
fn backoff(first: Duration, n: u32) -> Duration {
    first
        .saturating_mul(1 << n.saturating_sub(1).min(20))
        .min(MAX_DELAY)
}

async fn send(
    client: &reqwest::Client,
    delivery: &DueDelivery,
    allow_private: bool,
) -> Result<(), String> {
    let event = Event {
        event_id: delivery.event.id.to_string(),
        cursor: delivery.event.seq.to_string(),
        at: delivery.event.at.clone(),
        kind: delivery.event.kind.clone(),
    };
    let body = serde_json::to_vec(&event).map_err(|e| e.to_string())?;
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // An address literal is never resolved by the client: checked here.
    // (A name is checked by the client's resolver as it connects.)
    let url = delivery.url.clone();
    tokio::task::spawn_blocking(move || webhook_address::resolve(&url, allow_private))
        .await
        .map_err(|e| e.to_string())??;
    let response = client
        .post(&delivery.url)
        .header("Content-Type", "application/json")
        .header(
            SIGNATURE_HEADER,
            webhooks::signature(&delivery.secret, t, &body),
        )
        .header(EVENT_ID_HEADER, &event.event_id)
        .body(body)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("answered {status}"))
    }
}

/// A failed request's error with its causes (reqwest's own message says
/// only "error sending request").
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let first = Duration::from_secs(30);
        assert_eq!(backoff(first, 1), first);
        assert_eq!(backoff(first, 3), Duration::from_secs(120));
        assert_eq!(backoff(first, 40), MAX_DELAY);
    }
}
