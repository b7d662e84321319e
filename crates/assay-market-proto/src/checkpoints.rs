//! The market as witness of libraries' checkpoints.
//!
//! - `POST /v1/checkpoints` sends a library's newest signed checkpoint
//!   ([`NewCheckpoint`]) with consistency proofs from the one the market
//!   last witnessed for that library. The market checks the signature with
//!   the publisher's registered key it names, refuses a checkpoint that
//!   does not extend the last one (409 `checkpoint_not_extending`), and
//!   answers [`Witnessed`]: the checkpoint and the market's countersignature.
//! - `GET /v1/checkpoints/latest?library=ROOT` gives the publisher the last
//!   one witnessed for a library; `GET /v1/listings/{id}/checkpoint` gives
//!   buyers the last one witnessed for the listing's publisher.
//! - `GET /v1/witness/key` is the key countersignatures are checked with.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `type` of a witness statement.
pub const WITNESS_TYPE: &str = "assay-witness";

/// The body of `POST /v1/checkpoints`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewCheckpoint {
    /// The library's checkpoint, as `assay checkpoint` wrote it.
    pub checkpoint: Value,
    /// RFC 9162 consistency proof (hex hashes) from the event tree the
    /// market last witnessed for this library; empty for the first.
    #[serde(default)]
    pub events_proof: Vec<String>,
    /// The same for the identity events.
    #[serde(default)]
    pub identity_proof: Vec<String>,
}

/// A checkpoint the market witnessed: the library's document, and the
/// market's statement that it saw it (signed with its witness key).
///
/// The statement holds `type` ([`WITNESS_TYPE`]), `v`, `library`, the
/// SHA-256 of the checkpoint's canonical JSON (`checkpoint_sha256`), its
/// `events` and `identity` tree heads, `witnessed_at`, the witness key's
/// `key_id`, and `signature` (ed25519 over the canonical JSON of the rest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Witnessed {
    pub checkpoint: Value,
    pub witness: Value,
}

/// `GET /v1/witness/key`: the market's witness key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessKey {
    pub key_id: String,
    /// `ed25519:` and base64.
    pub public_key: String,
}
