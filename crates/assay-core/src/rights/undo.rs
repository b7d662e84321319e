//! Undo of a user's last edit: a new signed edit that sets each field the
//! edit changed back to what it was, on every asset where the field still
//! holds what the edit set. The provenance shows both: the edit, and the
//! undo naming it (`undoes`: the time of the edit undone). An asset changed
//! since keeps what it has now and is named, never overwritten.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::identity::roles::Action;
use crate::identity::users::Actor;
use crate::job::Job;
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
