//! Checkpoints: the whole library committed in one signed document, kept
//! outside the catalog, so that someone who can write `library.db` alone
//! cannot cut a chain short, drop an asset with its chain, rewrite an event
//! or put back an older copy of the database unseen.
//!
//! A checkpoint holds the RFC 6962 tree heads (size and root) over every
//! provenance event (their digests, in the order they were stored) and
//! over every identity event, the number of assets, the digest of the
//! heads list (each asset's last event), the library's root (the hash of
//! its first identity event), the time and its signer, and the signer's
//! Ed25519 signature over the canonical JSON of the rest. It is written to
//! `checkpoints/NNNNNNNN.json` in the library folder, with the heads list
//! beside it (`NNNNNNNN.heads`, only used to name what changed), and kept in
//! the catalog too.
//!
//! Each checkpoint also leaves the next, in the catalog, its event tree's
//! frontier (see [`Frontier`]) and the id of the last event it covered, so
//! the next one reads and hashes only the events stored since and merges
//! their assets into the last heads list. Those are used only where they
//! match what the last checkpoint signed; otherwise every event is read.
//!
//! Verification recomputes both tree heads over the first `size` events of
//! the catalog: any event deleted, rewritten or reordered among them changes
//! the root. Only then is the heads list read, to name each asset whose
//! chain was cut short, dropped or rewritten.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use assay_fsio::atomic;

use crate::catalog::assets::now;
use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::formats::canonical::canonical_json;
use crate::identity::ledger::{self, Ledger};
use crate::identity::users::Actor;
use crate::provenance::merkle::{self, Frontier, Grown, Hash, Tree};
use crate::provenance::signed;

pub const CHECKPOINTS_DIR: &str = "checkpoints";
pub(crate) const TYPE: &str = "assay-checkpoint";

/// A checkpoint written.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Checkpoint {
    pub path: String,
    pub at: String,
    pub signer: String,
    pub events: u64,
    pub identity_events: u64,
    pub assets: u64,
}

/// The library checked against one checkpoint: which one was trusted, and
/// each way the catalog departs from it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CheckpointCheck {
    pub path: String,
    pub at: String,
    pub signer: String,
    pub events: u64,
    pub problems: Vec<String>,
}

/// What the catalog holds now, as verification compares it with a
/// checkpoint.
struct State {
    events: Vec<Hash>,
    identity: Vec<Hash>,
    /// Each asset's last event, by asset id.
    heads: Vec<Head>,
}

impl State {
    fn read(conn: &Connection) -> Result<State> {
        Ok(State {
            events: digests(conn, "SELECT hash FROM events ORDER BY id")?,
            identity: identity_digests(conn)?,
            heads: State::read_heads(conn)?,
        })
    }

    fn read_heads(conn: &Connection) -> Result<Vec<Head>> {
        // One pass over the events: SQLite gives a bare column of the row
        // that max() chose, so each asset's last hash comes with its seq.
        let mut stmt = conn.prepare(
            "SELECT a.asset_id, max(e.seq), e.hash FROM events e JOIN assets a ON a.id = e.asset
             GROUP BY e.asset ORDER BY a.asset_id",
        )?;
        let heads = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(heads)
    }
}

/// The event digests `sql` selects (one column of `sha256:HEX` text).
pub(crate) fn digests(conn: &Connection, sql: &str) -> Result<Vec<Hash>> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(event_digest(&row.get::<_, String>(0)?)?);
    }
    Ok(out)
}

/// The digests of at most `limit` events stored after the event `after`,
/// in the order stored.
pub(crate) fn digests_after(conn: &Connection, after: i64, limit: i64) -> Result<Vec<Hash>> {
    let mut stmt = conn.prepare("SELECT hash FROM events WHERE id > ?1 ORDER BY id LIMIT ?2")?;
    let mut rows = stmt.query(params![after, limit])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(event_digest(&row.get::<_, String>(0)?)?);
    }
    Ok(out)
}

