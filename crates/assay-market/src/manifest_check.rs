//! Whether a posted manifest may be published, and what the server keeps
//! of it. In order: it must be signed with a key registered to the caller,
//! by a rights manager; no asset may forbid AI training or lack a payout
//! reference, and ids and file names must be safe to hand to buyers; then
//! the schema and the signature must hold (`assay_core::verify_manifest`,
//! against the caller's keys only). A dataset manifest (`@type`
//! `DatasetManifest`) is held to the same rules for every asset it lists,
//! checked by `assay_core::verify_dataset_manifest`, and its shards must be
//! plain, distinct file names. Each refusal names the asset and the field;
//! nothing is stored unless everything holds.

use std::collections::{HashMap, HashSet};

use assay_core::file_names;
use assay_core::licenses::{LicenseTag, PaymentTerms};
use assay_core::{verify_dataset_manifest, verify_manifest};
use assay_market_proto::manifests::DatasetVersion;
use assay_market_proto::{ErrorCode, Problem};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::extract::shown;
use crate::publisher_keys::verifying_key;
use crate::records::{AssetEntry, ShardEntry, StoredKey, UsageHeaders};

/// The tag that forbids AI training outright, whatever a manifest's
/// `licenses` claims about it.
const NO_TRAIN: &str = "NO-TRAIN";
/// Refusals named in one answer: enough to fix a manifest by, never a
/// response larger than the request.
pub(crate) const MAX_PROBLEMS: usize = 20;
/// How much of one refusal's text is sent back.
const MAX_MESSAGE: usize = 300;

