//! Signed manifests: what leaves the building, in a form a buyer checks with
//! nothing but the file and a rights manager's public key.
//!
//! A manifest is one JSON-LD document (`schemas/manifest.schema.json`). Its
//! signature travels inside it: `signature.value` is the ed25519 signature,
//! by the acting rights manager, over the canonical JSON (the same RFC 8785
//! form as provenance events) of the whole document without `signature`.
//! Exporting records an `export` event, with the manifest's hash, on every
//! asset it lists.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use assay_fsio::atomic;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::catalog::assets::now;
use crate::catalog::library::Library;
use crate::catalog::pending_files;
use crate::error::{Error, Result};
use crate::formats::canonical::{self, canonical_json_into, write_string};
use crate::formats::file_names;
use crate::identity::roles::{Action, Role};
use crate::identity::users::Actor;
use crate::job::Job;
use crate::provenance::chain;
use crate::provenance::event::{EventKind, Signer};
use crate::provenance::signed::{self, Schema, Trust};
use crate::rights::edit::{self, Selection};
use crate::rights::licenses::Taxonomy;

static SCHEMA: Schema = Schema::new(include_str!("../../../../schemas/manifest.schema.json"));

/// What an export wrote, and what it left out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ManifestExport {
    /// The document's `urn:uuid:` id.
    pub manifest_id: String,
    /// `sha256:` of the file's bytes, as the assets' `export` events record
    /// it (`sha256sum` checks it).
    pub manifest_hash: String,
    pub assets: usize,
    pub refused: Vec<RefusedAsset>,
    /// The checkpoint written once the export was committed, so the
    /// library's newest checkpoint always covers what left it.
    pub checkpoint: String,
}

/// The refusal of an export that left every selected asset out: `rule`
/// refused, nothing to `what`, each asset with its reason.
pub(crate) fn nothing_left(rule: &'static str, what: &str, refused: &[RefusedAsset]) -> Error {
    let why: Vec<String> = refused
        .iter()
        .map(|r| format!("{}: {}", r.asset_id, r.reason))
        .collect();
    Error::refused(rule, format!("nothing to {what}; {}", why.join("; ")))
}

/// A selected asset the export left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RefusedAsset {
    pub asset_id: String,
    pub reason: String,
}

/// What verifying a manifest found; it holds when `failures` is empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ManifestCheck {
    pub manifest_id: Option<String>,
    pub assets: usize,
    pub failures: Vec<String>,
}

/// An export's document, built from the entries of the assets it lists.
pub(crate) struct Document {
    /// The document's `urn:uuid:` id.
    pub id: String,
    /// `sha256:` of the document (see [`ManifestExport::manifest_hash`]).
    pub hash: String,
    /// The file's contents.
    pub bytes: Vec<u8>,
    /// What the `export` event of each listed asset records.
    pub data: Value,
    /// The schema `bytes` must pass; they are read back and checked while
    /// the events are written, and nothing is kept unless they pass.
    pub check: Option<&'static Schema>,
}

/// A listed asset's manifest entry (`$defs/asset` of the manifest schema),
/// as read from the catalog.
pub(crate) struct Entry {
    pub asset_id: String,
    pub title: Option<String>,
    pub file_name: String,
    pub checksum: String,
    pub size_bytes: i64,
    pub media_type: String,
    /// The Content Credentials the file arrived with, as import read them.
    pub content_credentials: Option<Value>,
    /// A video's or audio file's container facts, as import read them;
    /// left out of the entry for other files.
    pub media: Option<Value>,
    pub license_tag: String,
    pub payment_terms: Option<Value>,
    pub creator_wallet: String,
    pub creator_attribution_text: Option<String>,
    pub signed_contract_id: Option<String>,
    pub provenance_hash: Option<String>,
    pub capture_date: Option<String>,
    /// Not in the manifest: what Content Credentials name and read.
    pub rights_holder: Option<String>,
    /// Where the catalog holds the file (its first location).
    pub location: String,
}

