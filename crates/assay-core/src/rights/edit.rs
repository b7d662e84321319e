//! Metadata edits, one asset or a hundred thousand: all-or-nothing, every
//! changed asset validated against the schema and given a signed
//! `metadata_change` or `license_change` event with the old and new values.
//!
//! A large edit runs as a pipeline so it stays fast: a loader reads the
//! selected assets in chunks, workers on every core apply, validate and sign
//! (signing is most of the cost), and the calling thread writes each chunk in
//! catalog order, all inside one transaction. Any refusal or invalid value
//! stops the pipeline and the transaction writes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rusqlite::params;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::catalog::assets::{self, now, Filter};
use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::formats::canonical::canonical_json;
use crate::identity::roles::{Action, Role};
use crate::identity::users::Actor;
use crate::job::Job;
use crate::provenance::event::{Composed, EventKind, Signer};
use crate::provenance::{chain, event};
use crate::rights::creators;
use crate::rights::licenses::Taxonomy;
use crate::rights::metadata;

/// One change to apply to every selected asset.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Sets a field of the rights metadata; `Value::Null` clears it.
    Set { field: String, value: Value },
    /// Adds a sensitive flag.
    Flag(String),
    /// Removes a sensitive flag.
    Unflag(String),
    /// Sets a field only on assets where it is not set yet: a creator
    /// profile's default license never replaces a license chosen for an
    /// asset.
    Fill { field: String, value: Value },
    /// Links the creator profile of this name (name, contact, payout
    /// reference, and its default license where an asset has none).
    Creator(String),
}

impl Change {
    /// Sets `field` to `value` (`Value::Null` clears it).
    pub fn set(field: &str, value: Value) -> Change {
        Change::Set {
            field: field.to_owned(),
            value,
        }
    }

    /// Parses `field=value` as `--set` gives it.
    pub fn parse_set(arg: &str) -> Result<Change> {
        let (field, text) = arg.split_once('=').ok_or_else(|| {
            Error::invalid_value("set", format!("--set {arg:?}: expected FIELD=VALUE"))
        })?;
        Change::set_text(field, text)
    }

    /// Sets `field` to `text` as typed (JSON for the JSON fields, empty to
    /// clear); `creator` links the creator profile of that name.
    pub fn set_text(field: &str, text: &str) -> Result<Change> {
        let field = field.trim();
        if field == "creator" {
            return Ok(Change::Creator(text.to_owned()));
        }
        if !metadata::editable_fields().iter().any(|f| f == field) {
            return Err(Error::invalid_value(
                "set",
                format!(
                    "--set {field}: not an editable field; editable fields: {}",
                    metadata::editable_fields().join(", ")
                ),
            ));
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
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
    /// The stored rights document, parsed by the worker that applies the edit.
    rights: String,
    state: String,
    uploaded_by: Option<i64>,
    next_seq: i64,
    head: Option<String>,
}

/// What an edit changes: the same on every asset, or each asset its own
/// (an undo restores each asset's own earlier values).
#[derive(Clone, Copy)]
pub(crate) enum Changes<'a> {
    Same(&'a [Change]),
    PerRow(&'a HashMap<i64, Vec<Change>>),
}

impl<'a> Changes<'a> {
    fn of(self, row: i64) -> &'a [Change] {
        match self {
            Changes::Same(changes) => changes,
            Changes::PerRow(by_row) => by_row.get(&row).map_or(&[], Vec::as_slice),
        }
    }
}

/// What a changed asset's event records beside the changes.
pub(crate) enum Purpose {
    /// A metadata edit: `metadata_change`, or `license_change` when the
    /// license tag changed.
    Edit,
    /// An edit that restores what the edit made at `of` changed
    /// (`metadata_change` or `license_change`, saying `undoes`).
    Undo { of: String },
    /// A `transfer_of_rights` under a contract.
    Transfer {
        contract_id: String,
        to: String,
        effective_date: String,
    },
}

/// Everything each worker needs to apply one edit to one asset.
struct Run<'a> {
    actor: &'a Actor,
    changes: Changes<'a>,
    taxonomy: &'a Taxonomy,
    at: &'a str,
    purpose: &'a Purpose,
}

struct Edited {
    change: RowUpdate,
    /// Signed with the rest of its chunk, as one batch, when written.
    event: Composed,
}

/// What an edit writes to one asset's row, and where its event goes.
struct RowUpdate {
    row: i64,
    /// The new rights document, serialized.
    rights: String,
    title: Option<String>,
    reopen: bool,
    seq: i64,
    kind: EventKind,
}

impl Library {
    /// Applies `changes` to every asset of `selection` as `actor`, or to none.
    pub fn edit(
        &self,
        actor: &Actor,
        selection: &Selection,
        changes: &[Change],
    ) -> Result<EditSummary> {
        self.edit_with(actor, selection, changes, &mut Job::quiet())
    }

