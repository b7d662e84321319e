//! The review workflow: draft → pending → approved | rejected, and
//! quarantined. Each transition is checked (role, ownership, separation of
//! duties, eligibility gates), recorded as a signed event, and applied to
//! every selected asset or to none.

use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::catalog::assets::now;
use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::identity::roles::{Action, Role};
use crate::identity::users::Actor;
use crate::provenance::chain;
use crate::provenance::event::{EventKind, Signer};
use crate::rights::edit::{self, Selection};
use crate::rights::gates::{gate_fields, FailedGate, Gates};

/// What happened to one asset.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Decision {
    pub asset_id: String,
    pub state: String,
    /// Gates the asset failed; on submission these quarantine it.
    pub failed_gates: Vec<FailedGate>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op<'a> {
    Submit,
    Approve(Option<&'a str>),
    Reject(&'a str),
    Quarantine(&'a str),
    Release,
}

pub(crate) struct Current {
    pub(crate) asset_id: String,
    state: String,
    pub(crate) uploaded_by: Option<i64>,
    last_edited_by: Option<i64>,
    pub(crate) fields: Map<String, Value>,
}

impl Op<'_> {
    pub(crate) fn action(self) -> Action {
        match self {
            Op::Submit => Action::Submit,
            Op::Approve(_) => Action::Approve,
            Op::Reject(_) => Action::Reject,
            Op::Quarantine(_) => Action::Quarantine,
            Op::Release => Action::Release,
        }
    }

    fn past(self) -> &'static str {
        match self {
            Op::Submit => "submitted",
            Op::Approve(_) => "approved",
            Op::Reject(_) => "rejected",
            Op::Quarantine(_) => "quarantined",
            Op::Release => "released",
        }
    }
}

impl Library {
    /// Submits assets for review. One that fails a gate is quarantined with
    /// the list of failed gates instead.
    pub fn submit(&self, actor: &Actor, selection: &Selection) -> Result<Vec<Decision>> {
        self.transition(actor, selection, Op::Submit)
    }

    /// Approves pending assets that pass every gate.
    pub fn approve(
        &self,
        actor: &Actor,
        selection: &Selection,
        comment: Option<&str>,
    ) -> Result<Vec<Decision>> {
        self.transition(actor, selection, Op::Approve(comment))
    }

    pub fn reject(
        &self,
        actor: &Actor,
        selection: &Selection,
        comment: &str,
    ) -> Result<Vec<Decision>> {
        self.transition(actor, selection, Op::Reject(comment))
    }

    pub fn quarantine(
        &self,
        actor: &Actor,
        selection: &Selection,
        reason: &str,
    ) -> Result<Vec<Decision>> {
        self.transition(actor, selection, Op::Quarantine(reason))
    }

    /// Releases quarantined assets back to draft, to be fixed and resubmitted.
    pub fn release(&self, actor: &Actor, selection: &Selection) -> Result<Vec<Decision>> {
        self.transition(actor, selection, Op::Release)
    }

    fn transition(&self, actor: &Actor, selection: &Selection, op: Op) -> Result<Vec<Decision>> {
        actor.may(op.action())?;
        if let Op::Reject(text) | Op::Quarantine(text) = op {
            if text.trim().is_empty() {
                return Err(Error::required(
                    "comment",
                    "give a reason (--comment): a rejection or quarantine must say why",
                ));
            }
        }
        let gates = Gates::load(&self.root().join("gates.json"))?;
        let taxonomy = self.taxonomy()?;
        let today = time::OffsetDateTime::now_utc().date();
        let mut conn = self.connect()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let signer = Signer::User(actor);
        let at = now();
        let mut decisions = Vec::new();
        for row in edit::select(&tx, selection)? {
            let current = load(&tx, row)?;
            let failed = gates.check(&current.fields, &taxonomy, today);
            let (kind, state, data) = decide(actor, &current, op, &failed)?;
            chain::append_at(&tx, row, &current.asset_id, kind, data, &signer, &at)?;
            tx.prepare_cached(
                "UPDATE assets SET workflow_state = ?1, state_since = ?2 WHERE id = ?3",
            )?
            .execute(params![state, at, row])?;
            decisions.push(Decision {
                asset_id: current.asset_id,
                state: state.to_owned(),
                failed_gates: failed,
            });
        }
        tx.commit()?;
        Ok(decisions)
    }
}

