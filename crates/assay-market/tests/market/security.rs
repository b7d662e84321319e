//! Refusals: forged and tampered manifests, keys that are not the
//! publisher's, assets that may not be sold, other publishers' things,
//! wrong tokens and scopes, path traversal and oversized uploads. Each is
//! refused with its status and code, and nothing of it is stored.

use assay_market_proto::tus;
use assay_market_proto::Role;
use serde_json::{json, Value};

use crate::support::{entries, publisher_with, resign, Server, Shelf};

/// Nothing of a refused manifest or upload is on disk or in the records.
#[track_caller]
fn nothing_stored(server: &Server) {
    assert!(
        server.stored_files().is_empty(),
        "{:?}",
        server.stored_files()
    );
    for table in [
        "manifests",
        "manifest_assets",
        "uploads",
        "blobs",
        "listings",
    ] {
        assert_eq!(server.count(table), 0, "{table}");
    }
}

#[test]
fn unsigned_tampered_or_malformed_manifests_are_refused() {
    let shelf = Shelf::approved();
    let manifest = shelf.export();
    let server = Server::start();
    let publisher = server.account("studio", Role::Publisher);
    publisher
        .register_key(&shelf.secret("rosa"))
        .expect(201, "");
    let doc: Value = serde_json::from_slice(&manifest).unwrap();

    let mut unsigned = doc.clone();
    unsigned.as_object_mut().unwrap().remove("signature");
    let reply = publisher
        .post_manifest(&serde_json::to_vec(&unsigned).unwrap())
        .expect(422, "manifest_invalid");
    assert!(reply.json()["message"]
        .as_str()
        .unwrap()
        .contains("signature"));

    // A checksum changed after signing.
    let mut tampered = doc.clone();
    tampered["assets"][0]["checksum"] = json!(format!("sha256:{}", "0".repeat(64)));
    publisher
        .post_manifest(&serde_json::to_vec(&tampered).unwrap())
        .expect(422, "signature_invalid");
    // One flipped byte inside the signed bytes.
    let text = String::from_utf8(manifest.clone()).unwrap();
    let flipped = text.replacen("CC-BY-4.0", "CC-BY-4.1", 1);
    assert_ne!(flipped, text);
    let reply = publisher.post_manifest(flipped.as_bytes());
    assert_eq!(
        reply.status,
        422,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );

    publisher
        .post_manifest(b"not json")
        .expect(422, "manifest_invalid");
    publisher
        .request(
            "POST",
            "/v1/manifests",
            &[("Content-Type", "text/plain".into())],
            &manifest,
        )
        .expect(415, "unsupported_media_type");
    nothing_stored(&server);
}

#[test]
fn only_keys_registered_to_the_publisher_sign_its_manifests() {
    let shelf = Shelf::approved();
    let manifest = shelf.export();
    let server = Server::start();
    let studio = server.account("studio", Role::Publisher);
    let rival = server.account("rival", Role::Publisher);

    // No key registered at all.
    let reply = studio
        .post_manifest(&manifest)
        .expect(422, "key_not_registered");
    assert!(reply.json()["message"].as_str().unwrap().contains("studio"));
    // Registered, but by another publisher: it is theirs alone.
    rival.register_key(&shelf.secret("rosa")).expect(201, "");
    studio
        .register_key(&shelf.secret("rosa"))
        .expect(409, "key_registered_elsewhere");
    studio
        .post_manifest(&manifest)
        .expect(422, "key_not_registered");
    // Another key of the caller's does not stand in for the signer's.
    studio.register_key(&shelf.secret("sam")).expect(201, "");
    studio
        .post_manifest(&manifest)
        .expect(422, "key_not_registered");
    studio
        .register_key_as(
            "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n",
            &shelf.secret("sam"),
        )
        .expect(422, "key_invalid");
    nothing_stored(&server);
    // The key's owner may post it.
    rival.post_manifest(&manifest).expect(201, "");
    // Other contents under the same manifest id are a conflict, never a replacement.
    let mut doc: Value = serde_json::from_slice(&manifest).unwrap();
    doc["assets"][0]["title"] = json!("Another title");
    let other = resign(&mut doc, "rosa", "rights_manager", &shelf.secret("rosa"));
    rival.post_manifest(&other).expect(409, "manifest_conflict");
    let (manifest_id, _) = entries(&manifest);
    let stored = rival
        .get(&format!("/v1/manifests/{manifest_id}"))
        .expect(200, "");
    assert_eq!(stored.body, manifest);
}

