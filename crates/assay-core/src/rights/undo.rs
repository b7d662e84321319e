//! Undo of a user's last edit: a new signed edit that sets each field the
//! edit changed back to what it was, on every asset where the field still
//! holds what the edit set. The provenance shows both: the edit, and the
//! undo naming it (`undoes`: the time of the edit undone). An asset changed
//! since keeps what it has now and is named, never overwritten.
//!
//! And undo of a rights manager's last decision (approval or rejection):
//! each asset whose chain ends with that decision (nothing exported,
//! listed, built into a dataset or changed since) goes back to pending
//! review with a signed `decision_undone` event naming the decision.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::catalog::assets::now;
use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::identity::roles::Action;
use crate::identity::users::Actor;
use crate::job::Job;
use crate::provenance::chain;
use crate::provenance::event::{EventKind, Signer};
use crate::rights::edit::{Change, Changes, Purpose};

/// What undoing an edit did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Undone {
    /// When the edit undone was made.
    pub edit_at: String,
    /// Assets the edit changed.
    pub assets: u32,
    /// Assets set back as they were.
    pub restored: u32,
    /// Assets changed since the edit, left as they are, and why.
    pub kept: Vec<KeptAsset>,
    /// Approved assets the undo sent back to pending review.
    pub reopened: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct KeptAsset {
    pub asset_id: String,
    pub reason: String,
}

/// What undoing a decision did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UndoneDecision {
    /// When the decision undone was made.
    pub decided_at: String,
    /// `approved` or `rejected`.
    pub decision: String,
    /// Assets the decision was on.
    pub assets: u32,
    /// Assets back in pending review.
    pub reopened: u32,
    /// Assets something followed the decision on, left as they are, and why.
    pub kept: Vec<KeptAsset>,
}

/// One asset's part of a decision: its row, id and the decision event's hash.
struct Decided {
    row: i64,
    asset_id: String,
    hash: String,
}

/// One asset's part of the edit: its row, id and `changes` (field → old, new).
struct Edited {
    row: i64,
    asset_id: String,
    changes: Map<String, Value>,
}

impl Library {
    /// Undoes `actor`'s last metadata edit (every asset it changed, in one
    /// new signed edit), once: an undo is itself never undone this way.
    pub fn undo_last_edit(&self, actor: &Actor) -> Result<Undone> {
        actor.may(Action::EditMetadata)?;
        let mut conn = self.connect()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (at, edited) = last_edit(&tx, actor)?;
        let mut restore: HashMap<i64, Vec<Change>> = HashMap::new();
        let mut kept = Vec::new();
        for e in &edited {
            let rights: String =
                tx.query_row("SELECT rights FROM assets WHERE id = ?1", [e.row], |r| {
                    r.get(0)
                })?;
            let now: Map<String, Value> = serde_json::from_str(&rights).unwrap_or_default();
            let changed_since: Vec<&str> = e
                .changes
                .iter()
                .filter(|(field, change)| now.get(*field).unwrap_or(&Value::Null) != &change["new"])
                .map(|(field, _)| field.as_str())
                .collect();
            if !changed_since.is_empty() {
                kept.push(KeptAsset {
                    asset_id: e.asset_id.clone(),
                    reason: format!("changed since: {}", changed_since.join(", ")),
                });
                continue;
            }
            let changes = e
                .changes
                .iter()
                .map(|(field, change)| Change::set(field, change["old"].clone()))
                .collect();
            restore.insert(e.row, changes);
        }
        let rows: Vec<i64> = edited
            .iter()
            .map(|e| e.row)
            .filter(|row| restore.contains_key(row))
            .collect();
        let summary = if rows.is_empty() {
            tx.rollback()?;
            None
        } else {
            let purpose = Purpose::Undo { of: at.clone() };
            let changes = Changes::PerRow(&restore);
            Some(self.apply(tx, actor, &rows, changes, &purpose, &mut Job::quiet())?)
        };
        Ok(Undone {
            edit_at: at,
            assets: edited.len() as u32,
            restored: summary.as_ref().map_or(0, |s| s.changed as u32),
            kept,
            reopened: summary.map_or(0, |s| s.reopened as u32),
        })
    }
}