impl Entry {
    /// Appends the entry's canonical JSON, written member by member with
    /// its keys already in canonical order; a unit test holds it to
    /// `canonical_json` of the same object. A manifest may list 100,000
    /// entries, and building a `Value` for each cost an export measurably.
    pub(crate) fn write_canonical(&self, out: &mut Vec<u8>) {
        fn text(out: &mut Vec<u8>, key: &[u8], value: Option<&str>) {
            out.extend_from_slice(key);
            match value {
                Some(value) => write_string(value, out),
                None => out.extend_from_slice(b"null"),
            }
        }
        text(out, b"{\"asset_id\":", Some(&self.asset_id));
        text(out, b",\"capture_date\":", self.capture_date.as_deref());
        text(out, b",\"checksum\":", Some(&self.checksum));
        out.extend_from_slice(b",\"content_credentials\":");
        canonical_json_into(
            self.content_credentials.as_ref().unwrap_or(&Value::Null),
            out,
        );
        let attribution = self.creator_attribution_text.as_deref();
        text(out, b",\"creator_attribution_text\":", attribution);
        text(out, b",\"creator_wallet\":", Some(&self.creator_wallet));
        text(out, b",\"file_name\":", Some(&self.file_name));
        text(out, b",\"license_tag\":", Some(&self.license_tag));
        if let Some(media) = &self.media {
            out.extend_from_slice(b",\"media\":");
            canonical_json_into(media, out);
        }
        text(out, b",\"media_type\":", Some(&self.media_type));
        out.extend_from_slice(b",\"payment_terms\":");
        canonical_json_into(self.payment_terms.as_ref().unwrap_or(&Value::Null), out);
        text(
            out,
            b",\"provenance_hash\":",
            self.provenance_hash.as_deref(),
        );
        let contract = self.signed_contract_id.as_deref();
        text(out, b",\"signed_contract_id\":", contract);
        out.extend_from_slice(format!(",\"size_bytes\":{}", self.size_bytes).as_bytes());
        text(out, b",\"title\":", self.title.as_deref());
        out.push(b'}');
    }
}

impl Library {
    /// Exports the approved assets of `selection` to a manifest at `out`,
    /// signed by `actor`; the others are listed in `refused`. Nothing is
    /// written, and no event recorded, unless both succeed.
    pub fn export_manifest(
        &self,
        actor: &Actor,
        selection: &Selection,
        out: &Path,
    ) -> Result<ManifestExport> {
        self.export_manifest_with(actor, selection, out, &mut Job::quiet())
    }

    /// [`Library::export_manifest`] as a job: it reports the assets read
    /// and, when cancelled, stops before it commits, writing nothing.
    pub fn export_manifest_with(
        &self,
        actor: &Actor,
        selection: &Selection,
        out: &Path,
        job: &mut Job,
    ) -> Result<ManifestExport> {
        actor.may(Action::Export)?;
        let carried = self.checkpoint_document(actor)?;
        self.export_document(
            actor,
            selection,
            out,
            |entries, licenses| {
                signed_manifest(
                    actor,
                    &self.library_public_key()?,
                    entries,
                    licenses,
                    &carried,
                )
            },
            job,
        )
    }

    /// What every export format shares: the role check, the selection, the
    /// approved-only rule, the `export` events and the atomic write. `build`
    /// makes the document from the manifest entries of the assets it lists
    /// and the rights of their license tags, by tag.
    pub(crate) fn export_document(
        &self,
        actor: &Actor,
        selection: &Selection,
        out: &Path,
        build: impl FnOnce(Vec<Entry>, Map<String, Value>) -> Result<Document> + Send,
        job: &mut Job,
    ) -> Result<ManifestExport> {
        let claim = Claim {
            out: Some(out),
            keep: &|_, rows| Ok(rows),
            record: &|_, _, _| Ok(()),
        };
        self.export_claimed(actor, selection, build, claim, job)?
            .map_err(|refused| nothing_left("approved-only", "export", &refused))
    }

