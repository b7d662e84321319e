//! Publishers' signing keys: `POST /v1/keys/challenge`, `POST /v1/keys` and
//! `GET /v1/keys`. A manifest is accepted only when it is signed with a key
//! its publisher registered, and a key is registered only by whoever proves
//! they hold it, by signing a challenge, so nobody registers another's key
//! first.

use serde::{Deserialize, Serialize};

/// The body of `POST /v1/keys/challenge`'s answer: what the key's holder
/// signs to prove they hold it. It is good for the caller only, until
/// `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyChallenge {
    pub challenge: String,
    pub expires_at: String,
}

/// The body of `POST /v1/keys`: the key, and proof of holding it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewKey {
    /// An ed25519 public key, as `assay user key` prints it (SPKI PEM), or
    /// in the compact form manifests carry (`ed25519:` and base64).
    pub public_key: String,
    /// A challenge from `POST /v1/keys/challenge`, as answered.
    pub challenge: String,
    /// The key's ed25519 signature (base64) over
    /// `"assay-market key possession\n"` followed by the challenge.
    pub signature: String,
}

/// A registered key. `POST /v1/keys` answers 201 with it, or 200 when the
/// caller had registered the key already.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    /// The key's fingerprint, as manifests name it in `signer.key_id`.
    pub key_id: String,
    /// The compact form, `ed25519:` and base64.
    pub public_key: String,
    pub created_at: String,
}

/// The body of `GET /v1/keys`: the caller's keys, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyList {
    pub keys: Vec<Key>,
}
