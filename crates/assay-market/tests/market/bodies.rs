//! Request bodies held to the protocol's schemas, both ways: what serde
//! alone let through (a JSON array in place of the object, a member the
//! protocol does not define, any Content-Type) is refused and changes
//! nothing, and what the schema allows (`100.0` for an integer) is taken.

use serde_json::json;

use crate::support::{listed, Server, Shelf};

const JSON: (&str, &str) = ("Content-Type", "application/json");

#[test]
fn every_json_body_is_exactly_what_its_schema_describes() {
    let server = Server::start();
    let shelf = Shelf::approved();
    let listed = listed(&server, &shelf, "studio", None);
    let publisher = &listed.publisher;
    let path = format!("/v1/listings/{}", listed.listing_id);
    let before = publisher.get(&path).json();
    let json = [(JSON.0, JSON.1.to_owned())];

    // An array in place of the object: PATCH once set the title and a price of 1.
    for (method, at, body) in [
        ("PATCH", path.clone(), r#"["title", null, 1, null]"#),
        ("PUT", path.clone(), r#"["T", "", 1, "EUR"]"#),
        ("POST", format!("{path}/withdrawals"), r#"["a", "revoked"]"#),
        (
            "POST",
            "/v1/webhooks".to_owned(),
            r#"["http://example.com/", "0123456789abcdef"]"#,
        ),
        ("POST", "/v1/keys".to_owned(), r#"["ed25519:AAAA"]"#),
    ] {
        let reply = publisher
            .request(method, &at, &json, body.as_bytes())
            .expect(400, "invalid_request");
        let message = reply.json()["message"].as_str().unwrap().to_owned();
        assert!(
            message.contains("is not a") && message.contains("/:"),
            "{message}"
        );
    }
    // A member the protocol does not define is named, not ignored.
    let reply = publisher
        .put(
            &path,
            &json!({"title": "T", "description": "", "price_minor": 1, "currency": "EUR", "split": {}}),
        )
        .expect(400, "invalid_request");
    assert!(reply.json()["message"].as_str().unwrap().contains("split"));
    // JSON sent as anything but application/json.
    let terms = br#"{"title": "T", "description": "", "price_minor": 1, "currency": "EUR"}"#;
    for headers in [vec![("Content-Type", "text/plain".to_owned())], vec![]] {
        publisher
            .request("PUT", &path, &headers, terms)
            .expect(415, "unsupported_media_type");
    }
    // Nothing above changed the listing.
    assert_eq!(publisher.get(&path).json(), before);

    // A whole number written as a float is an integer, as the schema says.
    let changed = publisher
        .put(
            &path,
            &json!({"title": "Two cameras", "description": "", "price_minor": 12000.0, "currency": "EUR"}),
        )
        .expect(200, "")
        .json();
    assert_eq!(changed["price_minor"], 12_000);
    publisher
        .request(
            "PATCH",
            &path,
            &[("Content-Type", "application/json; charset=utf-8".to_owned())],
            br#"{"price_minor": 12500.5}"#,
        )
        .expect(400, "invalid_request");
}
