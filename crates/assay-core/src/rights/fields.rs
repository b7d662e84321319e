//! The metadata form's view of the asset schema: each editable field with
//! the input it takes, and the problems of one value, each at the JSON
//! pointer of the part that is wrong. The desktop app draws its form from
//! [`field_specs`], so a field added to the schema shows up there, and it
//! checks each value with [`field_problems`] as the user types; the edit
//! itself is still checked in full by `Library::edit`.

use serde::Serialize;
use serde_json::Value;

use crate::rights::licenses::Taxonomy;
use crate::rights::metadata::{self, rights_schema, schema};

/// One editable field as a form shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FieldSpec {
    pub field: String,
    /// The schema's description, one sentence.
    pub description: Option<String>,
    pub input: FieldInput,
}

/// The input a field takes, read from its schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FieldInput {
    /// A line of text.
    Text { max_length: Option<u32> },
    /// One of a list, or nothing.
    Choice { options: Vec<String> },
    /// Any set of a list.
    Flags { options: Vec<String> },
    /// One of the schema's kinds of payment terms, each with its fields.
    PaymentTerms { kinds: Vec<PaymentKind> },
    /// Anything else, as JSON text.
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PaymentKind {
    pub kind: String,
    pub description: Option<String>,
    pub fields: Vec<PaymentField>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PaymentField {
    pub name: String,
    pub description: Option<String>,
    /// A JSON number; otherwise a string.
    pub number: bool,
}

/// What is wrong with a value, and where.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FieldProblem {
    /// JSON pointer into the rights document, such as `/payment_terms/fee`.
    pub pointer: String,
    pub message: String,
}

fn description(schema: &Value) -> Option<String> {
    schema["description"].as_str().map(str::to_owned)
}

