//! Content Credentials on export: a copy of each approved asset with a C2PA
//! manifest embedded, or beside its copy a `.c2pa` sidecar where C2PA
//! defines no embedding for the format, signed by the acting rights
//! manager under the library's certificate authority. Originals are only
//! read, and a copy is made only of a file that still matches its checksum.
//!
//! Each manifest asserts:
//! - `c2pa.actions`: the original opened (it is the parent ingredient, with
//!   any credentials it arrived with) when it was imported, and each
//!   metadata edit of the provenance chain;
//! - `cawg.training-mining`: the license tag's entries
//!   ([`LicenseTag::training_mining`]);
//! - `stds.schema-org.CreativeWork`: the creator and the rights holder;
//! - `assay.asset`: the asset id, license tag, the original's checksum,
//!   the provenance hash and the library's latest signed checkpoint, so a
//!   buyer can check the chain behind the credential.
//!
//! Exporting records an `export` event on every asset it wrote.

use std::collections::HashSet;
use std::fs::File;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use assay_credentials::{embeds, Claim, CredentialWriter, KeySigner, PARENT};
use assay_fsio::atomic::{self, Staged, Staging};
use assay_fsio::hashing::Hashing;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::exports::manifest::{self, Entry, RefusedAsset, Selected};
use crate::formats::file_names;
use crate::identity::roles::Action;
use crate::identity::users::Actor;
use crate::job::Job;
use crate::provenance::chain;
use crate::provenance::event::{EventKind, Signer};
use crate::rights::edit::{self, Selection};
use crate::rights::licenses::{LicenseTag, PaymentTerms};

/// The label of Assay's own assertion (C2PA's rule: an entity's labels
/// start with a name it is known by).
pub const ASSAY_ASSERTION: &str = "assay.asset";
const ACTIONS: &str = "c2pa.actions";
const TRAINING_MINING: &str = "cawg.training-mining";
const CREATIVE_WORK: &str = "stds.schema-org.CreativeWork";

/// What a Content Credentials export wrote, and what it left out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CredentialExport {
    pub files: Vec<CredentialFile>,
    pub refused: Vec<RefusedAsset>,
    /// The checkpoint written once the export was committed, so the
    /// library's newest checkpoint covers what left it (the manifests
    /// carry the one written as the export began).
    pub checkpoint: String,
}

/// One asset's signed copy.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CredentialFile {
    pub asset_id: String,
    /// The copy, in the output folder.
    pub file: String,
    /// Its `.c2pa` sidecar, when the format allows no embedding.
    pub sidecar: Option<String>,
}

/// What signs Content Credentials for one rights manager: the writer, their
/// key under the library's certificate chain, and the checkpoint every
/// manifest it signs carries.
pub(crate) struct Signing<'a> {
    writer: CredentialWriter,
    signer: KeySigner<'a>,
    carried: Value,
}

impl Library {
    /// Credentials signing for `actor`. It writes a checkpoint (the one the
    /// manifests carry), so it is made outside any write transaction.
    pub(crate) fn signing<'a>(&self, actor: &'a Actor) -> Result<Signing<'a>> {
        let carried = self.checkpoint_document(actor)?;
        let chain_pem = self.signer_chain(actor)?;
        let signer = KeySigner::new(&chain_pem, |m| actor.key.sign(m).to_bytes())
            .map_err(|e| Error::Internal(e.to_string()))?;
        let writer = CredentialWriter::new().map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Signing {
            writer,
            signer,
            carried,
        })
    }
}

