//! Audit packages: one tar file an auditor checks with nothing else. For each
//! asset it holds the file, the record as JSON-LD and the whole provenance
//! chain; beside them the public keys of every signer, and a signed index of
//! every member (path, size, SHA-256), written last.
//!
//! ```text
//! assets/<asset_id>/record.jsonld      the catalog record, with @context
//! assets/<asset_id>/provenance.jsonl   one {"body","hash","signature"} per event
//!                                      (and "batch", its proof, when signed in one)
//! assets/<asset_id>/file/<name>        the bytes, checked against the checksum
//! assets/<asset_id>/file/<stem>.c2pa   with Content Credentials asked for: a
//!                                      C2PA sidecar bound to every byte of it
//! contracts/<contract_id>/<name>       contracts the records cite, when held
//! keys/signers.json                    who each key is: user, role, key
//! keys/<key hex>.pem                   the same keys, as openssl reads them
//! keys/library-ca.pem                  the certificate the sidecars chain to
//! index.json                           the signed index (schemas/audit-index.schema.json)
//! ```
//!
//! Tar, not zip: it streams (the index is the last member, so an export is
//! one pass over the files), and every system reads it. [`crate::exports::audit_check`]
//! reads packages back.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use assay_fsio::atomic;
use assay_fsio::hashing;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rusqlite::Connection;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::catalog::assets::{self, now};
use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::exports::manifest::{self, context, RefusedAsset};
use crate::formats::canonical::canonical_json;
use crate::formats::file_names;
use crate::formats::one_pass::Stamp;
use crate::identity::keys;
use crate::identity::roles::Action;
use crate::identity::users::Actor;
use crate::job::Job;
use crate::provenance::batch::Proofs;
use crate::provenance::chain;
use crate::provenance::event::{EventKind, Signer, LIBRARY_ROLE};
use crate::provenance::signed::{self, Schema};
use crate::rights::contracts;
use crate::rights::edit::{self, Selection};

pub(crate) static INDEX_SCHEMA: Schema =
    Schema::new(include_str!("../../../../schemas/audit-index.schema.json"));
/// Where a package carries the library's newest checkpoint.
const CHECKPOINT_DIR: &str = "checkpoint";
pub(crate) const INDEX: &str = "index.json";
pub(crate) const SIGNERS: &str = "keys/signers.json";
pub(crate) const IDENTITY: &str = "keys/identity.jsonl";
/// The library CA's certificate, carried with Content Credentials: the
/// signed index vouches for it, so a checker of the package trusts it.
pub(crate) const CREDENTIALS_CA: &str = "keys/library-ca.pem";

/// What an audit package holds beyond its records, chains and files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditOptions {
    /// Beside each approved asset's file, a C2PA sidecar (`.c2pa`) bound
    /// to every byte of it, signed by the exporting rights manager.
    pub content_credentials: bool,
}

/// What an audit export wrote, and what it left out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditExport {
    pub package_id: String,
    /// `sha256:` of the signed index's bytes, as the assets' `export` events
    /// record it.
    pub index_hash: String,
    pub assets: usize,
    /// Members, the index included.
    pub members: usize,
    /// Bytes of the assets' files.
    pub file_bytes: u64,
    /// Contracts the records cite that the library does not hold.
    pub contracts_not_held: Vec<String>,
    pub refused: Vec<RefusedAsset>,
    /// Content Credentials sidecars packaged, when asked for.
    pub credentials: usize,
    /// Packaged assets that carry no credentials, with the reason (only
    /// approved assets get them).
    pub credentials_refused: Vec<RefusedAsset>,
    /// The checkpoint written once the export was committed.
    pub checkpoint: String,
}

/// One member as the index lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Member {
    path: String,
    size: u64,
    sha256: String,
}

impl Library {
    /// Writes an audit package of the selected assets to `out`, signed by
    /// `actor`. Assets whose bytes no location holds unchanged are left out,
    /// with the reason. Nothing is written, and no event recorded, unless
    /// both succeed.
    pub fn export_audit(
        &self,
        actor: &Actor,
        selection: &Selection,
        out: &Path,
    ) -> Result<AuditExport> {
        self.export_audit_with(
            actor,
            selection,
            out,
            AuditOptions::default(),
            &mut Job::quiet(),
        )
    }