    /// [`Library::edit`] as a job: progress in assets as each chunk is
    /// written. An edit is one transaction, so a cancelled edit keeps
    /// nothing: it returns [`Error::Cancelled`] and the catalog is as it was.
    pub fn edit_with(
        &self,
        actor: &Actor,
        selection: &Selection,
        changes: &[Change],
        job: &mut Job,
    ) -> Result<EditSummary> {
        actor.may(Action::EditMetadata)?;
        if changes.is_empty() {
            return Err(Error::required("changes", "nothing to change"));
        }
        let mut conn = self.connect()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let rows = select(&tx, selection)?;
        if rows.len() > 1 {
            actor.may(Action::BulkEdit)?;
        }
        let changes = resolve_creators(&tx, changes)?;
        self.apply(
            tx,
            actor,
            &rows,
            Changes::Same(&changes),
            &Purpose::Edit,
            job,
        )
    }

    /// Applies `changes` to the assets of `rows` inside `tx` and commits,
    /// recording each changed asset's event as `purpose` says. The caller
    /// has checked the actor's role.
    pub(crate) fn apply(
        &self,
        tx: rusqlite::Transaction,
        actor: &Actor,
        rows: &[i64],
        changes: Changes,
        purpose: &Purpose,
        job: &mut Job,
    ) -> Result<EditSummary> {
        let taxonomy = self.taxonomy()?;
        // The loader reads on its own connection. `tx` holds the write lock,
        // so the loader's snapshot is exactly what is being edited.
        let reader = self.connect()?;
        let at = now();
        let run = Run {
            actor,
            changes,
            taxonomy: &taxonomy,
            at: &at,
            purpose,
        };
        let mut summary = EditSummary {
            selected: rows.len(),
            ..EditSummary::default()
        };
        let mut chunks = 0;
        job.step(0, rows.len())?;
        pipeline(
            reader,
            rows,
            |target| apply_one(&run, target),
            |edited| {
                write(&tx, actor, &at, edited, &mut summary)?;
                chunks += 1;
                job.step((chunks * CHUNK).min(rows.len()), rows.len())
            },
        )?;
        summary.unchanged = summary.selected - summary.changed;
        // The last word before the commit: once committed, the edit is whole.
        job.check()?;
        tx.commit()?;
        Ok(summary)
    }
}

/// The rows of the selected assets, each once, in catalog order.
pub(crate) fn select(conn: &rusqlite::Connection, selection: &Selection) -> Result<Vec<i64>> {
    let mut rows = match selection {
        Selection::Assets(keys) => keys
            .iter()
            .map(|k| assets::resolve(conn, k))
            .collect::<Result<Vec<_>>>()?,
        Selection::Where(filter) => assets::ids(conn, filter)?,
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
        for (field, value, fill) in creators::linked_fields(&c) {
            out.push(match fill {
                true => Change::Fill {
                    field: field.to_owned(),
                    value,
                },
                false => set(field, value),
            });
        }
    }
    Ok(out)
}

/// The assets of `rows`, read in one query.
fn load(conn: &rusqlite::Connection, rows: &[i64]) -> Result<Vec<Target>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.asset_id, a.rights, a.workflow_state, a.uploaded_by, a.provenance_hash,
                (SELECT max(seq) FROM events e WHERE e.asset = a.id)
         FROM assets a WHERE a.id IN (SELECT value FROM json_each(?1)) ORDER BY a.id",
    )?;
    let ids = serde_json::to_string(rows).map_err(|e| Error::Internal(e.to_string()))?;
    let mut out = Vec::with_capacity(rows.len());
    let mut cursor = stmt.query([ids])?;
    while let Some(r) = cursor.next()? {
        let last: Option<i64> = r.get(6)?;
        out.push(Target {
            row: r.get(0)?,
            asset_id: r.get(1)?,
            rights: r.get(2)?,
            state: r.get(3)?,
            uploaded_by: r.get(4)?,
            head: r.get(5)?,
            next_seq: last.map_or(0, |s| s + 1),
        });
    }
    Ok(out)
}