impl Signing<'_> {
    /// The checkpoint every manifest it signs carries, written when it was
    /// made: what a document signed beside the credentials carries too.
    pub(crate) fn carried(&self) -> &Value {
        &self.carried
    }

    /// What the credentials of `entry` (catalog row `row`) claim.
    fn claim(
        &self,
        conn: &rusqlite::Connection,
        row: i64,
        entry: &Entry,
        license: &LicenseTag,
    ) -> Result<Claim> {
        Ok(claim(entry, license, actions(conn, row)?, &self.carried))
    }

    /// A `.c2pa` sidecar for the original at `path` as it is, bound to
    /// every byte of it: what audit packages and purchases deliver beside
    /// the original. `sha256` is the file's, already checked against the
    /// catalog by the caller that read it.
    pub(crate) fn sidecar_of(
        &self,
        conn: &rusqlite::Connection,
        row: i64,
        entry: &Entry,
        license: &LicenseTag,
        path: &Path,
        sha256: [u8; 32],
    ) -> Result<std::result::Result<Vec<u8>, String>> {
        let claim = self.claim(conn, row, entry, license)?;
        let signed = File::open(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))
            .and_then(|mut original| {
                self.writer
                    .sidecar(
                        &self.signer,
                        &claim,
                        &entry.media_type,
                        &mut original,
                        Some(sha256),
                    )
                    .map_err(|e| format!("signing {}: {e}", path.display()))
            });
        Ok(signed)
    }
}

/// One asset's credentials for delivery beside its original (a `.c2pa`
/// sidecar), or why it has none.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryCredentials {
    pub asset_id: String,
    pub store: std::result::Result<Vec<u8>, String>,
}

impl Library {
    /// Content Credentials for the originals of `asset_ids` as they are,
    /// signed by `actor`: what a market delivers beside each file it sells.
    /// Each original is read once, its checksum checked and taken as the
    /// sidecar's data hash. Assets not approved, or whose file changed, get
    /// the reason instead.
    pub fn delivery_credentials(
        &self,
        actor: &Actor,
        asset_ids: &[String],
    ) -> Result<Vec<DeliveryCredentials>> {
        actor.may(Action::Export)?;
        let taxonomy = self.taxonomy()?;
        let signing = self.signing(actor)?;
        let conn = self.connect()?;
        let rows = edit::select(&conn, &Selection::Assets(asset_ids.to_vec()))?;
        let Selected {
            listed, refused, ..
        } = manifest::entries(&conn, &rows, &taxonomy, &mut Job::quiet())?;
        let mut out: Vec<DeliveryCredentials> = refused
            .into_iter()
            .map(|r| DeliveryCredentials {
                asset_id: r.asset_id,
                store: Err(r.reason),
            })
            .collect();
        for item in listed {
            let entry = &item.entry;
            let path = Path::new(&entry.location);
            let store = match (
                taxonomy.get(&entry.license_tag),
                checked_digest(path, entry),
            ) {
                (Some(license), Ok(digest)) => {
                    signing.sidecar_of(&conn, item.row, entry, license, path, digest)?
                }
                (None, _) => Err(format!("license tag {} is unknown", entry.license_tag)),
                (_, Err(why)) => Err(why),
            };
            out.push(DeliveryCredentials {
                asset_id: entry.asset_id.clone(),
                store,
            });
        }
        Ok(out)
    }
}

/// The SHA-256 of the file at `path`, if it is still `entry`'s checksum.
fn checked_digest(path: &Path, entry: &Entry) -> std::result::Result<[u8; 32], String> {
    let mut hashing =
        Hashing::new(File::open(path).map_err(|e| format!("reading {}: {e}", path.display()))?);
    hashing
        .drain(1 << 20)
        .map_err(|e| format!("reading {}: {e}", path.display()))?;
    let digest = hashing.digest();
    let checksum = format!("sha256:{}", hex::encode(digest));
    if checksum != entry.checksum {
        return Err(format!(
            "{} no longer matches its checksum ({checksum}, the catalog records {})",
            path.display(),
            entry.checksum
        ));
    }
    Ok(digest)
}

/// A copy signed and staged beside its place, not yet in it.
struct Signed {
    row: i64,
    file: CredentialFile,
    /// The copy (and its sidecar), written beside their places but not
    /// yet flushed to disk.
    staged: Vec<Staged>,
}

