//! Delivers the webhook outbox (`webhook_deliveries`, filled in each
//! event's transaction). One task polls every `webhook_poll` for due
//! deliveries and hands each publisher's to a thread of its own, which
//! POSTs each event's JSON with its signature (see the protocol's
//! `webhooks` module), to the address checked as public. A 2xx marks the delivery done, so it is
//! never sent again; anything else is retried after `webhook_first_retry`,
//! doubling up to an hour, until `webhook_attempts` were made. Since the
//! outbox is in the records, a restart resumes what was pending.
//!
//! Delivery is at least once: a stop between the receiver's 2xx and its
//! recording sends that event again. Receivers dedupe on `event_id`.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use assay_market_proto::events::Event;
use assay_market_proto::webhooks::{self, EVENT_ID_HEADER, SIGNATURE_HEADER};

use crate::app::App;
use crate::clock;
use crate::records::{AccountId, DueDelivery};
use crate::webhook_address;

/// Deliveries taken per poll; the rest wait for the next.
const BATCH: u32 = 50;
const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_DELAY: Duration = Duration::from_secs(3600);

/// Publishers whose deliveries may be under way at once.
const PUBLISHERS_AT_ONCE: usize = 16;

/// Every `webhook_poll` until the task is dropped. Each publisher's due
/// deliveries are made on a thread of their own, in order, while the poll
/// goes on: one publisher's dead or slow endpoints never delay another's.
pub(crate) async fn run(app: Arc<App>) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .max_redirects(0)
        .build()
        .new_agent();
    let busy: Arc<Mutex<HashSet<AccountId>>> = Arc::default();
    let mut every = tokio::time::interval(app.config.webhook_poll);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let (app, agent, busy) = (Arc::clone(&app), agent.clone(), Arc::clone(&busy));
        let dispatched = crate::app::blocking(move || {
            dispatch(&app, &agent, &busy).map_err(crate::error::ApiError::from)
        })
        .await;
        if let Err(e) = dispatched {
            eprintln!("assay-market: delivering webhooks: {}", e.message);
        }
    }
}

/// Starts a worker for each publisher with due deliveries and none under way.
fn dispatch(
    app: &Arc<App>,
    agent: &ureq::Agent,
    busy: &Arc<Mutex<HashSet<AccountId>>>,
) -> crate::records::Result<()> {
    let under_way: Vec<AccountId> = lock(busy).iter().copied().collect();
    if under_way.len() >= PUBLISHERS_AT_ONCE {
        return Ok(());
    }
    let mut by_publisher: BTreeMap<AccountId, Vec<DueDelivery>> = BTreeMap::new();
    for delivery in app
        .records
        .due_deliveries(clock::now_ms(), BATCH, &under_way)?
    {
        by_publisher
            .entry(delivery.account)
            .or_default()
            .push(delivery);
    }
    let room = PUBLISHERS_AT_ONCE - under_way.len();
    for (account, deliveries) in by_publisher.into_iter().take(room) {
        lock(busy).insert(account);
        let (app, agent, busy) = (Arc::clone(app), agent.clone(), Arc::clone(busy));
        std::thread::spawn(move || {
            if let Err(e) = deliver(&app, &agent, deliveries) {
                eprintln!("assay-market: delivering webhooks: {e}");
            }
            lock(&busy).remove(&account);
        });
    }
    Ok(())
}

fn lock(busy: &Mutex<HashSet<AccountId>>) -> std::sync::MutexGuard<'_, HashSet<AccountId>> {
    // A worker that panicked left the set as it was; it is still right.
    busy.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One publisher's due deliveries, in order.
fn deliver(
    app: &App,
    agent: &ureq::Agent,
    deliveries: Vec<DueDelivery>,
) -> crate::records::Result<()> {
    for delivery in deliveries {
        match send(agent, &delivery, app.config.allow_private_webhooks) {
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
    }
    Ok(())
}

/// The wait after failed attempt `n` (1 for the first).
fn backoff(first: Duration, n: u32) -> Duration {
    first
        .saturating_mul(1 << n.saturating_sub(1).min(20))
        .min(MAX_DELAY)
}

fn send(agent: &ureq::Agent, delivery: &DueDelivery, allow_private: bool) -> Result<(), String> {
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
    // Resolved again, and sent to the address checked: a name that now
    // resolves somewhere private reaches nothing.
    let addresses = webhook_address::resolve(&delivery.url, allow_private)?;
    let (url, host) = webhook_address::pinned(&delivery.url, addresses[0])
        .ok_or_else(|| format!("{} is not an http:// URL", delivery.url))?;
    let response = agent
        .post(&url)
        .header("Host", &host)
        .header("Content-Type", "application/json")
        .header(
            SIGNATURE_HEADER,
            &webhooks::signature(&delivery.secret, t, &body),
        )
        .header(EVENT_ID_HEADER, &event.event_id)
        .send(&body[..])
        .map_err(|e| e.to_string())?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("answered {status}"))
    }
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
