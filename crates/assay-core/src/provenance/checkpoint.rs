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
//! Verification recomputes both tree heads over the first `size` events of
//! the catalog: any event deleted, rewritten or reordered among them changes
//! the root. Only then is the heads list read, to name each asset whose
//! chain was cut short, dropped or rewritten.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::Signature;
use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use assay_fsio::atomic;

use crate::catalog::assets::now;
use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::formats::canonical::{canonical_json, canonical_json_except};
use crate::identity::ledger::{self, Ledger};
use crate::identity::users::Actor;
use crate::provenance::merkle::{self, Hash, Tree};

pub const CHECKPOINTS_DIR: &str = "checkpoints";
const TYPE: &str = "assay-checkpoint";

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

/// What the catalog holds now, as a checkpoint commits to it.
struct State {
    events: Vec<Hash>,
    identity: Vec<Hash>,
    /// (asset id, last seq, last hash), by asset id.
    heads: Vec<(String, i64, String)>,
}

impl State {
    fn read(conn: &Connection) -> Result<State> {
        let digests = |sql: &str| -> Result<Vec<Hash>> {
            let mut stmt = conn.prepare(sql)?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let text: String = row.get(0)?;
                out.push(digest_of(&text).ok_or_else(|| {
                    Error::Corrupt(format!("an event's hash {text:?} is not a SHA-256 digest"))
                })?);
            }
            Ok(out)
        };
        let events = digests("SELECT hash FROM events ORDER BY id")?;
        let identity = digests("SELECT hash FROM identity_events ORDER BY seq")?;
        // One pass over the events: SQLite gives a bare column of the row
        // that max() chose, so each asset's last hash comes with its seq.
        let mut stmt = conn.prepare(
            "SELECT a.asset_id, max(e.seq), e.hash FROM events e JOIN assets a ON a.id = e.asset
             GROUP BY e.asset ORDER BY a.asset_id",
        )?;
        let heads = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(State {
            events,
            identity,
            heads,
        })
    }

    fn heads_text(&self) -> Vec<u8> {
        let mut text = Vec::with_capacity(self.heads.len() * 112);
        for (asset_id, seq, hash) in &self.heads {
            text.extend_from_slice(format!("{asset_id} {seq} {hash}\n").as_bytes());
        }
        text
    }
}

fn digest_of(text: &str) -> Option<Hash> {
    let bytes = hex::decode(text.strip_prefix("sha256:")?).ok()?;
    Hash::try_from(bytes.as_slice()).ok()
}

/// The root of the tree over the first `size` leaves, hex; empty for none.
fn root_hex(leaves: &[Hash]) -> String {
    Tree::new(leaves).map_or_else(String::new, |t| hex::encode(t.root()))
}