/// Assets per unit of work.
const CHUNK: usize = 256;

type Chunk<T> = (usize, Result<Vec<T>>);

/// Runs an edit as three overlapping stages, so reading, signing and
/// writing a large edit share the cores instead of following each other:
/// a loader thread reads the selected assets in chunks on `reader`, workers
/// on every core run `apply` (validate and sign), and this thread hands the
/// results to `write` in catalog order. The first error in catalog order wins
/// (the message does not depend on thread timing) and stops the stages; the
/// caller's transaction then writes nothing.
fn pipeline<A, W>(reader: rusqlite::Connection, rows: &[i64], apply: A, mut write: W) -> Result<()>
where
    A: Fn(&Target) -> Result<Option<Edited>> + Sync,
    W: FnMut(Vec<Edited>) -> Result<()>,
{
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (to_workers, loaded) = crossbeam_channel::bounded::<Chunk<Target>>(threads * 2);
    let (to_writer, applied) = crossbeam_channel::bounded::<Chunk<Edited>>(threads * 4);
    std::thread::scope(|s| {
        let loader = s.spawn(move || {
            for (index, part) in rows.chunks(CHUNK).enumerate() {
                // A closed channel means the writer stopped on an error.
                if to_workers.send((index, load(&reader, part))).is_err() {
                    break;
                }
            }
        });
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (loaded, to_writer, apply) = (loaded.clone(), to_writer.clone(), &apply);
                s.spawn(move || {
                    for (index, targets) in loaded {
                        let edited = targets.and_then(|targets| {
                            targets
                                .iter()
                                .filter_map(|t| apply(t).transpose())
                                .collect()
                        });
                        if to_writer.send((index, edited)).is_err() {
                            break;
                        }
                    }
                })
            })
            .collect();
        drop((loaded, to_writer));
        let written = write_in_order(&applied, rows.len().div_ceil(CHUNK), &mut write);
        // Unblocks any stage waiting to send after an error.
        drop(applied);
        let panicked = std::iter::once(loader)
            .chain(workers)
            .map(|t| t.join())
            .any(|joined| joined.is_err());
        match written {
            Err(e) => Err(e),
            Ok(()) if panicked => Err(Error::Internal("an edit thread panicked".into())),
            Ok(()) => Ok(()),
        }
    })
}

/// Receives chunks as the workers finish them and writes them in order.
fn write_in_order<W>(
    applied: &crossbeam_channel::Receiver<Chunk<Edited>>,
    chunks: usize,
    write: &mut W,
) -> Result<()>
where
    W: FnMut(Vec<Edited>) -> Result<()>,
{
    let mut early = BTreeMap::new();
    let mut wanted = 0;
    while wanted < chunks {
        let Ok((index, edited)) = applied.recv() else {
            return Err(Error::Internal("an edit thread stopped early".into()));
        };
        early.insert(index, edited);
        while let Some(edited) = early.remove(&wanted) {
            write(edited?)?;
            wanted += 1;
        }
    }
    Ok(())
}

/// Writes one chunk of edited assets: the new metadata and its event, the
/// chunk's events signed as one batch (one signature per chunk, not per
/// asset, which dominated a bulk edit).
fn write(
    tx: &rusqlite::Transaction,
    actor: &Actor,
    at: &str,
    edited: Vec<Edited>,
    summary: &mut EditSummary,
) -> Result<()> {
    // Only reopened assets touch the workflow columns, so the state index
    // is left alone for the rest.
    let mut update = tx.prepare_cached(
        "UPDATE assets SET rights = ?1, title = ?2, last_edited_by = ?3, provenance_hash = ?4
         WHERE id = ?5",
    )?;
    let mut reopen = tx.prepare_cached(
        "UPDATE assets SET workflow_state = 'pending', state_since = ?1 WHERE id = ?2",
    )?;
    let key_id = actor.key_id.as_str();
    let (edited, events): (Vec<RowUpdate>, Vec<Composed>) =
        edited.into_iter().map(|e| (e.change, e.event)).unzip();
    let sealed = chain::seal_batch(tx, events, &Signer::User(actor))?;
    for (e, sealed) in edited.iter().zip(&sealed) {
        update.execute(params![e.rights, e.title, actor.id, sealed.hash, e.row])?;
        if e.reopen {
            reopen.execute(params![at, e.row])?;
        }
        chain::store_event(tx, e.row, e.seq, e.kind, key_id, sealed)?;
        summary.changed += 1;
        summary.reopened += usize::from(e.reopen);
    }
    Ok(())
}