impl Library {
    /// Writes to `out` a copy of each approved asset of `selection` that
    /// carries Content Credentials signed by `actor` (a rights manager);
    /// the others are listed in `refused`, with the reason. Nothing is put
    /// in place unless the `export` events are committed.
    pub fn export_credentials(
        &self,
        actor: &Actor,
        selection: &Selection,
        out: &Path,
        job: &mut Job,
    ) -> Result<CredentialExport> {
        actor.may(Action::Export)?;
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        let taxonomy = self.taxonomy()?;
        let signing = self.signing(actor)?;

        let mut conn = self.connect()?;
        let Selected {
            listed,
            mut refused,
            ..
        } = {
            let rows = edit::select(&conn, selection)?;
            // Reading the catalog is quick; progress is the copies signed.
            manifest::entries(
                &conn,
                &rows,
                &taxonomy,
                &mut Job::cancellable(job.cancel_flag()),
            )?
        };
        // What each copy is called and claims is settled first, in order
        // (names depend on one another); the copies are then signed on
        // every core.
        let mut sidecars = HashSet::new();
        let mut planned = Vec::with_capacity(listed.len());
        for item in listed {
            let Some(license) = taxonomy.get(&item.entry.license_tag) else {
                continue; // `entries` lists only assets whose tag is known
            };
            let claim = signing.claim(&conn, item.row, &item.entry, license)?;
            let name = copy_name(&item.entry, &mut sidecars);
            planned.push((item, claim, name));
        }
        let total = planned.len();
        let next = AtomicUsize::new(0);
        let cancel = job.cancel_flag();
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<Signed, RefusedAsset>)>();
        let mut results = Vec::with_capacity(total);
        std::thread::scope(|s| -> Result<()> {
            for _ in 0..threads.min(total) {
                let tx = tx.clone();
                let (next, planned, signing) = (&next, &planned, &signing);
                s.spawn(move || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((item, claim, name)) = planned.get(i) else {
                        break;
                    };
                    if cancel.load(Ordering::Relaxed) {
                        break;
                    }
                    let entry = &item.entry;
                    let result = sign_copy(signing, claim, entry, name, out)
                        .map(|(file, staged)| Signed {
                            row: item.row,
                            file,
                            staged,
                        })
                        .map_err(|reason| RefusedAsset {
                            asset_id: entry.asset_id.clone(),
                            reason,
                        });
                    if tx.send((i, result)).is_err() {
                        break;
                    }
                });
            }
            drop(tx);
            // Progress from here, as the copies come in; a cancel stops the
            // workers at their next file.
            for result in rx {
                results.push(result);
                job.step(results.len(), total)?;
            }
            Ok(())
        })?;
        job.check()?;
        if results.len() != total {
            return Err(Error::Internal("a signing thread stopped early".into()));
        }
        results.sort_by_key(|(i, _)| *i);
        let mut signed = Vec::with_capacity(total);
        for (_, result) in results {
            match result {
                Ok(s) => signed.push(s),
                Err(r) => refused.push(r),
            }
        }
        if signed.is_empty() {
            return Err(manifest::nothing_left("approved-only", "export", &refused));
        }
        // Every copy reaches the disk before the events say it left: one
        // flush for all of them (one per file cost more than the signing).
        let written: Vec<&Staged> = signed.iter().flat_map(|s| &s.staged).collect();
        atomic::sync_staged(&written).map_err(|e| Error::io(out, e))?;
        // The last point to stop: nothing is committed or in place yet.
        job.check()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let events: Vec<(i64, String)> = signed
            .iter()
            .map(|s| (s.row, s.file.asset_id.clone()))
            .collect();
        chain::append_all(
            &tx,
            &events,
            EventKind::Export,
            &json!({"format": "c2pa"}),
            &Signer::User(actor),
        )?;
        tx.commit()?;
        let mut files = Vec::with_capacity(signed.len());
        let mut staged = Vec::new();
        for s in signed {
            staged.extend(s.staged);
            files.push(s.file);
        }
        atomic::put_all(staged).map_err(|e| Error::io(out, e))?;
        // As every export does: the newest checkpoint covers what left.
        let checkpoint = self.checkpoint(actor)?.path;
        Ok(CredentialExport {
            files,
            refused,
            checkpoint,
        })
    }
}

