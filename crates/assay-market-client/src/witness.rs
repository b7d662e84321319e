//! The market as witness: the last step of a sync writes the library's
//! checkpoint (committing everything the sync recorded) and has the market
//! witness it, with consistency proofs from the one it witnessed last; and
//! [`witnessed`] fetches what the market last witnessed for a library, its
//! countersignature checked, for `verify --provenance --market NAME`.

use assay_core::canonical::canonical_json;
use assay_core::{keys, Actor, CheckpointClaim, Library};
use assay_market_proto::checkpoints::{NewCheckpoint, WitnessKey, Witnessed, WITNESS_TYPE};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::http::{Api, Retry};
use crate::progress::SyncEvent;
use crate::sync::{parse, Run};

const LATEST: &str = "/v1/checkpoints/latest";

/// A checkpoint the market witnessed, its countersignature checked.
#[derive(Debug, Clone, PartialEq)]
pub struct WitnessedCheckpoint {
    /// The library's checkpoint document, as the market holds it.
    pub checkpoint: Value,
    pub events: u64,
    pub witnessed_at: String,
    /// The market's witness key that countersigned it.
    pub key_id: String,
}

impl Run<'_> {
    /// Writes the library's checkpoint and has the market witness it.
    pub(crate) fn witness(&mut self, actor: &Actor) -> Result<()> {
        self.check_cancel()?;
        self.library.checkpoint(actor)?;
        let library = library_root(self.library)?;
        let latest = latest(&self.api, &library)?;
        let request = self
            .library
            .witness_request(latest.as_ref().map(|w| &w.checkpoint))?;
        let body = NewCheckpoint {
            checkpoint: request.checkpoint,
            events_proof: request.events_proof,
            identity_proof: request.identity_proof,
        };
        let reply = self.send_json("POST", "/v1/checkpoints", &body)?;
        let answer: Witnessed = parse(&reply, "POST", "/v1/checkpoints", &[200, 201])?;
        let key = witness_key(&self.api)?;
        let seen = check(&answer, &key)?;
        self.report.witnessed_events = Some(seen.events);
        (self.progress)(&SyncEvent::Witnessed {
            events: seen.events,
            witnessed_at: seen.witnessed_at,
        });
        Ok(())
    }
}

/// What the market named `market` (or the only one) last witnessed for
/// this library, its countersignature checked with the market's witness
/// key; `None` if it has witnessed none.
pub fn witnessed(library: &Library, market: Option<&str>) -> Result<Option<WitnessedCheckpoint>> {
    let api = Api::of_market(&library.market(market)?, Retry::default())?;
    let Some(answer) = latest(&api, &library_root(library)?)? else {
        return Ok(None);
    };
    let key = witness_key(&api)?;
    check(&answer, &key).map(Some)
}

/// `GET /v1/listings/{id}/checkpoint`: the last checkpoint the market
/// witnessed for the listing's publisher, as answered and as checked;
/// `None` on 404.
pub(crate) fn of_listing(
    api: &Api,
    listing_id: &str,
) -> Result<Option<(Witnessed, WitnessedCheckpoint)>> {
    let path = format!("/v1/listings/{listing_id}/checkpoint");
    let reply = api.send("GET", &path, &[], &[])?;
    if reply.status == 404 {
        return Ok(None);
    }
    let answer: Witnessed = parse(&reply, "GET", &path, &[200])?;
    let seen = check(&answer, &witness_key(api)?)?;
    Ok(Some((answer, seen)))
}

fn library_root(library: &Library) -> Result<String> {
    library.identity_root()?.ok_or_else(|| {
        Error::Invalid("the library has no users yet, so no checkpoint to witness".into())
    })
}

/// `GET /v1/checkpoints/latest` for `library`; `None` on 404.
fn latest(api: &Api, library: &str) -> Result<Option<Witnessed>> {
    let path = format!("{LATEST}?library={library}");
    let reply = api.send("GET", &path, &[], &[])?;
    if reply.status == 404 {
        return Ok(None);
    }
    parse(&reply, "GET", &path, &[200]).map(Some)
}

fn witness_key(api: &Api) -> Result<WitnessKey> {
    let path = "/v1/witness/key";
    let reply = api.send("GET", path, &[], &[])?;
    parse(&reply, "GET", path, &[200])
}

/// The market's statement checked: its signature by the witness key, and
/// that it speaks of this checkpoint and its tree heads.
fn check(answer: &Witnessed, key: &WitnessKey) -> Result<WitnessedCheckpoint> {
    let statement = &answer.witness;
    let mut failures = Vec::new();
    let claim = CheckpointClaim::read(&answer.checkpoint)?;
    let verifying = keys::parse_public_key(&key.public_key)
        .map_err(|e| Error::Invalid(format!("the market's witness key: {e}")))?;
    if keys::key_id(&verifying).to_string() != key.key_id || statement["key_id"] != key.key_id {
        failures.push("it is not signed with the market's witness key".to_owned());
    }
    let signed = assay_core::signature_verifies(statement, &verifying);
    if !signed {
        failures.push("its signature does not verify with the witness key".to_owned());
    }
    let digest = hex::encode(Sha256::digest(canonical_json(&answer.checkpoint)));
    if statement["type"] != WITNESS_TYPE
        || statement["checkpoint_sha256"] != digest.as_str()
        || statement["library"] != claim.library.as_str()
        || statement["events"]["size"] != claim.events.size
        || statement["events"]["root"] != claim.events.root.as_str()
    {
        failures.push("it speaks of another checkpoint than the one it came with".to_owned());
    }
    if !failures.is_empty() {
        return Err(Error::Untrusted {
            what: "the market's witness statement".into(),
            failures,
        });
    }
    Ok(WitnessedCheckpoint {
        checkpoint: answer.checkpoint.clone(),
        events: claim.events.size,
        witnessed_at: statement["witnessed_at"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        key_id: key.key_id.clone(),
    })
}
