//! Reading audit packages back ([`crate::exports::audit`] writes them): everything is
//! re-checked from the package alone, and a package is extracted only once
//! it holds. A member whose path is absolute or climbs (`..`), a link or any
//! other non-file entry, and a second member with the same path are refused,
//! so reading a package never writes outside its target folder.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use assay_credentials::{CredentialReader, CredentialState, TrustAnchors};
use assay_fsio::hashing::Hashing;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::VerifyingKey;
use serde::Serialize;
use serde_json::Value;

use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::exports::audit::{CREDENTIALS_CA, IDENTITY, INDEX, INDEX_SCHEMA, SIGNERS};
use crate::exports::credentials::ASSAY_ASSERTION;
use crate::formats::canonical::canonical_json;
use crate::formats::file_names;
use crate::identity::keys;
use crate::identity::ledger;
use crate::identity::users;
use crate::provenance::batch::Proof;
use crate::provenance::event::LIBRARY_ROLE;
use crate::provenance::signed::{self, Trust};
use crate::provenance::verify::{self, Seal, Signers, StoredEvent};

/// Members read into memory to be checked (JSON and keys); anything larger
/// than this among them is refused rather than held.
const KEPT_LIMIT: u64 = 256 << 20;

/// What checking an audit package found; it holds when `failures` is empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditCheck {
    pub package_id: Option<String>,
    /// Who signed the index, and with which key: the reader compares the id
    /// with the rights manager's they know, unless they passed the key.
    pub signer: Option<String>,
    pub signer_key_id: Option<String>,
    /// Whether the signer's key was among the keys given; `None` when none
    /// were.
    pub pinned: Option<bool>,
    pub assets: usize,
    pub members: usize,
    pub failures: Vec<String>,
    /// Where the members were written, when extraction was asked for and
    /// everything held.
    pub extracted: Option<PathBuf>,
}

/// One member as read: its checked path, size and SHA-256, and its bytes
/// when they are needed for the checks.
struct ReadMember {
    path: String,
    size: u64,
    sha256: String,
    bytes: Option<Vec<u8>>,
}

impl Library {
    /// Checks the package at `path` trusting this library's rights managers'
    /// keys: what the app shows after an audit export.
    pub fn verify_audit_file(&self, path: &Path) -> Result<AuditCheck> {
        verify_audit(path, &self.rights_manager_keys()?, None)
    }
}

