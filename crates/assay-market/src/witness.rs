//! The market's witness key and the statements it signs: "this market saw
//! this checkpoint of this library at this time". The key is 32 random
//! bytes the records keep (`witness.key`, see [`crate::Records::server_secret`]),
//! made once and shared by every server process on the same records; its
//! public half is served at `GET /v1/witness/key`.

use assay_core::canonical::canonical_json;
use assay_core::{keys, CheckpointClaim};
use assay_market_proto::checkpoints::{WitnessKey as WireKey, WITNESS_TYPE};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::records::{self, Records};

const KEY_FILE: &str = "witness.key";

pub(crate) struct WitnessKey {
    key: SigningKey,
    key_id: String,
}

impl WitnessKey {
    /// The key the records keep (made on first use): every server process
    /// sharing them witnesses with the same one.
    pub fn of(records: &dyn Records) -> records::Result<WitnessKey> {
        let key = SigningKey::from_bytes(&records.server_secret(KEY_FILE)?);
        let key_id = keys::key_id(&key.verifying_key()).to_string();
        Ok(WitnessKey { key, key_id })
    }

    pub fn wire(&self) -> WireKey {
        WireKey {
            key_id: self.key_id.clone(),
            public_key: keys::public_key_compact(&self.key.verifying_key()),
        }
    }

    /// The signed statement that the checkpoint `claim` was read from, whose
    /// canonical JSON is `checkpoint`, was witnessed at `at`.
    pub fn statement(&self, claim: &CheckpointClaim, checkpoint: &[u8], at: &str) -> Value {
        let mut statement = json!({
            "type": WITNESS_TYPE,
            "v": 1,
            "library": claim.library,
            "checkpoint_sha256": hex::encode(Sha256::digest(checkpoint)),
            "events": claim.events,
            "identity": claim.identity,
            "witnessed_at": at,
            "key_id": self.key_id,
        });
        let signature = self.key.sign(&canonical_json(&statement));
        statement["signature"] =
            json!({"alg": "Ed25519", "value": B64.encode(signature.to_bytes())});
        statement
    }
}