    /// [`Library::export_audit`] as a job: it reports each asset packaged
    /// and, when cancelled, stops before it commits, writing nothing.
    pub fn export_audit_with(
        &self,
        actor: &Actor,
        selection: &Selection,
        out: &Path,
        options: AuditOptions,
        job: &mut Job,
    ) -> Result<AuditExport> {
        actor.may(Action::Export)?;
        let library_key = self.library_public_key()?;
        // Made before the write lock is taken: it writes the checkpoint the
        // credentials carry.
        let signing = match options.content_credentials {
            true => Some((self.signing(actor)?, self.taxonomy()?, self.trust_anchor()?)),
            false => None,
        };
        let mut conn = self.connect()?;
        // The write lock holds the chains still while they are packaged, so
        // each record's head is its chain's last event.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let rows = edit::select(&tx, selection)?;
        let (sources, refused) = sources(&tx, &rows)?;
        if sources.is_empty() {
            return Err(manifest::nothing_left("audit-files", "package", &refused));
        }
        let at = now();
        let package_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let staged = atomic::Staging::create(out).map_err(|e| Error::io(out, e))?;
        // Handed to the disk as it is written, as dataset shards are: a
        // package of gigabytes overlaps its writes with the hashing.
        let file = staged.writing_back().map_err(|e| Error::io(out, e))?;
        let mut package = Package::new(BufWriter::with_capacity(1 << 20, file));
        let mut key_ids = BTreeSet::from([actor.key_id.to_string()]);
        let mut cited = BTreeSet::new();
        let mut file_bytes = 0;
        let mut proofs = Proofs::default();
        let mut credentials = 0;
        let (mut approved, mut credentials_refused) = (HashMap::new(), Vec::new());
        if let Some((_, taxonomy, _)) = &signing {
            let rows: Vec<i64> = sources.iter().map(|s| s.row).collect();
            let cancel = &mut Job::cancellable(job.cancel_flag());
            let selected = manifest::entries(&tx, &rows, taxonomy, cancel)?;
            approved = selected
                .listed
                .into_iter()
                .map(|l| (l.row, l.entry))
                .collect();
            credentials_refused = selected.refused;
        }
        for (packaged, source) in sources.iter().enumerate() {
            job.step(packaged, sources.len())?;
            let record = assets::record(&tx, self.root(), source.row)?;
            let id = &record.asset_id;
            let mut doc = serde_json::to_value(&record)
                .map_err(|e| Error::Internal(format!("asset {id}: {e}")))?;
            if let Some(contract) = doc.get("signed_contract_id").and_then(Value::as_str) {
                cited.insert(contract.to_owned());
            }
            if let Value::Object(map) = &mut doc {
                map.insert("@context".into(), context());
                map.insert("@type".into(), json!("Asset"));
            }
            package.add_json(format!("assets/{id}/record.jsonld"), &doc, out)?;
            let chain = chain(&tx, source.row, &mut key_ids, &mut proofs)?;
            package.add_bytes(format!("assets/{id}/provenance.jsonl"), &chain, out)?;
            let member = package
                .add_file(format!("assets/{id}/file/{}", source.name), &source.path)
                .map_err(|e| Error::io(&source.path, e))?;
            if format!("sha256:{}", member.sha256) != record.checksum {
                return Err(Error::changed_on_disk(&source.path, format!(
                    "{}: its bytes changed since they were checked (asset {id}); nothing was written",
                    source.path.display()
                )));
            }
            file_bytes += member.size;
            if let (Some((signing, taxonomy, _)), Some(entry)) =
                (&signing, approved.get(&source.row))
            {
                let sidecar = file_names::c2pa_sidecar(&source.name);
                let signed = match taxonomy.get(&entry.license_tag) {
                    // The sidecar's name must not be the file's own.
                    _ if sidecar == source.name => Ok(Err(format!(
                        "its file is named {sidecar}, the name its credentials would take"
                    ))),
                    Some(license) => {
                        let sha256 = digest(&member.sha256)?;
                        signing.sidecar_of(&tx, source.row, entry, license, &source.path, sha256)
                    }
                    None => Ok(Err(format!("license tag {} is unknown", entry.license_tag))),
                }?;
                match signed {
                    Ok(bytes) => {
                        package.add_bytes(format!("assets/{id}/file/{sidecar}"), &bytes, out)?;
                        credentials += 1;
                    }
                    Err(reason) => credentials_refused.push(RefusedAsset {
                        asset_id: id.clone(),
                        reason,
                    }),
                }
            }
        }
        let mut contracts_not_held = Vec::new();
        for id in &cited {
            match contracts::contract(&tx, id)? {
                Some(held) => {
                    let path = contracts::stored_path(self.root(), &held);
                    let member = package
                        .add_file(format!("contracts/{id}/{}", held.file_name), &path)
                        .map_err(|e| Error::io(&path, e))?;
                    if format!("sha256:{}", member.sha256) != held.checksum {
                        return Err(Error::changed_on_disk(
                            &path,
                            format!(
                                "{}: contract {id} changed since it was added; nothing was written",
                                path.display()
                            ),
                        ));
                    }
                }
                None => contracts_not_held.push(id.clone()),
            }
        }
        let signers = signers(&tx, &key_ids, &library_key)?;
        for signer in &signers {
            package.add_bytes(
                format!("keys/{}.pem", signer.hex()),
                signer.pem.as_bytes(),
                out,
            )?;
        }
        package.add_json(SIGNERS.to_owned(), &json!(signers), out)?;
        if let (Some((_, _, ca)), true) = (&signing, credentials > 0) {
            package.add_bytes(CREDENTIALS_CA.to_owned(), ca.as_bytes(), out)?;
        }
        // The identity ledger, whole: who could sign what, and when, so the
        // package's signers are checked against signed events, not a list.
        package.add_bytes(IDENTITY.to_owned(), &identity_lines(&tx)?, out)?;
        // The newest checkpoint as it stood before this export, with its
        // heads list, carried and signed with the package: what the
        // packaged chains extend, for a reader who holds no other.
        if let Some(checkpoint) = self.latest_checkpoint_file()? {
            for path in [
                checkpoint.with_extension("json"),
                checkpoint.with_extension("heads"),
            ] {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                let name = name.unwrap_or_default();
                package
                    .add_file(format!("{CHECKPOINT_DIR}/{name}"), &path)
                    .map_err(|e| Error::io(&path, e))?;
            }
        }

        let (library, signer) = signed::identity(&library_key, actor, &at);
        let assets: Vec<&str> = sources.iter().map(|s| s.asset_id.as_str()).collect();
        let mut index = json!({
            "@context": context(),
            "@type": "AuditPackage",
            "package_id": package_id,
            "version": 1,
            "created_at": at,
            "library": library,
            "signer": signer,
            "assets": assets,
            "contracts_not_held": contracts_not_held,
            "members": package.members,
        });
        let bytes = signed::sign(&mut index, actor);
        if let Some(failure) = INDEX_SCHEMA.failures(&index).into_iter().next() {
            return Err(Error::Internal(format!(
                "the package index would not be valid: {failure}"
            )));
        }
        let index_hash = signed::hash(&bytes);
        package.add_bytes(INDEX.to_owned(), &bytes, out)?;
        let members = package.members.len();
        package.finish().map_err(|e| Error::io(out, e))?;

        let data = json!({"format": "audit", "package_id": package_id, "index_hash": index_hash});
        let events: Vec<(i64, String)> = sources
            .iter()
            .map(|s| (s.row, s.asset_id.clone()))
            .collect();
        chain::append_all(&tx, &events, EventKind::Export, &data, &Signer::User(actor))?;
        // Put in place only once the events are committed: never a package
        // without its events, nor the reverse.
        let staged = staged.close().map_err(|e| Error::io(out, e))?;
        job.step(sources.len(), sources.len())?;
        tx.commit()?;
        staged.put().map_err(|e| Error::io(out, e))?;
        let checkpoint = self.checkpoint(actor)?.path;
        Ok(AuditExport {
            package_id,
            index_hash,
            assets: sources.len(),
            members,
            file_bytes,
            contracts_not_held,
            refused,
            credentials,
            credentials_refused,
            checkpoint,
        })
    }
}