/// Refuses, before anything is parsed, a body holding more JSON values
/// than `max_values`: a parsed value costs far more memory than its bytes
/// (a few bytes of `{}` become a hundred), so size alone does not bound
/// what parsing takes. Counts the separators outside strings, one pass.
pub(crate) fn prescan(bytes: &[u8], max_values: usize) -> Result<(), ApiError> {
    let (mut values, mut in_string, mut escaped) = (1usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b',' | b':' | b'[' | b'{' => {
                values += 1;
                if values > max_values {
                    return Err(ApiError::new(
                        ErrorCode::ManifestTooLarge,
                        format!(
                            "the manifest holds more than {max_values} JSON values; post fewer assets per manifest"
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A manifest that passed every check.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub manifest_id: String,
    pub manifest_hash: String,
    pub key_id: String,
    /// For a dataset manifest, the assets its shards hold (all of a full
    /// version, a delta's added and changed).
    pub assets: Vec<AssetEntry>,
    pub dataset: Option<DatasetVersion>,
    pub shards: Vec<ShardEntry>,
}

/// Checks the manifest `bytes` posted by `publisher`, whose registered keys
/// are `keys`.
pub(crate) fn check(
    bytes: &[u8],
    publisher: &str,
    keys: &[StoredKey],
) -> Result<Accepted, ApiError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            ErrorCode::ManifestInvalid,
            format!("the manifest is not JSON: {e}"),
        )
    })?;
    let signer = |field: &str| {
        doc.get("signer")
            .and_then(|s| s.get(field))
            .and_then(Value::as_str)
    };
    if let Some(key_id) = signer("key_id") {
        if !keys.iter().any(|k| k.key_id == key_id) {
            return Err(ApiError::new(
                ErrorCode::KeyNotRegistered,
                format!(
                    "signer.key_id: the manifest is signed with key {key_id}, which is not registered to publisher {publisher}; register it with POST /v1/keys"
                ),
            ));
        }
    }
    if let Some(role) = signer("role") {
        if role != assay_core::Role::RightsManager.as_str() {
            return Err(ApiError::new(
                ErrorCode::SignerNotRightsManager,
                format!(
                    "signer.role: {} signed as a {role}; only a rights manager's signature publishes",
                    signer("user").unwrap_or("the signer")
                ),
            ));
        }
    }
    let is_dataset = doc.get("@type").and_then(Value::as_str) == Some("DatasetManifest");
    let mut problems = policy(&doc, !is_dataset);
    if is_dataset {
        problems.extend(shard_policy(&doc));
        problems.truncate(MAX_PROBLEMS);
    }
    if let Some(first) = problems.first() {
        let code = first.code.parse().unwrap_or(ErrorCode::ManifestInvalid);
        let listed: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        let count = if problems.len() >= MAX_PROBLEMS {
            format!("the first {MAX_PROBLEMS}")
        } else {
            problems.len().to_string()
        };
        let message = format!("{count} refused: {}", listed.join("; "));
        return Err(ApiError {
            problems,
            ..ApiError::new(code, message)
        });
    }
    let trusted = keys
        .iter()
        .map(verifying_key)
        .collect::<Result<Vec<_>, _>>()?;
    let failures = if is_dataset {
        verify_dataset_manifest(bytes, &trusted, None).failures
    } else {
        verify_manifest(bytes, &trusted, None).failures
    };
    if !failures.is_empty() {
        let failures = &failures;
        let code = if failures.iter().any(|f| f.starts_with("schema:")) {
            ErrorCode::ManifestInvalid
        } else if failures
            .iter()
            .any(|f| f.starts_with("signature") || f.starts_with("signer.public_key"))
        {
            ErrorCode::SignatureInvalid
        } else {
            ErrorCode::ManifestInvalid
        };
        // Schema messages quote the values they refuse: each is cut short,
        // and only the first few are sent.
        let shortened: Vec<String> = failures
            .iter()
            .take(MAX_PROBLEMS)
            .map(|f| f.chars().take(MAX_MESSAGE).collect())
            .collect();
        return Err(ApiError::new(code, shortened.join("; ")));
    }
    let manifest_id = doc.get("manifest_id").and_then(Value::as_str);
    let (Some(manifest_id), Some(key_id)) = (manifest_id, signer("key_id")) else {
        return Err(ApiError::new(
            ErrorCode::ManifestInvalid,
            "the manifest has no manifest_id or signer.key_id",
        ));
    };
    let mut assets = entries(&doc)?;
    let (dataset, shards) = if is_dataset {
        let shards = shards(&doc)?;
        let placed: HashSet<&str> = shard_assets(&doc).collect();
        assets.retain(|a| placed.contains(a.asset_id.as_str()));
        (Some(dataset_version(&doc)?), shards)
    } else {
        (None, Vec::new())
    };
    Ok(Accepted {
        manifest_id: manifest_id.to_owned(),
        manifest_hash: format!("sha256:{}", hex::encode(Sha256::digest(bytes))),
        key_id: key_id.to_owned(),
        assets,
        dataset,
        shards,
    })
}

/// The ids of the assets a dataset manifest's shards hold.
fn shard_assets(doc: &Value) -> impl Iterator<Item = &str> {
    doc.get("shards")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("assets").and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
}

/// The shards' names must be files a buyer's tool can create, once each.
fn shard_policy(doc: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut names = HashSet::new();
    let shards = doc.get("shards").and_then(Value::as_array);
    for (i, shard) in shards.into_iter().flatten().enumerate() {
        let Some(name) = shard.get("name").and_then(Value::as_str) else {
            continue;
        };
        let why = match file_names::file_name_problem(name) {
            Some(why) => format!("{:?} is not a plain file name: {why}", shown(name)),
            None if !names.insert(file_names::collision_key(name)) => {
                format!("{:?} is another shard's name too, case aside", shown(name))
            }
            None => continue,
        };
        problems.push(Problem {
            code: ErrorCode::FileNameInvalid.as_str().to_owned(),
            pointer: format!("/shards/{i}/name"),
            message: format!("shard {i}: /shards/{i}/name: {why}"),
            asset_id: None,
        });
    }
    problems
}

/// The version a dataset manifest that passed its checks signs.
fn dataset_version(doc: &Value) -> Result<DatasetVersion, ApiError> {
    #[derive(Deserialize)]
    struct Parent {
        manifest_hash: String,
    }
    #[derive(Deserialize)]
    struct Version {
        dataset_id: String,
        name: String,
        version: u32,
        format: String,
        delta: bool,
        parent: Option<Parent>,
    }
    let v = Version::deserialize(doc)
        .map_err(|e| ApiError::new(ErrorCode::ManifestInvalid, format!("dataset manifest: {e}")))?;
    Ok(DatasetVersion {
        dataset_id: v.dataset_id,
        name: v.name,
        version: v.version,
        format: v.format,
        delta: v.delta,
        parent_manifest_hash: v.parent.map(|p| p.manifest_hash),
    })
}

fn shards(doc: &Value) -> Result<Vec<ShardEntry>, ApiError> {
    #[derive(Deserialize)]
    struct Shard {
        name: String,
        sha256: String,
        size_bytes: u64,
        assets: Vec<serde::de::IgnoredAny>,
    }
    let shards = doc.get("shards").and_then(Value::as_array);
    shards
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, shard)| {
            let s = Shard::deserialize(shard).map_err(|e| {
                ApiError::new(ErrorCode::ManifestInvalid, format!("/shards/{i}: {e}"))
            })?;
            if i64::try_from(s.size_bytes).is_err() {
                return Err(ApiError::new(
                    ErrorCode::ManifestInvalid,
                    format!("/shards/{i}/size_bytes: larger than any file the server stores"),
                ));
            }
            Ok(ShardEntry {
                name: s.name,
                checksum: s.sha256,
                size_bytes: s.size_bytes,
                assets: s.assets.len() as u64,
            })
        })
        .collect()
}

