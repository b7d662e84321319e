//! An asset's editable rights metadata: a JSON document validated against
//! `$defs/rights` of `schemas/asset.schema.json` (the schema is the rule, not
//! a copy of it in code), plus the checks a schema cannot make: that a
//! license tag exists in the library's taxonomy.

use std::sync::OnceLock;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::rights::licenses::Taxonomy;

const ASSET_SCHEMA: &str = include_str!("../../../../schemas/asset.schema.json");

/// Fields whose values are JSON (arrays, objects); every other field takes a string.
const JSON_FIELDS: [&str; 3] = ["payment_terms", "sensitive_flags", "pii_findings"];

/// The asset schema, parsed once.
pub(crate) fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    // Compiled-in text; a unit test parses it. An unparsable schema would
    // show up as an empty field list and a validator error, never a panic.
    SCHEMA.get_or_init(|| serde_json::from_str(ASSET_SCHEMA).unwrap_or_default())
}

/// `$defs/rights`: the editable fields and what each takes.
pub(crate) fn rights_schema() -> &'static Value {
    &schema()["$defs"]["rights"]
}

pub(crate) fn validator() -> Result<&'static jsonschema::Validator> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let schema = schema();
            // The rights definition on its own, with nothing else allowed beside it.
            let rights = serde_json::json!({
                "$schema": schema["$schema"],
                "$defs": schema["$defs"],
                "$ref": "#/$defs/rights",
                "unevaluatedProperties": false,
            });
            jsonschema::validator_for(&rights).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Internal(format!("the shipped asset schema does not compile: {e}")))
}

/// The names of the fields a user may edit, from the schema.
pub fn editable_fields() -> Vec<String> {
    rights_schema()["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// Parses the value of `--set field=value` for `field`.
pub fn parse_value(field: &str, text: &str) -> Result<Value> {
    if text.is_empty() {
        return Ok(Value::Null);
    }
    if JSON_FIELDS.contains(&field) {
        return serde_json::from_str(text).map_err(|e| {
            Error::invalid_value(
                "metadata",
                format!("/{field}: {text:?} is not valid JSON: {e}"),
            )
        });
    }
    Ok(Value::String(text.to_owned()))
}

/// Checks `doc` for asset `asset_id`; the error names the field by JSON pointer.
pub(crate) fn validate(asset_id: &str, doc: &Value, taxonomy: &Taxonomy) -> Result<()> {
    let validator = validator()?;
    // The fast check first; errors are only built for a document that fails.
    if validator.is_valid(doc) {
        return check_tag(asset_id, doc, taxonomy);
    }
    if let Some(error) = validator.iter_errors(doc).next() {
        let pointer = error.instance_path.to_string();
        return Err(Error::Invalid {
            asset_id: asset_id.to_owned(),
            pointer: if pointer.is_empty() {
                "/".into()
            } else {
                pointer
            },
            reason: error.to_string(),
        });
    }
    check_tag(asset_id, doc, taxonomy)
}

/// Checks one field's value on its own, as import does before it takes a
/// value another tool wrote. The reason calls the value `name` (where it
/// was read, such as `dc:title`) instead of quoting it: it may be long.
pub(crate) fn check_field(
    field: &str,
    value: &Value,
    name: &str,
    taxonomy: &Taxonomy,
) -> Result<(), String> {
    let doc = serde_json::json!({ field: value });
    let validator = validator().map_err(|e| e.to_string())?;
    if let Some(error) = validator.iter_errors(&doc).next() {
        return Err(error.masked_with(name).to_string());
    }
    check_tag("", &doc, taxonomy)
        .map_err(|_| format!("{name} {value} is not a license tag of this library"))
}

/// A license tag must exist in the taxonomy, which a schema cannot know.
pub(crate) fn check_tag(asset_id: &str, doc: &Value, taxonomy: &Taxonomy) -> Result<()> {
    if let Some(tag) = doc.get("license_tag").and_then(Value::as_str) {
        if taxonomy.get(tag).is_none() {
            let known: Vec<&str> = taxonomy.iter().map(|t| t.tag.as_str()).collect();
            return Err(Error::Invalid {
                asset_id: asset_id.to_owned(),
                pointer: "/license_tag".into(),
                reason: format!(
                    "unknown license tag {tag:?}; known tags: {}",
                    known.join(", ")
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(doc: Value) -> Result<()> {
        validate("a1", &doc, &Taxonomy::shipped())
    }

    #[test]
    fn valid_rights_pass_and_each_bad_field_is_named() {
        check(serde_json::json!({
            "license_tag": "CC-BY-4.0",
            "payment_terms": {"kind": "rev_share", "share": 0.2},
            "sensitive_flags": ["location"],
            "ownership_status": "owned",
        }))
        .unwrap();
        let cases = [
            (
                serde_json::json!({"payment_terms": {"kind": "rev_share", "share": 1.5}}),
                "/payment_terms",
            ),
            (
                serde_json::json!({"license_tag": "MADE-UP"}),
                "/license_tag",
            ),
            (
                serde_json::json!({"ownership_status": "stolen"}),
                "/ownership_status",
            ),
            (
                serde_json::json!({"sensitive_flags": ["minors", "minors"]}),
                "/sensitive_flags",
            ),
            (serde_json::json!({"colour": "red"}), "/"),
        ];
        for (doc, pointer) in cases {
            match check(doc.clone()) {
                Err(Error::Invalid { pointer: p, .. }) => assert_eq!(p, pointer, "{doc}"),
                other => panic!("{doc}: {other:?}"),
            }
        }
    }

    #[test]
    fn single_fields_are_checked_without_quoting_the_value() {
        let t = Taxonomy::shipped();
        let long = Value::String("x".repeat(501));
        assert_eq!(
            check_field("title", &long, "dc:title", &t).unwrap_err(),
            "dc:title is longer than 500 characters"
        );
        let tag = serde_json::json!("MADE-UP");
        assert_eq!(
            check_field("license_tag", &tag, "assay:LicenseTag", &t).unwrap_err(),
            "assay:LicenseTag \"MADE-UP\" is not a license tag of this library"
        );
        check_field("license_tag", &serde_json::json!("NO-TRAIN"), "x", &t).unwrap();
        check_field("creator_name", &serde_json::json!("Ann"), "x", &t).unwrap();
    }

    #[test]
    fn values_parse_by_field_type() {
        assert_eq!(
            parse_value("title", "42").unwrap(),
            Value::String("42".into())
        );
        assert_eq!(parse_value("title", "").unwrap(), Value::Null);
        assert_eq!(
            parse_value("sensitive_flags", r#"["pii"]"#).unwrap(),
            serde_json::json!(["pii"])
        );
        assert!(parse_value("payment_terms", "{oops").is_err());
        assert!(editable_fields().contains(&"license_tag".to_owned()));
    }
}
