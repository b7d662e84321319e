//! The OpenAPI document is the contract: what the server mounts, the
//! scopes it asks for and the error codes it sends are exactly what the
//! document says.

use std::collections::BTreeMap;

use assay_market::{openapi, Access, Market};
use assay_market_proto::ErrorCode;
use serde_json::Value;

use crate::support::Server;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Each operation of the document: (method, path) → the scopes its
/// security requirement names (empty for a public operation).
fn operations(doc: &Value) -> BTreeMap<(String, String), Vec<String>> {
    let mut found = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let security = operation
                .get("security")
                .unwrap_or_else(|| panic!("{method} {path} states no security"))
                .as_array()
                .unwrap();
            let scopes = security
                .iter()
                .flat_map(|requirement| requirement["bearer"].as_array().unwrap().clone())
                .map(|s| s.as_str().unwrap().to_owned())
                .collect();
            found.insert((method.clone(), path.clone()), scopes);
        }
    }
    found
}

#[test]
fn every_mounted_route_is_in_the_spec_and_every_operation_is_mounted() {
    let server = Server::start();
    let market = Market::open(server.config.clone()).unwrap();
    let mounted: BTreeMap<(String, String), Vec<String>> = market
        .routes()
        .iter()
        .map(|route| {
            let scopes = match route.access {
                Access::Public => Vec::new(),
                Access::Scope(scope) => vec![scope.as_str().to_owned()],
            };
            (
                (route.verb.as_str().to_owned(), route.path.to_owned()),
                scopes,
            )
        })
        .collect();
    assert_eq!(
        mounted.len(),
        market.routes().len(),
        "a route is mounted twice"
    );
    let doc = openapi().unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let specified = operations(&doc);
    let missing: Vec<_> = specified
        .keys()
        .filter(|k| !mounted.contains_key(*k))
        .collect();
    let undocumented: Vec<_> = mounted
        .keys()
        .filter(|k| !specified.contains_key(*k))
        .collect();
    assert!(missing.is_empty(), "in the spec, not mounted: {missing:?}");
    assert!(
        undocumented.is_empty(),
        "mounted, not in the spec: {undocumented:?}"
    );
    assert_eq!(mounted, specified, "the scopes differ");

    // The server serves the same document.
    let served = server
        .client(None)
        .get("/openapi.json")
        .expect(200, "")
        .json();
    assert_eq!(served, doc);
}

#[test]
fn the_specs_error_codes_are_the_protocols() {
    let doc = openapi().unwrap();
    let schema = &doc["components"]["schemas"]["ErrorCode"];
    let listed: Vec<&str> = schema["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let known: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(listed, known);
    let statuses = schema["x-statuses"].as_object().unwrap();
    assert_eq!(statuses.len(), ErrorCode::ALL.len());
    for code in ErrorCode::ALL {
        assert_eq!(
            statuses[code.as_str()].as_u64(),
            Some(u64::from(code.status())),
            "{code}"
        );
    }
}

#[test]
fn unknown_routes_and_methods_answer_in_the_protocols_error_form() {
    let server = Server::start();
    let client = server.client(None);
    client.get("/v2/nothing").expect(404, "not_found");
    client
        .request("PUT", "/openapi.json", &[], b"{}")
        .expect(405, "method_not_allowed");
}