/// The publishing rules, asset by asset: every breach, up to
/// [`MAX_PROBLEMS`]. File names matter only where buyers get files by
/// them (`files_by_name`); a dataset's samples are named by asset id.
fn policy(doc: &Value, files_by_name: bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    let Some(assets) = doc.get("assets").and_then(Value::as_array) else {
        return problems;
    };
    let licenses = doc.get("licenses").and_then(Value::as_object);
    let mut seen = HashSet::new();
    let mut names = HashSet::new();
    for (i, asset) in assets.iter().enumerate() {
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
        let asset_id = asset.get("asset_id").and_then(Value::as_str);
        let text = |field: &str| asset.get(field).and_then(Value::as_str);
        let mut refuse = |code: ErrorCode, pointer: String, why: String| {
            problems.push(Problem {
                code: code.as_str().to_owned(),
                message: format!(
                    "asset {}: {pointer}: {why}",
                    asset_id.map_or_else(|| "?".to_owned(), shown)
                ),
                pointer,
                asset_id: asset_id.map(shown),
            });
        };
        let at = |field: &str| format!("/assets/{i}/{field}");
        if let Some(id) = asset_id {
            if !is_asset_id(id) {
                refuse(
                    ErrorCode::AssetIdInvalid,
                    at("asset_id"),
                    "an asset id is 1 to 128 letters, digits, '.', '_', ':' or '-'".to_owned(),
                );
            } else if !seen.insert(id) {
                refuse(
                    ErrorCode::ManifestInvalid,
                    at("asset_id"),
                    "the asset is listed twice".to_owned(),
                );
            }
        }
        if let Some(name) = text("file_name").filter(|_| files_by_name) {
            if let Some(why) = file_names::file_name_problem(name) {
                refuse(
                    ErrorCode::FileNameInvalid,
                    at("file_name"),
                    format!("{:?} is not a plain file name: {why}", shown(name)),
                );
            } else if !names.insert(file_names::collision_key(name)) {
                refuse(
                    ErrorCode::FileNameInvalid,
                    at("file_name"),
                    format!(
                        "{:?} is another asset's file name too, case aside",
                        shown(name)
                    ),
                );
            }
        }
        if let Some(tag) = text("license_tag") {
            let training = licenses
                .and_then(|l| l.get(tag))
                .map(|l| l.get("ai_training_allowed"));
            if tag == NO_TRAIN {
                refuse(
                    ErrorCode::LicenseForbidsTraining,
                    at("license_tag"),
                    "NO-TRAIN forbids AI training".to_owned(),
                );
            } else if training.is_some_and(|allowed| allowed != Some(&Value::Bool(true))) {
                refuse(
                    ErrorCode::LicenseForbidsTraining,
                    format!("/licenses/{}/ai_training_allowed", pointer_token(tag)),
                    format!("license {tag} does not allow AI training"),
                );
            }
        }
        if text("creator_wallet").is_none_or(|w| w.trim().is_empty()) {
            refuse(
                ErrorCode::PayoutReferenceMissing,
                at("creator_wallet"),
                "no payout reference for the creator".to_owned(),
            );
        }
        match asset.get("payment_terms") {
            None | Some(Value::Null) => {}
            Some(terms) => {
                if let Err(e) = serde_json::from_value::<PaymentTerms>(terms.clone()) {
                    refuse(
                        ErrorCode::PaymentTermsInvalid,
                        at("payment_terms"),
                        e.to_string(),
                    );
                }
            }
        }
        if asset
            .get("size_bytes")
            .and_then(Value::as_u64)
            .is_some_and(|n| i64::try_from(n).is_err())
        {
            refuse(
                ErrorCode::ManifestInvalid,
                at("size_bytes"),
                "larger than any file the server stores".to_owned(),
            );
        }
    }
    problems
}

