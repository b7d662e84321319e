//! Reading the C2PA manifest store a file carries, validated offline:
//! no remote manifest is fetched and no OCSP responder asked, so reading
//! never touches the network whatever the file says.

use std::io::{Read, Seek};
use std::sync::Arc;

use c2pa::{Context, Reader, ValidationState};
use serde_json::{json, Value};

use crate::model::{
    ContentCredentials, CredentialAction, CredentialIngredient, CredentialState, TrainingMining,
};

/// Certificates the reader trusts as anchors, beside none by default.
#[derive(Clone, Debug, Default)]
pub struct TrustAnchors {
    /// PEM certificates; a signer chaining to one reads as `trusted`.
    pub pem: Option<String>,
}

/// Why credentials could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("reading Content Credentials: {0}")]
pub struct ReadError(String);

/// Reads Content Credentials against one set of trust anchors. Its
/// settings are parsed once and shared by every read, from any thread, so
/// an import makes one for all its files.
pub struct CredentialReader {
    context: Arc<Context>,
}

impl CredentialReader {
    pub fn new(anchors: &TrustAnchors) -> Result<CredentialReader, ReadError> {
        let context =
            offline_context(anchors.pem.as_deref()).map_err(|e| ReadError(e.to_string()))?;
        Ok(CredentialReader {
            context: context.into_shared(),
        })
    }

    /// The Content Credentials in `stream`, a file of `media_type`: `None`
    /// when it carries no manifest store (or is of a type C2PA does not
    /// cover). A store that is there but broken reads as `invalid`, with
    /// the reason as its failure.
    pub fn read(
        &self,
        stream: impl Read + Seek + Send,
        media_type: &str,
    ) -> Result<Option<ContentCredentials>, ReadError> {
        match Reader::from_shared_context(&self.context).with_stream(media_type, stream) {
            Ok(reader) => Ok(Some(credentials(&reader))),
            Err(
                c2pa::Error::JumbfNotFound
                | c2pa::Error::ProvenanceMissing
                | c2pa::Error::UnsupportedType,
            ) => Ok(None),
            // A store is there but cannot be parsed or checked.
            Err(e) => Ok(Some(broken(&e))),
        }
    }

