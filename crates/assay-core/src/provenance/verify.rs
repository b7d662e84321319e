//! Verifying provenance from the bodies and the signers' keys alone: every
//! chain re-hashed and re-linked, every signature checked (in batches, on
//! every core), and each event's actor allowed the action it records.

use std::collections::HashMap;

use ed25519_dalek::{Signature, VerifyingKey};
use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::catalog::assets;
use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::identity::keys;
use crate::identity::ledger::{self, Standing};
use crate::identity::roles::{self, Role};
use crate::identity::users;
use crate::provenance::batch::{self, Book};
use crate::provenance::checkpoint::CheckpointCheck;
use crate::provenance::event::{Body, Event, EventKind, LIBRARY_ROLE, VERSION};
use crate::provenance::merkle::Hash;

/// A place where an asset's chain does not hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Break {
    pub asset_id: String,
    /// The first event that fails, when the failure is in an event.
    pub seq: Option<i64>,
    pub problem: String,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct ProvenanceReport {
    pub assets: u64,
    pub events: u64,
    /// The first break of each broken chain.
    pub breaks: Vec<Break>,
    /// Where who may sign does not hold: the signed identity ledger is
    /// broken, missing, or the catalog's users depart from it.
    pub signers: Vec<String>,
    /// The checkpoint the catalog was checked against (the newest in the
    /// library folder, or one given), and how the catalog departs from it;
    /// none when there is no checkpoint to trust.
    pub checkpoint: Option<CheckpointCheck>,
}

impl ProvenanceReport {
    /// Every chain holds, so does the record of who may sign, and the
    /// catalog still holds everything the checkpoint saw.
    pub fn holds(&self) -> bool {
        self.breaks.is_empty()
            && self.signers.is_empty()
            && self
                .checkpoint
                .as_ref()
                .is_none_or(|c| c.problems.is_empty())
    }
}

struct Signed {
    asset: usize,
    seq: i64,
    digest: [u8; 32],
    signature: Signature,
    key: VerifyingKey,
}

/// Events whose signatures are checked together.
const BATCH: usize = 4096;