/// Checks the package at `package`: its index's schema and signature (by a
/// key in `trusted` when given), every member against the index, each
/// asset's file against its record and each chain event by event. With
/// `extract`, the members are then written under that folder, which must be
/// new or empty.
pub fn verify_audit(
    package: &Path,
    trusted: &[VerifyingKey],
    extract: Option<&Path>,
) -> Result<AuditCheck> {
    let mut check = AuditCheck {
        package_id: None,
        signer: None,
        signer_key_id: None,
        pinned: None,
        assets: 0,
        members: 0,
        failures: Vec::new(),
        extracted: None,
    };
    if let Some(dir) = extract {
        ensure_empty(dir)?;
    }
    let members = read_members(package, &mut check.failures)?;
    check.members = members.len();
    let by_path: HashMap<&str, &ReadMember> =
        members.iter().map(|m| (m.path.as_str(), m)).collect();
    let Some(index) = index(&by_path, &mut check.failures) else {
        return Ok(check);
    };
    check.package_id = index["package_id"].as_str().map(str::to_owned);
    check.signer = index["signer"]["user"].as_str().map(str::to_owned);
    check.signer_key_id = index["signer"]["key_id"].as_str().map(str::to_owned);
    let trust = if trusted.is_empty() {
        Trust::Named
    } else {
        Trust::Keys(trusted)
    };
    let signed_by = signed::check(&index, trust, INDEX, &mut check.failures);
    if !trusted.is_empty() {
        check.pinned = Some(signed_by.is_some());
    }
    check_listing(&index, &members, &mut check.failures);
    let signers = signers(&index, &by_path, &mut check.failures);
    let assets: Vec<&str> = index["assets"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    check.assets = assets.len();
    let not_held: HashSet<&str> = index["contracts_not_held"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let layout = Layout::of(&members);
    let listed: HashSet<&str> = assets.iter().copied().collect();
    for asset_id in &assets {
        check_asset(
            asset_id,
            &layout,
            &by_path,
            signers.as_ref(),
            &not_held,
            &mut check.failures,
        );
    }
    check_credentials(package, &layout, &by_path, &mut check.failures)?;
    for m in &members {
        let owner = m
            .path
            .strip_prefix("assets/")
            .and_then(|p| p.split('/').next());
        if owner.is_some_and(|id| !listed.contains(id)) {
            check
                .failures
                .push(format!("{}: belongs to no asset the index lists", m.path));
        }
    }
    if let (Some(dir), true) = (extract, check.failures.is_empty()) {
        extract_into(package, dir, &members, &mut check.failures)?;
        if check.failures.is_empty() {
            check.extracted = Some(dir.to_owned());
        }
    }
    Ok(check)
}

/// Reads every member, refusing unsafe ones; keeps the bytes of those the
/// checks read. A damaged archive is a failure, not an error: what was read
/// before it is still checked.
fn read_members(package: &Path, failures: &mut Vec<String>) -> Result<Vec<ReadMember>> {
    let file = File::open(package).map_err(|e| Error::io(package, e))?;
    let mut archive = tar::Archive::new(BufReader::with_capacity(1 << 20, file));
    let entries = archive.entries().map_err(|e| Error::io(package, e))?;
    let mut seen = HashSet::new();
    let mut members = Vec::new();
    for entry in entries {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                failures.push(format!(
                    "{}: not a readable tar archive after {} members: {e}",
                    package.display(),
                    members.len()
                ));
                break;
            }
        };
        let path = match member_path(&entry) {
            Ok(path) => path,
            Err(why) => {
                failures.push(why);
                continue;
            }
        };
        if !seen.insert(path.clone()) {
            failures.push(format!("{path}: a second member with this path; refused"));
            continue;
        }
        let keep = kept(&path);
        if keep && entry.size() > KEPT_LIMIT {
            failures.push(format!(
                "{path}: {} bytes, too large to check",
                entry.size()
            ));
            continue;
        }
        let mut bytes = keep.then(Vec::new);
        let mut reader = Hashing::new(&mut entry);
        let mut buf = vec![0; 1 << 16];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    failures.push(format!("{path}: could not be read: {e}"));
                    break;
                }
            };
            if let Some(b) = bytes.as_mut() {
                b.extend_from_slice(&buf[..n]);
            }
        }
        let size = reader.read_so_far();
        let digest = reader.digest();
        members.push(ReadMember {
            path,
            size,
            sha256: hex::encode(digest),
            bytes,
        });
    }
    Ok(members)
}

/// The member's path, if it is a plain file at a relative path that stays
/// inside the folder it is read into.
fn member_path<R: Read>(entry: &tar::Entry<R>) -> std::result::Result<String, String> {
    let raw = entry.path_bytes();
    let shown = String::from_utf8_lossy(&raw).into_owned();
    let kind = entry.header().entry_type();
    if !kind.is_file() {
        let what = if kind.is_symlink() {
            "a symbolic link"
        } else if kind.is_hard_link() {
            "a hard link"
        } else if kind.is_dir() {
            "a directory entry"
        } else {
            "not a regular file"
        };
        return Err(format!(
            "{shown}: {what}; refused (a package holds files only)"
        ));
    }
    let Ok(path) = std::str::from_utf8(&raw) else {
        return Err(format!("{shown}: the path is not UTF-8; refused"));
    };
    if path.starts_with('/') {
        return Err(format!("{shown}: an absolute path; refused"));
    }
    for part in path.split('/') {
        match part {
            ".." => return Err(format!("{shown}: the path climbs out with '..'; refused")),
            "" | "." => return Err(format!("{shown}: an empty or '.' path part; refused")),
            _ if part.contains(['\\', '\0']) => {
                return Err(format!("{shown}: a backslash or NUL in the path; refused"))
            }
            _ => {}
        }
    }
    Ok(path.to_owned())
}

/// Whether the checks read a member's bytes (all but the assets' files).
fn kept(path: &str) -> bool {
    path == INDEX
        || path.starts_with("keys/")
        || (path.starts_with("assets/") && path.ends_with(".c2pa"))
        || path.ends_with("/record.jsonld")
        || path.ends_with("/provenance.jsonl")
}