    /// [`CredentialReader::read`] for a file already in memory: one whose
    /// headers rule out an embedded store (JPEG, PNG) is answered without
    /// the validator's reading of the whole file.
    pub fn read_bytes(
        &self,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Option<ContentCredentials>, ReadError> {
        if !crate::scan::may_carry_store(bytes, media_type) {
            return Ok(None);
        }
        // A JPEG's store lifted out here is validated against the bytes as
        // they are: c2pa then only hashes them, instead of parsing the
        // whole file again to find the store.
        if media_type == "image/jpeg" {
            if let Some(store) = crate::scan::jpeg_store(bytes) {
                return Ok(Some(self.read_sidecar(
                    &store,
                    std::io::Cursor::new(bytes),
                    media_type,
                )));
            }
        }
        self.read(std::io::Cursor::new(bytes), media_type)
    }

    /// The Content Credentials of a `.c2pa` sidecar, checked against
    /// `stream`, the file of `media_type` it sits beside.
    pub fn read_sidecar(
        &self,
        manifest_store: &[u8],
        stream: impl Read + Seek + Send,
        media_type: &str,
    ) -> ContentCredentials {
        self.read_sidecar_assertion(manifest_store, stream, media_type, None)
            .0
    }

    /// [`CredentialReader::read_sidecar`], with the active manifest's
    /// assertion `label` (when asked for) as JSON when it has one (Assay's own, to hold a
    /// delivered credential to the asset it is for).
    pub fn read_sidecar_assertion(
        &self,
        manifest_store: &[u8],
        stream: impl Read + Seek + Send,
        media_type: &str,
        label: Option<&str>,
    ) -> (ContentCredentials, Option<Value>) {
        match Reader::from_shared_context(&self.context).with_manifest_data_and_stream(
            manifest_store,
            media_type,
            stream,
        ) {
            Ok(reader) => {
                let assertion = label.and_then(|label| {
                    reader
                        .active_manifest()?
                        .find_assertion::<Value>(label)
                        .ok()
                });
                (credentials(&reader), assertion)
            }
            Err(e) => (broken(&e), None),
        }
    }
}

/// A c2pa context that never goes to the network (no remote manifests, no
/// OCSP), trusting `anchors` (PEM) as well as none by default.
pub(crate) fn offline_context(anchors: Option<&str>) -> c2pa::Result<Context> {
    let mut settings = json!({
        "verify": {"remote_manifest_fetch": false, "ocsp_fetch": false},
    });
    if let Some(pem) = anchors {
        settings["trust"] = json!({ "user_anchors": pem });
    }
    Context::new().with_settings(settings.to_string().as_str())
}

/// [`CredentialReader::read`] for a single file.
pub fn read(
    stream: impl Read + Seek + Send,
    media_type: &str,
    anchors: &TrustAnchors,
) -> Result<Option<ContentCredentials>, ReadError> {
    CredentialReader::new(anchors)?.read(stream, media_type)
}

fn broken(error: &c2pa::Error) -> ContentCredentials {
    ContentCredentials {
        state: CredentialState::Invalid,
        failures: vec![format!("manifestStore.unreadable: {error}")],
        claim_generator: None,
        signer: None,
        certificate_subject: None,
        signed_at: None,
        actions: Vec::new(),
        ingredients: Vec::new(),
        training_mining: Vec::new(),
    }
}

fn credentials(reader: &Reader) -> ContentCredentials {
    let state = match reader.validation_state() {
        ValidationState::Trusted => CredentialState::Trusted,
        ValidationState::Valid => CredentialState::Valid,
        _ => CredentialState::Invalid,
    };
    let mut failures: Vec<String> = reader
        .validation_results()
        .and_then(|r| r.active_manifest())
        .map(|codes| {
            codes
                .failure()
                .iter()
                .map(|s| s.code().to_owned())
                .collect()
        })
        .unwrap_or_default();
    if failures.is_empty() && state == CredentialState::Invalid {
        // Problems outside the active manifest's own codes (no active
        // manifest at all, an ingredient's) still say what failed.
        failures = reader
            .validation_status()
            .map(|all| all.iter().map(|s| s.code().to_owned()).collect())
            .unwrap_or_default();
    }
    let manifest = reader
        .active_manifest()
        .and_then(|m| serde_json::to_value(m).ok())
        .unwrap_or(Value::Null);
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let signature = &manifest["signature_info"];
    ContentCredentials {
        state,
        failures,
        claim_generator: claim_generator(&manifest),
        signer: text(&signature["issuer"]),
        certificate_subject: text(&signature["common_name"]),
        signed_at: text(&signature["time"]),
        actions: actions(&manifest),
        ingredients: manifest["ingredients"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|i| CredentialIngredient {
                        title: text(&i["title"]),
                        format: text(&i["format"]),
                        relationship: text(&i["relationship"]),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        training_mining: training_mining(&manifest),
    }
}

/// The v1 `claim_generator` string, or the v2 `claim_generator_info`'s
/// first name and version.
fn claim_generator(manifest: &Value) -> Option<String> {
    if let Some(generator) = manifest["claim_generator"].as_str() {
        return Some(generator.to_owned());
    }
    let info = manifest["claim_generator_info"].get(0)?;
    let name = info["name"].as_str()?;
    Some(match info["version"].as_str() {
        Some(version) => format!("{name} {version}"),
        None => name.to_owned(),
    })
}

/// The data of each assertion whose label is `label` or a version of it
/// (`c2pa.actions.v2`).
fn assertions<'a>(manifest: &'a Value, label: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    manifest["assertions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |a| {
            a["label"].as_str().is_some_and(|l| {
                l == label
                    || l.strip_prefix(label)
                        .and_then(|rest| rest.strip_prefix(".v"))
                        .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
            })
        })
        .map(|a| &a["data"])
}

fn actions(manifest: &Value) -> Vec<CredentialAction> {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    assertions(manifest, "c2pa.actions")
        .flat_map(|data| data["actions"].as_array().into_iter().flatten())
        .filter_map(|a| {
            Some(CredentialAction {
                action: a["action"].as_str()?.to_owned(),
                digital_source_type: text(&a["digitalSourceType"]),
                // A string in v1, a claim generator info object in v2.
                software_agent: text(&a["softwareAgent"])
                    .or_else(|| text(&a["softwareAgent"]["name"])),
                when: text(&a["when"]),
            })
        })
        .collect()
}

fn training_mining(manifest: &Value) -> Vec<TrainingMining> {
    assertions(manifest, "cawg.training-mining")
        .flat_map(|data| data["entries"].as_object().into_iter().flatten())
        .filter_map(|(entry, value)| {
            // The three values CAWG defines; an entry saying anything else
            // says nothing Assay can act on.
            let permission = value["use"]
                .as_str()
                .filter(|p| ["allowed", "notAllowed", "constrained"].contains(p))?;
            Some(TrainingMining {
                entry: entry.clone(),
                permission: permission.to_owned(),
                // C2PA's training-mining entries spell it `constraint_info`,
                // CAWG 1.1's `constraints_info`: either is read.
                constraint_info: value["constraint_info"]
                    .as_str()
                    .or_else(|| value["constraints_info"].as_str())
                    .map(str::to_owned),
            })
        })
        .collect()
}