/// Asset ids travel in URLs, headers and buyers' file systems: keep them tame.
fn is_asset_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
        && id != "."
        && id != ".."
}

/// A name a buyer's tool can create in a folder without leaving it.
/// `text` as one token of a JSON pointer (RFC 6901).
fn pointer_token(text: &str) -> String {
    text.replace('~', "~0").replace('/', "~1")
}

#[derive(Deserialize)]
struct Entry {
    asset_id: String,
    title: Option<String>,
    file_name: String,
    checksum: String,
    size_bytes: u64,
    media_type: String,
    license_tag: String,
    creator_wallet: String,
    payment_terms: Option<PaymentTerms>,
    #[serde(default)]
    capture_date: Option<String>,
}

fn entries(doc: &Value) -> Result<Vec<AssetEntry>, ApiError> {
    let assets = doc.get("assets").and_then(Value::as_array);
    // Each license is read once; a manifest may list a million assets
    // under a handful of tags.
    let licenses: HashMap<&str, LicenseTag> = doc
        .get("licenses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(tag, rights)| Some((tag.as_str(), LicenseTag::deserialize(rights).ok()?)))
        .collect();
    assets
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, asset)| {
            let e = Entry::deserialize(asset).map_err(|e| {
                ApiError::new(ErrorCode::ManifestInvalid, format!("/assets/{i}: {e}"))
            })?;
            let usage = licenses.get(e.license_tag.as_str()).map(|license| {
                let signals = license.signals(e.payment_terms.as_ref());
                UsageHeaders {
                    content_usage: signals.content_usage(),
                    tdm_reservation: signals.tdm_reservation,
                    tdm_policy: signals.tdm_policy,
                }
            });
            Ok(AssetEntry {
                asset_id: e.asset_id,
                title: e.title,
                file_name: e.file_name,
                checksum: e.checksum,
                size_bytes: e.size_bytes,
                media_type: e.media_type,
                license_tag: e.license_tag,
                creator_wallet: e.creator_wallet,
                usage,
                payment_terms: e.payment_terms,
                capture_date: e.capture_date,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prescan_counts_values_outside_strings_only() {
        // One for the document and one per separator outside strings: nine
        // (three `:`, three `,`, one `[`, two `{`), ten in all.
        let doc = br#"{"a": [1, {"b": "x,y:[{"}, "\",:"], "c": 2}"#;
        assert!(prescan(doc, 10).is_ok());
        assert!(prescan(doc, 9).is_err());
        let strings = br#"["{{{{{{{{{{,,,,,::::"]"#;
        assert!(prescan(strings, 2).is_ok());
    }

    #[test]
    fn names_that_could_leave_a_folder_are_refused() {
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "x\ny",
            &"n".repeat(256),
            "..hidden",
            "CON.jpg",
        ] {
            assert!(file_names::file_name_problem(bad).is_some(), "{bad:?}");
        }
        for good in ["a.jpg", "été.png", "a b.tif"] {
            assert_eq!(file_names::file_name_problem(good), None, "{good:?}");
        }
        for bad in ["", "..", "../etc", "a/b", "a b", &"i".repeat(129)] {
            assert!(!is_asset_id(bad), "{bad:?}");
        }
        assert!(is_asset_id("7c1e6f7e-2b7b-4c1e-9f4e-0d6c3f2a1b00"));
        assert_eq!(pointer_token("a/b~c"), "a~1b~0c");
    }
}
