//! The provenance chain: every event in an asset's life, hash-chained and
//! signed.
//!
//! An event is a JSON object in canonical form (RFC 8785, see
//! [`crate::provenance::canonical`]):
//!
//! ```json
//! {"v":1,"asset_id":"…","seq":3,"kind":"approval","at":"2026-…Z",
//!  "actor":{"user":"rosa","role":"rights_manager","key_id":"ed25519:…"},
//!  "prev":"sha256:<hash of event 2>","data":{"comment":"…"}}
//! ```
//!
//! Its hash is `sha256:` + hex(SHA-256(body)); its signature is
//! Ed25519(actor's key, SHA-256(body)), or, for an action on many assets at
//! once, one signature for all its events over the root of their Merkle tree
//! (see [`crate::provenance::batch`]). The asset's `provenance_hash` is the hash of its
//! latest event. The catalog stores the body byte for byte and refuses to
//! update or delete an event or a batch (triggers); verification re-derives
//! everything from the bodies and the users' public keys.

use std::borrow::Cow;
use std::collections::HashMap;

use ed25519_dalek::{Signature, VerifyingKey};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::catalog::assets::{self, now};
use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::identity::keys::{self, KeyId, PreparedKey};
use crate::identity::roles::{self, Action, Role};
use crate::identity::users::{self, Actor};
use crate::provenance::batch::{self, Book};
use crate::provenance::canonical::{canonical_json, write_string};
use crate::provenance::merkle::{Hash, Tree};

const VERSION: u64 = 1;
/// The role recorded for events the library's own key signs.
pub(crate) const LIBRARY_ROLE: &str = "library";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Import,
    MetadataChange,
    LicenseChange,
    Submission,
    Approval,
    Rejection,
    Quarantine,
    Release,
    TransferOfRights,
    Export,
    ExportToMarketplace,
    /// A listed asset taken off sale on a marketplace: the end of what an
    /// `export_to_marketplace` began, so a reader of the chain alone knows
    /// the asset is no longer offered.
    MarketplaceWithdrawal,
    Payment,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Import => "import",
            EventKind::MetadataChange => "metadata_change",
            EventKind::LicenseChange => "license_change",
            EventKind::Submission => "submission",
            EventKind::Approval => "approval",
            EventKind::Rejection => "rejection",
            EventKind::Quarantine => "quarantine",
            EventKind::Release => "release",
            EventKind::TransferOfRights => "transfer_of_rights",
            EventKind::Export => "export",
            EventKind::ExportToMarketplace => "export_to_marketplace",
            EventKind::MarketplaceWithdrawal => "marketplace_withdrawal",
            EventKind::Payment => "payment",
        }
    }

    /// The action whoever signs this kind of event must be allowed.
    fn action(self) -> Action {
        match self {
            EventKind::Import => Action::Import,
            EventKind::MetadataChange | EventKind::LicenseChange => Action::EditMetadata,
            EventKind::Submission => Action::Submit,
            EventKind::Approval => Action::Approve,
            EventKind::Rejection => Action::Reject,
            EventKind::Quarantine => Action::Quarantine,
            EventKind::Release => Action::Release,
            EventKind::TransferOfRights => Action::TransferRights,
            EventKind::Export
            | EventKind::ExportToMarketplace
            | EventKind::MarketplaceWithdrawal => Action::Export,
            EventKind::Payment => Action::RecordPayment,
        }
    }
}

/// Who signs an event: a user acting, or the library itself.
pub(crate) enum Signer<'a> {
    User(&'a Actor),
    Library(&'a PreparedKey),
}

impl Signer<'_> {
    fn sign(&self, message: &[u8]) -> Signature {
        match self {
            Signer::User(actor) => actor.key.sign(message),
            Signer::Library(key) => key.sign(message),
        }
    }

    /// Appends the canonical `actor` object: `key_id`, `role`, `user`.
    fn write_actor(&self, out: &mut Vec<u8>) {
        let (role, user) = match self {
            Signer::User(a) => (a.role.as_str(), Some(a.name.as_str())),
            Signer::Library(_) => (LIBRARY_ROLE, None),
        };
        let key_id = self.key_id();
        out.extend_from_slice(b"{\"key_id\":");
        write_string(key_id.as_str(), out);
        out.extend_from_slice(b",\"role\":");
        write_string(role, out);
        out.extend_from_slice(b",\"user\":");
        match user {
            Some(name) => write_string(name, out),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
    }

    /// Borrowed for a user, whose id is known; a bulk edit seals one event
    /// per asset with it.
    fn key_id(&self) -> Cow<'_, KeyId> {
        match self {
            Signer::User(actor) => Cow::Borrowed(&actor.key_id),
            Signer::Library(key) => Cow::Owned(keys::key_id(key.verifying_key())),
        }
    }
}