/// A member's SHA-256 (hex, as the index lists it) as bytes.
fn digest(hex_text: &str) -> Result<[u8; 32]> {
    let mut bytes = [0; 32];
    hex::decode_to_slice(hex_text, &mut bytes)
        .map_err(|e| Error::Internal(format!("a member's sha256 {hex_text}: {e}")))?;
    Ok(bytes)
}

/// Where an asset's bytes are read from.
struct Source {
    row: i64,
    asset_id: String,
    path: PathBuf,
    /// The file's name in the package.
    name: String,
}

/// For each selected asset, a location whose size and modification time are
/// still what the catalog recorded (its bytes are hashed again as they are
/// packaged); the assets with none are refused.
fn sources(conn: &Connection, rows: &[i64]) -> Result<(Vec<Source>, Vec<RefusedAsset>)> {
    let mut stmt = conn.prepare(
        "SELECT a.asset_id, l.path, l.size_bytes, l.mtime_ns, l.status
         FROM assets a LEFT JOIN locations l ON l.asset = a.id WHERE a.id = ?1 ORDER BY l.id",
    )?;
    let (mut sources, mut refused) = (Vec::new(), Vec::new());
    for &row in rows {
        let mut found = None;
        let mut asset_id = String::new();
        let mut seen = 0;
        let mut cursor = stmt.query([row])?;
        while let Some(r) = cursor.next()? {
            asset_id = r.get(0)?;
            let Some(bytes) = r.get::<_, Option<Vec<u8>>>(1)? else {
                continue;
            };
            seen += 1;
            let path = assets::path_from_bytes(&bytes);
            let recorded = Stamp {
                size: r.get::<_, i64>(2)?.try_into().unwrap_or(u64::MAX),
                mtime_ns: r.get(3)?,
            };
            let unchanged = r.get::<_, String>(4)? == "present"
                && std::fs::metadata(&path).is_ok_and(|m| m.is_file() && Stamp::of(&m) == recorded);
            if unchanged {
                found = Some(path);
                break;
            }
        }
        match found.and_then(|path| {
            let name = path.file_name()?.to_string_lossy().into_owned();
            Some((path, name))
        }) {
            Some((path, name)) => sources.push(Source {
                row,
                asset_id,
                path,
                name,
            }),
            None => refused.push(RefusedAsset {
                asset_id,
                reason: format!(
                    "none of its {seen} locations holds its bytes unchanged (`assay verify` tells which changed)"
                ),
            }),
        }
    }
    Ok((sources, refused))
}

