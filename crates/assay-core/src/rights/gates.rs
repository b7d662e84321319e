//! Eligibility gates: declarative rules (`schemas/gates.json`, or a
//! library's own `gates.json`) an asset must pass before it may be approved.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use assay_credentials::{ContentCredentials, CredentialState};

use crate::error::{Error, Result};
use crate::rights::licenses::Taxonomy;

const SHIPPED: &str = include_str!("../../../../schemas/gates.json");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Gate {
    id: String,
    description: String,
    #[serde(default)]
    when_flags_any: Vec<String>,
    #[serde(default)]
    when_field_in: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    require: Vec<String>,
    /// Fields that must be absent or empty.
    #[serde(default)]
    forbid: Vec<String>,
    #[serde(default)]
    license_allows_training: bool,
    #[serde(default)]
    license_not_expired: bool,
    /// The file's own Content Credentials may not refuse AI training when
    /// its license allows it.
    #[serde(default)]
    credentials_allow_training: bool,
    /// The file's Content Credentials, when it has any, validate.
    #[serde(default)]
    credentials_valid: bool,
    /// Passing it counts as complete metadata in the report.
    #[serde(default)]
    completeness: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Gates {
    gates: Vec<Gate>,
}

/// A gate an asset fails, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FailedGate {
    pub gate: String,
    /// What the gate asks for, in words.
    pub description: String,
    pub reason: String,
}

/// What the gates look at: the asset's stored rights metadata (JSON text)
/// plus the identity fields and the Content Credentials (JSON text) the
/// catalog keeps in their own columns.
pub(crate) fn gate_fields(
    rights: &str,
    asset_id: &str,
    checksum: &str,
    provenance_hash: Option<&str>,
    content_credentials: Option<&str>,
) -> Map<String, Value> {
    let mut fields = match serde_json::from_str(rights) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    fields.insert("asset_id".into(), Value::from(asset_id));
    fields.insert("checksum".into(), Value::from(checksum));
    fields.insert("provenance_hash".into(), Value::from(provenance_hash));
    fields.insert(
        "content_credentials".into(),
        content_credentials
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or(Value::Null),
    );
    fields
}

impl Gates {
    /// The library's `gates.json` when present, else the shipped gates.
    pub fn load(library_file: &Path) -> Result<Gates> {
        let (text, source) = match std::fs::read_to_string(library_file) {
            Ok(text) => (text, library_file.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                (SHIPPED.to_owned(), "schemas/gates.json".to_owned())
            }
            Err(e) => return Err(Error::io(library_file, e)),
        };
        serde_json::from_str(&text)
            .map_err(|e| Error::bad_file(&source, format!("{source}: not a valid gates file: {e}")))
    }

    /// Whether a gate that failed is one the report counts for completeness.
    pub(crate) fn is_completeness(&self, gate: &str) -> bool {
        self.gates.iter().any(|g| g.completeness && g.id == gate)
    }

