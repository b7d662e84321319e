//! Webhooks: a publisher's feed events pushed to a URL of its choosing.
//! `POST`/`GET /v1/webhooks`, `DELETE /v1/webhooks/{webhook_id}`.
//!
//! Each event of the publisher's feed (the [`Event`](crate::events::Event)
//! JSON, as `GET /v1/events` gives it) is `POST`ed to every webhook the
//! publisher registered, with [`SIGNATURE_HEADER`]:
//! `t=UNIX_SECONDS,v1=HEX`, where `HEX` is HMAC-SHA256 under the webhook's
//! secret of `UNIX_SECONDS`, `.` and the body's exact bytes. A receiver
//! recomputes it, compares in constant time and refuses old timestamps.
//! A delivery not answered 2xx is retried with exponential backoff, a
//! bounded number of times; it is at least once, so a receiver keeps the
//! `event_id`s it has seen. Deliveries are not ordered: use `cursor`.

use serde::{Deserialize, Serialize};

/// The header carrying a delivery's timestamp and signature.
pub const SIGNATURE_HEADER: &str = "Assay-Signature";
/// The header naming the event delivered.
pub const EVENT_ID_HEADER: &str = "Assay-Event-Id";

/// The body of `POST /v1/webhooks`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWebhook {
    /// `http://` and a host; where events are `POST`ed.
    pub url: String,
    /// 16 to 256 characters; the HMAC key. Never shown again.
    pub secret: String,
}

/// A registered webhook (its secret is never shown).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub webhook_id: String,
    pub url: String,
    pub created_at: String,
    /// Deliveries waiting (for their first attempt or a retry).
    pub pending: u64,
    pub delivered: u64,
    /// Deliveries given up after every attempt failed.
    pub failed: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookList {
    pub webhooks: Vec<Webhook>,
}
