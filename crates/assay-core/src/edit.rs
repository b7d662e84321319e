//! Metadata edits, one asset or a hundred thousand: all-or-nothing, every
//! changed asset validated against the schema and given a signed
//! `metadata_change` or `license_change` event with the old and new values.
//!
//! The work runs in three steps so a large edit stays fast: read every
//! selected asset in one query; apply, validate and sign on every core
//! (pure work, nothing written); then write everything in one transaction.
//! Any refusal or invalid value in the first two steps writes nothing.

use std::collections::HashSet;

use rusqlite::params;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::catalog::{self, now, Filter};
use crate::creators;
use crate::error::{Error, Result};
use crate::library::Library;
use crate::licenses::Taxonomy;
use crate::metadata;
use crate::provenance::{self, EventKind, Sealed, Signer};
use crate::roles::{Action, Role};
use crate::users::Actor;

/// One change to apply to every selected asset.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Sets a field of the rights metadata; `Value::Null` clears it.
    Set { field: String, value: Value },
    /// Adds a sensitive flag.
    Flag(String),
    /// Removes a sensitive flag.
    Unflag(String),
    /// Links the creator profile of this name (name, contact, payout reference).
    Creator(String),
}

impl Change {
    /// Parses `field=value` as `--set` gives it.
    pub fn parse_set(arg: &str) -> Result<Change> {
        let (field, text) = arg
            .split_once('=')
            .ok_or_else(|| Error::InvalidInput(format!("--set {arg:?}: expected FIELD=VALUE")))?;
        let field = field.trim();
        if field == "creator" {
            return Ok(Change::Creator(text.to_owned()));
        }
        if !metadata::editable_fields().iter().any(|f| f == field) {
            return Err(Error::InvalidInput(format!(
                "--set {field}: not an editable field; editable fields: {}",
                metadata::editable_fields().join(", ")
            )));
        }
        Ok(Change::Set {
            field: field.to_owned(),
            value: metadata::parse_value(field, text)?,
        })
    }
}

/// Which assets an action covers.
#[derive(Debug, Clone)]
pub enum Selection {
    /// Asset ids (or unique prefixes), checksums or paths.
    Assets(Vec<String>),
    /// Every asset the filter matches.
    Where(Filter),
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct EditSummary {
    pub selected: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Approved assets the edit sent back to pending review.
    pub reopened: usize,
}

struct Target {
    row: i64,
    asset_id: String,
    rights: Map<String, Value>,
    state: String,
    uploaded_by: Option<i64>,
    next_seq: i64,
    head: Option<String>,
}

struct Edited {
    row: i64,
    /// The new rights document, a JSON object.
    rights: Value,
    reopen: bool,
    seq: i64,
    kind: EventKind,
    sealed: Sealed,
}

impl Library {
    /// Applies `changes` to every asset of `selection` as `actor`, or to none.
    pub fn edit(
        &self,
        actor: &Actor,
        selection: &Selection,
        changes: &[Change],
    ) -> Result<EditSummary> {
        actor.may(Action::EditMetadata)?;
        if changes.is_empty() {
            return Err(Error::InvalidInput("nothing to change".into()));
        }
        let taxonomy = self.taxonomy()?;
        let mut conn = self.connect()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let rows = select(&tx, selection)?;
        if rows.len() > 1 {
            actor.may(Action::BulkEdit)?;
        }
        let changes = resolve_creators(&tx, changes)?;
        let targets = load(&tx, &rows)?;
        if actor.role() == Role::Creator {
            if let Some(t) = targets.iter().find(|t| t.uploaded_by != Some(actor.id)) {
                return Err(Error::refused(
                    "creator-own-assets",
                    format!(
                        "{} is a creator and did not upload asset {}; creators edit only their own uploads",
                        actor.name(),
                        t.asset_id
                    ),
                ));
            }
        }
        let at = now();
        let edited = apply_all(actor, &targets, &changes, &taxonomy, &at)?;
        let mut summary = EditSummary {
            selected: targets.len(),
            changed: edited.len(),
            unchanged: targets.len() - edited.len(),
            reopened: 0,
        };
        let key_id = actor.key_id.to_string();
        {
            let mut update = tx.prepare_cached(
                "UPDATE assets SET rights = ?1, title = ?2, last_edited_by = ?3,
                    workflow_state = CASE WHEN ?4 THEN 'pending' ELSE workflow_state END,
                    state_since = CASE WHEN ?4 THEN ?5 ELSE state_since END,
                    provenance_hash = ?7
                 WHERE id = ?6",
            )?;
            for e in &edited {
                let rights = serde_json::to_string(&e.rights)
                    .map_err(|err| Error::InvalidInput(err.to_string()))?;
                let title = e.rights.get("title").and_then(Value::as_str);
                update.execute(params![
                    rights,
                    title,
                    actor.id,
                    e.reopen,
                    at,
                    e.row,
                    e.sealed.hash
                ])?;
                provenance::store_event(&tx, e.row, e.seq, e.kind, &key_id, &e.sealed)?;
                summary.reopened += usize::from(e.reopen);
            }
        }
        tx.commit()?;
        Ok(summary)
    }
}

/// The rows of the selected assets, each once, in catalog order.
pub(crate) fn select(conn: &rusqlite::Connection, selection: &Selection) -> Result<Vec<i64>> {
    let mut rows = match selection {
        Selection::Assets(keys) => keys
            .iter()
            .map(|k| catalog::resolve(conn, k))
            .collect::<Result<Vec<_>>>()?,
        Selection::Where(filter) => catalog::ids(conn, filter)?,
    };
    let mut seen = HashSet::new();
    rows.retain(|r| seen.insert(*r));
    Ok(rows)
}

/// Turns a creator link into the fields the profile sets.
fn resolve_creators(conn: &rusqlite::Connection, changes: &[Change]) -> Result<Vec<Change>> {
    let mut out = Vec::with_capacity(changes.len());
    for change in changes {
        let Change::Creator(name) = change else {
            out.push(change.clone());
            continue;
        };
        let set = |field: &str, value: Value| Change::Set {
            field: field.to_owned(),
            value,
        };
        if name.is_empty() {
            for field in [
                "creator",
                "creator_name",
                "creator_contact",
                "tax_and_payout_info",
            ] {
                out.push(set(field, Value::Null));
            }
            continue;
        }
        let c = creators::creator(conn, name)?;
        out.push(set("creator", json!(c.name)));
        out.push(set("creator_name", json!(c.name)));
        out.push(set("creator_contact", json!(c.contact)));
        out.push(set("tax_and_payout_info", json!(c.payout_ref)));
    }
    Ok(out)
}

/// The selected assets, in one query whatever their number.
fn load(conn: &rusqlite::Connection, rows: &[i64]) -> Result<Vec<Target>> {
    let mut stmt = conn.prepare(
        "SELECT a.id, a.asset_id, a.rights, a.workflow_state, a.uploaded_by, a.provenance_hash,
                (SELECT max(seq) FROM events e WHERE e.asset = a.id)
         FROM assets a WHERE a.id IN (SELECT value FROM json_each(?1)) ORDER BY a.id",
    )?;
    let ids = serde_json::to_string(rows).map_err(|e| Error::InvalidInput(e.to_string()))?;
    let mut out = Vec::with_capacity(rows.len());
    let mut cursor = stmt.query([ids])?;
    while let Some(r) = cursor.next()? {
        let row: i64 = r.get(0)?;
        let asset_id: String = r.get(1)?;
        let text: String = r.get(2)?;
        let rights = match serde_json::from_str(&text) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(Error::InvalidInput(format!(
                    "asset {asset_id}: its stored metadata is not a JSON object"
                )))
            }
        };
        let last: Option<i64> = r.get(6)?;
        out.push(Target {
            row,
            asset_id,
            rights,
            state: r.get(3)?,
            uploaded_by: r.get(4)?,
            head: r.get(5)?,
            next_seq: last.map_or(0, |s| s + 1),
        });
    }
    Ok(out)
}