#[test]
fn a_manifest_signed_by_anyone_but_a_rights_manager_is_refused() {
    let shelf = Shelf::approved();
    let manifest = shelf.export();
    let server = Server::start();
    let publisher = server.account("studio", Role::Publisher);
    publisher.register_key(&shelf.secret("sam")).expect(201, "");
    let mut doc: Value = serde_json::from_slice(&manifest).unwrap();
    let forged = resign(&mut doc, "sam", "steward", &shelf.secret("sam"));
    let reply = publisher
        .post_manifest(&forged)
        .expect(422, "signer_not_rights_manager");
    assert!(reply.json()["message"]
        .as_str()
        .unwrap()
        .contains("steward"));
    nothing_stored(&server);
}

#[test]
fn assets_that_forbid_training_or_lack_a_payout_reference_are_named() {
    let shelf = Shelf::approved();
    let manifest = shelf.export();
    let server = Server::start();
    let publisher = server.account("studio", Role::Publisher);
    publisher
        .register_key(&shelf.secret("rosa"))
        .expect(201, "");
    let rosa = shelf.secret("rosa");
    let doc: Value = serde_json::from_slice(&manifest).unwrap();
    let (id0, id1) = (
        doc["assets"][0]["asset_id"].as_str().unwrap().to_owned(),
        doc["assets"][1]["asset_id"].as_str().unwrap().to_owned(),
    );

    // Signed by the right key, but one asset is NO-TRAIN and the other has no wallet.
    let mut bad = doc.clone();
    let mut no_train = doc["licenses"]["CC-BY-4.0"].clone();
    no_train["tag"] = json!("NO-TRAIN");
    no_train["ai_training_allowed"] = json!(false);
    bad["licenses"]["NO-TRAIN"] = no_train;
    bad["assets"][0]["license_tag"] = json!("NO-TRAIN");
    bad["assets"][1]
        .as_object_mut()
        .unwrap()
        .remove("creator_wallet");
    let body = resign(&mut bad, "rosa", "rights_manager", &rosa);
    let reply = publisher
        .post_manifest(&body)
        .expect(422, "license_forbids_training")
        .json();
    let problems = reply["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{reply}");
    assert_eq!(problems[0]["pointer"], "/assets/0/license_tag");
    assert_eq!(problems[0]["asset_id"], json!(id0));
    assert_eq!(problems[1]["code"], "payout_reference_missing");
    assert_eq!(problems[1]["pointer"], "/assets/1/creator_wallet");
    assert_eq!(problems[1]["asset_id"], json!(id1));
    let message = reply["message"].as_str().unwrap();
    assert!(
        message.contains(&id0) && message.contains(&id1),
        "{message}"
    );

    // A license whose rights say no AI training.
    let mut bad = doc.clone();
    bad["licenses"]["CC-BY-4.0"]["ai_training_allowed"] = json!(false);
    let body = resign(&mut bad, "rosa", "rights_manager", &rosa);
    let reply = publisher
        .post_manifest(&body)
        .expect(422, "license_forbids_training")
        .json();
    assert_eq!(
        reply["problems"][0]["pointer"],
        "/licenses/CC-BY-4.0/ai_training_allowed"
    );
    assert_eq!(reply["problems"].as_array().unwrap().len(), 2);

    // Payment terms Assay does not define.
    let mut bad = doc.clone();
    bad["assets"][1]["payment_terms"] = json!({"kind": "rev_share", "share": 7});
    let body = resign(&mut bad, "rosa", "rights_manager", &rosa);
    let reply = publisher
        .post_manifest(&body)
        .expect(422, "payment_terms_invalid")
        .json();
    assert_eq!(reply["problems"][0]["pointer"], "/assets/1/payment_terms");
    nothing_stored(&server);
}

