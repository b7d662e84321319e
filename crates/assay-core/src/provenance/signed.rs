//! Documents signed in place. A manifest and an audit package's index are
//! each one JSON document whose `signature` member is the ed25519 signature,
//! by the rights manager its `signer` names, over the canonical JSON (the
//! same RFC 8785 form as provenance events) of the document without it.

use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::formats::canonical::{canonical_json, canonical_json_except, canonical_json_into};
use crate::identity::keys;
use crate::identity::roles::Role;
use crate::identity::users::Actor;

/// The `library` and `signer` members: who made the document, and when.
pub(crate) fn identity(library: &VerifyingKey, actor: &Actor, at: &str) -> (Value, Value) {
    (
        json!({
            "key_id": keys::key_id(library).as_str(),
            "public_key": keys::public_key_compact(library),
        }),
        json!({
            "user": actor.name(),
            "role": actor.role().as_str(),
            "key_id": actor.key_id.as_str(),
            "public_key": keys::public_key_compact(actor.key.verifying_key()),
            "signed_at": at,
        }),
    )
}

/// Signs `doc` as `actor`, adds `signature` to it, and returns the file's
/// bytes (see [`sign_canonical`]).
pub(crate) fn sign(doc: &mut Value, actor: &Actor) -> Vec<u8> {
    let (bytes, signature) = sign_canonical(canonical_json(doc), actor);
    doc["signature"] = signature;
    bytes
}

/// Signs `bytes`, the canonical JSON of an object, as `actor`, and returns
/// the file's bytes, the signed bytes with `signature` appended as their
/// last member, and the `signature` member itself. Spliced in rather than
/// serialized again, because a manifest may list 100,000 assets; a reader
/// re-canonicalises anyway.
pub(crate) fn sign_canonical(mut bytes: Vec<u8>, actor: &Actor) -> (Vec<u8>, Value) {
    let signature =
        json!({"alg": "Ed25519", "value": B64.encode(actor.key.sign(&bytes).to_bytes())});
    bytes.pop(); // the closing brace
    if bytes.len() > 1 {
        bytes.push(b',');
    }
    bytes.extend_from_slice(b"\"signature\":");
    canonical_json_into(&signature, &mut bytes);
    bytes.push(b'}');
    (bytes, signature)
}

/// `sha256:` of a file's bytes, as `export` events record it.
pub(crate) fn hash(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Whose signature a reader accepts.
pub(crate) enum Trust<'a> {
    /// Only these keys, which the reader holds apart from the document.
    Keys(&'a [VerifyingKey]),
    /// The key the document names; the reader compares its id with one
    /// they know (an audit package is checked from the package alone).
    Named,
}

/// Whether `doc`'s `signature` member holds `key`'s ed25519 signature
/// (base64 `value`) over the canonical JSON of the rest of `doc`: how every
/// document Assay signs in place is checked (manifests, audit indexes,
/// checkpoints, a market's witness statements).
pub fn signature_verifies(doc: &Value, key: &VerifyingKey) -> bool {
    let signature = doc["signature"]["value"]
        .as_str()
        .and_then(|v| B64.decode(v).ok())
        .and_then(|b| Signature::from_slice(&b).ok());
    signature.is_some_and(|s| {
        key.verify_strict(&canonical_json_except(doc, "signature"), &s)
            .is_ok()
    })
}

/// Checks `doc`'s `signature` over the rest of it, and that a rights
/// manager signed; each problem goes to `failures`, prefixed with `what`
/// (the member of a package, or nothing for a document read on its own).
/// Returns the signer's key when the signature holds. Reads `doc` only, so
/// a schema check can run beside it.
pub(crate) fn check(
    doc: &Value,
    trust: Trust,
    what: &str,
    failures: &mut Vec<String>,
) -> Option<VerifyingKey> {
    let what = if what.is_empty() {
        String::new()
    } else {
        format!("{what}: ")
    };
    let signer = &doc["signer"];
    let field = |name: &str| signer.get(name).and_then(Value::as_str).unwrap_or_default();
    let (key_id, user, role) = (field("key_id"), field("user"), field("role"));
    if role != Role::RightsManager.as_str() {
        failures.push(format!(
            "{what}signer: {user} signed as a {role}; only a rights manager signs"
        ));
    }
    let named = keys::parse_public_key(field("public_key")).ok();
    let key = match trust {
        Trust::Keys(trusted) => {
            let Some(key) = trusted.iter().find(|k| keys::key_id(k).as_str() == key_id) else {
                failures.push(format!(
                    "{what}signature: signed by {user} with key {key_id}, which is not among the trusted keys"
                ));
                return None;
            };
            if named != Some(*key) {
                failures.push(format!(
                    "{what}signer.public_key: differs from the trusted key of the same id"
                ));
            }
            *key
        }
        Trust::Named => match named {
            Some(key) if keys::key_id(&key).as_str() == key_id => key,
            _ => {
                failures.push(format!(
                    "{what}signer: public_key is not an ed25519 key whose id is {key_id}"
                ));
                return None;
            }
        },
    };
    if signature_verifies(doc, &key) {
        Some(key)
    } else {
        failures.push(format!(
            "{what}signature: does not match the contents under {user}'s key; it changed after it was signed, or another key signed it"
        ));
        None
    }
}

/// A JSON Schema shipped in the binary, compiled on first use.
pub(crate) struct Schema {
    text: &'static str,
    /// Shipped schemas it refers to by their `$id`.
    referred: &'static [&'static str],
    compiled: OnceLock<Result<jsonschema::Validator, String>>,
}