    /// [`Library::export_document`] with a say in what is exported and a
    /// record of it in the same transaction (a marketplace sync claims the
    /// assets it publishes so). The inner `Err` holds the refusals when no
    /// asset is left to export; nothing is then written.
    pub(crate) fn export_claimed(
        &self,
        actor: &Actor,
        selection: &Selection,
        build: impl FnOnce(Vec<Entry>, Map<String, Value>) -> Result<Document> + Send,
        claim: Claim,
        job: &mut Job,
    ) -> Result<Result<ManifestExport, Vec<RefusedAsset>>> {
        // Only rights managers may export (the role table).
        actor.may(Action::Export)?;
        let taxonomy = self.taxonomy()?;
        let mut conn = self.connect()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let rows = (claim.keep)(&tx, edit::select(&tx, selection)?)?;
        let Selected {
            listed,
            refused,
            licenses,
        } = entries(&tx, &rows, &taxonomy, job)?;
        if listed.is_empty() {
            return Ok(Err(refused));
        }
        let assets = listed.len();
        let mut events = Vec::with_capacity(assets);
        let mut entries = Vec::with_capacity(assets);
        for Listed { row, entry } in listed {
            events.push((row, entry.asset_id.clone()));
            entries.push(entry);
        }
        // The chains' heads are read while another core builds and signs
        // the document; the events need both.
        let (document, heads) = std::thread::scope(|s| {
            let document = s.spawn(|| build(entries, licenses));
            let heads = chain::heads(&tx, events.iter().map(|e| e.0));
            let document = document
                .join()
                .unwrap_or_else(|_| Err(Error::Internal("building the document panicked".into())));
            (document, heads)
        });
        let (document, heads) = (document?, heads?);
        // The schema check reads the document back from its bytes, beside the
        // events and the staging, on another core; nothing is committed or
        // put in place before it holds.
        let (written, failures) = std::thread::scope(|s| {
            let check = s.spawn(|| match document.check {
                Some(schema) => match serde_json::from_slice(&document.bytes) {
                    Ok(doc) => schema.failures(&doc),
                    Err(e) => vec![format!("not a JSON document: {e}")],
                },
                None => Vec::new(),
            });
            let written = chain::append_all_onto(
                &tx,
                &events,
                &heads,
                EventKind::Export,
                &document.data,
                &Signer::User(actor),
            )
            .and_then(|()| (claim.record)(&tx, &document, &events))
            // The file is staged first and put in place only once the events
            // are committed: never a document without its events, nor the reverse.
            .and_then(|()| {
                claim
                    .out
                    .map(|out| atomic::stage(out, &document.bytes).map_err(|e| Error::io(out, e)))
                    .transpose()
            });
            let failures = check
                .join()
                .unwrap_or_else(|_| vec!["the schema check panicked".to_owned()]);
            (written, failures)
        });
        if let Some(failure) = failures.into_iter().next() {
            return Err(Error::Internal(format!(
                "the document would not be valid: {failure}"
            )));
        }
        let staged = written?;
        // The last point to stop: nothing is committed or in place yet.
        job.check()?;
        // Committed with the events: the staged file is to become `out`, so
        // the next opening of the library finishes the rename if this
        // process dies before it does.
        let pending = match (&staged, claim.out) {
            (Some(staged), Some(out)) => Some(pending_files::record(
                &tx,
                staged.temp_path(),
                out,
                &document.bytes,
            )?),
            _ => None,
        };
        tx.commit()?;
        stop_here_in_tests();
        if let (Some(staged), Some(out)) = (staged, claim.out) {
            staged.put().map_err(|e| Error::io(out, e))?;
        }
        if let Some(id) = pending {
            pending_files::done(&self.connect()?, id)?;
        }
        let checkpoint = self.checkpoint(actor)?.path;
        Ok(Ok(ManifestExport {
            manifest_id: document.id,
            manifest_hash: document.hash,
            assets,
            refused,
            checkpoint,
        }))
    }

    /// Exports the approved assets `claim` keeps to a signed manifest kept
    /// only in the catalog (see [`Library::export_claimed`]).
    pub(crate) fn export_manifest_claimed(
        &self,
        actor: &Actor,
        claim: Claim,
    ) -> Result<Result<ManifestExport, Vec<RefusedAsset>>> {
        actor.may(Action::Export)?;
        let library_key = self.library_public_key()?;
        let carried = self.checkpoint_document(actor)?;
        self.export_claimed(
            actor,
            &Selection::Where(crate::catalog::assets::Filter::default()),
            |entries, licenses| signed_manifest(actor, &library_key, entries, licenses, &carried),
            claim,
            &mut Job::quiet(),
        )
    }
}