#[test]
fn ids_and_names_never_reach_the_file_system() {
    let shelf = Shelf::approved();
    let manifest = shelf.export();
    let server = Server::start();
    let publisher = server.account("studio", Role::Publisher);
    publisher
        .register_key(&shelf.secret("rosa"))
        .expect(201, "");

    // A signed manifest whose names try to leave a folder.
    let mut doc: Value = serde_json::from_slice(&manifest).unwrap();
    doc["assets"][0]["file_name"] = json!("../../etc/passwd");
    doc["assets"][1]["asset_id"] = json!("../../market.db");
    let body = resign(&mut doc, "rosa", "rights_manager", &shelf.secret("rosa"));
    let reply = publisher
        .post_manifest(&body)
        .expect(422, "file_name_invalid")
        .json();
    assert_eq!(reply["problems"][1]["code"], "asset_id_invalid");
    nothing_stored(&server);
    // Names that are paths or devices on some OS, and two names one
    // case-insensitive file system would take for the same file.
    let original: Value = serde_json::from_slice(&manifest).unwrap();
    let first = original["assets"][0]["file_name"]
        .as_str()
        .unwrap()
        .to_owned();
    for (index, name) in [
        (0, "CON.jpg".to_owned()),
        (0, "nul".to_owned()),
        (0, "C:evil.jpg".to_owned()),
        (0, "dir\\evil.jpg".to_owned()),
        (0, "trailing.".to_owned()),
        (1, first.to_uppercase()),
    ] {
        let mut doc = original.clone();
        doc["assets"][index]["file_name"] = json!(name);
        let body = resign(&mut doc, "rosa", "rights_manager", &shelf.secret("rosa"));
        let reply = publisher
            .post_manifest(&body)
            .expect(422, "file_name_invalid")
            .json();
        assert_eq!(
            reply["problems"][0]["pointer"],
            format!("/assets/{index}/file_name"),
            "{name}"
        );
    }
    nothing_stored(&server);

    publisher.post_manifest(&manifest).expect(201, "");
    let (manifest_id, assets) = entries(&manifest);
    let size = assets[0]["size_bytes"].as_u64().unwrap();
    // Upload metadata naming a path.
    for (m, a) in [
        (manifest_id.as_str(), "../../market.db"),
        ("../../market.db", assets[0]["asset_id"].as_str().unwrap()),
        (manifest_id.as_str(), "/etc/passwd"),
    ] {
        publisher
            .create_upload(m, a, size)
            .expect(422, "asset_not_in_manifest");
    }
    // Ids in URLs, encoded or not.
    for path in [
        "/v1/uploads/..%2F..%2Fmarket.db",
        "/v1/uploads/../../market.db",
        "/v1/uploads/%2e%2e",
        "/v1/uploads/00000000000000000000000000000000",
        "/v1/uploads/0123456789ABCDEF0123456789ABCDEF",
    ] {
        for method in ["HEAD", "PATCH", "DELETE"] {
            let status = publisher.raw(
                &format!(
                    "{method} {path} HTTP/1.1\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: {}\r\nContent-Length: 4",
                    tus::OFFSET_OCTET_STREAM
                ),
                b"evil",
            );
            assert_eq!(status, 404, "{method} {path}");
        }
    }
    for path in [
        "/v1/manifests/..%2F..%2Fmarket.db",
        "/v1/listings/..%2F..%2Fmarket.db",
        "/v1/listings/../../market.db",
    ] {
        assert_eq!(
            publisher.raw(&format!("GET {path} HTTP/1.1"), b""),
            404,
            "{path}"
        );
    }
    assert!(server.stored_files().is_empty());
    assert_eq!(server.count("uploads"), 0);
    let mut names: Vec<String> = std::fs::read_dir(server.data())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with("market.db"))
        .collect();
    names.sort();
    // PostgreSQL keeps the server's secrets in its rows.
    let expected: &[&str] = match crate::support::on_postgres() {
        true => &["blobs", "parts", "previews"],
        false => &["blobs", "link.key", "parts", "previews", "witness.key"],
    };
    assert_eq!(names, expected);
}