/// The asset's events as JSON lines, oldest first, noting each signer's key.
/// An event signed in a batch carries its proof (`batch`) and the batch's
/// signature.
fn chain(
    conn: &Connection,
    row: i64,
    key_ids: &mut BTreeSet<String>,
    proofs: &mut Proofs,
) -> Result<Vec<u8>> {
    let mut stmt = conn.prepare_cached(
        "SELECT body, hash, signature, key_id, batch, leaf FROM events WHERE asset = ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query([row])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        // The body is already canonical JSON; it goes in byte for byte, so
        // the line is canonical too (keys batch, body, hash, signature).
        let (body, hash): (String, String) = (r.get(0)?, r.get(1)?);
        let mut signature: Vec<u8> = r.get(2)?;
        out.push(b'{');
        if let (Some(batch), Some(leaf)) = (r.get(4)?, r.get(5)?) {
            let proof = proofs.proof(conn, batch, leaf)?;
            out.extend_from_slice(b"\"batch\":");
            proof.write(&mut out);
            out.push(b',');
            signature = proof.signature;
        }
        out.extend_from_slice(b"\"body\":");
        out.extend_from_slice(body.as_bytes());
        out.extend_from_slice(b",\"hash\":\"");
        out.extend_from_slice(hash.as_bytes());
        out.extend_from_slice(b"\",\"signature\":\"");
        out.extend_from_slice(B64.encode(signature).as_bytes());
        out.extend_from_slice(b"\"}\n");
        key_ids.insert(r.get(3)?);
    }
    Ok(out)
}

