//! Events signed together. An action on many assets at once (a manifest
//! export, an audit package) records one event per asset but signs them all
//! once: over the root of the Merkle tree ([`crate::provenance::merkle`]) of the events'
//! SHA-256 digests, in the order they are stored, and the tree's size. One
//! ed25519 signature costs more than building and storing an event, so
//! signing each of 100,000 events alone would dominate such an action.
//!
//! A batch's signature is Ed25519(key, SHA-256(M)), where M is the canonical
//! JSON `{"batch_root":"sha256:<hex>","size":<n>}`: the same shape as an
//! event's own signature (over the SHA-256 of its canonical JSON body), and
//! never the digest of an event, whose body has other members.
//!
//! The catalog keeps each batch's leaves, so verification checks a batch
//! once (its root and signature) and then each event against its leaf: a
//! changed event is named, not only its batch. An audit package carries just
//! some events of a batch; each carries its audit path to the signed root.

use std::collections::hash_map::{Entry, HashMap};

use ed25519_dalek::{Signature, VerifyingKey};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::provenance::merkle::{self, Hash, Tree};

/// The digest a batch's signature covers.
pub(crate) fn signed_digest(root: &Hash, size: u64) -> Hash {
    let message = format!(
        "{{\"batch_root\":\"sha256:{}\",\"size\":{size}}}",
        hex::encode(root)
    );
    Sha256::digest(message.as_bytes()).into()
}

/// A stored batch's leaves as event digests, in leaf order.
fn digests(leaves: &[u8]) -> Vec<Hash> {
    leaves
        .chunks(32)
        .filter_map(|c| c.try_into().ok())
        .collect()
}

/// Stores a signed batch over `digests` and returns its row id.
pub(crate) fn store(
    conn: &Connection,
    tree: &Tree,
    digests: &[Hash],
    signature: &Signature,
    key_id: &str,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO batches (root, size, leaves, signature, key_id) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        hash_text(&tree.root()),
        tree.size() as i64,
        digests.concat(),
        signature.to_bytes().as_slice(),
        key_id
    ])?;
    Ok(conn.last_insert_rowid())
}

fn hash_text(hash: &Hash) -> String {
    format!("sha256:{}", hex::encode(hash))
}

fn parse_hash(text: &str) -> Option<Hash> {
    let mut hash = [0; 32];
    hex::decode_to_slice(text.strip_prefix("sha256:")?, &mut hash).ok()?;
    Some(hash)
}

/// A batch as the catalog stores it.
struct Stored {
    root: String,
    size: i64,
    leaves: Vec<u8>,
    signature: Vec<u8>,
    key_id: String,
}

fn load(conn: &Connection, batch: i64) -> Result<Option<Stored>> {
    Ok(conn
        .prepare_cached("SELECT root, size, leaves, signature, key_id FROM batches WHERE id = ?1")?
        .query_row([batch], |r| {
            Ok(Stored {
                root: r.get(0)?,
                size: r.get(1)?,
                leaves: r.get(2)?,
                signature: r.get(3)?,
                key_id: r.get(4)?,
            })
        })
        .optional()?)
}

/// Checks the catalog's batched events, each batch once.
pub(crate) struct Book<'c> {
    conn: &'c Connection,
    /// Each batch seen: its leaves and signer, or why it does not hold.
    checked: HashMap<i64, std::result::Result<(Vec<u8>, String), String>>,
}

impl<'c> Book<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Self {
        Book {
            conn,
            checked: HashMap::new(),
        }
    }

    /// Whether event `seq`, whose body hashes to `digest` and names `key`
    /// (`key_id`) as its signer, is leaf `leaf` of `batch`, and the batch
    /// holds: its leaves give its root, and `key` signed it.
    pub(crate) fn check(
        &mut self,
        seq: i64,
        batch: i64,
        leaf: i64,
        digest: &Hash,
        key_id: &str,
        key: &VerifyingKey,
    ) -> std::result::Result<(), String> {
        let conn = self.conn;
        let checked = self
            .checked
            .entry(batch)
            .or_insert_with(|| check_stored(conn, batch, key));
        let (leaves, signer) = checked
            .as_ref()
            .map_err(|problem| format!("event {seq}: {problem}"))?;
        if signer != key_id {
            return Err(format!(
                "event {seq}: signed by key {key_id}, but its batch {batch} by {signer}"
            ));
        }
        let at = usize::try_from(leaf).ok().and_then(|l| l.checked_mul(32));
        match at.and_then(|at| leaves.get(at..at + 32)) {
            Some(stored) if stored == digest => Ok(()),
            _ => Err(format!(
                "event {seq}: its bytes are not leaf {leaf} of the batch that signed it (changed after it was signed)"
            )),
        }
    }
}