impl Library {
    /// Writes a checkpoint of the whole library as `actor`: into the
    /// catalog and, whole or not at all, into `checkpoints/`.
    pub fn checkpoint(&self, actor: &Actor) -> Result<Checkpoint> {
        let mut conn = self.connect()?;
        // One snapshot: nothing appended between reading the events and the
        // heads.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let state = State::read(&tx)?;
        let root = library_root(&tx)?;
        let previous = self.latest_checkpoint_file()?;
        let before = previous.as_deref().map(read_checkpoint).transpose()?;
        // Each leaf hashed once; the root on one core while the other makes
        // the consistency proof from the last checkpoint, then the heads.
        let hashed: Vec<Hash> = state.events.iter().map(|l| merkle::leaf_hash(l)).collect();
        let prior = before.as_ref().map_or(0, |(_, b)| {
            b["events"]["size"].as_u64().unwrap_or_default() as usize
        });
        let (events_root, events_proof, heads) = std::thread::scope(|s| {
            let tree = s.spawn(|| merkle::root_of_hashed(&hashed));
            let proof = merkle::consistency_proof_of_hashed(&hashed, prior.min(hashed.len()));
            let heads = state.heads_text();
            (tree.join(), proof, heads)
        });
        let events_root = events_root
            .map_err(|_| Error::Internal("the checkpoint's tree panicked".into()))?
            .map_or_else(String::new, hex::encode);
        let at = now();
        let mut doc = json!({
            "type": TYPE,
            "v": 1,
            "library": root,
            "at": at,
            "events": {"size": state.events.len(), "root": events_root},
            "identity": {"size": state.identity.len(), "root": root_hex(&state.identity)},
            "heads": {"size": state.heads.len(), "sha256": hex::encode(Sha256::digest(&heads))},
            "signer": {
                "user": actor.name(),
                "role": actor.role().as_str(),
                "key_id": actor.key_id.as_str(),
            },
        });
        if let (Some(previous), Some((bytes, before))) = (&previous, &before) {
            doc["extends"] = extends(previous, bytes, before, &state, events_proof);
        }
        let signature = actor.key.sign(&canonical_json(&doc));
        doc["signature"] = json!({"alg": "Ed25519", "value": B64.encode(signature.to_bytes())});
        let bytes = canonical_json(&doc);
        let number: i64 = tx.query_row(
            "SELECT coalesce(max(number), 0) + 1 FROM checkpoints",
            [],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO checkpoints (number, at, body) VALUES (?1, ?2, ?3)",
            params![number, at, String::from_utf8_lossy(&bytes)],
        )?;
        let dir = self.root().join(CHECKPOINTS_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(format!("{number:08}.json"));
        let heads_path = path.with_extension("heads");
        // The heads first: a checkpoint file is only ever beside its heads.
        atomic::write(&heads_path, &heads).map_err(|e| Error::io(&heads_path, e))?;
        atomic::write(&path, &bytes).map_err(|e| Error::io(&path, e))?;
        tx.commit()?;
        Ok(Checkpoint {
            path: path.display().to_string(),
            at,
            signer: actor.name().to_owned(),
            events: state.events.len() as u64,
            identity_events: state.identity.len() as u64,
            assets: state.heads.len() as u64,
        })
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
    state: &State,
    events_proof: Vec<Hash>,
) -> Value {
    let m = before["identity"]["size"].as_u64().unwrap_or_default() as usize;
    let identity_proof = merkle::consistency_proof(&state.identity, m.min(state.identity.len()));
    let hexes = |proof: Vec<Hash>| -> Vec<String> { proof.iter().map(hex::encode).collect() };
    json!({
        "checkpoint": previous.file_name().map(|n| n.to_string_lossy().into_owned()),
        "sha256": hex::encode(Sha256::digest(bytes)),
        "events_proof": hexes(events_proof),
        "identity_proof": hexes(identity_proof),
    })
}

/// A checkpoint file's bytes (its digest links the next one to it) and JSON.
fn read_checkpoint(path: &Path) -> Result<(Vec<u8>, Value)> {
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
        let root = |d: &Value| {
            d[tree]["root"]
                .as_str()
                .and_then(|r| hex::decode(r).ok())
                .and_then(|b| Hash::try_from(b.as_slice()).ok())
        };
        let size = |d: &Value| d[tree]["size"].as_u64().unwrap_or_default();
        let (m, n) = (size(&before), size(doc));
        if m == 0 {
            continue;
        }
        let path: Option<Vec<Hash>> = link[proof]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|h| {
                        h.as_str()
                            .and_then(|h| hex::decode(h).ok())
                            .and_then(|b| Hash::try_from(b.as_slice()).ok())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let holds = match (root(&before), root(doc), path) {
            (Some(first), Some(second), Some(path)) => {
                merkle::verify_consistency(m, n, &first, &second, &path)
            }
            _ => false,
        };
        if !holds {
            return Err(format!(
                "its {tree} do not extend those of {name}: history between the two was rewritten"
            ));
        }
    }
    Ok(())
}

/// The hash of the library's first identity event, its root; null before
/// it has one.
fn library_root(conn: &Connection) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
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
    let value = doc["signature"]["value"].as_str().unwrap_or_default();
    let signature = B64
        .decode(value)
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or("its signature is not an Ed25519 signature")?;
    standing
        .key
        .verify_strict(&canonical_json_except(doc, "signature"), &signature)
        .map_err(|_| "its signature does not verify: the checkpoint was altered".to_owned())
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