/// One signer's entry in `keys/signers.json`.
#[derive(Serialize)]
struct SignerKey {
    user: Option<String>,
    role: String,
    key_id: String,
    public_key: String,
    #[serde(skip)]
    pem: String,
}

impl SignerKey {
    /// The key id's hex, a safe file name.
    fn hex(&self) -> &str {
        self.key_id
            .split_once(':')
            .map_or(self.key_id.as_str(), |(_, hex)| hex)
    }
}

/// The users (or the library) behind `key_ids`.
fn signers(
    conn: &Connection,
    key_ids: &BTreeSet<String>,
    library: &ed25519_dalek::VerifyingKey,
) -> Result<Vec<SignerKey>> {
    let mut stmt = conn.prepare("SELECT name, role, public_key FROM users WHERE key_id = ?1")?;
    let library_id = keys::key_id(library).to_string();
    let mut out = Vec::new();
    for id in key_ids {
        let (user, role, key) = if *id == library_id {
            (None, LIBRARY_ROLE.to_owned(), *library)
        } else {
            let (name, role, bytes): (String, String, Vec<u8>) =
                stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            let key = crate::identity::users::verifying_key(&bytes, &name)?;
            (Some(name), role, key)
        };
        out.push(SignerKey {
            user,
            role,
            key_id: id.clone(),
            public_key: keys::public_key_compact(&key),
            pem: keys::public_key_pem(&key),
        });
    }
    Ok(out)
}

/// The identity ledger as JSON lines: each event's number, body (the
/// signed bytes, as text), hash and signature (hex).
fn identity_lines(conn: &Connection) -> Result<Vec<u8>> {
    let mut stmt =
        conn.prepare("SELECT seq, body, hash, signature FROM identity_events ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let (seq, body, hash, signature): (i64, String, String, Vec<u8>) =
            (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
        let line =
            json!({"seq": seq, "body": body, "hash": hash, "signature": hex::encode(signature)});
        out.extend_from_slice(&canonical_json(&line));
        out.push(b'\n');
    }
    Ok(out)
}

/// A tar being written, with the index entry of every member so far.
struct Package<W: Write> {
    tar: tar::Builder<W>,
    members: Vec<Member>,
    mtime: u64,
}

impl<W: Write> Package<W> {
    fn new(out: W) -> Self {
        let mtime = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Package {
            tar: tar::Builder::new(out),
            members: Vec::new(),
            mtime,
        }
    }

    fn header(&self, size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(size);
        header.set_mode(0o644);
        header.set_mtime(self.mtime);
        header
    }

    fn add_json(&mut self, path: String, doc: &Value, out: &Path) -> Result<()> {
        let bytes =
            serde_json::to_vec_pretty(doc).map_err(|e| Error::Internal(format!("{path}: {e}")))?;
        self.add_bytes(path, &bytes, out)
    }

    fn add_bytes(&mut self, path: String, bytes: &[u8], out: &Path) -> Result<()> {
        let mut header = self.header(bytes.len() as u64);
        self.tar
            .append_data(&mut header, &path, bytes)
            .map_err(|e| Error::io(out, e))?;
        self.members.push(Member {
            path,
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
        });
        Ok(())
    }

    /// Streams the file at `from` in, hashing it on another core on the
    /// way; the caller compares the hash with what the catalog expects.
    fn add_file(&mut self, path: String, from: &Path) -> io::Result<Member> {
        let file = File::open(from)?;
        let size = file.metadata()?.len();
        let mut header = self.header(size);
        let tar = &mut self.tar;
        let ((), read, digest) = hashing::hashed(file.take(size), |reader| {
            tar.append_data(&mut header, &path, reader)
        })?;
        if read != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the file shrank from {size} to {read} bytes while it was read"),
            ));
        }
        let member = Member {
            path,
            size,
            sha256: hex::encode(digest),
        };
        self.members.push(member.clone());
        Ok(member)
    }

    fn finish(self) -> io::Result<()> {
        let mut out = self.tar.into_inner()?;
        out.flush()
    }
}