#[test]
fn another_publishers_manifests_uploads_and_listings_are_out_of_reach() {
    let shelf = Shelf::approved();
    let manifest = shelf.export();
    let server = Server::start();
    let studio = publisher_with(&server, &shelf, "studio", &manifest);
    let rival = server.account("rival", Role::Publisher);
    let (manifest_id, assets) = entries(&manifest);
    let asset_id = assets[0]["asset_id"].as_str().unwrap();
    let bytes = shelf.file(&assets[0]);
    let url = studio
        .create_upload(&manifest_id, asset_id, bytes.len() as u64)
        .expect(201, "")
        .header("Location")
        .unwrap();
    studio.patch(&url, 0, &bytes[..10], true).expect(204, "");
    let listing = studio
        .post(
            "/v1/listings",
            &json!({"manifest_id": manifest_id, "title": "t", "description": "", "price_minor": 100, "currency": "EUR"}),
        )
        .expect(201, "")
        .header("Location")
        .unwrap();

    // Someone else's upload does not exist for the rival.
    rival.tus("HEAD", &url).expect(404, "not_found");
    rival
        .patch(&url, 10, &bytes[10..], true)
        .expect(404, "not_found");
    rival.tus("DELETE", &url).expect(404, "not_found");
    rival
        .create_upload(&manifest_id, asset_id, bytes.len() as u64)
        .expect(422, "asset_not_in_manifest");
    rival
        .get(&format!("/v1/manifests/{manifest_id}"))
        .expect(404, "not_found");
    rival
        .post(
            "/v1/listings",
            &json!({"manifest_id": manifest_id, "title": "t", "description": "", "price_minor": 1, "currency": "EUR"}),
        )
        .expect(404, "not_found");
    // Listings are public, but only their publisher changes them.
    rival.get(&listing).expect(200, "");
    rival
        .put(
            &listing,
            &json!({"title": "mine", "description": "", "price_minor": 1, "currency": "EUR"}),
        )
        .expect(403, "not_owner");
    rival
        .post(
            &format!("{listing}/withdrawals"),
            &json!({"asset_id": asset_id, "reason": "x"}),
        )
        .expect(403, "not_owner");

    // None of it moved anything.
    assert_eq!(
        studio
            .tus("HEAD", &url)
            .header(tus::UPLOAD_OFFSET)
            .as_deref(),
        Some("10")
    );
    let seen = studio.get(&listing).expect(200, "").json();
    assert_eq!(seen["title"], "t");
    assert_eq!(seen["withdrawn"], 0);
    assert_eq!(server.count("listings"), 1);
}

#[test]
fn tokens_and_scopes_guard_every_route() {
    let shelf = Shelf::approved();
    let manifest = shelf.export();
    let server = Server::start();
    let anonymous = server.client(None);
    anonymous.get("/v1/listings").expect(401, "unauthorized");
    anonymous.get("/openapi.json").expect(200, "");
    server
        .client(Some(format!("amk_{}", "A".repeat(43))))
        .get("/v1/listings")
        .expect(401, "unauthorized");
    server
        .client(Some("not-a-token".into()))
        .get("/v1/keys")
        .expect(401, "unauthorized");

    let buyer = server.account("lab", Role::Buyer);
    buyer.get("/v1/listings").expect(200, "");
    let (manifest_id, assets) = entries(&manifest);
    let refusals = [
        buyer.register_key(&shelf.secret("rosa")),
        buyer.get("/v1/keys"),
        buyer.post_manifest(&manifest),
        buyer.create_upload(&manifest_id, assets[0]["asset_id"].as_str().unwrap(), 10),
        buyer.patch("/v1/uploads/00000000000000000000000000000000", 0, b"x", true),
        buyer.post(
            "/v1/listings",
            &json!({"manifest_id": manifest_id, "title": "t", "description": "", "price_minor": 1, "currency": "EUR"}),
        ),
    ];
    for reply in refusals {
        let reply = reply.expect(403, "missing_scope");
        assert!(reply.json()["message"]
            .as_str()
            .unwrap()
            .contains("publish"));
    }
    nothing_stored(&server);
    // The records hold the tokens' hashes, never the tokens.
    let stored = server.stored_records();
    assert!(stored.len() > 1000, "the records were read");
    assert!(!stored.windows(4).any(|w| w == b"amk_"));
}