/// The `c2pa.actions` of an asset's provenance chain: when it was imported
/// (the original opened) and each metadata edit since.
fn actions(conn: &rusqlite::Connection, row: i64) -> Result<Vec<Value>> {
    let agent = json!({"name": "Assay", "version": env!("CARGO_PKG_VERSION")});
    let mut stmt = conn.prepare_cached(
        "SELECT kind, json_extract(body, '$.at') FROM events WHERE asset = ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query([row])?;
    let mut actions = Vec::new();
    while let Some(r) = rows.next()? {
        let kind: String = r.get(0)?;
        let at: Option<String> = r.get(1)?;
        let is = |k: EventKind| kind == k.as_str();
        let action = if is(EventKind::Import) && actions.is_empty() {
            "c2pa.opened"
        } else if is(EventKind::MetadataChange)
            || is(EventKind::LicenseChange)
            || is(EventKind::TransferOfRights)
        {
            "c2pa.edited.metadata"
        } else {
            continue;
        };
        let mut entry = json!({"action": action, "softwareAgent": agent});
        if let Some(at) = at {
            entry["when"] = json!(at);
        }
        actions.push(entry);
    }
    // A chain always starts with its import; a claim must start by naming
    // its parent, whatever the catalog says.
    match actions.first_mut() {
        Some(first) if first["action"] == "c2pa.opened" => {
            first["parameters"] = json!({"ingredientIds": [PARENT]});
        }
        _ => actions.insert(
            0,
            json!({"action": "c2pa.opened", "softwareAgent": agent,
                   "parameters": {"ingredientIds": [PARENT]}}),
        ),
    }
    Ok(actions)
}

fn claim(entry: &Entry, license: &LicenseTag, actions: Vec<Value>, carried: &Value) -> Claim {
    let payment: Option<PaymentTerms> = entry
        .payment_terms
        .clone()
        .and_then(|terms| serde_json::from_value(terms).ok());
    let training = license.training_mining(payment.as_ref());
    let mut work = json!({"@context": "https://schema.org", "@type": "CreativeWork"});
    if let Some(creator) = &entry.creator_attribution_text {
        work["author"] = json!([{"@type": "Person", "name": creator}]);
    }
    if let Some(holder) = &entry.rights_holder {
        work["copyrightHolder"] = json!({"@type": "Organization", "name": holder});
    }
    if let Some(statement) = &license.web_statement {
        work["license"] = json!(statement);
    }
    Claim {
        parent_has_credentials: entry.content_credentials.is_some(),
        title: entry.file_name.clone(),
        generator: "Assay".to_owned(),
        generator_version: env!("CARGO_PKG_VERSION").to_owned(),
        assertions: vec![
            (ACTIONS.to_owned(), json!({ "actions": actions })),
            (TRAINING_MINING.to_owned(), json!({ "entries": training })),
            (CREATIVE_WORK.to_owned(), work),
            (
                ASSAY_ASSERTION.to_owned(),
                json!({
                    "asset_id": entry.asset_id,
                    "license_tag": entry.license_tag,
                    "checksum": entry.checksum,
                    "provenance_hash": entry.provenance_hash,
                    "checkpoint": carried,
                }),
            ),
        ],
    }
}

/// Signs a copy of `entry`'s file into `out`, staged: embedded where C2PA
/// allows it, else the file as it is and a `.c2pa` sidecar (staged, on
/// disk). Both are returned written but not yet flushed to disk. The
/// reason it could not, otherwise, naming the file.
fn sign_copy(
    signing: &Signing<'_>,
    claim: &Claim,
    entry: &Entry,
    file_name: &str,
    out: &Path,
) -> std::result::Result<(CredentialFile, Vec<Staged>), String> {
    let source = Path::new(&entry.location);
    let failed =
        |what: &str, e: &dyn std::fmt::Display| format!("{what} {}: {e}", source.display());
    let target = out.join(file_name);
    if same_file(&target, source) {
        return Err(format!(
            "the copy would replace the original {}; export to another folder",
            source.display()
        ));
    }
    let changed = |checksum: &str| {
        format!(
            "{} no longer matches its checksum ({checksum}, the catalog records {})",
            source.display(),
            entry.checksum
        )
    };
    // A JPEG that carries no store of its own, the common case, is read
    // once: its checksum is checked and is the copy's data hash too.
    if entry.media_type == "image/jpeg" && !claim.parent_has_credentials {
        let bytes = std::fs::read(source).map_err(|e| failed("reading", &e))?;
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        let checksum = format!("sha256:{}", hex::encode(digest));
        if checksum != entry.checksum {
            return Err(changed(&checksum));
        }
        let staging = Staging::create(&target).map_err(|e| failed("writing a copy of", &e))?;
        signing
            .writer
            .embed_jpeg(&signing.signer, claim, &bytes, digest, &mut staging.file())
            .map_err(|e| failed("signing", &e))?;
        let file = CredentialFile {
            asset_id: entry.asset_id.clone(),
            file: file_name.to_owned(),
            sidecar: None,
        };
        return Ok((file, vec![staging.close_unsynced()]));
    }
    // Any other file is read whole once to check it is still what was
    // approved, and again by the signer; a changed file is never signed.
    let digest = checked_digest(source, entry)?;
    let embedded = embeds(&entry.media_type);
    let mut original = File::open(source).map_err(|e| failed("reading", &e))?;
    let staging = Staging::create(&target).map_err(|e| failed("writing a copy of", &e))?;
    let mut staged = Vec::with_capacity(2);
    let sidecar = if embedded {
        signing
            .writer
            .embed(
                &signing.signer,
                claim,
                &entry.media_type,
                &mut original,
                &mut staging.file(),
            )
            .map_err(|e| failed("signing", &e))?;
        None
    } else {
        std::io::copy(&mut original, &mut staging.file()).map_err(|e| failed("copying", &e))?;
        // The copy is the original byte for byte: its checksum, just
        // checked, is the sidecar's data hash.
        let manifest = signing
            .writer
            .sidecar(
                &signing.signer,
                claim,
                &entry.media_type,
                &mut original,
                Some(digest),
            )
            .map_err(|e| failed("signing", &e))?;
        let name = file_names::c2pa_sidecar(file_name);
        let path = out.join(&name);
        let written = Staging::create(&path).and_then(|s| {
            s.file().write_all(&manifest)?;
            Ok(s.close_unsynced())
        });
        staged.push(written.map_err(|e| format!("writing {}: {e}", path.display()))?);
        Some(name)
    };
    staged.push(staging.close_unsynced());
    Ok((
        CredentialFile {
            asset_id: entry.asset_id.clone(),
            file: file_name.to_owned(),
            sidecar,
        },
        staged,
    ))
}

/// The copy's file name: the manifest's, unless the format takes a
/// sidecar whose name (the file's stem) another copy's sidecar has, when
/// the asset id prefixes it (a.cr2 and a.nef would share a.c2pa).
fn copy_name(entry: &Entry, sidecars: &mut HashSet<String>) -> String {
    let file_name = entry.file_name.clone();
    if embeds(&entry.media_type) {
        return file_name;
    }
    let sidecar = |name: &str| file_names::collision_key(&file_names::c2pa_sidecar(name));
    if sidecars.insert(sidecar(&file_name)) {
        return file_name;
    }
    let prefixed = file_names::portable_file_name(&format!(
        "{}-{file_name}",
        entry.asset_id.get(..8).unwrap_or(&entry.asset_id)
    ));
    sidecars.insert(sidecar(&prefixed));
    prefixed
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