/// The frontier and last event of the library's own checkpoint whose
/// event tree has `size` leaves and root `root`, where the catalog keeps
/// one that matches.
pub(crate) fn frontier_of(
    conn: &Connection,
    size: u64,
    root: &str,
) -> Result<Option<(Frontier, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT body, frontier FROM checkpoints WHERE frontier IS NOT NULL ORDER BY number DESC",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (body, frontier): (String, String) = (row.get(0)?, row.get(1)?);
        let Ok(body) = serde_json::from_str::<Value>(&body) else {
            continue;
        };
        if body["events"]["size"].as_u64() != Some(size) || body["events"]["root"] != root {
            continue;
        }
        if let Some(found) = stored_frontier(&frontier, size, root) {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// The frontier and last event a checkpoint left in the catalog
/// (`frontier` column), if it is one of `size` leaves with root `root`
/// (hex): what that checkpoint signed. Anything else is not trusted.
fn stored_frontier(text: &str, size: u64, root: &str) -> Option<(Frontier, i64)> {
    let stored: Value = serde_json::from_str(text).ok()?;
    let tree = Frontier::from_json(&stored)?;
    let holds = tree.size() == size && tree.root().map_or_else(String::new, hex::encode) == root;
    holds.then_some((tree, stored["last_event"].as_i64()?))
}

fn identity_digests(conn: &Connection) -> Result<Vec<Hash>> {
    digests(conn, "SELECT hash FROM identity_events ORDER BY seq")
}

/// An event's stored hash as the digest it names.
fn event_digest(text: &str) -> Result<Hash> {
    digest_of(text)
        .ok_or_else(|| Error::Corrupt(format!("an event's hash {text:?} is not a SHA-256 digest")))
}

fn digest_of(text: &str) -> Option<Hash> {
    merkle::hash_from_hex(text.strip_prefix("sha256:")?)
}

/// The root of the tree over the first `size` leaves, hex; empty for none.
fn root_hex(leaves: &[Hash]) -> String {
    Tree::new(leaves).map_or_else(String::new, |t| hex::encode(t.root()))
}

impl Library {
    /// Writes a checkpoint of the whole library as `actor`: into the
    /// catalog and, whole or not at all, into `checkpoints/`. It reads and
    /// hashes only the events stored since the last checkpoint, grown from
    /// that one's frontier and heads list where they match what it signed.
    pub fn checkpoint(&self, actor: &Actor) -> Result<Checkpoint> {
        let mut conn = self.connect()?;
        // One snapshot: nothing appended between reading the events and the
        // heads.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let identity = identity_digests(&tx)?;
        let root = library_root(&tx)?;
        let previous = self.latest_checkpoint_file()?;
        let before = previous.as_deref().map(read_checkpoint).transpose()?;
        let prior = match (&previous, &before) {
            (Some(path), Some((bytes, doc))) => Prior::load(&tx, path, bytes, doc)?,
            _ => None,
        };
        let growth = match prior {
            Some(prior) => Growth::since(&tx, prior)?,
            None => {
                let seen = before
                    .as_ref()
                    .map_or(0, |(_, b)| b["events"]["size"].as_u64().unwrap_or_default());
                Growth::whole(&tx, seen)?
            }
        };
        let at = now();
        let mut doc = json!({
            "type": TYPE,
            "v": 1,
            "library": root,
            "at": at,
            "events": {
                "size": growth.events.frontier.size(),
                "root": growth.events.root.map_or_else(String::new, hex::encode),
            },
            "identity": {"size": identity.len(), "root": root_hex(&identity)},
            "heads": {"size": growth.assets, "sha256": hex::encode(Sha256::digest(&growth.heads))},
            "signer": {
                "user": actor.name(),
                "role": actor.role().as_str(),
                "key_id": actor.key_id.as_str(),
            },
        });
        if let (Some(previous), Some((bytes, before))) = (&previous, &before) {
            doc["extends"] = extends(previous, bytes, before, &identity, &growth.events.proof);
        }
        let signature = actor.key.sign(&canonical_json(&doc));
        doc["signature"] = json!({"alg": "Ed25519", "value": B64.encode(signature.to_bytes())});
        let bytes = canonical_json(&doc);
        let number: i64 = tx.query_row(
            "SELECT coalesce(max(number), 0) + 1 FROM checkpoints",
            [],
            |r| r.get(0),
        )?;
        let mut frontier = growth.events.frontier.to_json();
        frontier["last_event"] = json!(growth.last_event);
        tx.execute(
            "INSERT INTO checkpoints (number, at, body, frontier) VALUES (?1, ?2, ?3, ?4)",
            params![
                number,
                at,
                String::from_utf8_lossy(&bytes),
                frontier.to_string()
            ],
        )?;
        let dir = self.root().join(CHECKPOINTS_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(format!("{number:08}.json"));
        let heads_path = path.with_extension("heads");
        // The heads first: a checkpoint file is only ever beside its heads.
        atomic::write(&heads_path, &growth.heads).map_err(|e| Error::io(&heads_path, e))?;
        atomic::write(&path, &bytes).map_err(|e| Error::io(&path, e))?;
        tx.commit()?;
        Ok(Checkpoint {
            path: path.display().to_string(),
            at,
            signer: actor.name().to_owned(),
            events: growth.events.frontier.size(),
            identity_events: identity.len() as u64,
            assets: growth.assets as u64,
        })
    }

    /// Writes a checkpoint as `actor` and returns its document, for an
    /// export to carry.
    pub(crate) fn checkpoint_document(&self, actor: &Actor) -> Result<Value> {
        let written = self.checkpoint(actor)?;
        Ok(read_checkpoint(Path::new(&written.path))?.1)
    }

    /// The newest checkpoint in the library folder's `checkpoints/`.
    pub fn latest_checkpoint_file(&self) -> Result<Option<PathBuf>> {
        let dir = self.root().join(CHECKPOINTS_DIR);
        let listing = match std::fs::read_dir(&dir) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&dir, e)),
        };
        let mut newest: Option<PathBuf> = None;
        for entry in listing {
            let path = entry.map_err(|e| Error::io(&dir, e))?.path();
            let numbered = path.extension().is_some_and(|e| e == "json")
                && path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()));
            if numbered && newest.as_ref().is_none_or(|n| path > *n) {
                newest = Some(path);
            }
        }
        Ok(newest)
    }

    /// Checks the catalog against the checkpoint at `path` (with its heads
    /// list beside it): its signature by a signer the identity ledger
    /// grants, then every event and identity event it saw, still there,
    /// unchanged and in order.
    pub fn check_checkpoint(&self, path: &Path) -> Result<CheckpointCheck> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let mut check = CheckpointCheck {
            path: path.display().to_string(),
            ..CheckpointCheck::default()
        };
        let doc: Value = match serde_json::from_slice(&bytes) {
            // A document that carries a checkpoint (a manifest, a dataset
            // manifest) is held to the checkpoint it carries: whoever holds
            // what left the library holds that too.
            Ok(Value::Object(mut doc)) if doc.get("checkpoint").is_some_and(Value::is_object) => {
                doc.remove("checkpoint").unwrap_or_default()
            }
            Ok(doc) => doc,
            Err(e) => {
                check.problems.push(format!("not a checkpoint: {e}"));
                return Ok(check);
            }
        };
        check.at = doc["at"].as_str().unwrap_or_default().to_owned();
        check.signer = doc["signer"]["user"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        check.events = doc["events"]["size"].as_u64().unwrap_or_default();
        let conn = self.connect()?;
        let (ledger, _) = ledger::replay(&conn)?;
        if let Err(problem) = signature_holds(&doc, &ledger) {
            check.problems.push(problem);
            return Ok(check);
        }
        if let Err(problem) = extension_holds(path, &doc) {
            check.problems.push(problem);
        }
        if doc["library"] != json!(library_root(&conn)?) {
            check.problems.push(
                "it is the checkpoint of another library, or the library's identity root was replaced"
                    .into(),
            );
            return Ok(check);
        }
        let state = State::read(&conn)?;
        compare_tree(
            "identity event",
            &doc["identity"],
            &state.identity,
            &mut check.problems,
        );
        let events_hold = compare_tree("event", &doc["events"], &state.events, &mut check.problems);
        if !events_hold {
            name_changed_chains(path, &doc, &state, &mut check.problems);
        }
        Ok(check)
    }
}

