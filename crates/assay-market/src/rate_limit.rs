//! Per-account token buckets for the routes that show what is for sale
//! (previews and samples): they are cheap to ask for and the only way to
//! see content without buying, so one account may not scrape them.
//!
//! A bucket holds up to `per_minute` tokens and refills continuously at
//! `per_minute` a minute; a request takes one. Buckets live in the records
//! ([`crate::Records::take_token`]), so the limit is the account's across
//! every server process sharing them, not per process.

use assay_market_proto::ErrorCode;

use crate::app::App;
use crate::error::ApiError;
use crate::records::AccountId;

/// A bucket as stored: its tokens when last counted, and when.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    pub tokens: f64,
    pub at_ms: i64,
}

impl Bucket {
    /// A full bucket of `per_minute` tokens at `now_ms`.
    pub fn full(per_minute: u32, now_ms: i64) -> Bucket {
        Bucket {
            tokens: f64::from(per_minute),
            at_ms: now_ms,
        }
    }

    /// Takes a token at `now_ms` after refilling: the bucket after, and
    /// `None` when a token was taken, else the milliseconds until one is.
    pub fn take(self, per_minute: u32, now_ms: i64) -> (Bucket, Option<u64>) {
        let capacity = f64::from(per_minute);
        let per_ms = capacity / 60_000.0;
        // A clock that went back refills nothing.
        let elapsed = now_ms.saturating_sub(self.at_ms).max(0) as f64;
        let tokens = (self.tokens + elapsed * per_ms).min(capacity);
        if tokens >= 1.0 {
            let after = Bucket {
                tokens: tokens - 1.0,
                at_ms: now_ms,
            };
            (after, None)
        } else {
            let wait = ((1.0 - tokens) / per_ms).ceil() as u64;
            (
                Bucket {
                    tokens,
                    at_ms: now_ms,
                },
                Some(wait.max(1)),
            )
        }
    }
}

/// Takes a token for `account`, or answers 429 saying when one will be
/// there. A limit of 0 lets everything through.
pub(crate) async fn take(app: &App, account: AccountId) -> Result<(), ApiError> {
    let per_minute = app.config.preview_rate_per_minute;
    if per_minute == 0 {
        return Ok(());
    }
    let now_ms = crate::clock::now_ms();
    let wait = app
        .records(move |r| r.take_token(account, per_minute, now_ms))
        .await?;
    match wait {
        None => Ok(()),
        Some(ms) => {
            // Retry-After is in whole seconds; round up so it is enough.
            let secs = ms.div_ceil(1000);
            Err(ApiError::new(
                ErrorCode::RateLimited,
                format!(
                    "at most {per_minute} preview and sample requests a minute; try again in {secs} s"
                ),
            )
            .with_header("retry-after", secs.max(1).to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_then_refills_at_its_rate() {
        let start = 1_000_000;
        let mut bucket = Bucket::full(60, start);
        for _ in 0..60 {
            let (after, wait) = bucket.take(60, start);
            assert_eq!(wait, None);
            bucket = after;
        }
        let (after, wait) = bucket.take(60, start);
        assert!(matches!(wait, Some(1..=1000)), "{wait:?}");
        // One token a second comes back.
        let (after, wait) = after.take(60, start + 1000);
        assert_eq!(wait, None);
        assert!(after.take(60, start + 1000).1.is_some());
        // A clock that went back refills nothing and takes nothing away.
        assert!(after.take(60, start).1.is_some());
    }
}