    /// Every gate `fields` (the asset's record as a flat JSON object) fails.
    pub fn check(
        &self,
        fields: &Map<String, Value>,
        taxonomy: &Taxonomy,
        today: time::Date,
    ) -> Vec<FailedGate> {
        let present = |f: &str| match fields.get(f) {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(_) => true,
        };
        let flags: Vec<&str> = fields
            .get("sensitive_flags")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let license = fields
            .get("license_tag")
            .and_then(Value::as_str)
            .and_then(|t| taxonomy.get(t));
        let credentials: Option<ContentCredentials> = fields
            .get("content_credentials")
            .filter(|c| !c.is_null())
            .and_then(|c| serde_json::from_value(c.clone()).ok());
        let mut failed = Vec::new();
        for gate in &self.gates {
            let applies = (gate.when_flags_any.is_empty()
                || gate
                    .when_flags_any
                    .iter()
                    .any(|f| flags.contains(&f.as_str())))
                && gate.when_field_in.iter().all(|(field, values)| {
                    fields
                        .get(field)
                        .and_then(Value::as_str)
                        .is_some_and(|v| values.iter().any(|x| x == v))
                });
            if !applies {
                continue;
            }
            let mut fail = |reason: String| {
                failed.push(FailedGate {
                    gate: gate.id.clone(),
                    description: gate.description.clone(),
                    reason,
                })
            };
            let missing: Vec<&str> = gate
                .require
                .iter()
                .map(String::as_str)
                .filter(|f| !present(f))
                .collect();
            if !missing.is_empty() {
                fail(format!("missing {}", missing.join(", ")));
            }
            for field in gate.forbid.iter().filter(|f| present(f)) {
                let value = match &fields[field.as_str()] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                fail(format!("{field} is {value}"));
            }
            if gate.license_allows_training {
                if let Some(l) = license.filter(|l| !l.ai_training_allowed) {
                    fail(format!("license {} does not allow AI training", l.tag));
                }
            }
            if gate.license_not_expired {
                if let Some(l) = license.filter(|l| l.is_expired(today)) {
                    fail(format!("license {} has expired", l.tag));
                }
            }
            if gate.credentials_allow_training {
                let refused = credentials.as_ref().filter(|c| c.forbids_training());
                if let (Some(c), Some(l)) = (refused, license.filter(|l| l.ai_training_allowed)) {
                    let entries: Vec<String> = c
                        .training_mining
                        .iter()
                        .map(|t| format!("{} {}", t.entry, t.permission))
                        .collect();
                    fail(format!(
                        "the file's Content Credentials refuse AI training ({}), which license {} allows",
                        entries.join(", "),
                        l.tag
                    ));
                }
            }
            if gate.credentials_valid {
                if let Some(c) = credentials
                    .as_ref()
                    .filter(|c| c.state == CredentialState::Invalid)
                {
                    fail(format!(
                        "the file's Content Credentials do not validate: {}",
                        c.failures.join(", ")
                    ));
                }
            }
        }
        failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn failed(doc: Value) -> Vec<String> {
        let gates = Gates::load(Path::new("/nonexistent/gates.json")).unwrap();
        let Value::Object(doc) = doc else { panic!() };
        let today = time::macros::date!(2026 - 11 - 21);
        gates
            .check(&doc, &Taxonomy::shipped(), today)
            .into_iter()
            .map(|f| format!("{}: {}", f.gate, f.reason))
            .collect()
    }

    fn complete() -> Value {
        json!({
            "asset_id": "a", "checksum": "sha256:00", "license_tag": "CC-BY-4.0",
            "tax_and_payout_info": "acct", "signed_contract_id": "K-1", "provenance_hash": "sha256:11",
        })
    }

    #[test]
    fn the_gates_file_says_which_gates_mean_complete_metadata() {
        let shipped = Gates::load(Path::new("/nonexistent/gates.json")).unwrap();
        assert!(shipped.is_completeness("required-fields"));
        assert!(!shipped.is_completeness("training-allowed"));
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("gates.json");
        std::fs::write(
            &own,
            r#"{"gates": [{"id": "basics", "description": "d", "require": ["title"], "completeness": true},
                          {"id": "required-fields", "description": "d", "require": ["license_tag"]}]}"#,
        )
        .unwrap();
        let own = Gates::load(&own).unwrap();
        assert!(own.is_completeness("basics"));
        assert!(!own.is_completeness("required-fields"));
    }

    #[test]
    fn a_complete_asset_passes_and_each_gate_names_what_fails() {
        assert!(failed(complete()).is_empty());
        let mut doc = complete();
        doc["license_tag"] = json!("NO-TRAIN");
        doc["signed_contract_id"] = json!("");
        assert_eq!(
            failed(doc),
            [
                "required-fields: missing signed_contract_id",
                "training-allowed: license NO-TRAIN does not allow AI training"
            ]
        );
        let mut doc = complete();
        doc["sensitive_flags"] = json!(["minors"]);
        assert_eq!(
            failed(doc.clone()),
            ["release-recorded: missing model_release_id"]
        );
        doc["model_release_id"] = json!("MR-7");
        assert!(failed(doc).is_empty());
        let mut doc = complete();
        doc["duplicate_of"] = json!("0d1e3c2a-5b6f-4a7d-8e9f-0a1b2c3d4e5f");
        assert_eq!(
            failed(doc.clone()),
            ["not-a-duplicate: duplicate_of is 0d1e3c2a-5b6f-4a7d-8e9f-0a1b2c3d4e5f"]
        );
        doc["duplicate_of"] = json!(null);
        assert!(failed(doc).is_empty());
    }
}