/// Where a test kills the process: between an export's commit and its
/// rename, when `ASSAY_TEST_STOP_AFTER_COMMIT` names a file to create
/// first. Debug builds only; a release build never waits here.
fn stop_here_in_tests() {
    if cfg!(debug_assertions) {
        if let Some(marker) = std::env::var_os("ASSAY_TEST_STOP_AFTER_COMMIT") {
            let _ = std::fs::write(&marker, b"");
            loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        }
    }
}

/// A caller's part in an export: where the file goes (if anywhere), which
/// of the selected rows to keep, and what to record beside the `export`
/// events, given the document and the listed (row, asset id) pairs.
pub(crate) struct Claim<'a> {
    pub out: Option<&'a Path>,
    #[allow(clippy::type_complexity)]
    pub keep: &'a dyn Fn(&rusqlite::Connection, Vec<i64>) -> Result<Vec<i64>>,
    #[allow(clippy::type_complexity)]
    pub record: &'a dyn Fn(&rusqlite::Connection, &Document, &[(i64, String)]) -> Result<()>,
}

/// The signed manifest of `entries`, carrying the library's checkpoint
/// `carried` (written as the export began), checked against the manifest
/// schema.
fn signed_manifest(
    actor: &Actor,
    library_key: &VerifyingKey,
    entries: Vec<Entry>,
    licenses: Map<String, Value>,
    carried: &Value,
) -> Result<Document> {
    let at = now();
    let manifest_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let (library, signer) = signed::identity(library_key, actor, &at);
    let doc = json!({
        "@context": context(),
        "@type": "AssetManifest",
        "manifest_id": manifest_id,
        "version": 1,
        "created_at": at,
        "library": library,
        "signer": signer,
        "licenses": licenses,
        "checkpoint": carried,
    });
    // The entries are written straight to canonical JSON, on every core, and
    // the rest of the document around them.
    let mut assets = Vec::with_capacity(entries.len() * 512);
    canonical::write_array(&entries, Entry::write_canonical, &mut assets);
    let Value::Object(members) = &doc else {
        return Err(Error::Internal("a manifest is a JSON object".into()));
    };
    let (bytes, _) = signed::sign_canonical(
        canonical::canonical_json_with(members, "assets", &assets),
        actor,
    );
    let manifest_hash = signed::hash(&bytes);
    Ok(Document {
        data: json!({"manifest_id": manifest_id, "manifest_hash": manifest_hash}),
        id: manifest_id,
        hash: manifest_hash,
        bytes,
        check: Some(&SCHEMA),
    })
}

pub(crate) fn str_field<'a>(entry: &'a Value, field: &str) -> &'a str {
    entry.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// The JSON-LD context: Assay's own terms, with the ones other vocabularies
/// already name mapped to them.
pub(crate) fn context() -> Value {
    json!({
        "@vocab": "https://w3id.org/assay/ns#",
        "schema": "https://schema.org/",
        "dct": "http://purl.org/dc/terms/",
        "title": "dct:title",
        "created_at": "dct:created",
        "media_type": "schema:encodingFormat",
        "size_bytes": "schema:contentSize",
        "capture_date": "schema:dateCreated",
        "license_tag": "dct:license"
    })
}

/// The fields of an asset's rights document a manifest lists; a document
/// that does not read as one lists none (the asset is then refused).
#[derive(Default, Deserialize)]
#[serde(default)]
struct ExportedRights<'a> {
    #[serde(borrow)]
    license_tag: Option<Cow<'a, str>>,
    #[serde(borrow)]
    tax_and_payout_info: Option<Cow<'a, str>>,
    #[serde(borrow)]
    creator: Option<Cow<'a, str>>,
    #[serde(borrow)]
    creator_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    signed_contract_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    rights_holder: Option<Cow<'a, str>>,
    payment_terms: Option<Value>,
}

/// A manifest entry and the catalog row of its asset.
pub(crate) struct Listed {
    pub row: i64,
    pub entry: Entry,
}