/// The index, parsed and schema-checked.
fn index(by_path: &HashMap<&str, &ReadMember>, failures: &mut Vec<String>) -> Option<Value> {
    let Some(bytes) = by_path.get(INDEX).and_then(|m| m.bytes.as_deref()) else {
        failures.push(format!("{INDEX}: missing; the package is not signed"));
        return None;
    };
    let doc: Value = match serde_json::from_slice(bytes) {
        Ok(doc) => doc,
        Err(e) => {
            failures.push(format!("{INDEX}: not a JSON document: {e}"));
            return None;
        }
    };
    let schema = INDEX_SCHEMA.failures(&doc);
    if !schema.is_empty() {
        failures.extend(schema.into_iter().map(|f| format!("{INDEX}: {f}")));
        return None;
    }
    Some(doc)
}

/// Every member but the index is listed in it, with its size and hash, and
/// every listed member is there.
fn check_listing(index: &Value, members: &[ReadMember], failures: &mut Vec<String>) {
    let mut listed: BTreeMap<&str, (u64, &str)> = BTreeMap::new();
    for m in index["members"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let path = m["path"].as_str().unwrap_or_default();
        let entry = (
            m["size"].as_u64().unwrap_or_default(),
            m["sha256"].as_str().unwrap_or_default(),
        );
        if listed.insert(path, entry).is_some() {
            failures.push(format!("{INDEX}: lists {path} twice"));
        }
    }
    for m in members.iter().filter(|m| m.path != INDEX) {
        match listed.remove(m.path.as_str()) {
            None => failures.push(format!("{}: not in the signed index", m.path)),
            Some((size, sha)) if size != m.size || sha != m.sha256 => failures.push(format!(
                "{}: its bytes are not the ones the index signed ({} bytes, sha256 {}; the index says {size} bytes, sha256 {sha})",
                m.path, m.size, m.sha256
            )),
            Some(_) => {}
        }
    }
    for path in listed.keys() {
        failures.push(format!(
            "{path}: in the signed index but missing from the package"
        ));
    }
}

/// The signers the package names, checked against their own keys and the
/// index's library and signer.
fn signers(
    index: &Value,
    by_path: &HashMap<&str, &ReadMember>,
    failures: &mut Vec<String>,
) -> Option<Signers> {
    let Some(bytes) = by_path.get(SIGNERS).and_then(|m| m.bytes.as_deref()) else {
        failures.push(format!("{SIGNERS}: missing; no event can be checked"));
        return None;
    };
    let Ok(Value::Array(entries)) = serde_json::from_slice::<Value>(bytes) else {
        failures.push(format!("{SIGNERS}: not a JSON array of signers"));
        return None;
    };
    let mut users = HashMap::new();
    let mut library = None;
    for (i, e) in entries.iter().enumerate() {
        let field = |name: &str| e.get(name).and_then(Value::as_str).unwrap_or_default();
        let key_id = field("key_id");
        let key = match keys::parse_public_key(field("public_key")) {
            Ok(key) if keys::key_id(&key).as_str() == key_id => key,
            _ => {
                failures.push(format!(
                    "{SIGNERS}: entry {i}: public_key is not an ed25519 key whose id is {key_id:?}"
                ));
                continue;
            }
        };
        let pem = format!(
            "keys/{}.pem",
            key_id.split_once(':').map_or(key_id, |p| p.1)
        );
        let pem_key = by_path
            .get(pem.as_str())
            .and_then(|m| m.bytes.as_deref())
            .and_then(|b| std::str::from_utf8(b).ok())
            .and_then(|t| keys::parse_public_key(t).ok());
        if pem_key != Some(key) {
            failures.push(format!("{pem}: missing, or not the key {SIGNERS} names"));
        }
        if field("role") == LIBRARY_ROLE {
            if index["library"]["key_id"].as_str() != Some(key_id) {
                failures.push(format!(
                    "{SIGNERS}: entry {i}: a library key that is not the index's library"
                ));
            }
            library = Some((key_id.to_owned(), key));
            continue;
        }
        let (name, role) = (field("user"), field("role"));
        match users::parse_role(role) {
            Ok(role) => {
                users.insert(name.to_owned(), (key_id.to_owned(), role, key));
            }
            Err(e) => failures.push(format!("{SIGNERS}: entry {i}: {e}")),
        }
    }
    let signer = &index["signer"];
    let named = signer["user"]
        .as_str()
        .and_then(|u| users.get(u))
        .is_some_and(|(id, role, _)| {
            Some(id.as_str()) == signer["key_id"].as_str()
                && Some(role.as_str()) == signer["role"].as_str()
        });
    if !named {
        failures.push(format!(
            "{SIGNERS}: does not name the index's signer with the same key and role"
        ));
    }
    // A package that carries the identity ledger is judged by it: each
    // signer it lists must be one the ledger grants, and events are checked
    // against each signer's standing when they signed.
    let Some(bytes) = by_path.get(IDENTITY).and_then(|m| m.bytes.as_deref()) else {
        return Some(Signers::new(users, library));
    };
    let mut rows = Vec::new();
    for (i, line) in String::from_utf8_lossy(bytes).lines().enumerate() {
        let row: Option<(i64, String, String, Vec<u8>)> =
            serde_json::from_str::<Value>(line).ok().and_then(|v| {
                Some((
                    v["seq"].as_i64()?,
                    v["body"].as_str()?.to_owned(),
                    v["hash"].as_str()?.to_owned(),
                    hex::decode(v["signature"].as_str()?).ok()?,
                ))
            });
        match row {
            Some(row) => rows.push(row),
            None => failures.push(format!("{IDENTITY}: line {}: not an identity event", i + 1)),
        }
    }
    let (ledger, broken) = ledger::replay_rows(rows);
    if let Some(problem) = broken {
        failures.push(format!("{IDENTITY}: {problem}"));
    }
    for (name, (key_id, role, _)) in &users {
        let granted = ledger
            .users
            .get(name)
            .is_some_and(|spans| spans.iter().any(|s| s.key_id == *key_id && s.role == *role));
        if !granted {
            failures.push(format!(
                "{SIGNERS}: {name}, a {role} with key {key_id}, is not someone the package's identity ledger grants"
            ));
        }
    }
    Some(Signers::from_ledger(ledger.users, library))
}