/// What links a new checkpoint to the one before it: that file's name and
/// digest, and consistency proofs that each of its trees is a prefix of
/// the new one's (RFC 9162), so history between them cannot be rewritten.
fn extends(
    previous: &Path,
    bytes: &[u8],
    before: &Value,
    identity: &[Hash],
    events_proof: &[Hash],
) -> Value {
    let m = before["identity"]["size"].as_u64().unwrap_or_default() as usize;
    let identity_proof = merkle::consistency_proof(identity, m.min(identity.len()));
    let hexes = |proof: &[Hash]| -> Vec<String> { proof.iter().map(hex::encode).collect() };
    json!({
        "checkpoint": previous.file_name().map(|n| n.to_string_lossy().into_owned()),
        "sha256": hex::encode(Sha256::digest(bytes)),
        "events_proof": hexes(events_proof),
        "identity_proof": hexes(&identity_proof),
    })
}

/// What the last checkpoint leaves the next one: its event tree's
/// frontier, the id of the last event it covered, and its heads list. Used
/// only where it matches what that checkpoint signed; anything else (an
/// older catalog, a file replaced, a row edited) and the next checkpoint
/// reads every event instead.
struct Prior {
    frontier: Frontier,
    last_event: i64,
    heads: Vec<Head>,
}

