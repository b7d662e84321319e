//! The signed dataset manifest: what a version holds, in a form a trainer
//! checks with nothing but the file, the shards and a rights manager's
//! public key (`schemas/dataset-manifest.schema.json`).
//!
//! It is signed as an asset manifest is (`signature` over the canonical JSON
//! of the rest) and lists the same per-asset entries, plus the version's
//! place in the dataset's history (its parent and what changed against it,
//! withdrawn assets being the tombstones), every shard with its SHA-256,
//! size and the assets it holds, and the assets the selection matched but
//! the build left out, each with the reason. It carries the library's
//! checkpoint as the build began.

use std::path::Path;

use assay_fsio::hashing::Hashing;
use ed25519_dalek::VerifyingKey;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::catalog::assets::Filter;
use crate::datasets::shards::ShardFormat;
use crate::datasets::versions::Changes;
use crate::error::{Error, Result};
use crate::exports::manifest::{self, Entry, RefusedAsset};
use crate::formats::canonical;
use crate::formats::file_names;
use crate::identity::users::Actor;
use crate::provenance::signed::{self, Schema};

static SCHEMA: Schema = Schema::referring(
    include_str!("../../../../schemas/dataset-manifest.schema.json"),
    &[include_str!("../../../../schemas/manifest.schema.json")],
);

/// A shard as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ShardEntry {
    pub name: String,
    /// `sha256:` of the shard's bytes.
    pub sha256: String,
    pub size_bytes: u64,
    /// The assets whose samples it holds, in order.
    pub assets: Vec<String>,
}

/// What a version's manifest says besides its entries.
pub(crate) struct Version<'a> {
    pub dataset_id: &'a str,
    pub name: &'a str,
    pub version: u32,
    /// The parent's version and manifest hash.
    pub parent: Option<(u32, &'a str)>,
    pub selector: &'a Filter,
    pub format: ShardFormat,
    pub delta: bool,
    /// Each sample carries a C2PA sidecar.
    pub credentials: bool,
    pub created_at: &'a str,
    pub shards: &'a [ShardEntry],
    pub changes: &'a Changes,
    pub left_out: &'a [RefusedAsset],
}

/// The signed manifest of `version`, listing `entries`, carrying the
/// checkpoint `carried`; its bytes and their `sha256:`.
pub(crate) fn signed(
    actor: &Actor,
    library_key: &VerifyingKey,
    version: &Version,
    entries: &[&Entry],
    licenses: &Map<String, Value>,
    carried: &Value,
) -> Result<(Vec<u8>, String)> {
    let (library, signer) = signed::identity(library_key, actor, version.created_at);
    let doc = json!({
        "@context": manifest::context(),
        "@type": "DatasetManifest",
        "manifest_id": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "dataset_id": version.dataset_id,
        "name": version.name,
        "version": version.version,
        "parent": version.parent.map(|(v, hash)| json!({"version": v, "manifest_hash": hash})),
        "selector": version.selector,
        "format": version.format,
        "delta": version.delta,
        "credentials": version.credentials,
        "created_at": version.created_at,
        "library": library,
        "signer": signer,
        "licenses": licenses,
        "checkpoint": carried,
        "shards": version.shards,
        "changes": version.changes,
        "left_out": version.left_out,
    });
    let mut assets = Vec::with_capacity(entries.len() * 512);
    canonical::write_array(entries, |e, out| e.write_canonical(out), &mut assets);
    let Value::Object(members) = &doc else {
        return Err(Error::Internal("a manifest is a JSON object".into()));
    };
    let (bytes, _) = signed::sign_canonical(
        canonical::canonical_json_with(members, "assets", &assets),
        actor,
    );
    // Nothing is written that its own reader would refuse.
    let failures = match serde_json::from_slice(&bytes) {
        Ok(doc) => SCHEMA.failures(&doc),
        Err(e) => vec![format!("not a JSON document: {e}")],
    };
    if let Some(failure) = failures.into_iter().next() {
        return Err(Error::Internal(format!(
            "the dataset manifest would not be valid: {failure}"
        )));
    }
    let hash = signed::hash(&bytes);
    Ok((bytes, hash))
}

/// What checking a dataset manifest found; it holds when `failures` is empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DatasetCheck {
    pub dataset_id: Option<String>,
    pub version: Option<u32>,
    pub assets: usize,
    /// Shards checked byte for byte (when a folder was given).
    pub shards_checked: usize,
    pub failures: Vec<String>,
}

