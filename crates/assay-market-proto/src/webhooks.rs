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

use crate::hmac::{hmac_sha256, same};

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

/// The [`SIGNATURE_HEADER`] value of `body` sent at `t` (Unix seconds).
pub fn signature(secret: &str, t: u64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(mac(secret, t, body)))
}

fn mac(secret: &str, t: u64, body: &[u8]) -> [u8; 32] {
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    hmac_sha256(secret.as_bytes(), &signed)
}

/// Why a receiver refuses a delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryRefused {
    /// The header is not `t=UNIX_SECONDS,v1=HEX`.
    Malformed,
    /// Signed at `t`, more than the tolerance away from `now`.
    Stale { t: u64, now: u64 },
    /// Not signed with this secret, or the body was changed.
    Forged,
}

impl std::fmt::Display for DeliveryRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeliveryRefused::Malformed => {
                write!(f, "{SIGNATURE_HEADER} is not t=UNIX_SECONDS,v1=HEX")
            }
            DeliveryRefused::Stale { t, now } => {
                write!(f, "signed at {t}, {} s from now ({now})", now.abs_diff(*t))
            }
            DeliveryRefused::Forged => write!(f, "the signature does not match the body"),
        }
    }
}

impl std::error::Error for DeliveryRefused {}

/// Checks a delivery as a receiver should: `header` is its
/// [`SIGNATURE_HEADER`] value, `body` its exact bytes, `now` the
/// receiver's clock in Unix seconds; a timestamp more than `tolerance`
/// seconds away is refused, so a captured delivery cannot be replayed
/// later. The MAC is compared in constant time.
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: u64,
    tolerance: u64,
) -> Result<(), DeliveryRefused> {
    let (t, v1) = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
        .ok_or(DeliveryRefused::Malformed)?;
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DeliveryRefused::Malformed);
    }
    let t: u64 = t.parse().map_err(|_| DeliveryRefused::Malformed)?;
    let given = hex::decode(v1).map_err(|_| DeliveryRefused::Malformed)?;
    if now.abs_diff(t) > tolerance {
        return Err(DeliveryRefused::Stale { t, now });
    }
    if same(&mac(secret, t, body), &given) {
        Ok(())
    } else {
        Err(DeliveryRefused::Forged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef";

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        let a = signature(SECRET, 1_700_000_000, b"{}");
        assert!(a.starts_with("t=1700000000,v1="), "{a}");
        assert_eq!(a.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(a, signature(SECRET, 1_700_000_001, b"{}"));
        assert_ne!(a, signature(SECRET, 1_700_000_000, b"[]"));
        assert_ne!(a, signature("0123456789abcdeF", 1_700_000_000, b"{}"));
    }

    #[test]
    fn a_receiver_takes_what_was_signed_now_and_nothing_else() {
        let now = 1_700_000_000;
        let header = signature(SECRET, now, b"{}");
        assert_eq!(verify(SECRET, &header, b"{}", now + 10, 300), Ok(()));
        assert_eq!(
            verify(SECRET, &header, b"{} ", now, 300),
            Err(DeliveryRefused::Forged)
        );
        assert_eq!(
            verify("another secret!!", &header, b"{}", now, 300),
            Err(DeliveryRefused::Forged)
        );
        assert_eq!(
            verify(SECRET, &header, b"{}", now + 301, 300),
            Err(DeliveryRefused::Stale {
                t: now,
                now: now + 301
            })
        );
        for malformed in ["", "t=,v1=00", "t=+1,v1=00", "v1=00,t=1", "t=1,v1=zz"] {
            assert_eq!(
                verify(SECRET, malformed, b"{}", now, 300),
                Err(DeliveryRefused::Malformed),
                "{malformed}"
            );
        }
    }
}