/// One asset's last event: (asset id, seq, hash).
type Head = (String, i64, String);

impl Prior {
    fn load(conn: &Connection, path: &Path, bytes: &[u8], doc: &Value) -> Result<Option<Prior>> {
        let row: Option<(String, Option<String>)> = conn
            .query_row(
                "SELECT body, frontier FROM checkpoints ORDER BY number DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((body, Some(frontier))) = row else {
            return Ok(None);
        };
        if body.as_bytes() != bytes {
            return Ok(None); // the catalog's newest is not the folder's
        }
        let (Some(size), Some(root)) = (
            doc["events"]["size"].as_u64(),
            doc["events"]["root"].as_str(),
        ) else {
            return Ok(None);
        };
        let Some((tree, last_event)) = stored_frontier(&frontier, size, root) else {
            return Ok(None);
        };
        let Ok(text) = std::fs::read(path.with_extension("heads")) else {
            return Ok(None);
        };
        if doc["heads"]["sha256"] != json!(hex::encode(Sha256::digest(&text))) {
            return Ok(None);
        }
        let Some(heads) = parse_heads(&text) else {
            return Ok(None);
        };
        Ok(Some(Prior {
            frontier: tree,
            last_event,
            heads,
        }))
    }
}

/// The event tree grown to every stored event, and the heads list.
struct Growth {
    events: Grown,
    /// The id of the last event covered.
    last_event: i64,
    heads: Vec<u8>,
    assets: usize,
}

impl Growth {
    /// From nothing: every event read and hashed, with the consistency
    /// proof from the first `seen` (what the last checkpoint saw).
    fn whole(conn: &Connection, seen: u64) -> Result<Growth> {
        let mut stmt = conn.prepare("SELECT id, hash FROM events ORDER BY id")?;
        let mut rows = stmt.query([])?;
        let mut hashed = Vec::new();
        let mut last_event = 0;
        while let Some(row) = rows.next()? {
            last_event = row.get(0)?;
            hashed.push(merkle::leaf_hash(&event_digest(&row.get::<_, String>(1)?)?));
        }
        let m = usize::try_from(seen)
            .unwrap_or(usize::MAX)
            .min(hashed.len());
        let old = grown(&Frontier::empty(), &hashed[..m])?.frontier;
        let events = grown(&old, &hashed[m..])?;
        let heads = State::read_heads(conn)?;
        Ok(Growth {
            events,
            last_event,
            heads: heads_text(&heads),
            assets: heads.len(),
        })
    }