impl Library {
    /// Takes back `actor`'s last approval or rejection, on every asset it
    /// was on where nothing has followed it: those are pending review
    /// again. Refused when the last decision was itself taken back.
    pub fn undo_last_decision(&self, actor: &Actor) -> Result<UndoneDecision> {
        actor.may(Action::Approve)?;
        let mut conn = self.connect()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (decided_at, decision, decided) = last_decision(&tx, actor)?;
        let signer = Signer::User(actor);
        let at = now();
        let mut kept = Vec::new();
        let mut reopened = 0;
        for d in &decided {
            // The chain past the decision, if anything follows it.
            let mut stmt = tx.prepare_cached(
                "SELECT e.kind FROM events e
                 WHERE e.asset = ?1
                   AND e.seq > (SELECT seq FROM events WHERE asset = ?1 AND hash = ?2)
                 ORDER BY e.seq",
            )?;
            let since: Vec<String> = stmt
                .query_map(rusqlite::params![d.row, d.hash], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            if let Some(reason) = followed(&since) {
                kept.push(KeptAsset {
                    asset_id: d.asset_id.clone(),
                    reason,
                });
                continue;
            }
            let data = serde_json::json!({
                "undoes": d.hash,
                "decision": decision,
                "state": "pending",
            });
            chain::append_at(
                &tx,
                d.row,
                &d.asset_id,
                EventKind::DecisionUndone,
                data,
                &signer,
                &at,
            )?;
            tx.prepare_cached(
                "UPDATE assets SET workflow_state = 'pending', state_since = ?2 WHERE id = ?1",
            )?
            .execute(rusqlite::params![d.row, at])?;
            reopened += 1;
        }
        tx.commit()?;
        Ok(UndoneDecision {
            decided_at,
            decision,
            assets: decided.len() as u32,
            reopened,
            kept,
        })
    }
}

/// Why a decision followed by the events `since` (their kinds, in order)
/// stands, or `None` when nothing follows it.
fn followed(since: &[String]) -> Option<String> {
    let first_of = |kinds: &[&str]| since.iter().find(|k| kinds.contains(&k.as_str()));
    let reason = if first_of(&["export_to_marketplace"]).is_some() {
        "listed on a marketplace since".to_owned()
    } else if first_of(&["export"]).is_some() {
        "exported since".to_owned()
    } else if first_of(&["dataset_build"]).is_some() {
        "built into a dataset since".to_owned()
    } else {
        format!("changed since: {}", since.first()?)
    };
    Some(reason)
}

/// The events of `actor`'s last decision (one time for all of them: a
/// decision over many assets is written at one moment), what it decided,
/// and when.
fn last_decision(
    conn: &rusqlite::Connection,
    actor: &Actor,
) -> Result<(String, String, Vec<Decided>)> {
    let mut stmt = conn.prepare(
        "SELECT e.asset, a.asset_id, e.kind, e.hash, json_extract(e.body, '$.at')
         FROM events e JOIN assets a ON a.id = e.asset
         WHERE e.key_id = ?1 AND e.kind IN ('approval', 'rejection', 'decision_undone')
         ORDER BY e.id DESC",
    )?;
    let mut rows = stmt.query([actor.key_id.as_str()])?;
    let mut first: Option<(String, String)> = None;
    let mut decided = Vec::new();
    while let Some(r) = rows.next()? {
        let kind: String = r.get(2)?;
        let at: String = r.get::<_, Option<String>>(4)?.unwrap_or_default();
        match &first {
            None if kind == "decision_undone" => {
                return Err(Error::refused(
                    "undo",
                    format!(
                        "{}'s last decision was taken back already; there is nothing to undo",
                        actor.name()
                    ),
                ))
            }
            None => first = Some((at, kind.clone())),
            Some((when, what)) if *when != at || *what != kind => break,
            Some(_) => {}
        }
        decided.push(Decided {
            row: r.get(0)?,
            asset_id: r.get(1)?,
            hash: r.get(3)?,
        });
    }
    let (at, kind) = first.ok_or_else(|| {
        Error::refused(
            "undo",
            format!("{} has made no decision to undo", actor.name()),
        )
    })?;
    let decision = if kind == "approval" {
        "approved"
    } else {
        "rejected"
    };
    Ok((at, decision.to_owned(), decided))
}

/// The events of `actor`'s last edit (they were written together, so they
/// are the newest of the actor's edit events with one time), and that time.
fn last_edit(conn: &rusqlite::Connection, actor: &Actor) -> Result<(String, Vec<Edited>)> {
    let mut stmt = conn.prepare(
        "SELECT e.asset, a.asset_id, e.body FROM events e JOIN assets a ON a.id = e.asset
         WHERE e.key_id = ?1 AND e.kind IN ('metadata_change', 'license_change')
         ORDER BY e.id DESC",
    )?;
    let mut rows = stmt.query([actor.key_id.as_str()])?;
    let mut at: Option<String> = None;
    let mut edited = Vec::new();
    while let Some(r) = rows.next()? {
        let body: Value = serde_json::from_str(r.get_ref(2)?.as_str().unwrap_or_default())
            .map_err(|e| Error::Corrupt(format!("an event's body is not JSON: {e}")))?;
        let this_at = body["at"].as_str().unwrap_or_default().to_owned();
        match &at {
            None if body["data"].get("undoes").is_some() => {
                return Err(Error::refused(
                    "undo",
                    format!(
                        "{}'s last edit was an undo; there is nothing to undo",
                        actor.name()
                    ),
                ))
            }
            None => at = Some(this_at),
            Some(first) if *first != this_at => break,
            Some(_) => {}
        }
        edited.push(Edited {
            row: r.get(0)?,
            asset_id: r.get(1)?,
            changes: body["data"]["changes"]
                .as_object()
                .cloned()
                .unwrap_or_default(),
        });
    }
    let at = at.ok_or_else(|| {
        Error::refused("undo", format!("{} has made no edit to undo", actor.name()))
    })?;
    Ok((at, edited))
}