/// The rule that refuses `actor` (whose role edits) an edit of one asset:
/// a creator edits only their own uploads. Shared with
/// [`Library::permits`](crate::Library::permits).
pub(crate) fn may_edit(actor: &Actor, asset_id: &str, uploaded_by: Option<i64>) -> Result<()> {
    if actor.role() == Role::Creator && uploaded_by != Some(actor.id) {
        return Err(Error::refused(
            "creator-own-assets",
            format!(
                "{} is a creator and did not upload asset {asset_id}; creators edit only their own uploads",
                actor.name(),
            ),
        ));
    }
    Ok(())
}

fn apply_one(run: &Run, t: &Target) -> Result<Option<Edited>> {
    let (actor, at) = (run.actor, run.at);
    may_edit(actor, &t.asset_id, t.uploaded_by)?;
    let old = match serde_json::from_str(&t.rights) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(Error::Corrupt(format!(
                "asset {}: its stored metadata is not a JSON object",
                t.asset_id
            )))
        }
    };
    let mut rights = old.clone();
    for change in run.changes.of(t.row) {
        match change {
            Change::Set { field, value } if value.is_null() => {
                rights.remove(field);
            }
            Change::Set { field, value } => {
                rights.insert(field.clone(), value.clone());
            }
            Change::Fill { field, value } => {
                if rights.get(field).is_none_or(Value::is_null) {
                    rights.insert(field.clone(), value.clone());
                }
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
    if rights == old {
        return Ok(None);
    }
    let mut diff = Map::new();
    let fields: BTreeSet<&String> = rights.keys().chain(old.keys()).collect();
    for field in fields {
        let (old, new) = (old.get(field), rights.get(field));
        if old != new {
            diff.insert(field.clone(), json!({"old": old, "new": new}));
        }
    }
    let reopen = t.state == "approved";
    let license_changed = diff.contains_key("license_tag");
    let (kind, data) = match run.purpose {
        Purpose::Transfer {
            contract_id,
            to,
            effective_date,
        } => {
            let from = old.get("rights_holder").or_else(|| old.get("creator_name"));
            let data = json!({
                "contract_id": contract_id,
                "parties": {"from": from, "to": to},
                "effective_date": effective_date,
                "changes": diff,
                "reopened": reopen,
            });
            (EventKind::TransferOfRights, data)
        }
        Purpose::Edit | Purpose::Undo { .. } => {
            let (kind, mut data) = if license_changed {
                let data = json!({
                    "changes": diff,
                    "reopened": reopen,
                    "previous_license": old.get("license_tag"),
                    "new_license": rights.get("license_tag"),
                    "effective_date": at,
                });
                (EventKind::LicenseChange, data)
            } else {
                let data = json!({"changes": diff, "reopened": reopen});
                (EventKind::MetadataChange, data)
            };
            if let Purpose::Undo { of } = run.purpose {
                data["undoes"] = json!(of);
            }
            (kind, data)
        }
    };
    let title = rights
        .get("title")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let rights = Value::Object(rights);
    metadata::validate(&t.asset_id, &rights, run.taxonomy)?;
    let rights = rights.to_string();
    let event = event::compose(
        &Signer::User(actor),
        &t.asset_id,
        t.next_seq,
        t.head.as_deref(),
        kind,
        at,
        &canonical_json(&data),
    );
    Ok(Some(Edited {
        change: RowUpdate {
            row: t.row,
            rights,
            title,
            reopen,
            seq: t.next_seq,
            kind,
        },
        event,
    }))
}