/// An event ready to be stored: its canonical body, hash and what
/// authenticates it.
pub(crate) struct Sealed {
    pub body: Vec<u8>,
    pub hash: String,
    pub auth: Auth,
}

/// What authenticates a stored event.
pub(crate) enum Auth {
    /// Its own signature, over the SHA-256 of its body.
    Own(Signature),
    /// Its batch's signature: it is leaf `leaf` of batch `id` (batch.rs).
    Batch { id: i64, leaf: i64 },
}

/// An event's body and its SHA-256, before anything signs it.
pub(crate) struct Composed {
    body: Vec<u8>,
    digest: Hash,
}

impl Composed {
    fn hash(&self) -> String {
        format!("sha256:{}", hex::encode(self.digest))
    }
}

/// Builds, hashes and signs event `seq` of an asset. Pure, so bulk edits can
/// seal many events in parallel before one transaction stores them.
pub(crate) fn seal(
    signer: &Signer,
    asset_id: &str,
    seq: i64,
    prev: Option<&str>,
    kind: EventKind,
    at: &str,
    data: Value,
) -> Sealed {
    let event = compose(
        signer,
        asset_id,
        seq,
        prev,
        kind,
        at,
        &canonical_json(&data),
    );
    Sealed {
        hash: event.hash(),
        auth: Auth::Own(signer.sign(&event.digest)),
        body: event.body,
    }
}

/// Event `seq` of an asset, with `data` already in canonical JSON; signed
/// later, with others, by [`seal_batch`].
pub(crate) fn compose(
    signer: &Signer,
    asset_id: &str,
    seq: i64,
    prev: Option<&str>,
    kind: EventKind,
    at: &str,
    data: &[u8],
) -> Composed {
    // The envelope is written directly, its keys already in canonical
    // order (actor, asset_id, at, data, kind, prev, seq, v); a unit test
    // holds it to `canonical_json` of the same object. A bulk edit seals
    // one event per asset, and building a `Value` first cost it measurably.
    let mut body = Vec::with_capacity(512);
    body.extend_from_slice(b"{\"actor\":");
    signer.write_actor(&mut body);
    body.extend_from_slice(b",\"asset_id\":");
    write_string(asset_id, &mut body);
    body.extend_from_slice(b",\"at\":");
    write_string(at, &mut body);
    body.extend_from_slice(b",\"data\":");
    body.extend_from_slice(data);
    body.extend_from_slice(b",\"kind\":");
    write_string(kind.as_str(), &mut body);
    body.extend_from_slice(b",\"prev\":");
    match prev {
        Some(hash) => write_string(hash, &mut body),
        None => body.extend_from_slice(b"null"),
    }
    body.extend_from_slice(format!(",\"seq\":{seq},\"v\":{VERSION}}}").as_bytes());
    Composed {
        digest: Sha256::digest(&body).into(),
        body,
    }
}

/// The sequence number and hash the next event of `asset` chains onto.
pub(crate) fn head(conn: &Connection, asset: i64) -> Result<(i64, Option<String>)> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM events WHERE asset = ?1 ORDER BY seq DESC LIMIT 1",
            [asset],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match last {
        Some((seq, hash)) => (seq + 1, Some(hash)),
        None => (0, None),
    })
}