fn strings(values: &Value) -> Vec<String> {
    values
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The branches of `$defs/payment_terms`, one per kind.
fn payment_branches() -> &'static [Value] {
    schema()["$defs"]["payment_terms"]["oneOf"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn payment_kinds() -> Vec<PaymentKind> {
    payment_branches()
        .iter()
        .filter_map(|branch| {
            let properties = branch["properties"].as_object()?;
            let kind = &properties.get("kind")?;
            Some(PaymentKind {
                kind: kind["const"].as_str()?.to_owned(),
                description: description(kind),
                fields: properties
                    .iter()
                    .filter(|(name, _)| name.as_str() != "kind")
                    .map(|(name, s)| PaymentField {
                        name: name.clone(),
                        description: description(s),
                        number: s["type"] == "number",
                    })
                    .collect(),
            })
        })
        .collect()
}

/// Whether a field's schema is (or is null or) `$defs/payment_terms`.
fn refs_payment(field: &Value) -> bool {
    field["oneOf"]
        .as_array()
        .is_some_and(|b| b.iter().any(|s| s["$ref"] == "#/$defs/payment_terms"))
}

fn input(field: &Value) -> FieldInput {
    if let Some(options) = field.get("enum") {
        return FieldInput::Choice {
            options: strings(options),
        };
    }
    if field["type"] == "array" && field["items"].get("enum").is_some() {
        return FieldInput::Flags {
            options: strings(&field["items"]["enum"]),
        };
    }
    if refs_payment(field) {
        return FieldInput::PaymentTerms {
            kinds: payment_kinds(),
        };
    }
    let text = match &field["type"] {
        Value::String(t) => t == "string",
        Value::Array(types) => types.iter().any(|t| t == "string"),
        _ => false,
    };
    if text {
        return FieldInput::Text {
            max_length: field["maxLength"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok()),
        };
    }
    FieldInput::Json
}

/// Every editable field, in the schema's order.
pub fn field_specs() -> Vec<FieldSpec> {
    rights_schema()["properties"]
        .as_object()
        .map(|properties| {
            properties
                .iter()
                .map(|(field, s)| FieldSpec {
                    field: field.clone(),
                    description: description(s),
                    input: input(s),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The problems of `text` as the value of `field` (the text `edit` takes:
/// JSON for payment terms, flags and findings; empty clears). An empty
/// list means the value may be saved.
pub fn field_problems(field: &str, text: &str, taxonomy: &Taxonomy) -> Vec<FieldProblem> {
    let at = format!("/{field}");
    let value = match metadata::parse_value(field, text) {
        Ok(value) => value,
        Err(e) => return vec![problem(&at, e.to_string())],
    };
    let Some(field_schema) = rights_schema()["properties"].get(field) else {
        return vec![problem(&at, format!("{field} is not a metadata field"))];
    };
    // Payment terms are one of several shapes: check the shape their kind
    // names, so the message is about the fee or the rate, not "no branch matched".
    if let (true, Some(kind)) = (refs_payment(field_schema), value.get("kind")) {
        return payment_problems(&at, kind, &value);
    }
    let doc = serde_json::json!({ field: value });
    let mut problems = match metadata::validator() {
        Ok(validator) => validator
            .iter_errors(&doc)
            .map(|e| {
                let pointer = e.instance_path.to_string();
                let message = explained(&e, field_schema);
                problem(&pointer, message)
            })
            .collect(),
        Err(e) => vec![problem(&at, e.to_string())],
    };
    if problems.is_empty() {
        if let Err(e) = metadata::check_tag("", &doc, taxonomy) {
            problems.push(problem(&at, e.to_string()));
        }
    }
    problems
}

fn payment_problems(at: &str, kind: &Value, value: &Value) -> Vec<FieldProblem> {
    let branch = payment_branches()
        .iter()
        .find(|b| &b["properties"]["kind"]["const"] == kind);
    let Some(branch) = branch else {
        let kinds: Vec<String> = payment_kinds().into_iter().map(|k| k.kind).collect();
        return vec![problem(
            &format!("{at}/kind"),
            format!(
                "{kind} is not a kind of payment terms; use one of {}",
                kinds.join(", ")
            ),
        )];
    };
    match jsonschema::validator_for(branch) {
        Ok(validator) => validator
            .iter_errors(value)
            .map(|e| {
                let inner = e.instance_path.to_string();
                let property = inner.trim_start_matches('/');
                let message = explained(&e, &branch["properties"][property]);
                problem(&format!("{at}{inner}"), message)
            })
            .collect(),
        Err(e) => vec![problem(at, e.to_string())],
    }
}

/// The validator's message, with the schema's description of what is
/// expected when the value does not fit a pattern (a regex says little).
fn explained(error: &jsonschema::ValidationError, schema: &Value) -> String {
    match (&error.kind, description(schema)) {
        (jsonschema::error::ValidationErrorKind::Pattern { .. }, Some(expected)) => {
            format!("{} does not fit: {expected}", error.instance)
        }
        _ => error.to_string(),
    }
}

fn problem(pointer: &str, message: String) -> FieldProblem {
    FieldProblem {
        pointer: pointer.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(field: &str) -> FieldInput {
        field_specs()
            .into_iter()
            .find(|s| s.field == field)
            .map(|s| s.input)
            .unwrap_or_else(|| panic!("no field {field}"))
    }

    #[test]
    fn every_editable_field_has_an_input_read_from_the_schema() {
        let names: Vec<String> = field_specs().into_iter().map(|s| s.field).collect();
        let mut editable = metadata::editable_fields();
        editable.sort();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(sorted, editable);
        assert_eq!(
            spec("title"),
            FieldInput::Text {
                max_length: Some(500)
            }
        );
        assert_eq!(
            spec("ownership_status"),
            FieldInput::Choice {
                options: ["owned", "licensed", "joint", "unknown"]
                    .map(String::from)
                    .to_vec()
            }
        );
        let FieldInput::Flags { options } = spec("sensitive_flags") else {
            panic!("sensitive_flags is not flags")
        };
        assert!(options.contains(&"minors".to_owned()));
        let FieldInput::PaymentTerms { kinds } = spec("payment_terms") else {
            panic!("payment_terms is not payment terms")
        };
        let one_time = kinds.iter().find(|k| k.kind == "one_time").unwrap();
        let fields: Vec<(&str, bool)> = one_time
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.number))
            .collect();
        // In the order the schema lists them.
        assert_eq!(fields, [("fee", false), ("currency", false)]);
        let royalty = kinds.iter().find(|k| k.kind == "royalty").unwrap();
        assert_eq!(royalty.fields[0].name, "rate");
        assert!(royalty.fields[0].number);
        assert_eq!(spec("pii_findings"), FieldInput::Json);
    }

    fn problems(field: &str, text: &str) -> Vec<(String, String)> {
        field_problems(field, text, &Taxonomy::shipped())
            .into_iter()
            .map(|p| (p.pointer, p.message))
            .collect()
    }

    #[test]
    fn each_problem_names_the_part_that_is_wrong() {
        assert!(problems("title", "Harbour at dusk").is_empty());
        assert!(problems("title", "").is_empty());
        assert!(problems("license_tag", "NO-TRAIN").is_empty());
        assert!(problems(
            "payment_terms",
            r#"{"kind":"one_time","fee":"12.50","currency":"EUR"}"#
        )
        .is_empty());

        let fee = problems(
            "payment_terms",
            r#"{"kind":"one_time","fee":"12,50","currency":"EUR"}"#,
        );
        assert_eq!(fee.len(), 1, "{fee:?}");
        assert_eq!(fee[0].0, "/payment_terms/fee");
        assert!(fee[0].1.contains("at most four decimals"), "{fee:?}");

        let share = problems("payment_terms", r#"{"kind":"rev_share","share":1.5}"#);
        assert_eq!(share[0].0, "/payment_terms/share");

        let missing = problems("payment_terms", r#"{"kind":"one_time","fee":"3"}"#);
        assert_eq!(missing[0].0, "/payment_terms");
        assert!(missing[0].1.contains("currency"), "{missing:?}");

        let kind = problems("payment_terms", r#"{"kind":"barter"}"#);
        assert_eq!(kind[0].0, "/payment_terms/kind");

        let tag = problems("license_tag", "MADE-UP");
        assert_eq!(tag[0].0, "/license_tag");
        assert!(tag[0].1.contains("unknown license tag"), "{tag:?}");

        assert_eq!(problems("title", &"x".repeat(501))[0].0, "/title");
        assert_eq!(
            problems("ownership_status", "stolen")[0].0,
            "/ownership_status"
        );
        assert_eq!(
            problems("sensitive_flags", r#"["minors","minors"]"#)[0].0,
            "/sensitive_flags"
        );
        assert_eq!(
            problems("sensitive_flags", "[oops")[0].0,
            "/sensitive_flags"
        );
        assert_eq!(problems("colour", "red")[0].0, "/colour");
    }
}