/// What a selection exports: the manifest entry of each approved asset,
/// with its catalog row; the others with the reason they are left out; and
/// the machine-readable rights of the listed assets' license tags, by tag.
pub(crate) struct Selected {
    pub listed: Vec<Listed>,
    pub refused: Vec<RefusedAsset>,
    pub licenses: Map<String, Value>,
}

pub(crate) fn entries(
    conn: &rusqlite::Connection,
    rows: &[i64],
    taxonomy: &Taxonomy,
    job: &mut Job,
) -> Result<Selected> {
    let attributions: HashMap<String, Option<String>> = conn
        .prepare("SELECT name, attribution FROM creators")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare(
        "SELECT a.id, a.asset_id, a.checksum, a.size_bytes, a.media_type, a.title, a.capture_date,
                a.rights, a.workflow_state, a.provenance_hash,
                (SELECT path_text FROM locations l WHERE l.asset = a.id ORDER BY l.id LIMIT 1),
                a.content_credentials, a.media
         FROM assets a WHERE a.id IN (SELECT value FROM json_each(?1)) ORDER BY a.id",
    )?;
    let ids = serde_json::to_string(rows).map_err(|e| Error::Internal(e.to_string()))?;
    let mut cursor = stmt.query([ids])?;
    let (mut listed, mut refused, mut licenses) = (Vec::new(), Vec::new(), Map::new());
    let mut names = HashSet::new();
    let mut read = 0;
    while let Some(r) = cursor.next()? {
        read += 1;
        if read % 1024 == 0 {
            job.step(read, rows.len())?;
        }
        let asset_id: String = r.get(1)?;
        let rights_text = r.get_ref(7)?.as_str().unwrap_or_default();
        // Read once, into the fields a manifest needs, borrowing the text.
        let rights: ExportedRights = serde_json::from_str(rights_text).unwrap_or_default();
        let state = r.get_ref(8)?.as_str().unwrap_or_default();
        let tag = rights.license_tag.as_deref();
        let license = tag.and_then(|t| taxonomy.get(t));
        // A name every OS can create, and one no other entry has, case
        // aside: a buyer's folder holds each file under its own name.
        let location: Option<String> = r.get(10)?;
        let file_name = location.as_deref().and_then(|p| {
            Path::new(p)
                .file_name()
                .map(|n| file_names::portable_file_name(&n.to_string_lossy()))
        });
        let checked = match (tag.zip(license), rights.tax_and_payout_info, file_name) {
            _ if state != "approved" => {
                Err(format!("it is {state}; only approved assets are exported"))
            }
            (None, _, _) => Err(format!("its license tag {tag:?} is not in the taxonomy")),
            (_, None, _) => Err("it has no payout reference".to_owned()),
            (_, _, None) => Err("the catalog holds no location for it".to_owned()),
            (Some(license), Some(wallet), Some(file_name)) => Ok((license, wallet, file_name)),
        };
        let ((tag, license), wallet, file_name) = match checked {
            Ok(fields) => fields,
            Err(reason) => {
                refused.push(RefusedAsset { asset_id, reason });
                continue;
            }
        };
        let file_name = if names.insert(file_names::collision_key(&file_name)) {
            file_name
        } else {
            let prefixed = file_names::portable_file_name(&format!(
                "{}-{file_name}",
                asset_id.get(..8).unwrap_or(&asset_id)
            ));
            names.insert(file_names::collision_key(&prefixed));
            prefixed
        };
        let attribution = rights
            .creator
            .as_deref()
            .and_then(|name| attributions.get(name).cloned().flatten())
            .or_else(|| rights.creator_name.as_deref().map(str::to_owned));
        if !licenses.contains_key(tag) {
            let rights = serde_json::to_value(license)
                .map_err(|e| Error::Internal(format!("license tag {tag}: {e}")))?;
            licenses.insert(tag.to_owned(), rights);
        }
        let entry = Entry {
            title: r.get(5)?,
            file_name,
            checksum: r.get(2)?,
            size_bytes: r.get(3)?,
            media_type: r.get(4)?,
            // Written by import from the credentials' own type; text that
            // no longer reads as JSON is left out rather than exported.
            content_credentials: r
                .get_ref(11)?
                .as_str_or_null()
                .ok()
                .flatten()
                .and_then(|text| serde_json::from_str(text).ok()),
            media: r
                .get_ref(12)?
                .as_str_or_null()
                .ok()
                .flatten()
                .and_then(|text| serde_json::from_str(text).ok()),
            license_tag: tag.to_owned(),
            payment_terms: rights.payment_terms,
            creator_wallet: wallet.into_owned(),
            creator_attribution_text: attribution,
            signed_contract_id: rights.signed_contract_id.map(Cow::into_owned),
            provenance_hash: r.get(9)?,
            capture_date: r.get(6)?,
            rights_holder: rights.rights_holder.map(Cow::into_owned),
            location: location.unwrap_or_default(),
            asset_id,
        };
        listed.push(Listed {
            row: r.get(0)?,
            entry,
        });
    }
    job.step(rows.len(), rows.len())?;
    Ok(Selected {
        listed,
        refused,
        licenses,
    })
}