/// Stores a sealed event and moves the asset's `provenance_hash` to it.
pub(crate) fn store(
    conn: &Connection,
    asset: i64,
    seq: i64,
    kind: EventKind,
    key_id: &str,
    sealed: &Sealed,
) -> Result<()> {
    store_event(conn, asset, seq, kind, key_id, sealed)?;
    conn.prepare_cached("UPDATE assets SET provenance_hash = ?1 WHERE id = ?2")?
        .execute(params![sealed.hash, asset])?;
    Ok(())
}

/// Stores a sealed event; the caller moves the asset's `provenance_hash`
/// in the same transaction (bulk edits fold it into their own update).
pub(crate) fn store_event(
    conn: &Connection,
    asset: i64,
    seq: i64,
    kind: EventKind,
    key_id: &str,
    sealed: &Sealed,
) -> Result<()> {
    let body = std::str::from_utf8(&sealed.body).map_err(|_| Error::Provenance {
        asset_id: asset.to_string(),
        message: "event body is not UTF-8".into(),
    })?;
    let own;
    let (signature, batch, leaf): (&[u8], _, _) = match &sealed.auth {
        Auth::Own(signature) => {
            own = signature.to_bytes();
            (&own, None, None)
        }
        // A batched event's signature is its batch's.
        Auth::Batch { id, leaf } => (&[], Some(*id), Some(*leaf)),
    };
    conn.prepare_cached(
        "INSERT INTO events (asset, seq, kind, body, hash, signature, key_id, batch, leaf)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        asset,
        seq,
        kind.as_str(),
        body,
        sealed.hash,
        signature,
        key_id,
        batch,
        leaf
    ])?;
    Ok(())
}

/// Appends one event to an asset's chain, inside the caller's transaction.
pub(crate) fn append(
    conn: &Connection,
    asset: i64,
    asset_id: &str,
    kind: EventKind,
    data: Value,
    signer: &Signer,
) -> Result<String> {
    let (seq, prev) = head(conn, asset)?;
    let sealed = seal(signer, asset_id, seq, prev.as_deref(), kind, &now(), data);
    store(conn, asset, seq, kind, signer.key_id().as_str(), &sealed)?;
    Ok(sealed.hash)
}

/// Appends an event of `kind` with `data` to the chain of each of `items`
/// (catalog row, asset id) inside the caller's transaction, signed together
/// as one batch (batch.rs): the heads are read in one query, the events
/// composed on every core, and one signature covers them all. For actions
/// on many assets at once, where signing each event would dominate.
pub(crate) fn append_all(
    conn: &Connection,
    items: &[(i64, String)],
    kind: EventKind,
    data: &Value,
    signer: &Signer,
) -> Result<()> {
    let heads = heads(conn, items.iter().map(|i| i.0))?;
    append_all_onto(conn, items, &heads, kind, data, signer)
}

/// [`append_all`] onto `heads` read earlier in the same transaction, for a
/// caller that reads them while it does something else.
pub(crate) fn append_all_onto(
    conn: &Connection,
    items: &[(i64, String)],
    heads: &Heads,
    kind: EventKind,
    data: &Value,
    signer: &Signer,
) -> Result<()> {
    let at = now();
    let data = canonical_json(data);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(1);
    let parts: Vec<Option<Vec<(i64, Composed)>>> = std::thread::scope(|s| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let (at, data) = (&at, &data);
                s.spawn(move || {
                    part.iter()
                        .map(|(row, asset_id)| {
                            let (seq, prev) = heads.get(row).cloned().unwrap_or((0, None));
                            let event =
                                compose(signer, asset_id, seq, prev.as_deref(), kind, at, data);
                            (seq, event)
                        })
                        .collect()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().ok()).collect()
    });
    let mut events = Vec::with_capacity(items.len());
    for part in parts {
        events.extend(part.ok_or_else(|| Error::InvalidInput("an event thread panicked".into()))?);
    }
    let (seqs, composed): (Vec<i64>, Vec<Composed>) = events.into_iter().unzip();
    let key_id = signer.key_id();
    for (((row, _), seq), sealed) in items
        .iter()
        .zip(seqs)
        .zip(seal_batch(conn, composed, signer)?)
    {
        store(conn, *row, seq, kind, key_id.as_str(), &sealed)?;
    }
    Ok(())
}

