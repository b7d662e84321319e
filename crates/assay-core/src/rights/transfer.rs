//! Transfer of rights: under a signed contract, the rights to assets pass to
//! a new holder. The asset's record takes the contract id, the new holder
//! and the ownership status; its chain takes a `transfer_of_rights` event
//! naming the contract, both parties and the effective date. Like any edit,
//! it is all-or-nothing and sends an approved asset back to review.

use serde_json::json;

use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::identity::roles::Action;
use crate::identity::users::Actor;
use crate::job::Job;
use crate::rights::edit::{self, Change, EditSummary, Purpose, Selection};

/// What `assay transfer` is given.
#[derive(Debug, Clone, Default)]
pub struct Transfer {
    /// The signed contract that transfers the rights.
    pub contract_id: String,
    /// Who holds the rights afterwards.
    pub to: String,
    /// The library's standing afterwards: owned, licensed or joint.
    pub ownership: String,
    /// `YYYY-MM-DD`; today (UTC) when not given.
    pub effective_date: Option<String>,
}

impl Library {
    /// Transfers the rights to every asset of `selection` as `actor` (a
    /// rights manager), or to none.
    pub fn transfer_rights(
        &self,
        actor: &Actor,
        selection: &Selection,
        transfer: &Transfer,
    ) -> Result<EditSummary> {
        actor.may(Action::TransferRights)?;
        let (contract_id, to) = (transfer.contract_id.trim(), transfer.to.trim());
        if contract_id.is_empty() {
            return Err(Error::required(
                "contract",
                "a transfer of rights needs the signed contract (--contract ID)",
            ));
        }
        if to.is_empty() {
            return Err(Error::required(
                "to",
                "a transfer of rights needs the new rights holder (--to NAME)",
            ));
        }
        let effective_date = effective_date(transfer.effective_date.as_deref())?;
        let set = |field: &str, value: &str| Change::Set {
            field: field.to_owned(),
            value: json!(value),
        };
        // The schema checks each value (ownership_status is an enum there).
        let changes = [
            set("signed_contract_id", contract_id),
            set("rights_holder", to),
            set("ownership_status", transfer.ownership.trim()),
        ];
        let purpose = Purpose::Transfer {
            contract_id: contract_id.to_owned(),
            to: to.to_owned(),
            effective_date,
        };
        let mut conn = self.connect()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let rows = edit::select(&tx, selection)?;
        self.apply(
            tx,
            actor,
            &rows,
            edit::Changes::Same(&changes),
            &purpose,
            &mut Job::quiet(),
        )
    }
}

/// Checks a `YYYY-MM-DD` date, or gives today's.
fn effective_date(given: Option<&str>) -> Result<String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match given {
        None => time::OffsetDateTime::now_utc()
            .date()
            .format(&format)
            .map_err(|e| Error::Internal(format!("today's date: {e}"))),
        Some(text) => time::Date::parse(text, &format)
            .map(|_| text.to_owned())
            .map_err(|e| {
                Error::invalid_value(
                    "effective",
                    format!("--effective {text:?}: not a date (expected YYYY-MM-DD): {e}"),
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_effective_date_is_checked_or_today() {
        assert_eq!(effective_date(Some("2026-02-28")).unwrap(), "2026-02-28");
        for bad in ["2026-02-30", "28/02/2026", "2026-2-8", ""] {
            let err = effective_date(Some(bad)).unwrap_err().to_string();
            assert!(err.contains("--effective"), "{err}");
        }
        let today = effective_date(None).unwrap();
        assert_eq!(today.len(), 10);
        assert!(time::Date::parse(
            &today,
            time::macros::format_description!("[year]-[month]-[day]")
        )
        .is_ok());
    }
}
