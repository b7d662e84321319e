//! A market as witness of a library's checkpoints. The market keeps the
//! last checkpoint it witnessed for each library and accepts a newer one
//! only with consistency proofs that the trees it saw are prefixes of the
//! new one's; a library rolled back, or rewritten after a checkpoint was
//! witnessed, cannot make those proofs. This file holds both halves that
//! need the library's trees or its signature rules: the claims a market
//! reads from a checkpoint and checks ([`CheckpointClaim`]), and the
//! request a library sends ([`Library::witness_request`]).

use rusqlite::Connection;
use serde::Serialize;
use serde_json::Value;

use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::provenance::checkpoint::{self, TYPE};
use crate::provenance::merkle::{self, Frontier, Hash};

/// One tree head a checkpoint signs: how many leaves, and their root (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeHead {
    pub size: u64,
    pub root: String,
}

/// What a checkpoint claims, read without trusting it: the library it is
/// of (the hash of its first identity event), when and by which key it was
/// signed, and its two tree heads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointClaim {
    pub library: String,
    pub at: String,
    pub user: String,
    pub key_id: String,
    pub events: TreeHead,
    pub identity: TreeHead,
}

impl CheckpointClaim {
    /// The claims of the checkpoint document `doc`; an error naming the
    /// member that is missing or malformed.
    pub fn read(doc: &Value) -> Result<CheckpointClaim> {
        let bad = |member: &str| {
            Error::invalid_value(
                "checkpoint",
                format!("not an Assay checkpoint of a version this build reads: {member}"),
            )
        };
        if doc["type"] != TYPE || doc["v"] != 1 {
            return Err(bad("type or v"));
        }
        let text = |pointer: &str| {
            doc.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| bad(pointer))
        };
        let head = |tree: &str| -> Result<TreeHead> {
            let size = doc[tree]["size"]
                .as_u64()
                .ok_or_else(|| bad(&format!("/{tree}/size")))?;
            let root = text(&format!("/{tree}/root"))?;
            // An empty tree has no root; any other root is one SHA-256.
            if (size == 0) != root.is_empty()
                || (size > 0 && merkle::hash_from_hex(&root).is_none())
            {
                return Err(bad(&format!("/{tree}/root")));
            }
            Ok(TreeHead { size, root })
        };
        Ok(CheckpointClaim {
            library: text("/library")?,
            at: text("/at")?,
            user: text("/signer/user")?,
            key_id: text("/signer/key_id")?,
            events: head("events")?,
            identity: head("identity")?,
        })
    }

    /// Whether this checkpoint extends `earlier`, of the same library:
    /// each of its trees no smaller, and `earlier`'s a prefix of it by the
    /// consistency proofs given (hex hashes, RFC 9162). The error says
    /// which tree does not.
    pub fn extends(
        &self,
        earlier: &CheckpointClaim,
        events_proof: &[String],
        identity_proof: &[String],
    ) -> Result<()> {
        if self.library != earlier.library {
            return Err(Error::invalid_value(
                "checkpoint",
                "it is the checkpoint of another library",
            ));
        }
        for (what, old, new, proof) in [
            ("events", &earlier.events, &self.events, events_proof),
            (
                "identity events",
                &earlier.identity,
                &self.identity,
                identity_proof,
            ),
        ] {
            if !tree_extends(old, new, proof) {
                return Err(Error::refused(
                    "checkpoint-extends",
                    format!(
                        "its {what} ({} of them) do not extend the {} witnessed before: the library was rolled back or rewritten since",
                        new.size, old.size
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn tree_extends(old: &TreeHead, new: &TreeHead, proof: &[String]) -> bool {
    // Nothing was seen, so nothing can be rewritten.
    old.size == 0
        || merkle::consistency_holds_hex(
            old.size,
            new.size,
            &old.root,
            &new.root,
            proof.iter().map(String::as_str),
        )
}

/// What a library sends a market to witness: its newest checkpoint, and
/// consistency proofs (hex) from the one the market last witnessed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WitnessRequest {
    pub checkpoint: Value,
    pub events_proof: Vec<String>,
    pub identity_proof: Vec<String>,
}

impl Library {
    /// The library's root as its checkpoints name it (the hash of its first
    /// identity event), read from the catalog; `None` before it has users.
    pub fn identity_root(&self) -> Result<Option<String>> {
        checkpoint::library_root(&self.connect()?)
    }

    /// The newest checkpoint in the library folder, with consistency proofs
    /// from `witnessed` (the checkpoint a market last witnessed for this
    /// library; none for the first). Where the market saw more than this
    /// library holds, or another history, the proofs cannot be made: they
    /// are left out, and the market refuses the checkpoint.
    pub fn witness_request(&self, witnessed: Option<&Value>) -> Result<WitnessRequest> {
        let path = self.latest_checkpoint_file()?.ok_or_else(|| {
            Error::no_such(
                "checkpoint",
                "the library has no checkpoint yet: write one with `assay checkpoint`",
            )
        })?;
        let (_, doc) = checkpoint::read_checkpoint(&path)?;
        let newest = CheckpointClaim::read(&doc)?;
        let mut request = WitnessRequest {
            checkpoint: doc,
            events_proof: Vec::new(),
            identity_proof: Vec::new(),
        };
        let Some(witnessed) = witnessed else {
            return Ok(request);
        };
        let seen = CheckpointClaim::read(witnessed)?;
        if seen.events.size > newest.events.size || seen.identity.size > newest.identity.size {
            return Ok(request);
        }
        let conn = self.connect()?;
        let hexes = |proof: Vec<Hash>| proof.iter().map(hex::encode).collect::<Vec<_>>();
        request.events_proof = hexes(events_proof(&conn, &seen.events, newest.events.size)?);
        let identity = checkpoint::digests(
            &conn,
            &format!(
                "SELECT hash FROM identity_events ORDER BY seq LIMIT {}",
                newest.identity.size
            ),
        )?;
        let m = usize::try_from(seen.identity.size).unwrap_or(usize::MAX);
        request.identity_proof = hexes(merkle::consistency_proof(&identity, m.min(identity.len())));
        Ok(request)
    }
}

/// The consistency proof from the first `seen.size` events to the first
/// `n`: grown from the frontier of the library's own checkpoint of that
/// size where the catalog keeps one with the same root, else from every
/// event up to `n`.
fn events_proof(conn: &Connection, seen: &TreeHead, n: u64) -> Result<Vec<Hash>> {
    let limit = |k: u64| i64::try_from(k).unwrap_or(i64::MAX);
    if let Some((frontier, last_event)) = checkpoint::frontier_of(conn, seen.size, &seen.root)? {
        let since = checkpoint::digests_after(conn, last_event, limit(n - seen.size))?;
        let hashed: Vec<Hash> = since.iter().map(|d| merkle::leaf_hash(d)).collect();
        if let Some(grown) = frontier.grow(&hashed) {
            return Ok(grown.proof);
        }
    }
    let all = checkpoint::digests_after(conn, i64::MIN, limit(n))?;
    let hashed: Vec<Hash> = all.iter().map(|d| merkle::leaf_hash(d)).collect();
    let m = usize::try_from(seen.size)
        .unwrap_or(usize::MAX)
        .min(hashed.len());
    let grown = Frontier::empty()
        .grow(&hashed[..m])
        .and_then(|old| old.frontier.grow(&hashed[m..]))
        .ok_or_else(|| Error::Internal("a tree could not be grown from its own leaves".into()))?;
    Ok(grown.proof)
}