/// Appends `events` (catalog row, asset id, kind, data), each with its own
/// kind and data and possibly several on one asset, inside the caller's
/// transaction, in order, signed as one batch (one event alone gets its own
/// signature). For records that arrive many at once with different content,
/// like a marketplace's feed.
pub(crate) fn append_each(
    conn: &Connection,
    events: &[(i64, &str, EventKind, Value)],
    signer: &Signer,
) -> Result<()> {
    if let [(row, asset_id, kind, data)] = events {
        append(conn, *row, asset_id, *kind, data.clone(), signer)?;
        return Ok(());
    }
    let mut heads = heads(conn, events.iter().map(|e| e.0))?;
    let at = now();
    let mut composed = Vec::with_capacity(events.len());
    for (row, asset_id, kind, data) in events {
        let (seq, prev) = heads.get(row).cloned().unwrap_or((0, None));
        let event = compose(
            signer,
            asset_id,
            seq,
            prev.as_deref(),
            *kind,
            &at,
            &canonical_json(data),
        );
        // The next event of the same asset chains onto this one.
        heads.insert(*row, (seq + 1, Some(event.hash())));
        composed.push((seq, event));
    }
    let (seqs, composed): (Vec<i64>, Vec<Composed>) = composed.into_iter().unzip();
    let key_id = signer.key_id();
    for (((row, _, kind, _), seq), sealed) in events
        .iter()
        .zip(seqs)
        .zip(seal_batch(conn, composed, signer)?)
    {
        store(conn, *row, seq, *kind, key_id.as_str(), &sealed)?;
    }
    Ok(())
}

/// Signs `events` (composed for `signer`) as one batch, stores the batch,
/// and returns the events sealed by it, in order, for the caller to store.
pub(crate) fn seal_batch(
    conn: &Connection,
    events: Vec<Composed>,
    signer: &Signer,
) -> Result<Vec<Sealed>> {
    let digests: Vec<Hash> = events.iter().map(|e| e.digest).collect();
    let Some(tree) = Tree::new(&digests) else {
        return Ok(Vec::new());
    };
    let signature = signer.sign(&batch::signed_digest(&tree.root(), tree.size()));
    let id = batch::store(conn, &tree, &digests, &signature, signer.key_id().as_str())?;
    Ok(events
        .into_iter()
        .enumerate()
        .map(|(leaf, event)| Sealed {
            hash: event.hash(),
            body: event.body,
            auth: Auth::Batch {
                id,
                leaf: leaf as i64,
            },
        })
        .collect())
}

/// The next sequence number and the hash to chain onto, by catalog row.
pub(crate) type Heads = HashMap<i64, (i64, Option<String>)>;

/// The heads of each of `rows` that has events: one seek per row in the
/// `(asset, seq)` index, which is cheaper than any query that groups.
pub(crate) fn heads(conn: &Connection, rows: impl Iterator<Item = i64>) -> Result<Heads> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, hash FROM events WHERE asset = ?1 ORDER BY seq DESC LIMIT 1",
    )?;
    let mut heads = HashMap::new();
    for row in rows {
        let head: Option<(i64, String)> = stmt
            .query_row([row], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((seq, hash)) = head {
            heads.insert(row, (seq + 1, Some(hash)));
        }
    }
    Ok(heads)
}

/// Gives assets imported before the chain existed (catalog version 1) their
/// first event, signed by the library, so every asset has a chain to verify.
pub(crate) fn backfill(library: &Library, conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let orphans: Vec<(i64, String, String, i64, String)> = {
        let mut stmt = tx.prepare(
            "SELECT id, asset_id, checksum, size_bytes, media_type FROM assets a
             WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.asset = a.id)",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    if orphans.is_empty() {
        return Ok(());
    }
    let key = library.library_key()?;
    let signer = Signer::Library(&key);
    for (row, asset_id, checksum, size, media_type) in orphans {
        let data = json!({
            "checksum": checksum,
            "size_bytes": size,
            "media_type": media_type,
            "recorded_after_import": true,
        });
        append(&tx, row, &asset_id, EventKind::Import, data, &signer)?;
    }
    tx.commit()?;
    Ok(())
}