pub(crate) fn load(conn: &Connection, row: i64) -> Result<Current> {
    #[allow(clippy::type_complexity)]
    let (asset_id, checksum, hash, rights, state, uploaded_by, last_edited_by, credentials): (
        String,
        String,
        Option<String>,
        String,
        String,
        Option<i64>,
        Option<i64>,
        Option<String>,
    ) = conn.query_row(
        "SELECT asset_id, checksum, provenance_hash, rights, workflow_state, uploaded_by, last_edited_by,
                content_credentials
         FROM assets WHERE id = ?1",
        [row],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        },
    )?;
    let fields = gate_fields(
        &rights,
        &asset_id,
        &checksum,
        hash.as_deref(),
        credentials.as_deref(),
    );
    Ok(Current {
        asset_id,
        state,
        uploaded_by,
        last_edited_by,
        fields,
    })
}

/// The rule that refuses `op` on `asset` by `actor`, whose role allows the
/// action: the asset's state, a creator's own uploads, separation of duties
/// and, for an approval, the gates it fails. The one place these rules
/// live: a transition checks them when it runs, and
/// [`Library::permits`](crate::Library::permits) asks them beforehand so the
/// app enables only what would succeed.
pub(crate) fn check(actor: &Actor, asset: &Current, op: Op, failed: &[FailedGate]) -> Result<()> {
    let from = asset.state.as_str();
    let wrong_state = |wanted: &str| {
        Err(Error::refused(
            "workflow-state",
            format!(
                "asset {} is {from}; only a {wanted} asset can be {}",
                asset.asset_id,
                op.past()
            ),
        ))
    };
    match op {
        Op::Submit => {
            if !matches!(from, "draft" | "rejected") {
                return wrong_state("draft or rejected");
            }
            if actor.role() == Role::Creator && asset.uploaded_by != Some(actor.id) {
                return Err(Error::refused(
                    "creator-own-assets",
                    format!(
                        "{} did not upload asset {}; creators submit only their own uploads",
                        actor.name(),
                        asset.asset_id
                    ),
                ));
            }
        }
        Op::Approve(_) => {
            if from != "pending" {
                return wrong_state("pending");
            }
            if asset.uploaded_by == Some(actor.id) || asset.last_edited_by == Some(actor.id) {
                return Err(Error::refused(
                    "separation-of-duties",
                    format!(
                        "{} uploaded or last edited asset {}; someone else must approve it",
                        actor.name(),
                        asset.asset_id
                    ),
                ));
            }
            if !failed.is_empty() {
                let list: Vec<String> = failed
                    .iter()
                    .map(|f| format!("{} ({})", f.gate, f.reason))
                    .collect();
                return Err(Error::refused(
                    "eligibility",
                    format!("asset {} fails {}", asset.asset_id, list.join("; ")),
                ));
            }
        }
        Op::Reject(_) if from != "pending" => return wrong_state("pending"),
        Op::Quarantine(_) if from == "quarantined" => return wrong_state("non-quarantined"),
        Op::Release if from != "quarantined" => return wrong_state("quarantined"),
        Op::Reject(_) | Op::Quarantine(_) | Op::Release => {}
    }
    Ok(())
}

/// The event and the new state for `op` on `asset`, or the rule that refuses it.
fn decide(
    actor: &Actor,
    asset: &Current,
    op: Op,
    failed: &[FailedGate],
) -> Result<(EventKind, &'static str, Value)> {
    check(actor, asset, op, failed)?;
    let failed_json = || serde_json::to_value(failed).unwrap_or(Value::Null);
    Ok(match op {
        // Submitting what fails a gate quarantines it, recorded as the
        // submission's outcome (the submitter is not a rights manager).
        Op::Submit => {
            let outcome = if failed.is_empty() {
                "pending"
            } else {
                "quarantined"
            };
            let data = json!({"outcome": outcome, "failed_gates": failed_json()});
            (EventKind::Submission, outcome, data)
        }
        Op::Approve(comment) => {
            let data = json!({"decision": "approved", "comment": comment});
            (EventKind::Approval, "approved", data)
        }
        Op::Reject(comment) => {
            let data = json!({"decision": "rejected", "comment": comment});
            (EventKind::Rejection, "rejected", data)
        }
        Op::Quarantine(reason) => {
            let data = json!({"reason": reason, "failed_gates": failed_json()});
            (EventKind::Quarantine, "quarantined", data)
        }
        Op::Release => (EventKind::Release, "draft", json!({})),
    })
}