/// One asset: its record, its file against the record, its chain.
/// Where the members sit, gathered in one pass so each asset's checks are
/// lookups, not scans of every member (a package may hold 100,000 assets).
struct Layout<'a> {
    /// The members under `assets/<id>/file/`, by asset id, but for
    /// `sidecars`.
    files: HashMap<&'a str, Vec<&'a ReadMember>>,
    /// The `<stem>.c2pa` beside an asset's file `<stem>.<ext>`, by asset id.
    sidecars: HashMap<&'a str, &'a ReadMember>,
    /// The ids of the contracts under `contracts/<id>/`.
    contracts: HashSet<&'a str>,
}

impl<'a> Layout<'a> {
    fn of(members: &'a [ReadMember]) -> Self {
        let mut layout = Layout {
            files: HashMap::new(),
            sidecars: HashMap::new(),
            contracts: HashSet::new(),
        };
        for m in members {
            let mut parts = m.path.split('/');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("assets"), Some(id), Some("file")) => {
                    layout.files.entry(id).or_default().push(m);
                }
                (Some("contracts"), Some(id), Some(_)) => {
                    layout.contracts.insert(id);
                }
                _ => {}
            }
        }
        for (id, files) in &mut layout.files {
            if let [a, b] = files.as_slice() {
                let sidecar = |of: &ReadMember, file: &ReadMember| {
                    of.path == file_names::c2pa_sidecar(&file.path)
                };
                let (file, found) = match (sidecar(a, b), sidecar(b, a)) {
                    (true, false) => (*b, *a),
                    (false, true) => (*a, *b),
                    _ => continue,
                };
                layout.sidecars.insert(id, found);
                *files = vec![file];
            }
        }
        layout
    }
}