impl Library {
    /// The provenance timeline of one asset, oldest first.
    pub fn provenance(&self, key: &str) -> Result<Vec<Event>> {
        let conn = self.connect()?;
        let asset = assets::resolve(&conn, key)?;
        let mut stmt =
            conn.prepare("SELECT body, hash FROM events WHERE asset = ?1 ORDER BY seq")?;
        let rows = stmt.query_map([asset], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
        let mut events = Vec::new();
        for row in rows {
            let (text, hash) = row?;
            let body: Body = serde_json::from_str(&text).map_err(|e| Error::Provenance {
                asset_id: key.to_owned(),
                message: format!("an event is not readable: {e}"),
            })?;
            events.push(Event {
                seq: body.seq,
                kind: body.kind.as_str().to_owned(),
                at: body.at,
                user: body.actor.user.map(str::to_owned),
                role: body.actor.role.to_owned(),
                key_id: body.actor.key_id.to_owned(),
                prev: body.prev.map(str::to_owned),
                hash,
                data: body.data,
            });
        }
        Ok(events)
    }

    /// Re-checks every chain: each event's hash, its link to the one before,
    /// its signature, that the key is the recorded user's and that the
    /// user's role could make it; and that each asset's `provenance_hash`
    /// is its last event. Reports the first break of each chain.
    pub fn verify_provenance(&self) -> Result<ProvenanceReport> {
        let newest = self.latest_checkpoint_file()?;
        self.verify_provenance_against(newest.as_deref())
    }

    /// [`Library::verify_provenance`] against the checkpoint at `checkpoint`
    /// (one a buyer holds, say) instead of the newest in the library folder;
    /// none checks the chains and signers alone.
    pub fn verify_provenance_against(
        &self,
        checkpoint: Option<&std::path::Path>,
    ) -> Result<ProvenanceReport> {
        let checked = checkpoint.map(|p| self.check_checkpoint(p)).transpose()?;
        let conn = self.connect()?;
        let (signers, signer_problems) = Signers::load(self, &conn)?;
        // Signatures are checked by one thread per core while this thread
        // walks the chains, in batches (ed25519 batch verification).
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (batches, inbox) = crossbeam_channel::bounded::<Vec<Signed>>(threads * 2);
        let (mut report, assets, failed) = std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    let inbox = inbox.clone();
                    s.spawn(move || {
                        inbox
                            .iter()
                            .flat_map(|b| bad_signatures(&b))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            drop(inbox);
            let walked = walk(&conn, &signers, &batches);
            drop(batches);
            let failed: Vec<(usize, i64)> = workers
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect();
            walked.map(|(report, assets)| (report, assets, failed))
        })?;
        for (asset, seq) in failed {
            if let Some(asset_id) = assets.get(asset) {
                report.breaks.push(Break {
                    asset_id: asset_id.clone(),
                    seq: Some(seq),
                    problem: format!(
                        "event {seq}: the signature does not verify with the recorded signer's key"
                    ),
                });
            }
        }
        // Signatures are checked apart from the walk; keep each chain's earliest break.
        let order: HashMap<&str, usize> = assets
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        report.breaks.sort_by_key(|b| {
            (
                order
                    .get(b.asset_id.as_str())
                    .copied()
                    .unwrap_or(usize::MAX),
                b.seq.unwrap_or(i64::MAX),
            )
        });
        report
            .breaks
            .dedup_by(|later, first| later.asset_id == first.asset_id);
        report.signers = signer_problems;
        report.checkpoint = checked;
        Ok(report)
    }
}

/// Walks every chain in order, checking all but the signatures, which go to
/// `batches`. Returns the report so far and the asset ids by index.
fn walk(
    conn: &Connection,
    signers: &Signers,
    batches: &crossbeam_channel::Sender<Vec<Signed>>,
) -> Result<(ProvenanceReport, Vec<String>)> {
    let mut report = ProvenanceReport::default();
    let mut stmt = conn.prepare(
        "SELECT a.asset_id, a.provenance_hash, e.seq, e.kind, e.body, e.hash, e.signature, e.key_id,
                e.batch, e.leaf
         FROM assets a LEFT JOIN events e ON e.asset = a.id ORDER BY a.id, e.id",
    )?;
    let mut rows = stmt.query([])?;
    // The asset being walked: its id, recorded head, the last hash seen,
    // the next seq expected, and whether it already broke.
    let mut chain: Option<Chain> = None;
    let mut assets: Vec<String> = Vec::new();
    let mut pending: Vec<Signed> = Vec::with_capacity(BATCH);
    let mut book = Book::new(conn);
    while let Some(row) = rows.next()? {
        let asset_id: String = row.get(0)?;
        if chain.as_ref().is_none_or(|c| c.asset_id != asset_id) {
            if let Some(done) = chain.take() {
                done.finish(&mut report);
            }
            report.assets += 1;
            assets.push(asset_id.clone());
            chain = Some(Chain {
                index: assets.len() - 1,
                asset_id,
                head: row.get(1)?,
                last: None,
                next_seq: 0,
                broken: false,
            });
        }
        let Some(c) = chain.as_mut() else { continue };
        let Some(body) = row.get::<_, Option<String>>(4)? else {
            continue; // an asset with no events; `finish` reports it
        };
        report.events += 1;
        if c.broken {
            continue;
        }
        let column_seq: i64 = row.get(2)?;
        let seal = match row.get::<_, Option<i64>>(8)? {
            Some(batch) => Seal::Stored {
                batch,
                leaf: row.get::<_, Option<i64>>(9)?.unwrap_or(-1),
            },
            None => Seal::Own(row.get(6)?),
        };
        let event = StoredEvent {
            kind: row.get(3)?,
            body,
            hash: row.get(5)?,
            key_id: row.get(7)?,
            seal,
        };
        let checked = c
            .check(&event, signers)
            .and_then(|(seq, digest, key)| match &event.seal {
                Seal::Own(signature) => signed(c.index, seq, digest, signature, key).map(Some),
                Seal::Stored { batch, leaf } => book
                    .check(seq, *batch, *leaf, &digest, &event.key_id, &key)
                    .map(|()| None),
                Seal::Proof(_) => Err(format!("event {seq}: carries a proof, not a batch")),
            });
        match checked {
            Ok(Some(signed)) => pending.push(signed),
            Ok(None) => {}
            Err(problem) => {
                c.broken = true;
                report.breaks.push(Break {
                    asset_id: c.asset_id.clone(),
                    seq: Some(column_seq),
                    problem,
                });
            }
        }
        if pending.len() >= BATCH {
            let full = std::mem::replace(&mut pending, Vec::with_capacity(BATCH));
            // The workers outlive the walk; a send fails only if they panicked.
            let _ = batches.send(full);
        }
    }
    if let Some(done) = chain.take() {
        done.finish(&mut report);
    }
    if !pending.is_empty() {
        let _ = batches.send(pending);
    }
    Ok((report, assets))
}

/// An event as the catalog stores it, and as an audit package carries it.
pub(crate) struct StoredEvent {
    pub kind: String,
    pub body: String,
    pub hash: String,
    pub key_id: String,
    pub seal: Seal,
}

/// What authenticates an event that is read back.
pub(crate) enum Seal {
    /// Its own signature.
    Own(Vec<u8>),
    /// Leaf `leaf` of a catalog batch.
    Stored { batch: i64, leaf: i64 },
    /// Its place in a batch, with the batch's signature (audit packages).
    Proof(batch::Proof),
}

/// The signature check of event `seq` of the chain at `asset`.
fn signed(
    asset: usize,
    seq: i64,
    digest: Hash,
    signature: &[u8],
    key: VerifyingKey,
) -> std::result::Result<Signed, String> {
    let signature = Signature::from_slice(signature)
        .map_err(|_| format!("event {seq}: the signature is malformed"))?;
    Ok(Signed {
        asset,
        seq,
        digest,
        signature,
        key,
    })
}

/// Checks one asset's chain from its events alone, oldest first, ending at
/// `head` (the `provenance_hash` its record names): the first break, if any.
/// This is how an audit package's chains are checked away from the library.
pub(crate) fn check_chain(
    asset_id: &str,
    head: Option<&str>,
    events: &[StoredEvent],
    signers: &Signers,
) -> Option<Break> {
    let mut chain = Chain {
        index: 0,
        asset_id: asset_id.to_owned(),
        head: head.map(str::to_owned),
        last: None,
        next_seq: 0,
        broken: false,
    };
    let mut pending: Vec<Signed> = Vec::with_capacity(events.len());
    for event in events {
        let checked =
            chain
                .check(event, signers)
                .and_then(|(seq, digest, key)| match &event.seal {
                    Seal::Own(signature) => signed(0, seq, digest, signature, key),
                    Seal::Proof(proof) => {
                        let batch_digest = proof.signed_digest(seq, &digest)?;
                        signed(0, seq, batch_digest, &proof.signature, key)
                    }
                    Seal::Stored { .. } => Err(format!("event {seq}: names a catalog batch")),
                });
        match checked {
            Ok(s) => pending.push(s),
            Err(problem) => {
                return Some(Break {
                    asset_id: asset_id.to_owned(),
                    seq: Some(chain.next_seq),
                    problem,
                })
            }
        }
    }
    // Events of one batch share a signature; it is checked once.
    let mut seen = std::collections::HashSet::new();
    pending.retain(|s| seen.insert((s.digest, s.signature.to_bytes(), s.key.to_bytes())));
    if let Some(&(_, seq)) = bad_signatures(&pending).first() {
        return Some(Break {
            asset_id: asset_id.to_owned(),
            seq: Some(seq),
            problem: format!(
                "event {seq}: the signature does not verify with the recorded signer's key"
            ),
        });
    }
    let mut report = ProvenanceReport::default();
    chain.finish(&mut report);
    report.breaks.pop()
}

struct Chain {
    index: usize,
    asset_id: String,
    head: Option<String>,
    last: Option<String>,
    next_seq: i64,
    broken: bool,
}

impl Chain {
    /// Everything but the signature, which the caller checks: returns the
    /// event's seq, digest and the key that must have signed it.
    fn check(
        &mut self,
        e: &StoredEvent,
        signers: &Signers,
    ) -> Result<(i64, Hash, VerifyingKey), String> {
        let seq = self.next_seq;
        let digest: Hash = Sha256::digest(e.body.as_bytes()).into();
        if format!("sha256:{}", hex::encode(digest)) != e.hash {
            return Err(format!(
                "event {seq}: its bytes do not match its hash (changed after it was signed)"
            ));
        }
        let body: Body = serde_json::from_str(&e.body)
            .map_err(|err| format!("event {seq}: not a readable event ({err})"))?;
        if body.v != VERSION || body.asset_id != self.asset_id {
            return Err(format!("event {seq}: belongs to another asset or format"));
        }
        if body.seq != seq || body.prev != self.last.as_deref() {
            return Err(format!(
                "event {seq}: does not follow the event before it (an event was removed, inserted or reordered)"
            ));
        }
        if body.kind.as_str() != e.kind || body.actor.key_id != e.key_id {
            return Err(format!(
                "event {seq}: its columns disagree with its signed body"
            ));
        }
        let key = signers.authorize(&body)?;
        self.last = Some(e.hash.clone());
        self.next_seq += 1;
        Ok((seq, digest, key))
    }

