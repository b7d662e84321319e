//! The happy path: a library's signed manifest is published, each file
//! uploaded with tus in checksummed chunks, and the manifest listed.

use assay_core::verify_manifest;
use assay_market_proto::listings::Listing;
use assay_market_proto::manifests::ManifestReceipt;
use assay_market_proto::tus;
use assay_market_proto::Role;
use serde_json::{json, Value};

use crate::support::{entries, listed, publisher_with, Server, Shelf};

#[test]
fn a_library_publishes_uploads_and_lists_its_assets() {
    let shelf = Shelf::approved();
    let manifest = shelf.export();
    let (manifest_id, assets) = entries(&manifest);
    let server = Server::start();
    let publisher = server.account("studio", Role::Publisher);

    // The rights manager's key, as `assay user key rosa` prints it.
    let key = publisher
        .register_key(&shelf.secret("rosa"))
        .expect(201, "")
        .json();
    assert!(key["key_id"].as_str().unwrap().starts_with("ed25519:"));
    publisher
        .register_key(&shelf.secret("rosa"))
        .expect(200, "");
    let listed = publisher.get("/v1/keys").expect(200, "").json();
    assert_eq!(listed["keys"].as_array().unwrap().len(), 1);

    let receipt: ManifestReceipt =
        serde_json::from_value(publisher.post_manifest(&manifest).expect(201, "").json()).unwrap();
    assert_eq!(receipt.manifest_id, manifest_id);
    assert_eq!(receipt.key_id, key["key_id"]);
    assert_eq!(receipt.assets.len(), 2);
    assert!(receipt.assets.iter().all(|a| !a.uploaded));
    // Posting it again changes nothing.
    publisher.post_manifest(&manifest).expect(200, "");
    assert_eq!(server.count("manifests"), 1);
    // What buyers will verify is the bytes as posted.
    let stored = publisher
        .get(&format!("/v1/manifests/{manifest_id}"))
        .expect(200, "");
    assert_eq!(stored.body, manifest);
    let key = shelf.library.user_public_key("rosa").unwrap();
    assert!(verify_manifest(&stored.body, &[key], None)
        .failures
        .is_empty());

    let options = publisher
        .request("OPTIONS", tus::UPLOADS_PATH, &[], &[])
        .expect(204, "");
    assert_eq!(options.header(tus::TUS_VERSION).as_deref(), Some("1.0.0"));
    assert_eq!(
        options.header(tus::TUS_EXTENSION).as_deref(),
        Some("creation,checksum,termination,expiration")
    );
    assert_eq!(
        options.header(tus::TUS_CHECKSUM_ALGORITHM).as_deref(),
        Some("sha1,sha256")
    );
    assert!(options.header(tus::TUS_MAX_SIZE).is_some());

    for entry in &assets {
        let bytes = shelf.file(entry);
        let url = publisher.upload(&manifest_id, entry["asset_id"].as_str().unwrap(), &bytes, 3);
        let head = publisher.tus("HEAD", &url).expect(200, "");
        assert_eq!(
            head.header(tus::UPLOAD_OFFSET),
            Some(bytes.len().to_string())
        );
        assert_eq!(
            head.header(tus::UPLOAD_LENGTH),
            Some(bytes.len().to_string())
        );
        assert_eq!(
            head.header(tus::UPLOAD_EXPIRES),
            None,
            "a complete upload does not expire"
        );
        assert_eq!(head.header("Cache-Control").as_deref(), Some("no-store"));
        assert_eq!(head.header(tus::TUS_RESUMABLE).as_deref(), Some("1.0.0"));
    }
    // The stored files are exactly the manifest's, and no part is left.
    let mut stored: Vec<Vec<u8>> = server
        .stored_files()
        .iter()
        .map(|p| {
            assert!(
                p.starts_with(server.data().join("blobs")),
                "{}",
                p.display()
            );
            std::fs::read(p).unwrap()
        })
        .collect();
    let mut expected: Vec<Vec<u8>> = assets.iter().map(|e| shelf.file(e)).collect();
    stored.sort();
    expected.sort();
    assert_eq!(stored, expected);
    let receipt = publisher.post_manifest(&manifest).expect(200, "").json();
    assert!(receipt["assets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["uploaded"] == true));

    // A listing of both photos at 10.00 EUR; cy's 20% revenue share of each.
    let created = publisher
        .post(
            "/v1/listings",
            &json!({
                "manifest_id": manifest_id, "title": "Two cameras", "description": "Old JPEGs",
                "price_minor": 1000, "currency": "EUR"
            }),
        )
        .expect(201, "");
    let location = created.header("Location").unwrap();
    let listing: Listing = serde_json::from_value(created.json()).unwrap();
    assert_eq!(
        location,
        format!("/v1/listings/{}", listing.summary.listing_id)
    );
    assert!(listing.summary.complete);
    assert_eq!((listing.summary.assets, listing.summary.uploaded), (2, 2));
    assert_eq!(listing.summary.license_tags, ["CC-BY-4.0"]);
    assert_eq!(listing.summary.publisher, "studio");
    assert_eq!(listing.split.creators.len(), 1);
    assert_eq!(listing.split.creators[0].creator_wallet, "acct_cy");
    assert_eq!(listing.split.creators[0].amount_minor, 200);
    assert_eq!(listing.split.publisher_minor, 800);
    // One listing per manifest.
    let again = publisher
        .post(
            "/v1/listings",
            &json!({"manifest_id": manifest_id, "title": "t", "description": "", "price_minor": 1, "currency": "EUR"}),
        )
        .expect(409, "listing_exists");
    assert_eq!(again.header("Location"), Some(location.clone()));

    // A buyer reads listings, one page at a time.
    let buyer = server.account("lab", Role::Buyer);
    let page = buyer.get("/v1/listings?limit=1").expect(200, "").json();
    assert_eq!(
        page["listings"][0]["listing_id"],
        json!(listing.summary.listing_id)
    );
    assert_eq!(page["listings"][0]["complete"], true);
    assert!(page.get("next_after").is_none());
    let seen: Listing =
        serde_json::from_value(buyer.get(&location).expect(200, "").json()).unwrap();
    assert_eq!(seen, listing);

    // A new price moves the split with it.
    let updated: Listing = serde_json::from_value(
        publisher
            .put(
                &location,
                &json!({"title": "Two cameras", "description": "Old JPEGs", "price_minor": 5000, "currency": "EUR"}),
            )
            .expect(200, "")
            .json(),
    )
    .unwrap();
    assert_eq!(updated.split.creators[0].amount_minor, 1000);
    assert_eq!(updated.split.publisher_minor, 4000);

    // A withdrawn asset is off sale for good; withdrawing it again changes nothing.
    let first = assets[0]["asset_id"].as_str().unwrap();
    let path = format!("{location}/withdrawals");
    let withdrawn: Listing = serde_json::from_value(
        publisher
            .post(&path, &json!({"asset_id": first, "reason": "revoked"}))
            .expect(200, "")
            .json(),
    )
    .unwrap();
    assert_eq!(withdrawn.summary.withdrawn, 1);
    assert_eq!(withdrawn.summary.uploaded, 1);
    assert!(withdrawn.summary.complete);
    let item = withdrawn
        .items
        .iter()
        .find(|i| i.asset_id == first)
        .unwrap();
    assert_eq!(item.withdrawn.as_ref().unwrap().reason, "revoked");
    // The whole rest is one asset: cy's share of all of it.
    assert_eq!(withdrawn.split.creators[0].assets, 1);
    assert_eq!(withdrawn.split.creators[0].amount_minor, 1000);
    let twice: Listing = serde_json::from_value(
        publisher
            .post(&path, &json!({"asset_id": first, "reason": "no_train"}))
            .expect(200, "")
            .json(),
    )
    .unwrap();
    assert_eq!(twice.items, withdrawn.items);
    publisher
        .post(
            &path,
            &json!({"asset_id": "no-such-asset", "reason": "revoked"}),
        )
        .expect(404, "not_found");
}

#[test]
fn bytes_a_publisher_uploaded_once_serve_its_later_manifests() {
    let shelf = Shelf::approved();
    let first = shelf.export();
    let server = Server::start();
    let publisher = publisher_with(&server, &shelf, "studio", &first);
    let (manifest_id, assets) = entries(&first);
    for entry in &assets {
        publisher.upload(
            &manifest_id,
            entry["asset_id"].as_str().unwrap(),
            &shelf.file(entry),
            2,
        );
    }
    // A re-export lists the same files under a new manifest id.
    let second = shelf.export();
    let (second_id, _) = entries(&second);
    assert_ne!(second_id, manifest_id);
    let receipt = publisher.post_manifest(&second).expect(201, "").json();
    assert!(receipt["assets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["uploaded"] == true));
    let asset = assets[0]["asset_id"].as_str().unwrap();
    publisher
        .create_upload(&second_id, asset, assets[0]["size_bytes"].as_u64().unwrap())
        .expect(409, "asset_already_uploaded");
    assert_eq!(server.stored_files().len(), 2);
}

#[test]
fn any_account_sees_the_keys_of_a_listings_publisher_and_no_other() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let sale = listed(&server, &shelf, "studio", None);
    // A rival publisher's key is not the listing's publisher's.
    let rival = server.account("rival", Role::Publisher);
    rival.register_key(&shelf.secret("sam")).expect(201, "");
    let buyer = server.account("lab", Role::Buyer);
    let path = format!("/v1/listings/{}/keys", sale.listing_id);
    let listed_keys = buyer.get(&path).expect(200, "").json();
    let registered = sale.publisher.get("/v1/keys").expect(200, "").json();
    assert_eq!(listed_keys, registered);
    let keys = listed_keys["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let rosa = shelf.library.user_public_key("rosa").unwrap();
    assert_eq!(
        keys[0]["public_key"],
        json!(assay_core::keys::public_key_compact(&rosa))
    );
    // The manifest's signer is among them.
    let doc: Value = serde_json::from_slice(&sale.manifest).unwrap();
    assert_eq!(doc["signer"]["key_id"], keys[0]["key_id"]);

    buyer
        .get(&format!("/v1/listings/{}/keys", "0".repeat(32)))
        .expect(404, "not_found");
    buyer
        .get("/v1/listings/../keys/keys")
        .expect(404, "not_found");
    server.client(None).get(&path).expect(401, "unauthorized");
}