#[test]
fn oversized_uploads_are_refused_before_a_byte_is_kept() {
    let shelf = Shelf::approved();
    let manifest = shelf.export();
    let server = Server::start_with(|c| c.max_upload_bytes = 1 << 20);
    let publisher = publisher_with(&server, &shelf, "studio", &manifest);
    let (manifest_id, assets) = entries(&manifest);
    let asset_id = assets[0]["asset_id"].as_str().unwrap();
    let bytes = shelf.file(&assets[0]);

    publisher
        .create_upload(&manifest_id, asset_id, (1 << 20) + 1)
        .expect(413, "upload_too_large");
    publisher
        .create_upload(&manifest_id, asset_id, bytes.len() as u64 + 1)
        .expect(422, "upload_length_mismatch");
    assert_eq!(server.count("uploads"), 0);

    let url = publisher
        .create_upload(&manifest_id, asset_id, bytes.len() as u64)
        .expect(201, "")
        .header("Location")
        .unwrap();
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"and then some");
    // Announced too long.
    publisher
        .patch(&url, 0, &longer, false)
        .expect(413, "upload_exceeds_length");
    // Not announced (chunked), and found too long while streaming.
    let status = publisher.raw(
        &format!(
            "PATCH {url} HTTP/1.1\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: {}\r\nTransfer-Encoding: chunked",
            tus::OFFSET_OCTET_STREAM
        ),
        &chunked(&longer),
    );
    assert_eq!(status, 413);
    let head = publisher.tus("HEAD", &url).expect(200, "");
    assert_eq!(head.header(tus::UPLOAD_OFFSET).as_deref(), Some("0"));
    let parts = server.stored_files();
    assert_eq!(parts.len(), 1);
    assert_eq!(std::fs::metadata(&parts[0]).unwrap().len(), 0);
    // A manifest larger than the server reads.
    let small = Server::start_with(|c| c.max_manifest_bytes = 1000);
    let publisher = small.account("studio", Role::Publisher);
    publisher
        .post_manifest(&manifest)
        .expect(413, "manifest_too_large");
    nothing_stored(&small);
}