    fn finish(self, report: &mut ProvenanceReport) {
        if self.broken {
            return;
        }
        let problem = if self.next_seq == 0 {
            Some("no provenance events".to_owned())
        } else if self.head != self.last {
            Some(format!(
                "the chain ends at {} but the asset records {} (the last event was removed, or the head was changed)",
                self.last.as_deref().unwrap_or("nothing"),
                self.head.as_deref().unwrap_or("nothing")
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            report.breaks.push(Break {
                asset_id: self.asset_id,
                seq: None,
                problem,
            });
        }
    }
}

/// The keys that may sign: every user's standings (by name: the role and
/// key of each span, and when it ended), and the library's (key id, key).
pub(crate) struct Signers {
    users: HashMap<String, Vec<Standing>>,
    library: Option<(String, VerifyingKey)>,
}

impl Signers {
    /// Signers as an identity ledger grants them, standings over time.
    pub(crate) fn from_ledger(
        users: HashMap<String, Vec<Standing>>,
        library: Option<(String, VerifyingKey)>,
    ) -> Self {
        Signers { users, library }
    }

    /// Signers that each hold one standing that never ended (an audit
    /// package's, by name: key id, role, key).
    pub(crate) fn new(
        users: HashMap<String, (String, Role, VerifyingKey)>,
        library: Option<(String, VerifyingKey)>,
    ) -> Self {
        let users = users
            .into_iter()
            .map(|(name, (key_id, role, key))| {
                let open = Standing {
                    role,
                    key_id,
                    key,
                    until: None,
                };
                (name, vec![open])
            })
            .collect();
        Signers { users, library }
    }

    /// Who could sign, from the signed identity ledger alone, and every way
    /// the library departs from it (a broken ledger, a user the catalog
    /// holds that the ledger does not grant as it is, a swapped library key).
    fn load(library: &Library, conn: &Connection) -> Result<(Self, Vec<String>)> {
        let (record, broken) = ledger::replay(conn)?;
        let mut problems: Vec<String> = broken.into_iter().collect();
        let mut users = HashMap::new();
        if record.len == 0 {
            if Library::has_users(conn)? {
                problems.push(
                    "the library's users have no signed identity record, so who may sign cannot be proved; an administrator's next unlock records it".into(),
                );
                // Judged as the catalog says, so each chain is still checked.
                let mut stmt = conn.prepare("SELECT name, role, key_id, public_key FROM users")?;
                let mut rows = stmt.query([])?;
                while let Some(row) = rows.next()? {
                    let name: String = row.get(0)?;
                    let open = Standing {
                        role: users::parse_role(&row.get::<_, String>(1)?)?,
                        key_id: row.get(2)?,
                        key: users::verifying_key(&row.get::<_, Vec<u8>>(3)?, &name)?,
                        until: None,
                    };
                    users.insert(name, vec![open]);
                }
            }
        } else {
            problems.extend(record.departures(conn)?);
            users = record.users;
        }
        let library_key = library.existing_library_public_key()?.map(|key| {
            let id = keys::key_id(&key).to_string();
            (id, key)
        });
        if let (Some(pinned), Some((id, _))) = (&record.library_key_id, &library_key) {
            if pinned != id {
                problems.push(format!(
                    "keys/library.key holds key {id}, but the library's root pinned {pinned}"
                ));
            }
        }
        Ok((
            Signers {
                users,
                library: library_key,
            },
            problems,
        ))
    }

    /// The key that must have signed `body`, if its signer could make it.
    fn authorize(&self, body: &Body) -> Result<VerifyingKey, String> {
        let seq = body.seq;
        let kind = body.kind.as_str();
        if body.actor.role == LIBRARY_ROLE {
            let Some((id, key)) = &self.library else {
                return Err(format!(
                    "event {seq}: signed by the library, whose key is missing"
                ));
            };
            if body.actor.key_id != id {
                return Err(format!(
                    "event {seq}: signed by key {}, which is not this library's key",
                    body.actor.key_id
                ));
            }
            if body.kind != EventKind::Import {
                return Err(format!(
                    "event {seq}: the library's key signs only imports, not {kind}"
                ));
            }
            return Ok(*key);
        }
        let name = body.actor.user.unwrap_or("");
        let Some(spans) = self.users.get(name) else {
            return Err(format!("event {seq}: signed by unknown user {name:?}"));
        };
        let with_key: Vec<&Standing> = spans
            .iter()
            .filter(|s| s.key_id == body.actor.key_id)
            .collect();
        if with_key.is_empty() {
            return Err(format!(
                "event {seq}: signed by key {}, which is not {name}'s key",
                body.actor.key_id
            ));
        }
        let Some(standing) = with_key.iter().find(|s| s.role.as_str() == body.actor.role) else {
            let role = with_key[with_key.len() - 1].role;
            return Err(format!(
                "event {seq}: records role {} but {name} is a {role}",
                body.actor.role
            ));
        };
        // Times are the signers' own word, in one format, so they compare
        // as text; a span that ended signs nothing dated after its end.
        if let Some((until, ended_by)) = &standing.until {
            if body.at.as_str() >= until.as_str() {
                return Err(format!(
                    "event {seq}: signed by {name} at {}, after {ended_by} ended that key and role at {until}",
                    body.at
                ));
            }
        }
        let role = standing.role;
        if !roles::allows(role, body.kind.action()) {
            return Err(format!(
                "event {seq}: {kind} by {name}, a {role}, who may not {}",
                body.kind.action().as_str()
            ));
        }
        Ok(standing.key)
    }
}

/// The signatures of `part` that do not verify; a batch that fails is
/// re-checked one by one to name the event.
fn bad_signatures(part: &[Signed]) -> Vec<(usize, i64)> {
    let messages: Vec<&[u8]> = part.iter().map(|s| s.digest.as_slice()).collect();
    let signatures: Vec<Signature> = part.iter().map(|s| s.signature).collect();
    let keys: Vec<VerifyingKey> = part.iter().map(|s| s.key).collect();
    if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
        return Vec::new();
    }
    part.iter()
        .filter(|s| s.key.verify_strict(&s.digest, &s.signature).is_err())
        .map(|s| (s.asset, s.seq))
        .collect()
}