    /// From the last checkpoint: only the events stored since.
    fn since(conn: &Connection, prior: Prior) -> Result<Growth> {
        let mut stmt =
            conn.prepare("SELECT id, asset, seq, hash FROM events WHERE id > ?1 ORDER BY id")?;
        let mut rows = stmt.query([prior.last_event])?;
        let mut hashed = Vec::new();
        let mut last_event = prior.last_event;
        // Each asset's latest event since, by catalog row: its asset id is
        // looked up once per asset below, not joined onto every event.
        let mut latest: HashMap<i64, (i64, String)> = HashMap::new();
        while let Some(row) = rows.next()? {
            last_event = row.get(0)?;
            let hash = row
                .get_ref(3)?
                .as_str()
                .map_err(|e| Error::Corrupt(format!("an event's hash is not text: {e}")))?;
            hashed.push(merkle::leaf_hash(&event_digest(hash)?));
            let (asset, seq): (i64, i64) = (row.get(1)?, row.get(2)?);
            match latest.entry(asset) {
                Entry::Vacant(slot) => {
                    slot.insert((seq, hash.to_owned()));
                }
                Entry::Occupied(mut slot) if slot.get().0 < seq => {
                    slot.insert((seq, hash.to_owned()));
                }
                Entry::Occupied(_) => {}
            }
        }
        let events = grown(&prior.frontier, &hashed)?;
        let heads = merge_heads(prior.heads, updated_heads(conn, latest)?);
        Ok(Growth {
            events,
            last_event,
            heads: heads_text(&heads),
            assets: heads.len(),
        })
    }
}

/// The heads `latest` (by catalog row) names, by asset id in the order
/// SQLite sorts them (bytewise, as the heads list is). A few are looked up
/// one by one; many are picked out of one walk over the asset-id index,
/// which is already in that order.
fn updated_heads(conn: &Connection, mut latest: HashMap<i64, (i64, String)>) -> Result<Vec<Head>> {
    let mut heads = Vec::with_capacity(latest.len());
    if latest.len() <= LOOKED_UP_ONE_BY_ONE {
        let mut stmt = conn.prepare("SELECT asset_id FROM assets WHERE id = ?1")?;
        for (row, (seq, hash)) in latest.drain() {
            let Some(asset_id) = stmt
                .query_row([row], |r| r.get::<_, String>(0))
                .optional()?
            else {
                return Err(missing_asset(row));
            };
            heads.push((asset_id, seq, hash));
        }
        heads.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        return Ok(heads);
    }
    let mut stmt = conn.prepare("SELECT id, asset_id FROM assets ORDER BY asset_id")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        if let Some((seq, hash)) = latest.remove(&row.get::<_, i64>(0)?) {
            heads.push((row.get(1)?, seq, hash));
        }
    }
    match latest.keys().next() {
        Some(row) => Err(missing_asset(*row)),
        None => Ok(heads),
    }
}

/// Up to how many assets [`updated_heads`] looks up one by one.
const LOOKED_UP_ONE_BY_ONE: usize = 1024;

/// An event whose asset row is gone: the catalog was edited around it.
fn missing_asset(row: i64) -> Error {
    Error::Corrupt(format!(
        "events name asset row {row}, which the catalog does not hold"
    ))
}

fn grown(frontier: &Frontier, hashed: &[Hash]) -> Result<Grown> {
    frontier
        .grow(hashed)
        .ok_or_else(|| Error::Internal("a checkpoint's frontier does not match its size".into()))
}

/// The heads list `prior` (by asset id) with each asset's latest event
/// since put in, new assets among them.
fn merge_heads(prior: Vec<Head>, latest: Vec<Head>) -> Vec<Head> {
    let mut out = Vec::with_capacity(prior.len() + latest.len());
    let mut updates = latest.into_iter().peekable();
    for head in prior {
        while let Some(update) = updates.next_if(|(id, _, _)| *id < head.0) {
            out.push(update);
        }
        match updates.next_if(|(id, _, _)| *id == head.0) {
            Some(update) => out.push(update),
            None => out.push(head),
        }
    }
    out.extend(updates);
    out
}

fn heads_text(heads: &[Head]) -> Vec<u8> {
    use std::io::Write as _;
    let mut text = Vec::with_capacity(heads.len() * 112);
    for (asset_id, seq, hash) in heads {
        // Writing to a Vec cannot fail.
        let _ = writeln!(text, "{asset_id} {seq} {hash}");
    }
    text
}

