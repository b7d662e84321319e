//! One provenance event: what it says, how its body is composed in
//! canonical form, hashed and signed (sealed), and how it reads back.
//!
//! An event is a JSON object in canonical form (RFC 8785, see
//! [`crate::formats::canonical`]):
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

use ed25519_dalek::Signature;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::formats::canonical::{canonical_json, write_string};
use crate::identity::keys::{self, KeyId, PreparedKey};
use crate::identity::roles::Action;
use crate::identity::users::Actor;
use crate::provenance::merkle::Hash;

pub(crate) const VERSION: u64 = 1;
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
    /// The asset went into a version of a dataset (its id, name, version
    /// and the hash of the signed dataset manifest).
    DatasetBuild,
    /// An approval or rejection taken back before anything followed it:
    /// the asset is pending review again (`undoes`: the decision's hash).
    DecisionUndone,
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
            EventKind::DatasetBuild => "dataset_build",
            EventKind::DecisionUndone => "decision_undone",
        }
    }

    /// The action whoever signs this kind of event must be allowed.
    pub(super) fn action(self) -> Action {
        match self {
            EventKind::Import => Action::Import,
            EventKind::MetadataChange | EventKind::LicenseChange => Action::EditMetadata,
            EventKind::Submission => Action::Submit,
            // Taking a decision back is deciding again: rights managers'.
            EventKind::Approval | EventKind::DecisionUndone => Action::Approve,
            EventKind::Rejection => Action::Reject,
            EventKind::Quarantine => Action::Quarantine,
            EventKind::Release => Action::Release,
            EventKind::TransferOfRights => Action::TransferRights,
            EventKind::Export
            | EventKind::ExportToMarketplace
            | EventKind::MarketplaceWithdrawal
            | EventKind::DatasetBuild => Action::Export,
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
    pub(super) fn sign(&self, message: &[u8]) -> Signature {
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
    pub(super) fn key_id(&self) -> Cow<'_, KeyId> {
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
    pub(super) body: Vec<u8>,
    pub(super) digest: Hash,
}

impl Composed {
    pub(super) fn hash(&self) -> String {
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
pub(crate) struct Body<'a> {
    pub(super) v: u64,
    #[serde(borrow)]
    pub(super) asset_id: &'a str,
    pub(super) seq: i64,
    pub(super) kind: EventKind,
    pub(super) at: String,
    pub(super) actor: BodyActor<'a>,
    pub(super) prev: Option<&'a str>,
    pub(super) data: Value,
}

#[derive(Deserialize)]
pub(crate) struct BodyActor<'a> {
    pub(super) user: Option<&'a str>,
    pub(super) role: &'a str,
    pub(super) key_id: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::canonical::canonical_json;
    use serde_json::json;

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