impl Library {
    /// Checks the manifest at `path` as a buyer would, trusting the keys of
    /// this library's rights managers: what the app shows after an export.
    pub fn verify_manifest_file(&self, path: &Path) -> Result<ManifestCheck> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Ok(verify_manifest(&bytes, &self.rights_manager_keys()?, None))
    }

    /// The public keys of this library's rights managers: whom a reader of
    /// what it exports trusts as signers.
    pub(crate) fn rights_manager_keys(&self) -> Result<Vec<VerifyingKey>> {
        self.users()?
            .into_iter()
            .filter(|u| u.role == Role::RightsManager)
            .map(|u| self.user_public_key(&u.name))
            .collect()
    }
}

/// Checks a manifest with nothing but its bytes, the public keys the reader
/// trusts as rights managers' and, when given, the folder holding the files:
/// the schema, the signature, the signer, and each file's size and checksum.
pub fn verify_manifest(
    bytes: &[u8],
    trusted: &[VerifyingKey],
    files: Option<&Path>,
) -> ManifestCheck {
    let mut check = ManifestCheck {
        manifest_id: None,
        assets: 0,
        failures: Vec::new(),
    };
    let doc: Value = match serde_json::from_slice(bytes) {
        Ok(doc) => doc,
        Err(e) => {
            check.failures.push(format!("not a JSON document: {e}"));
            return check;
        }
    };
    check.manifest_id = doc
        .get("manifest_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    check.failures = match document_failures(&doc, &SCHEMA, trusted) {
        Ok(failures) => failures,
        Err(schema) => {
            check.failures = schema;
            return check;
        }
    };
    let assets = doc["assets"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    check.assets = assets.len();
    if let Some(dir) = files {
        for asset in assets {
            if let Some(failure) = check_file(asset, dir) {
                check.failures.push(failure);
            }
        }
    }
    check
}

/// What a reader checks of any signed manifest, of assets or of a dataset
/// version, from the document alone: `Err` with the schema's failures when
/// it does not pass `schema` (nothing else is said of it then); otherwise
/// the signature and its signer against `trusted`, the checkpoint it
/// carries, and that each asset's license tag is among its `licenses`. The
/// schema and the signature each read the whole document; they run on two
/// cores.
pub(crate) fn document_failures(
    doc: &Value,
    schema: &Schema,
    trusted: &[VerifyingKey],
) -> std::result::Result<Vec<String>, Vec<String>> {
    let mut failures = Vec::new();
    let schema_failures = std::thread::scope(|s| {
        let schema = s.spawn(|| schema.failures(doc));
        signed::check(doc, Trust::Keys(trusted), "", &mut failures);
        schema
            .join()
            .unwrap_or_else(|_| vec!["the schema check panicked".to_owned()])
    });
    if !schema_failures.is_empty() {
        return Err(schema_failures);
    }
    if let Some(carried) = doc.get("checkpoint") {
        failures.extend(carried_checkpoint_failure(doc, carried));
    }
    let licenses = doc["licenses"].as_object();
    let assets = doc["assets"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, asset) in assets.iter().enumerate() {
        let tag = str_field(asset, "license_tag");
        if !licenses.is_some_and(|l| l.contains_key(tag)) {
            failures.push(format!(
                "/assets/{i}: license_tag {tag} is not among the manifest's licenses"
            ));
        }
    }
    Ok(failures)
}

/// Why the checkpoint a manifest carries cannot be trusted, if it cannot:
/// it must be signed by the manifest's own signer (whose key the manifest's
/// signature check has already judged), and verify with that key.
fn carried_checkpoint_failure(doc: &Value, carried: &Value) -> Option<String> {
    if carried["signer"]["key_id"] != doc["signer"]["key_id"] {
        return Some("/checkpoint: signed with another key than the manifest".into());
    }
    let key = doc["signer"]["public_key"]
        .as_str()
        .and_then(|k| crate::identity::keys::parse_public_key(k).ok())?;
    (!signed::signature_verifies(carried, &key)).then(|| {
        "/checkpoint: its signature does not verify with the signer's key: it was altered".into()
    })
}

/// The file of one manifest entry in `dir`, checked for size and checksum.
fn check_file(asset: &Value, dir: &Path) -> Option<String> {
    let (asset_id, name) = (str_field(asset, "asset_id"), str_field(asset, "file_name"));
    // A name is a name, never a path: nothing outside `dir` is read.
    if let Some(why) = file_names::file_name_problem(name) {
        return Some(format!(
            "asset {asset_id}: file_name {name:?} is not a plain file name: {why}"
        ));
    }
    let path = dir.join(name);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => return Some(format!("asset {asset_id}: {}: {e}", path.display())),
    };
    let actual = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    let expected = str_field(asset, "checksum");
    if actual != expected {
        return Some(format!(
            "asset {asset_id}: {}: checksum {actual}, but the manifest says {expected}",
            path.display()
        ));
    }
    let size = asset.get("size_bytes").and_then(Value::as_u64);
    if size != Some(bytes.len() as u64) {
        return Some(format!(
            "asset {asset_id}: {}: {} bytes, but the manifest says {size:?}",
            path.display(),
            bytes.len()
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::canonical::canonical_json;

    fn entry(optional: bool) -> Entry {
        let some = |s: &str| optional.then(|| s.to_owned());
        Entry {
            asset_id: "a-1".into(),
            title: some("A \"title\"\n"),
            file_name: "é.txt".into(),
            checksum: "sha256:00".into(),
            size_bytes: 42,
            media_type: "text/plain".into(),
            content_credentials: optional.then(|| json!({"state": "valid", "failures": ["x"]})),
            media: optional.then(|| json!({"duration": 2.5, "video": {"codec": "h264"}})),
            license_tag: "CC-BY-4.0".into(),
            payment_terms: optional.then(|| json!({"z": 1.5, "a": [null, "\u{1F600}"]})),
            creator_wallet: "acct".into(),
            creator_attribution_text: some("Ada"),
            signed_contract_id: some("K-1"),
            provenance_hash: some("sha256:11"),
            capture_date: some("2026-01-02"),
            rights_holder: some("Studio"),
            location: "/photos/é.txt".into(),
        }
    }

    #[test]
    fn an_entry_written_directly_is_its_canonical_json() {
        for optional in [true, false] {
            let e = entry(optional);
            let value = json!({
                "asset_id": e.asset_id,
                "title": e.title,
                "file_name": e.file_name,
                "checksum": e.checksum,
                "size_bytes": e.size_bytes,
                "media_type": e.media_type,
                "content_credentials": e.content_credentials,
                "license_tag": e.license_tag,
                "payment_terms": e.payment_terms,
                "creator_wallet": e.creator_wallet,
                "creator_attribution_text": e.creator_attribution_text,
                "signed_contract_id": e.signed_contract_id,
                "provenance_hash": e.provenance_hash,
                "capture_date": e.capture_date,
            });
            let mut value = value;
            if let Some(media) = &e.media {
                value["media"] = media.clone();
            }
            let mut written = Vec::new();
            e.write_canonical(&mut written);
            assert_eq!(
                String::from_utf8(written).unwrap(),
                String::from_utf8(canonical_json(&value)).unwrap()
            );
        }
    }
}