impl Schema {
    pub(crate) const fn new(text: &'static str) -> Schema {
        Schema::referring(text, &[])
    }

    /// A schema whose `$ref`s reach into the shipped schemas `referred`.
    pub(crate) const fn referring(text: &'static str, referred: &'static [&'static str]) -> Schema {
        Schema {
            text,
            referred,
            compiled: OnceLock::new(),
        }
    }

    /// Every way `doc` departs from the schema, each with its JSON pointer.
    pub(crate) fn failures(&self, doc: &Value) -> Vec<String> {
        let compiled = self.compiled.get_or_init(|| {
            let schema: Value = serde_json::from_str(self.text).map_err(|e| e.to_string())?;
            let mut options = jsonschema::options();
            for text in self.referred {
                let referred: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
                let id = referred["$id"].as_str().unwrap_or_default().to_owned();
                let resource =
                    jsonschema::Resource::from_contents(referred).map_err(|e| e.to_string())?;
                options = options.with_resource(id, resource);
            }
            options.build(&schema).map_err(|e| e.to_string())
        });
        match compiled {
            Err(e) => vec![format!("the shipped schema does not compile: {e}")],
            Ok(v) => v
                .iter_errors(doc)
                .map(|e| {
                    let at = e.instance_path.to_string();
                    let at = if at.is_empty() { "/".to_owned() } else { at };
                    format!("schema: {at}: {e}")
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::keys::{self, PreparedKey};

    #[test]
    fn the_signed_bytes_are_the_document_with_its_signature() {
        let secret = keys::generate();
        let key = PreparedKey::new(&secret);
        let actor = Actor {
            id: 1,
            name: "rosa".into(),
            role: Role::RightsManager,
            key_id: keys::key_id(key.verifying_key()),
            key,
        };
        let mut doc = json!({"b": [1, "two"], "a": {"z": null, "y": 1.5}, "signer": {}});
        let unsigned = canonical_json(&doc);
        let bytes = sign(&mut doc, &actor);
        let read: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(read, doc);
        assert_eq!(canonical_json(&read).len(), bytes.len());
        let value = B64
            .decode(doc["signature"]["value"].as_str().unwrap())
            .unwrap();
        let signature = Signature::from_slice(&value).unwrap();
        assert!(secret
            .verifying_key()
            .verify_strict(&unsigned, &signature)
            .is_ok());
    }
}
