//! Request bodies held to the protocol's own schemas: each JSON body is
//! checked against its component in `schemas/marketplace.openapi.yaml`
//! before it is read into its type. serde alone accepts more than the
//! schema says (an array in place of an object, a member nobody defined)
//! and less (`100.0` where the schema says integer); the schema decides.

use std::collections::HashMap;

use assay_market_proto::checkpoints::NewCheckpoint;
use assay_market_proto::keys::NewKey;
use assay_market_proto::listings::{ListingChanges, ListingTerms, NewListing, Withdrawal};
use assay_market_proto::webhooks::NewWebhook;
use assay_market_proto::ErrorCode;
use jsonschema::error::ValidationErrorKind;
use serde::de::DeserializeOwned;
use serde_json::{json, Number, Value};

use crate::extract::shown;

/// A request body type, the name of its schema among the OpenAPI
/// document's components, and the code a value its schema refuses is
/// answered with (a body of the wrong shape is `invalid_request`).
pub(crate) trait Body: DeserializeOwned {
    const SCHEMA: &'static str;
    const INVALID: ErrorCode;
}

macro_rules! bodies {
    ($($ty:ty => $name:literal, $invalid:ident;)*) => {
        $(impl Body for $ty {
            const SCHEMA: &'static str = $name;
            const INVALID: ErrorCode = ErrorCode::$invalid;
        })*
        /// Every body schema the server checks requests against.
        const BODIES: &[&str] = &[$($name),*];
    };
}

bodies! {
    NewKey => "NewKey", KeyInvalid;
    NewListing => "NewListing", ListingInvalid;
    ListingTerms => "ListingTermsBody", ListingInvalid;
    ListingChanges => "ListingChanges", ListingInvalid;
    Withdrawal => "Withdrawal", InvalidRequest;
    NewWebhook => "NewWebhook", WebhookInvalid;
    NewCheckpoint => "NewCheckpoint", CheckpointInvalid;
}

/// Why a body was refused: its shape (not the object its schema describes,
/// a member missing or unknown, a value of the wrong type), or a value the
/// schema does not allow (a pattern, a length, a bound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    Shape(String),
    Value(String),
}

/// The compiled schema of every request body.
pub(crate) struct BodySchemas {
    by_name: HashMap<&'static str, jsonschema::Validator>,
}

impl BodySchemas {
    /// Compiles each body's schema from the OpenAPI document `spec`.
    pub fn compile(spec: &Value) -> Result<BodySchemas, String> {
        let mut by_name = HashMap::new();
        for name in BODIES {
            // The component by reference, with every component beside it
            // for the references it makes (OpenAPI 3.1 is JSON Schema 2020-12).
            let schema = json!({
                "$ref": format!("#/components/schemas/{name}"),
                "components": spec["components"],
            });
            let validator = jsonschema::validator_for(&schema)
                .map_err(|e| format!("the schema of {name} does not compile: {e}"))?;
            by_name.insert(*name, validator);
        }
        Ok(BodySchemas { by_name })
    }

    /// `body` as a `T`, if it is what `T`'s schema describes; else the
    /// first departure, with its pointer (never the body itself).
    pub fn read<T: Body>(&self, mut body: Value) -> Result<T, Refusal> {
        let validator = self
            .by_name
            .get(T::SCHEMA)
            .ok_or_else(|| Refusal::Shape(format!("no schema for {}", T::SCHEMA)))?;
        if let Some(error) = validator.iter_errors(&body).next() {
            let at = error.instance_path.to_string();
            let at = if at.is_empty() { "/".to_owned() } else { at };
            let why = format!("{at}: {}", shown(&error.to_string()));
            return Err(match error.kind {
                ValidationErrorKind::Type { .. }
                | ValidationErrorKind::Required { .. }
                | ValidationErrorKind::AdditionalProperties { .. }
                | ValidationErrorKind::UnevaluatedProperties { .. }
                | ValidationErrorKind::FalseSchema => Refusal::Shape(why),
                _ => Refusal::Value(why),
            });
        }
        // JSON Schema's integers include 100.0; serde's do not.
        whole_numbers_as_integers(&mut body);
        serde_json::from_value(body).map_err(|e| Refusal::Shape(shown(&e.to_string())))
    }
}

fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0) {
                // Within ±2^53 a float is exactly the integer it shows.
                if f.abs() <= 9_007_199_254_740_992.0 {
                    *n = Number::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(members) => members.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemas() -> BodySchemas {
        BodySchemas::compile(&crate::spec::openapi().unwrap()).unwrap()
    }

    #[test]
    fn every_body_schema_compiles_and_holds_a_body_to_it_exactly() {
        let s = schemas();
        let terms =
            json!({"title": "T", "description": "", "price_minor": 100.0, "currency": "EUR"});
        let read: ListingTerms = s.read(terms).unwrap();
        assert_eq!(read.price_minor, 100);
        // An array where an object is due: serde alone reads it as the struct.
        let array = json!(["T", "", 1, "EUR"]);
        assert!(serde_json::from_value::<ListingTerms>(array.clone()).is_ok());
        let shape = |r: Result<ListingTerms, Refusal>| match r {
            Err(Refusal::Shape(why)) => why,
            other => panic!("{other:?}"),
        };
        assert!(shape(s.read(array)).starts_with("/:"));
        let half =
            json!({"title": "T", "description": "", "price_minor": 100.5, "currency": "EUR"});
        assert!(shape(s.read(half)).contains("/price_minor"));
        let extra = json!({"asset_id": "a", "reason": "revoked", "price": 1});
        assert!(
            matches!(s.read::<Withdrawal>(extra), Err(Refusal::Shape(w)) if w.contains("price"))
        );
        let empty = json!({"title": "", "description": "", "price_minor": 1, "currency": "EUR"});
        assert!(
            matches!(s.read::<ListingTerms>(empty), Err(Refusal::Value(w)) if w.contains("/title"))
        );
        let listing = json!({"manifest_id": "m", "title": "T", "description": "", "price_minor": 1, "currency": "EUR"});
        assert_eq!(s.read::<NewListing>(listing).unwrap().manifest_id, "m");
        let sneaky = json!({"manifest_id": "m", "title": "T", "description": "", "price_minor": 1, "currency": "EUR", "split": {}});
        assert!(s.read::<NewListing>(sneaky).is_err());
    }
}