/// Applies, validates and signs, on every core; the first error in catalog
/// order wins so the message does not depend on thread timing.
fn apply_all(
    actor: &Actor,
    targets: &[Target],
    changes: &[Change],
    taxonomy: &Taxonomy,
    at: &str,
) -> Result<Vec<Edited>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = targets.len().div_ceil(threads).max(1);
    let parts: Vec<Result<Vec<Edited>>> = std::thread::scope(|s| {
        let handles: Vec<_> = targets
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut out = Vec::new();
                    for t in part {
                        if let Some(e) = apply_one(actor, t, changes, taxonomy, at)? {
                            out.push(e);
                        }
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::InvalidInput("an edit worker panicked".into())))
            })
            .collect()
    });
    let mut edited = Vec::with_capacity(targets.len());
    for part in parts {
        edited.extend(part?);
    }
    Ok(edited)
}

fn apply_one(
    actor: &Actor,
    t: &Target,
    changes: &[Change],
    taxonomy: &Taxonomy,
    at: &str,
) -> Result<Option<Edited>> {
    let mut rights = t.rights.clone();
    for change in changes {
        match change {
            Change::Set { field, value } if value.is_null() => {
                rights.remove(field);
            }
            Change::Set { field, value } => {
                rights.insert(field.clone(), value.clone());
            }
            Change::Flag(flag) | Change::Unflag(flag) => {
                let mut flags: Vec<Value> = rights
                    .get("sensitive_flags")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                flags.retain(|f| f.as_str() != Some(flag));
                if matches!(change, Change::Flag(_)) {
                    flags.push(json!(flag));
                }
                rights.insert("sensitive_flags".into(), Value::Array(flags));
            }
            Change::Creator(_) => {} // resolved into Set changes before
        }
    }
    if rights == t.rights {
        return Ok(None);
    }
    let mut diff = Map::new();
    let fields: HashSet<&String> = rights.keys().chain(t.rights.keys()).collect();
    for field in fields {
        let (old, new) = (t.rights.get(field), rights.get(field));
        if old != new {
            diff.insert(field.clone(), json!({"old": old, "new": new}));
        }
    }
    let reopen = t.state == "approved";
    let license_changed = diff.contains_key("license_tag");
    let kind = if license_changed {
        EventKind::LicenseChange
    } else {
        EventKind::MetadataChange
    };
    let mut data = json!({"changes": diff, "reopened": reopen});
    if license_changed {
        data["previous_license"] = json!(t.rights.get("license_tag"));
        data["new_license"] = json!(rights.get("license_tag"));
        data["effective_date"] = json!(at);
    }
    let rights = Value::Object(rights);
    metadata::validate(&t.asset_id, &rights, taxonomy)?;
    let sealed = provenance::seal(
        &Signer::User(actor),
        &t.asset_id,
        t.next_seq,
        t.head.as_deref(),
        kind,
        at,
        data,
    );
    Ok(Some(Edited {
        row: t.row,
        rights,
        reopen,
        seq: t.next_seq,
        kind,
        sealed,
    }))
}
