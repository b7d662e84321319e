//! One picture, one seller: a second publisher's upload of a copy of a
//! picture another publisher has on sale (the same photo, and a copy ffmpeg
//! scaled to a third) is refused naming that listing, and nothing of it is
//! kept; two publishers who both uploaded before either listed are told
//! apart at listing time; a withdrawn asset frees its picture.

use std::process::Command;

use serde_json::{json, Value};

use crate::support::{entries, listed, publisher_with, Client, Reply, Server, Shelf};

/// `a.jpg` of every shelf scaled to a third by ffmpeg.
fn scaled_copy(shelf: &Shelf) -> Vec<u8> {
    let from = shelf.dir.path().join("photos/a.jpg");
    let to = shelf.dir.path().join("scaled.jpg");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&from)
        .args(["-vf", "scale=iw/3:-1"])
        .arg(&to)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    std::fs::read(to).unwrap()
}

/// A second library holding the first one's photos and a scaled copy of `a.jpg`.
fn copycat_shelf(original: &Shelf) -> Shelf {
    Shelf::approved_with(&[("copy.jpg", &scaled_copy(original))])
}

fn new_listing(manifest_id: &str) -> Value {
    json!({
        "manifest_id": manifest_id, "title": "Mine too", "description": "",
        "price_minor": 5_000, "currency": "EUR"
    })
}

/// Uploads `entry`'s file whole and returns the reply to its last write.
fn send(publisher: &Client, shelf: &Shelf, manifest_id: &str, entry: &Value) -> Reply {
    let bytes = shelf.file(entry);
    let url = publisher
        .create_upload(
            manifest_id,
            entry["asset_id"].as_str().unwrap(),
            bytes.len() as u64,
        )
        .expect(201, "")
        .header("Location")
        .unwrap();
    publisher.patch(&url, 0, &bytes, true)
}

#[test]
fn a_copy_of_a_picture_on_sale_is_refused_naming_the_listing_and_nothing_is_kept() {
    let server = Server::start();
    let studio_shelf = Shelf::approved();
    let sale = listed(&server, &studio_shelf, "studio", None);
    let fingerprints = server.count("blob_fingerprints");
    assert_eq!(fingerprints, 2, "each picture uploaded is fingerprinted");

    let shelf = copycat_shelf(&studio_shelf);
    let manifest = shelf.export();
    let (manifest_id, assets) = entries(&manifest);
    let copycat = publisher_with(&server, &shelf, "copycat", &manifest);
    let stored = server.stored_files().len();
    for entry in &assets {
        let reply = send(&copycat, &shelf, &manifest_id, entry).expect(409, "near_duplicate");
        let message = reply.json()["message"].as_str().unwrap().to_owned();
        assert!(
            message.contains(&sale.listing_id) && message.contains("the file was discarded"),
            "{message}"
        );
        assert_eq!(
            reply.header("Location").as_deref(),
            Some(format!("/v1/listings/{}", sale.listing_id).as_str())
        );
    }
    // Nothing of the refused files stays: no stored file, no fingerprint, no upload.
    assert_eq!(server.stored_files().len(), stored);
    assert_eq!(server.count("blob_fingerprints"), fingerprints);
    assert_eq!(
        server.count("uploads") as usize,
        studio_shelf_uploads(&sale.manifest)
    );

    // Withdrawn from sale, the photo is free: its copy may be uploaded.
    let (_, studio_assets) = entries(&sale.manifest);
    let a = studio_assets
        .iter()
        .find(|e| e["file_name"] == "a.jpg")
        .unwrap();
    sale.publisher
        .post(
            &format!("/v1/listings/{}/withdrawals", sale.listing_id),
            &json!({"asset_id": a["asset_id"], "reason": "revoked"}),
        )
        .expect(200, "");
    let copy = assets
        .iter()
        .find(|e| e["file_name"] == "copy.jpg")
        .unwrap();
    send(&copycat, &shelf, &manifest_id, copy).expect(204, "");
}

fn studio_shelf_uploads(manifest: &[u8]) -> usize {
    entries(manifest).1.len()
}

#[test]
fn of_two_publishers_who_uploaded_alike_pictures_only_the_first_to_list_sells_them() {
    let server = Server::start();
    let first_shelf = Shelf::approved();
    let first_manifest = first_shelf.export();
    let (first_id, first_assets) = entries(&first_manifest);
    let first = publisher_with(&server, &first_shelf, "first", &first_manifest);
    let second_shelf = copycat_shelf(&first_shelf);
    let second_manifest = second_shelf.export();
    let (second_id, second_assets) = entries(&second_manifest);
    let second = publisher_with(&server, &second_shelf, "second", &second_manifest);

    // Nothing is on sale yet: every upload of both is taken.
    for entry in &first_assets {
        send(&first, &first_shelf, &first_id, entry).expect(204, "");
    }
    for entry in &second_assets {
        send(&second, &second_shelf, &second_id, entry).expect(204, "");
    }
    first
        .post("/v1/listings", &new_listing(&first_id))
        .expect(201, "");
    let reply = second
        .post("/v1/listings", &new_listing(&second_id))
        .expect(409, "near_duplicate");
    let message = reply.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("nothing was listed"), "{message}");
    assert_eq!(server.count("listings"), 1);
    // The same publisher's own pictures never conflict with each other.
    let again = first_shelf.export();
    let (again_id, _) = entries(&again);
    first.post_manifest(&again).expect(201, "");
    first
        .post("/v1/listings", &new_listing(&again_id))
        .expect(201, "");
}
