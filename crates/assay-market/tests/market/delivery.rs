//! Refusals of buying and delivery: each with its status and code, and
//! nothing served or recorded.

use std::time::Duration;

use assay_market_proto::Role;
use serde_json::Value;

use crate::support::{listed, Server, Shelf};

fn purchase_id(reply: &crate::support::Reply) -> String {
    reply.json()["purchase_id"].as_str().unwrap().to_owned()
}

fn links(files: &Value) -> Vec<String> {
    let mut urls = vec![files["manifest"]["url"].as_str().unwrap().to_owned()];
    for file in files["files"].as_array().unwrap() {
        urls.push(file["url"].as_str().unwrap().to_owned());
    }
    urls
}

#[test]
fn a_listing_with_missing_uploads_or_a_publisher_cannot_be_sold_to() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let sale = listed(&server, &shelf, "studio", Some(1));
    let buyer = server.account("lab", Role::Buyer);
    let refused = buyer
        .buy(&sale.listing_id)
        .expect(409, "listing_incomplete");
    assert!(refused.json()["message"]
        .as_str()
        .unwrap()
        .contains("not uploaded"));
    sale.publisher
        .buy(&sale.listing_id)
        .expect(403, "missing_scope");
    buyer
        .buy("0123456789abcdef0123456789abcdef")
        .expect(404, "not_found");
    assert_eq!(
        buyer.raw(
            "POST /v1/listings/..%2F..%2Fmarket.db/purchases HTTP/1.1",
            b""
        ),
        404
    );
    server
        .client(None)
        .buy(&sale.listing_id)
        .expect(401, "unauthorized");
    assert_eq!(server.count("purchases"), 0);
    assert_eq!(server.count("payouts"), 0);
    assert_eq!(server.count("entitlements"), 0);
    // Nothing was sold, so the feed holds the listing alone.
    assert_eq!(sale.publisher.events(None).len(), 1);
}

#[test]
fn links_serve_their_own_buyer_only_and_unaltered() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let sale = listed(&server, &shelf, "studio", None);
    let buyer = server.account("lab", Role::Buyer);
    let other = server.account("other-lab", Role::Buyer);
    let id = purchase_id(&buyer.buy(&sale.listing_id).expect(201, ""));
    let files_path = format!("/v1/purchases/{id}/files");
    let files = buyer.get(&files_path).expect(200, "").json();
    let urls = links(&files);

    // Another buyer: neither the purchase, nor its links, nor its files.
    other
        .get(&format!("/v1/purchases/{id}"))
        .expect(404, "not_found");
    other.get(&files_path).expect(404, "not_found");
    other
        .request("POST", &format!("/v1/purchases/{id}/confirm"), &[], &[])
        .expect(404, "not_found");
    for url in &urls {
        other.get(url).expect(403, "download_link_foreign");
    }
    // The publisher has no read:shards: it downloads nothing this way.
    sale.publisher.get(&files_path).expect(403, "missing_scope");
    sale.publisher.get(&urls[1]).expect(403, "missing_scope");
    server
        .client(None)
        .get(&urls[1])
        .expect(401, "unauthorized");

    // Any change to a token breaks it: one character, or one link's fields
    // under another's MAC.
    let token = urls[1].trim_start_matches("/v1/downloads/");
    let (payload, mac) = token.split_once('.').unwrap();
    let flipped = format!(
        "{payload}.{}{}",
        if mac.starts_with('A') { 'B' } else { 'A' },
        &mac[1..]
    );
    let (other_payload, _) = urls[2]
        .trim_start_matches("/v1/downloads/")
        .split_once('.')
        .unwrap();
    for bad in [
        flipped,
        format!("{other_payload}.{mac}"),
        format!("{payload}.{payload}"),
        "nonsense".to_owned(),
        "..".to_owned(),
    ] {
        buyer
            .get(&format!("/v1/downloads/{bad}"))
            .expect(403, "download_link_invalid");
    }
    assert_ne!(
        buyer.raw("GET /v1/downloads/..%2F..%2Fmarket.db HTTP/1.1", b""),
        200
    );
    assert_ne!(
        buyer.raw("GET /v1/downloads/../../market.db HTTP/1.1", b""),
        200
    );
    for path in [
        "/v1/purchases/..%2F..%2Fmarket.db",
        "/v1/purchases/..%2F..%2Fmarket.db/files",
    ] {
        assert_eq!(
            buyer.raw(&format!("GET {path} HTTP/1.1"), b""),
            404,
            "{path}"
        );
    }
    // The buyer's own links still work after all that.
    buyer.get(&urls[1]).expect(200, "");
}

#[test]
fn an_expired_link_is_refused_and_listing_the_files_again_gives_new_ones() {
    let shelf = Shelf::approved();
    let server = Server::start_with(|config| config.download_ttl = Duration::from_millis(300));
    let sale = listed(&server, &shelf, "studio", None);
    let buyer = server.account("lab", Role::Buyer);
    let id = purchase_id(&buyer.buy(&sale.listing_id).expect(201, ""));
    let files_path = format!("/v1/purchases/{id}/files");
    let old = links(&buyer.get(&files_path).expect(200, "").json());
    std::thread::sleep(Duration::from_millis(400));
    for url in &old {
        buyer.get(url).expect(410, "download_link_expired");
    }
    let fresh = links(&buyer.get(&files_path).expect(200, "").json());
    buyer.get(&fresh[1]).expect(200, "");
}

/// What every answer says of itself: never to be sniffed as another type,
/// never to be stored by a cache (signed links, downloads, manifests), and
/// on a 401, the scheme it wants (RFC 6750).
#[test]
fn answers_are_never_sniffed_or_cached_and_a_401_names_its_scheme() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let sale = listed(&server, &shelf, "studio", None);
    let buyer = server.account("lab", Role::Buyer);
    let id = purchase_id(&buyer.buy(&sale.listing_id).expect(201, ""));
    let files = buyer
        .get(&format!("/v1/purchases/{id}/files"))
        .expect(200, "");
    let urls = links(&files.json());
    let (manifest_id, _) = crate::support::entries(&sale.manifest);
    let manifest = sale
        .publisher
        .get(&format!("/v1/manifests/{manifest_id}"))
        .expect(200, "");
    let download = buyer.get(&urls[1]).expect(200, "");
    let refused = buyer.get("/v1/nowhere").expect(404, "not_found");
    for reply in [&files, &manifest, &download, &refused] {
        assert_eq!(
            reply.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
    }
    let anonymous = server
        .client(None)
        .get("/v1/keys")
        .expect(401, "unauthorized");
    assert_eq!(
        anonymous.header("www-authenticate").as_deref(),
        Some(r#"Bearer realm="assay-market""#)
    );
    let unknown = server
        .client(Some("not-a-token-this-server-issued".into()))
        .get("/v1/keys")
        .expect(401, "unauthorized");
    assert_eq!(
        unknown.header("www-authenticate").as_deref(),
        Some(r#"Bearer realm="assay-market", error="invalid_token""#)
    );
}