/// `bytes` in HTTP/1.1 chunked transfer coding, 1000 bytes a chunk.
fn chunked(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in bytes.chunks(1000) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A key is registered only by whoever proves they hold it: before, any
/// publisher could register another's public key first and keep its
/// manifests off the market.
#[test]
fn nobody_registers_a_key_they_do_not_hold() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let studio = server.account("studio", Role::Publisher);
    let rival = server.account("rival", Role::Publisher);
    let rosa = shelf.pem("rosa");

    // The rival holds sam's key, not rosa's.
    rival
        .register_key_as(&rosa, &shelf.secret("sam"))
        .expect(422, "key_possession_unproven");
    // No proof at all, as clients sent it before.
    rival
        .post("/v1/keys", &json!({ "public_key": rosa }))
        .expect(400, "invalid_request");
    // A challenge given to another account, even signed by the key's holder.
    let theirs = studio
        .post("/v1/keys/challenge", &json!({}))
        .expect(200, "")
        .json()["challenge"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = rival
        .register_key_with(&rosa, &theirs, &shelf.secret("rosa"))
        .expect(422, "key_possession_unproven");
    assert!(reply.json()["message"]
        .as_str()
        .unwrap()
        .contains("another account"));
    // A challenge the server never gave.
    let (payload, mac) = theirs.split_once('.').unwrap();
    let forged = format!(
        "{payload}.{}",
        mac.replace(&mac[..1], if &mac[..1] == "A" { "B" } else { "A" })
    );
    rival
        .register_key_with(&rosa, &forged, &shelf.secret("rosa"))
        .expect(422, "key_possession_unproven");
    assert_eq!(server.count("publisher_keys"), 0);

    // The key's holder registers it, and may again.
    studio.register_key(&shelf.secret("rosa")).expect(201, "");
    studio.register_key(&shelf.secret("rosa")).expect(200, "");
    assert_eq!(server.count("publisher_keys"), 1);
}

/// What a hostile publisher posts to exhaust the server: a body of tiny
/// objects (a few bytes each, a hundred each once parsed), a manifest with
/// a refusal per asset, a value a megabyte long where the schema wants a
/// number. Each is refused with an answer far smaller than the request,
/// never echoing it, and nothing is stored.
#[test]
fn manifest_bombs_are_refused_briefly_and_store_nothing() {
    let shelf = Shelf::approved();
    let server = Server::start_with(|c| c.max_manifest_values = 50_000);
    let publisher = server.account("studio", Role::Publisher);
    publisher
        .register_key(&shelf.secret("rosa"))
        .expect(201, "");

    let mut bomb = b"{\"assets\":[".to_vec();
    for _ in 0..60_000 {
        bomb.extend_from_slice(b"{},");
    }
    bomb.extend_from_slice(b"{}]}");
    let reply = publisher
        .post_manifest(&bomb)
        .expect(413, "manifest_too_large");
    assert!(reply.body.len() < 1000, "{} bytes", reply.body.len());

    // A refusal per asset: only the first few are named.
    let manifest = shelf.export();
    let mut doc: Value = serde_json::from_slice(&manifest).unwrap();
    let first = doc["assets"][0].clone();
    let many: Vec<Value> = (0..500)
        .map(|i| {
            let mut asset = first.clone();
            asset["asset_id"] = json!(format!("a-{i}"));
            asset["file_name"] = json!(format!("{i}.jpg"));
            asset["license_tag"] = json!("NO-TRAIN");
            asset
        })
        .collect();
    doc["assets"] = json!(many);
    let body = resign(&mut doc, "rosa", "rights_manager", &shelf.secret("rosa"));
    let reply = publisher
        .post_manifest(&body)
        .expect(422, "license_forbids_training");
    let answer = reply.json();
    assert_eq!(answer["problems"].as_array().unwrap().len(), 20);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("the first 20 refused"),
        "{}",
        answer["message"]
    );
    assert!(
        reply.body.len() < body.len() / 10,
        "{} bytes",
        reply.body.len()
    );

    // A megabyte where the schema wants a number: named, not echoed.
    let mut doc: Value = serde_json::from_slice(&manifest).unwrap();
    doc["assets"][0]["size_bytes"] = json!("9".repeat(1 << 20));
    let body = resign(&mut doc, "rosa", "rights_manager", &shelf.secret("rosa"));
    let reply = publisher
        .post_manifest(&body)
        .expect(422, "manifest_invalid");
    assert!(reply.body.len() < 10_000, "{} bytes", reply.body.len());
    assert!(reply.json()["message"]
        .as_str()
        .unwrap()
        .contains("/assets/0/size_bytes"));
    nothing_stored(&server);
}

#[test]
fn a_record_edited_behind_the_market_is_named_as_damage_not_read_as_zero() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let listed = crate::support::listed(&server, &shelf, "studio", None);
    let path = format!("/v1/listings/{}", listed.listing_id);
    let buyer = server.account("lab", Role::Buyer);
    let sizes = |reply: Value| -> Vec<u64> {
        reply["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["size_bytes"].as_u64().unwrap())
            .collect()
    };
    assert!(sizes(buyer.get(&path).expect(200, "").json())
        .iter()
        .all(|&n| n > 0));

    server.execute("UPDATE manifest_assets SET size_bytes = -1");
    let refused = buyer.get(&path).expect(500, "internal");
    assert!(
        refused.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("negative")),
        "{}",
        refused.json()
    );
}
