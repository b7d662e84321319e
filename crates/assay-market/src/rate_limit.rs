//! Per-account token buckets for the routes that show what is for sale
//! (previews and samples): they are cheap to ask for and the only way to
//! see content without buying, so one account may not scrape them.
//!
//! A bucket holds up to `per_minute` tokens and refills continuously at
//! `per_minute` a minute; a request takes one. Buckets live in memory: a
//! restart refills them, which is harmless.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use assay_market_proto::ErrorCode;

use crate::error::ApiError;
use crate::records::AccountId;

pub(crate) struct RateLimit {
    per_minute: u32,
    buckets: Mutex<HashMap<AccountId, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimit {
    /// `per_minute` 0 lets everything through.
    pub fn new(per_minute: u32) -> RateLimit {
        RateLimit {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `account`, or says when one will be there.
    pub fn take(&self, account: AccountId) -> Result<(), ApiError> {
        match self.wait(account, Instant::now()) {
            None => Ok(()),
            Some(wait) => {
                // Retry-After is in whole seconds; round up so it is enough.
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(ApiError::new(
                    ErrorCode::RateLimited,
                    format!(
                        "at most {} preview and sample requests a minute; try again in {secs} s",
                        self.per_minute
                    ),
                )
                .with_header("retry-after", secs.max(1).to_string()))
            }
        }
    }

    /// `None` when a token was taken at `now`, else how long until one is.
    fn wait(&self, account: AccountId, now: Instant) -> Option<Duration> {
        if self.per_minute == 0 {
            return None;
        }
        let capacity = f64::from(self.per_minute);
        let per_sec = capacity / 60.0;
        // A poisoned lock only means another request panicked mid-update;
        // the buckets are still numbers.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets.entry(account).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_sec).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - bucket.tokens) / per_sec))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_then_refills_at_its_rate() {
        let limit = RateLimit::new(60);
        let start = Instant::now();
        for _ in 0..60 {
            assert_eq!(limit.wait(1, start), None);
        }
        let wait = limit.wait(1, start).unwrap();
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::ZERO,
            "{wait:?}"
        );
        // Another account has its own bucket.
        assert_eq!(limit.wait(2, start), None);
        // One token a second comes back.
        assert_eq!(limit.wait(1, start + Duration::from_secs(1)), None);
        assert!(limit.wait(1, start + Duration::from_secs(1)).is_some());
        assert!(RateLimit::new(0).wait(1, start).is_none());
    }
}