/// Each asset's Content Credentials sidecar against the file it binds,
/// with C2PA's validator, trusting the library CA the package carries (the
/// signed index vouches for it): valid, signed under that CA, and saying
/// it is for this asset, its checksum, license tag and provenance head.
/// A second read of the package, one file at a time, each spooled to a
/// temporary file because the validator seeks.
fn check_credentials(
    package: &Path,
    layout: &Layout,
    by_path: &HashMap<&str, &ReadMember>,
    failures: &mut Vec<String>,
) -> Result<()> {
    if layout.sidecars.is_empty() {
        return Ok(());
    }
    let ca = by_path
        .get(CREDENTIALS_CA)
        .and_then(|m| m.bytes.as_deref())
        .map(|b| String::from_utf8_lossy(b).into_owned());
    if ca.is_none() {
        failures.push(format!(
            "{CREDENTIALS_CA}: missing; the credentials chain to no certificate the package carries"
        ));
    }
    let trusted = ca.is_some();
    let reader = CredentialReader::new(&TrustAnchors { pem: ca })
        .map_err(|e| Error::bad_file(package, format!("{CREDENTIALS_CA}: {e}")))?;
    let bound: HashMap<&str, (&str, &ReadMember, &ReadMember)> = layout
        .sidecars
        .iter()
        .filter_map(|(id, sidecar)| {
            let file = layout.files.get(id)?.first()?;
            Some((file.path.as_str(), (*id, *file, *sidecar)))
        })
        .collect();
    let opened = File::open(package).map_err(|e| Error::io(package, e))?;
    let mut archive = tar::Archive::new(BufReader::with_capacity(1 << 20, opened));
    let entries = archive.entries().map_err(|e| Error::io(package, e))?;
    for entry in entries {
        let Ok(mut entry) = entry else { break }; // the first read named it
        let Some((id, file, sidecar)) = member_path(&entry)
            .ok()
            .and_then(|path| bound.get(path.as_str()).copied())
        else {
            continue;
        };
        let mut spool = tempfile::tempfile().map_err(|e| Error::io(package, e))?;
        let mut hashing = Hashing::new(&mut entry);
        io::copy(&mut hashing, &mut spool).map_err(|e| Error::io(package, e))?;
        if hex::encode(hashing.digest()) != file.sha256 {
            failures.push(format!(
                "{}: changed between the first read and the credentials check",
                file.path
            ));
            continue;
        }
        let record: Value = by_path
            .get(format!("assets/{id}/record.jsonld").as_str())
            .and_then(|m| serde_json::from_slice(m.bytes.as_deref()?).ok())
            .unwrap_or_default(); // a missing record is named by check_asset
        let media_type = record["media_type"].as_str().unwrap_or_default();
        let (credentials, assertion) = reader.read_sidecar_assertion(
            sidecar.bytes.as_deref().unwrap_or_default(),
            &mut spool,
            media_type,
            Some(ASSAY_ASSERTION),
        );
        let name = &sidecar.path;
        match credentials.state {
            CredentialState::Invalid => failures.push(format!(
                "{name}: the Content Credentials do not hold for {} ({})",
                file.path,
                credentials.failures.join(", ")
            )),
            CredentialState::Valid if trusted => failures.push(format!(
                "{name}: signed under a certificate that is not the package's library CA"
            )),
            _ => {}
        }
        let assertion = assertion.unwrap_or_default();
        for (field, expected) in [
            ("asset_id", &record["asset_id"]),
            ("checksum", &record["checksum"]),
            ("license_tag", &record["license_tag"]),
            ("provenance_hash", &record["provenance_hash"]),
        ] {
            if assertion[field] != *expected {
                failures.push(format!(
                    "{name}: its {ASSAY_ASSERTION} {field} is {}, the record's {expected}",
                    assertion[field]
                ));
            }
        }
    }
    Ok(())
}

fn check_asset(
    asset_id: &str,
    layout: &Layout,
    by_path: &HashMap<&str, &ReadMember>,
    signers: Option<&Signers>,
    not_held: &HashSet<&str>,
    failures: &mut Vec<String>,
) {
    let record_path = format!("assets/{asset_id}/record.jsonld");
    let record: Value = match by_path
        .get(record_path.as_str())
        .and_then(|m| m.bytes.as_deref())
    {
        None => {
            failures.push(format!("{record_path}: missing"));
            return;
        }
        Some(bytes) => match serde_json::from_slice(bytes) {
            Ok(doc) => doc,
            Err(e) => {
                failures.push(format!("{record_path}: not a JSON document: {e}"));
                return;
            }
        },
    };
    if record["asset_id"].as_str() != Some(asset_id) {
        failures.push(format!("{record_path}: asset_id is not {asset_id}"));
    }
    let checksum = record["checksum"].as_str().unwrap_or_default();
    let size = record["size_bytes"].as_u64();
    let prefix = format!("assets/{asset_id}/file/");
    let files = layout.files.get(asset_id).map(Vec::as_slice);
    match files.unwrap_or_default() {
        [file] => {
            if checksum.strip_prefix("sha256:") != Some(file.sha256.as_str()) {
                failures.push(format!(
                    "{}: sha256 {}, but the record says {checksum}",
                    file.path, file.sha256
                ));
            }
            if size != Some(file.size) {
                failures.push(format!(
                    "{}: {} bytes, but the record says {size:?}",
                    file.path, file.size
                ));
            }
        }
        found => failures.push(format!(
            "{prefix}: holds {} files; an asset has exactly one",
            found.len()
        )),
    }
    if let Some(contract) = record["signed_contract_id"].as_str() {
        if !layout.contracts.contains(contract) && !not_held.contains(contract) {
            failures.push(format!(
                "{record_path}: cites contract {contract}, which the package neither carries nor lists as not held"
            ));
        }
    }
    let chain_path = format!("assets/{asset_id}/provenance.jsonl");
    let Some(bytes) = by_path
        .get(chain_path.as_str())
        .and_then(|m| m.bytes.as_deref())
    else {
        failures.push(format!("{chain_path}: missing"));
        return;
    };
    let events = match events(bytes) {
        Ok(events) => events,
        Err(why) => {
            failures.push(format!("{chain_path}: {why}"));
            return;
        }
    };
    let Some(signers) = signers else { return };
    let head = record["provenance_hash"].as_str();
    if let Some(broken) = verify::check_chain(asset_id, head, &events, signers) {
        failures.push(format!("{chain_path}: {}", broken.problem));
    }
}