/// One event as `assay provenance` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Event {
    pub seq: i64,
    pub kind: String,
    pub at: String,
    pub user: Option<String>,
    pub role: String,
    pub key_id: String,
    pub prev: Option<String>,
    pub hash: String,
    pub data: Value,
}

#[derive(Deserialize)]
struct Body<'a> {
    v: u64,
    #[serde(borrow)]
    asset_id: &'a str,
    seq: i64,
    kind: EventKind,
    at: String,
    actor: BodyActor<'a>,
    prev: Option<&'a str>,
    data: Value,
}

#[derive(Deserialize)]
struct BodyActor<'a> {
    user: Option<&'a str>,
    role: &'a str,
    key_id: &'a str,
}

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
        let conn = self.connect()?;
        let signers = Signers::load(self, &conn)?;
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

/// The keys that may sign: every user's (by name: key id, role, key), and
/// the library's (key id, key).
pub(crate) struct Signers {
    users: HashMap<String, (String, Role, VerifyingKey)>,
    library: Option<(String, VerifyingKey)>,
}

impl Signers {
    pub(crate) fn new(
        users: HashMap<String, (String, Role, VerifyingKey)>,
        library: Option<(String, VerifyingKey)>,
    ) -> Self {
        Signers { users, library }
    }

    fn load(library: &Library, conn: &Connection) -> Result<Self> {
        let mut users = HashMap::new();
        let mut stmt = conn.prepare("SELECT name, role, key_id, public_key FROM users")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let name: String = row.get(0)?;
            let role = users::parse_role(&row.get::<_, String>(1)?)?;
            let key = users::verifying_key(&row.get::<_, Vec<u8>>(3)?, &name)?;
            users.insert(name, (row.get(2)?, role, key));
        }
        let library = library.existing_library_public_key()?.map(|key| {
            let id = keys::key_id(&key).to_string();
            (id, key)
        });
        Ok(Signers { users, library })
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
        let Some((key_id, role, key)) = self.users.get(name) else {
            return Err(format!("event {seq}: signed by unknown user {name:?}"));
        };
        if body.actor.key_id != key_id {
            return Err(format!(
                "event {seq}: signed by key {}, which is not {name}'s key",
                body.actor.key_id
            ));
        }
        if body.actor.role != role.as_str() {
            return Err(format!(
                "event {seq}: records role {} but {name} is a {role}",
                body.actor.role
            ));
        }
        if !roles::allows(*role, body.kind.action()) {
            return Err(format!(
                "event {seq}: {kind} by {name}, a {role}, who may not {}",
                body.kind.action().as_str()
            ));
        }
        Ok(*key)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::canonical::canonical_json;

    #[test]
    fn a_sealed_body_is_the_canonical_json_of_the_event() {
        let key = PreparedKey::new(&keys::generate());
        let signer = Signer::Library(&key);
        let data = json!({"changes": {"title": {"old": null, "new": "Quay \"7\"\n"}}, "n": 1.5});
        for prev in [None, Some("sha256:00ff")] {
            let sealed = seal(
                &signer,
                "a-1",
                12,
                prev,
                EventKind::MetadataChange,
                "2026-01-02T03:04:05Z",
                data.clone(),
            );
            let expected = canonical_json(&json!({
                "v": VERSION,
                "asset_id": "a-1",
                "seq": 12,
                "kind": "metadata_change",
                "at": "2026-01-02T03:04:05Z",
                "actor": {"user": null, "role": LIBRARY_ROLE, "key_id": keys::key_id(key.verifying_key()).as_str()},
                "prev": prev,
                "data": data,
            }));
            assert_eq!(
                String::from_utf8_lossy(&sealed.body),
                String::from_utf8_lossy(&expected)
            );
            let digest = Sha256::digest(&sealed.body);
            assert_eq!(sealed.hash, format!("sha256:{}", hex::encode(digest)));
            let Auth::Own(signature) = sealed.auth else {
                panic!("a single event carries its own signature")
            };
            assert!(key
                .verifying_key()
                .verify_strict(&digest, &signature)
                .is_ok());
        }
    }
}