/// A heads list as [`heads_text`] wrote it; `None` if any line is not.
fn parse_heads(text: &[u8]) -> Option<Vec<Head>> {
    std::str::from_utf8(text)
        .ok()?
        .lines()
        .map(|line| {
            let mut parts = line.split(' ');
            let head = (
                parts.next()?.to_owned(),
                parts.next()?.parse().ok()?,
                parts.next()?.to_owned(),
            );
            parts.next().is_none().then_some(head)
        })
        .collect()
}

/// A checkpoint file's bytes (its digest links the next one to it) and JSON.
pub(crate) fn read_checkpoint(path: &Path) -> Result<(Vec<u8>, Value)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let doc = serde_json::from_slice(&bytes)
        .map_err(|e| Error::bad_file(path, format!("{}: {e}", path.display())))?;
    Ok((bytes, doc))
}

/// Whether the checkpoint `doc` at `path` extends the one it names: that
/// file unchanged, and each of its trees a prefix of `doc`'s.
fn extension_holds(path: &Path, doc: &Value) -> std::result::Result<(), String> {
    let link = &doc["extends"];
    let Some(name) = link["checkpoint"].as_str() else {
        return Ok(()); // the library's first checkpoint
    };
    let previous = path.with_file_name(name);
    let Ok(bytes) = std::fs::read(&previous) else {
        // Held apart from its predecessors: the link cannot be followed.
        return Ok(());
    };
    if link["sha256"] != json!(hex::encode(Sha256::digest(&bytes))) {
        return Err(format!(
            "{name}, the checkpoint before it, is not the one it extends: it was replaced"
        ));
    }
    let before: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{name}: {e}"))?;
    for (tree, proof) in [("events", "events_proof"), ("identity", "identity_proof")] {
        let size = |d: &Value| d[tree]["size"].as_u64().unwrap_or_default();
        let root = |d: &Value| d[tree]["root"].as_str().unwrap_or_default().to_owned();
        let (m, n) = (size(&before), size(doc));
        if m == 0 {
            continue;
        }
        // No proof is an empty one; a member that is not text is "", which
        // is no hash: either fails unless nothing was added.
        let proof = link[proof]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let proof = proof.iter().map(|h| h.as_str().unwrap_or_default());
        if !merkle::consistency_holds_hex(m, n, &root(&before), &root(doc), proof) {
            return Err(format!(
                "its {tree} do not extend those of {name}: history between the two was rewritten"
            ));
        }
    }
    Ok(())
}

/// The hash of the library's first identity event, its root; null before
/// it has one.
pub(crate) fn library_root(conn: &Connection) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT hash FROM identity_events WHERE seq = 1", [], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Whether `doc`'s signature verifies with the key the identity ledger
/// grants its signer, at the time it claims.
fn signature_holds(doc: &Value, ledger: &Ledger) -> std::result::Result<(), String> {
    if doc["type"] != TYPE || doc["v"] != 1 {
        return Err("not an Assay checkpoint of a version this build reads".into());
    }
    let user = doc["signer"]["user"].as_str().unwrap_or_default();
    let key_id = doc["signer"]["key_id"].as_str().unwrap_or_default();
    let at = doc["at"].as_str().unwrap_or_default();
    let standing = ledger
        .users
        .get(user)
        .and_then(|spans| {
            spans.iter().find(|s| {
                s.key_id == key_id && s.until.as_ref().is_none_or(|(until, _)| at < until.as_str())
            })
        })
        .ok_or_else(|| {
            format!("signed by {user:?} with key {key_id}, which the signed identity events do not grant at {at}")
        })?;
    signed::signature_verifies(doc, &standing.key)
        .then_some(())
        .ok_or_else(|| "its signature does not verify: the checkpoint was altered".to_owned())
}