/// Checks a dataset manifest with nothing but its bytes and the public keys
/// the reader trusts as rights managers', and, when given, the folder
/// holding its shards: the schema, the signature and its signer, the
/// carried checkpoint, that every shard lists assets of the version (and,
/// for a full build, that every asset is in exactly one), and each shard's
/// size and SHA-256.
pub fn verify_dataset_manifest(
    bytes: &[u8],
    trusted: &[VerifyingKey],
    shards: Option<&Path>,
) -> DatasetCheck {
    let mut check = DatasetCheck {
        dataset_id: None,
        version: None,
        assets: 0,
        shards_checked: 0,
        failures: Vec::new(),
    };
    let doc: Value = match serde_json::from_slice(bytes) {
        Ok(doc) => doc,
        Err(e) => {
            check.failures.push(format!("not a JSON document: {e}"));
            return check;
        }
    };
    check.dataset_id = doc["dataset_id"].as_str().map(str::to_owned);
    check.version = doc["version"].as_u64().and_then(|v| u32::try_from(v).ok());
    check.failures = match manifest::document_failures(&doc, &SCHEMA, trusted) {
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
    let mut unplaced: std::collections::HashSet<&str> = assets
        .iter()
        .map(|a| manifest::str_field(a, "asset_id"))
        .collect();
    let listed = doc["shards"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, shard) in listed.iter().enumerate() {
        for id in shard["assets"].as_array().into_iter().flatten() {
            let id = id.as_str().unwrap_or_default();
            if !unplaced.remove(id) {
                check.failures.push(format!(
                    "/shards/{i}: asset {id} is not in the version, or is in another shard too"
                ));
            }
        }
    }
    // A delta's shards hold what was added and changed; the rest is in the
    // versions before it.
    let mut expected: Vec<&str> = match doc["delta"].as_bool() {
        Some(true) => ["added", "changed"]
            .iter()
            .flat_map(|k| doc["changes"][k].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .filter(|id| unplaced.contains(id))
            .collect(),
        _ => unplaced.iter().copied().collect(),
    };
    expected.sort_unstable();
    for id in expected {
        check
            .failures
            .push(format!("asset {id} is in no shard of the version"));
    }
    if let Some(dir) = shards {
        for failure in check_shards(listed, dir) {
            match failure {
                Some(failure) => check.failures.push(failure),
                None => check.shards_checked += 1,
            }
        }
    }
    check
}

/// [`check_shard`] of every shard, a shard per core at a time; the
/// failures in the manifest's order.
fn check_shards(listed: &[Value], dir: &Path) -> Vec<Option<String>> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(listed.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut found: Vec<(usize, Option<String>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut found = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(shard) = listed.get(i) else {
                            return found;
                        };
                        found.push((i, check_shard(shard, dir)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|_| vec![(0, Some("checking a shard panicked".to_owned()))])
            })
            .collect()
    });
    found.sort_by_key(|(i, _)| *i);
    found.into_iter().map(|(_, failure)| failure).collect()
}

/// A shard of the manifest in `dir`, checked for size and SHA-256 as it is
/// read (a shard is hundreds of megabytes, never held whole, read a
/// megabyte at a time).
fn check_shard(shard: &Value, dir: &Path) -> Option<String> {
    let name = manifest::str_field(shard, "name");
    if let Some(why) = file_names::file_name_problem(name) {
        return Some(format!("shard {name:?} is not a plain file name: {why}"));
    }
    let path = dir.join(name);
    let mut reader = match std::fs::File::open(&path).map(Hashing::new) {
        Ok(reader) => reader,
        Err(e) => return Some(format!("shard {}: {e}", path.display())),
    };
    if let Err(e) = reader.drain(1 << 20) {
        return Some(format!("shard {}: {e}", path.display()));
    }
    let size = reader.read_so_far();
    let actual = reader.checksum();
    let expected = manifest::str_field(shard, "sha256");
    if actual != expected {
        return Some(format!(
            "shard {}: its SHA-256 is {actual}, but the manifest says {expected}",
            path.display()
        ));
    }
    let listed = shard["size_bytes"].as_u64();
    (listed != Some(size)).then(|| {
        format!(
            "shard {}: {size} bytes, but the manifest says {listed:?}",
            path.display()
        )
    })
}

impl crate::catalog::library::Library {
    /// Checks the dataset manifest at `path` and the shards beside it, as a
    /// trainer would, trusting the keys of this library's rights managers.
    pub fn verify_dataset_manifest_file(&self, path: &Path) -> Result<DatasetCheck> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Ok(verify_dataset_manifest(
            &bytes,
            &self.rights_manager_keys()?,
            Some(dir),
        ))
    }
}
