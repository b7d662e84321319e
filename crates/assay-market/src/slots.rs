//! How many uploads and downloads one account may have under way at once:
//! a client that opens connections and trickles bytes, or never reads,
//! holds at most that many of the server's slots, and the others' requests
//! go on. A slot is held by a guard; dropping it (the request ended, the
//! download's stream finished or was abandoned) gives it back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use assay_market_proto::ErrorCode;

use crate::error::ApiError;
use crate::records::AccountId;

pub(crate) struct Slots {
    /// What the slots are for, as a refusal names them ("uploads").
    what: &'static str,
    per_account: usize,
    held: Arc<Mutex<HashMap<AccountId, usize>>>,
}

/// One slot, given back when dropped.
pub(crate) struct Slot {
    account: AccountId,
    held: Arc<Mutex<HashMap<AccountId, usize>>>,
}

impl Slots {
    pub fn new(what: &'static str, per_account: usize) -> Slots {
        Slots {
            what,
            per_account: per_account.max(1),
            held: Arc::default(),
        }
    }

    /// A slot for `account`, or 429 `rate_limited` when it holds them all.
    pub fn take(&self, account: AccountId) -> Result<Slot, ApiError> {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = held.entry(account).or_default();
        if *count >= self.per_account {
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                format!(
                    "at most {} {} at once per account; one must end first",
                    self.per_account, self.what
                ),
            )
            .with_header("retry-after", "1".to_owned()));
        }
        *count += 1;
        Ok(Slot {
            account,
            held: Arc::clone(&self.held),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.account) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.remove(&self.account);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_holds_at_most_its_slots_and_others_are_untouched() {
        let slots = Slots::new("downloads", 2);
        let (a, b) = (slots.take(1).unwrap(), slots.take(1).unwrap());
        let refused = slots.take(1).err().unwrap();
        assert!(refused.message.contains("at most 2 downloads"));
        let other = slots.take(2).unwrap();
        drop(a);
        let again = slots.take(1).unwrap();
        drop((b, other, again));
        assert!(slots.held.lock().unwrap().is_empty());
    }
}