/// A stored batch's leaves and signer, once its root and signature hold.
fn check_stored(
    conn: &Connection,
    batch: i64,
    key: &VerifyingKey,
) -> std::result::Result<(Vec<u8>, String), String> {
    let stored = match load(conn, batch) {
        Ok(Some(stored)) => stored,
        Ok(None) => return Err(format!("the batch {batch} that signed it is missing")),
        Err(e) => return Err(format!("its batch {batch} is unreadable: {e}")),
    };
    let root = Tree::new(&digests(&stored.leaves)).map(|t| (t.root(), t.size()));
    let recorded = parse_hash(&stored.root);
    match root {
        Some((root, size))
            if Some(root) == recorded
                && i64::try_from(size) == Ok(stored.size)
                && stored.leaves.len() % 32 == 0 =>
        {
            let signature = Signature::from_slice(&stored.signature)
                .map_err(|_| format!("the signature of its batch {batch} is malformed"))?;
            key.verify_strict(&signed_digest(&root, size), &signature)
                .map_err(|_| {
                    format!(
                        "the signature of its batch {batch} does not verify with the recorded signer's key"
                    )
                })?;
            Ok((stored.leaves, stored.key_id))
        }
        _ => Err(format!(
            "its batch {batch}'s leaves do not give the batch's root (changed after it was signed)"
        )),
    }
}

/// An event's place in a signed batch, as an audit package carries it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Proof {
    pub root: Hash,
    pub size: u64,
    pub index: u64,
    pub path: Vec<Hash>,
    pub signature: Vec<u8>,
}

impl Proof {
    /// The digest the batch's signature must cover, if the path leads from
    /// `digest` to the root.
    pub(crate) fn signed_digest(
        &self,
        seq: i64,
        digest: &Hash,
    ) -> std::result::Result<Hash, String> {
        let leaf = merkle::leaf_hash(digest);
        match merkle::root_from_path(&leaf, self.index, self.size, &self.path) {
            Some(root) if root == self.root => Ok(signed_digest(&self.root, self.size)),
            _ => Err(format!(
                "event {seq}: its bytes are not leaf {} of the batch that signed it (changed after it was signed, or its proof was)",
                self.index
            )),
        }
    }

    /// Appends the canonical JSON of the proof without its signature:
    /// `{"index":…,"path":[…],"root":"sha256:…","size":…}`.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("{{\"index\":{},\"path\":[", self.index).as_bytes());
        for (i, hash) in self.path.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(format!("\"{}\"", hash_text(hash)).as_bytes());
        }
        out.extend_from_slice(
            format!(
                "],\"root\":\"{}\",\"size\":{}}}",
                hash_text(&self.root),
                self.size
            )
            .as_bytes(),
        );
    }

    /// Reads what [`Proof::write`] wrote, with the batch's signature.
    pub(crate) fn parse(value: &Value, signature: Vec<u8>) -> std::result::Result<Proof, String> {
        let number = |field: &str| {
            value[field]
                .as_u64()
                .ok_or_else(|| format!("batch.{field} is not a whole number"))
        };
        let hash = |v: &Value, field: &str| {
            v.as_str()
                .and_then(parse_hash)
                .ok_or_else(|| format!("batch.{field} is not a sha256: hash"))
        };
        let path = value["path"]
            .as_array()
            .ok_or_else(|| "batch.path is not a list".to_owned())?
            .iter()
            .map(|h| hash(h, "path"))
            .collect::<std::result::Result<_, _>>()?;
        Ok(Proof {
            root: hash(&value["root"], "root")?,
            size: number("size")?,
            index: number("index")?,
            path,
            signature,
        })
    }
}

/// Audit paths of catalog events, each batch's tree built once.
#[derive(Default)]
pub(crate) struct Proofs {
    trees: HashMap<i64, (Tree, Vec<u8>)>,
}

impl Proofs {
    /// The proof of leaf `leaf` of `batch`.
    pub(crate) fn proof(&mut self, conn: &Connection, batch: i64, leaf: i64) -> Result<Proof> {
        let (tree, signature) = match self.trees.entry(batch) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => {
                let missing = || Error::Corrupt(format!("provenance batch {batch} is missing"));
                let stored = load(conn, batch)?.ok_or_else(missing)?;
                let tree = Tree::new(&digests(&stored.leaves)).ok_or_else(missing)?;
                slot.insert((tree, stored.signature))
            }
        };
        let index = u64::try_from(leaf).unwrap_or(u64::MAX);
        Ok(Proof {
            root: tree.root(),
            size: tree.size(),
            index,
            path: tree.path(index),
            signature: signature.clone(),
        })
    }
}