/// Compares one tree head of the checkpoint with the catalog's first
/// `size` leaves; false, with the problem named, when they differ.
fn compare_tree(what: &str, head: &Value, leaves: &[Hash], problems: &mut Vec<String>) -> bool {
    let size = head["size"].as_u64().unwrap_or_default() as usize;
    let root = head["root"].as_str().unwrap_or_default();
    if leaves.len() < size {
        problems.push(format!(
            "the checkpoint saw {size} {what}s, but the catalog holds {}: some were deleted (or an older copy of the catalog was put back)",
            leaves.len()
        ));
        return false;
    }
    if root_hex(&leaves[..size]) != root {
        problems.push(format!(
            "the first {size} {what}s are not those the checkpoint saw: some were rewritten, deleted or reordered"
        ));
        return false;
    }
    true
}

/// Names each asset whose chain departs from the heads list beside the
/// checkpoint: dropped, cut short, or with its last event rewritten.
fn name_changed_chains(path: &Path, doc: &Value, state: &State, problems: &mut Vec<String>) {
    let heads_path = path.with_extension("heads");
    let Ok(text) = std::fs::read(&heads_path) else {
        problems.push(format!(
            "{}: missing, so the assets that changed cannot be named",
            heads_path.display()
        ));
        return;
    };
    if doc["heads"]["sha256"] != json!(hex::encode(Sha256::digest(&text))) {
        problems.push(format!(
            "{}: not the heads list the checkpoint signed",
            heads_path.display()
        ));
        return;
    }
    let now: HashMap<&str, (i64, &str)> = state
        .heads
        .iter()
        .map(|(id, seq, hash)| (id.as_str(), (*seq, hash.as_str())))
        .collect();
    for line in String::from_utf8_lossy(&text).lines() {
        let mut parts = line.split(' ');
        let (Some(asset_id), Some(seq), Some(hash)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let seq: i64 = seq.parse().unwrap_or_default();
        match now.get(asset_id) {
            None => problems.push(format!(
                "asset {asset_id}: dropped with its whole chain (the checkpoint saw {} events)",
                seq + 1
            )),
            Some((last, _)) if *last < seq => problems.push(format!(
                "asset {asset_id}: its chain was cut short: the checkpoint saw event {seq}, the catalog ends at {last}"
            )),
            Some((last, head)) if *last == seq && *head != hash => problems.push(format!(
                "asset {asset_id}: event {seq} was rewritten since the checkpoint"
            )),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asset rows whose ids sort otherwise than their rows do.
    fn catalog(n: i64) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE assets (id INTEGER PRIMARY KEY, asset_id TEXT NOT NULL UNIQUE)",
        )
        .unwrap();
        for row in 1..=n {
            let id = format!("{:04x}-{row}", (row * 7919) % 4099);
            conn.execute(
                "INSERT INTO assets (id, asset_id) VALUES (?1, ?2)",
                params![row, id],
            )
            .unwrap();
        }
        conn
    }

    fn latest(rows: impl Iterator<Item = i64>) -> HashMap<i64, (i64, String)> {
        rows.map(|row| (row, (row % 5, format!("sha256:{row:064x}"))))
            .collect()
    }

    #[test]
    fn updated_heads_are_in_asset_id_order_looked_up_one_by_one_or_from_the_index() {
        let conn = catalog(3000);
        for picked in [
            latest((1..=3000).step_by(997)),
            latest(1..=LOOKED_UP_ONE_BY_ONE as i64),
            latest((1..=3000).filter(|r| r % 3 != 0)),
        ] {
            let heads = updated_heads(&conn, picked.clone()).unwrap();
            assert_eq!(heads.len(), picked.len());
            assert!(heads.windows(2).all(|w| w[0].0 < w[1].0));
            for (asset_id, seq, hash) in &heads {
                let row: i64 = conn
                    .query_row(
                        "SELECT id FROM assets WHERE asset_id = ?1",
                        [asset_id],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert_eq!(picked[&row], (*seq, hash.clone()));
            }
        }
        // An event naming a row the catalog lost is damage, either way.
        for picked in [latest([5, 6].into_iter()), latest(1..=2000)] {
            let mut picked = picked;
            picked.insert(9999, (0, "sha256:00".into()));
            let err = updated_heads(&conn, picked).unwrap_err();
            assert!(err.to_string().contains("asset row 9999"), "{err}");
        }
    }
}