/// A chain's lines as the catalog stores events: each body re-canonicalised
/// (it was written canonical, so a changed byte changes its hash).
fn events(bytes: &[u8]) -> std::result::Result<Vec<StoredEvent>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())?;
    let mut events = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let unreadable = |why: &str| format!("line {}: {why}", i + 1);
        let line: Value = serde_json::from_str(line).map_err(|e| unreadable(&e.to_string()))?;
        let body = &line["body"];
        let signature = line["signature"]
            .as_str()
            .and_then(|s| B64.decode(s).ok())
            .ok_or_else(|| unreadable("the signature is not base64"))?;
        let seal = match line.get("batch") {
            Some(proof) => Seal::Proof(Proof::parse(proof, signature).map_err(|e| unreadable(&e))?),
            None => Seal::Own(signature),
        };
        events.push(StoredEvent {
            kind: body["kind"].as_str().unwrap_or_default().to_owned(),
            key_id: body["actor"]["key_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            body: String::from_utf8_lossy(&canonical_json(body)).into_owned(),
            hash: line["hash"].as_str().unwrap_or_default().to_owned(),
            seal,
        });
    }
    Ok(events)
}

/// A folder to extract into: new, or existing and empty.
fn ensure_empty(dir: &Path) -> Result<()> {
    match std::fs::read_dir(dir).map(|mut entries| entries.next().is_some()) {
        Ok(true) => Err(Error::invalid_value(
            "folder",
            format!(
                "{}: not empty; extract into a new or empty folder",
                dir.display()
            ),
        )),
        Ok(false) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
        }
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// Writes the checked members under `dir`: a second read of the package,
/// whose every path is checked again and every member hashed again against
/// the first read, in case the file changed in between.
fn extract_into(
    package: &Path,
    dir: &Path,
    members: &[ReadMember],
    failures: &mut Vec<String>,
) -> Result<()> {
    let expected: HashMap<&str, &str> = members
        .iter()
        .map(|m| (m.path.as_str(), m.sha256.as_str()))
        .collect();
    let file = File::open(package).map_err(|e| Error::io(package, e))?;
    let mut archive = tar::Archive::new(BufReader::with_capacity(1 << 20, file));
    let entries = archive.entries().map_err(|e| Error::io(package, e))?;
    let mut written = HashSet::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| Error::io(package, e))?;
        let path = member_path(&entry).map_err(|e| Error::bad_file(package, e))?;
        let Some(sha) = expected.get(path.as_str()) else {
            failures.push(format!(
                "{path}: appeared on the second read; nothing more written"
            ));
            return Ok(());
        };
        if !written.insert(path.clone()) {
            failures.push(format!("{path}: a second member with this path; refused"));
            return Ok(());
        }
        let target = dir.join(&path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        // create_new: never follows or replaces anything already there.
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(|e| Error::io(&target, e))?;
        let mut reader = Hashing::new(&mut entry);
        let mut buf = vec![0; 1 << 16];
        loop {
            let n = reader.read(&mut buf).map_err(|e| Error::io(package, e))?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n])
                .map_err(|e| Error::io(&target, e))?;
        }
        if hex::encode(reader.digest()) != *sha {
            failures.push(format!(
                "{path}: changed between the check and the extraction"
            ));
            return Ok(());
        }
    }
    Ok(())
}
