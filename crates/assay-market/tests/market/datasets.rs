//! Dataset versions on the market: a version's signed dataset manifest is
//! posted as built, its shards uploaded with tus (`shard` metadata) and
//! checked against the manifest, listed, and bought for its shards; a
//! delta is taken only after the version it updates, listed after it, and
//! sold only to that version's buyers; a version's assets cannot be
//! withdrawn one by one.

use assay_core::{BuildOptions, Change, DatasetBuild, Filter, Job, Selection, ShardFormat};
use assay_market_proto::listings::Listing;
use assay_market_proto::manifests::ManifestReceipt;
use assay_market_proto::purchases::{Purchase, PurchaseFiles, SHA256_HEADER};
use assay_market_proto::tus::UploadFile;
use assay_market_proto::Role;
use serde_json::json;

use crate::support::{Client, Server, Shelf, PASS};

fn build(shelf: &Shelf, delta: bool) -> DatasetBuild {
    let options = BuildOptions {
        format: ShardFormat::WebDataset,
        out: shelf.dir.path().join("builds"),
        // A shard per asset.
        shard_bytes: 1,
        delta,
        credentials: false,
    };
    shelf
        .library
        .build_dataset(&shelf.rosa, "harbour", &options, &mut Job::quiet())
        .unwrap()
}

/// Posts `built`'s manifest and uploads its shards; returns the receipt.
fn post_version(publisher: &Client, built: &DatasetBuild) -> ManifestReceipt {
    let bytes = std::fs::read(&built.manifest_path).unwrap();
    let receipt: ManifestReceipt =
        serde_json::from_value(publisher.post_manifest(&bytes).expect(201, "").json()).unwrap();
    for shard in &receipt.shards {
        let path = std::path::Path::new(&built.manifest_path)
            .parent()
            .unwrap()
            .join(&shard.name);
        let file = UploadFile::Shard(shard.name.clone());
        publisher.upload_of(&receipt.manifest_id, file, &std::fs::read(path).unwrap(), 3);
    }
    receipt
}

fn list(publisher: &Client, receipt: &ManifestReceipt) -> Listing {
    let body = json!({
        "manifest_id": receipt.manifest_id, "title": "Harbour", "description": "",
        "price_minor": 5_000, "currency": "EUR"
    });
    serde_json::from_value(publisher.post("/v1/listings", &body).expect(201, "").json()).unwrap()
}

fn files(buyer: &Client, purchase: &Purchase) -> PurchaseFiles {
    serde_json::from_value(
        buyer
            .get(&format!("/v1/purchases/{}/files", purchase.purchase_id))
            .expect(200, "")
            .json(),
    )
    .unwrap()
}

#[test]
fn a_version_is_sold_as_its_shards_and_its_delta_only_to_its_buyers() {
    let shelf = Shelf::approved();
    let sam = shelf.library.unlock("sam", PASS).unwrap();
    shelf
        .library
        .create_dataset(&sam, "harbour", &Filter::default())
        .unwrap();
    let v1 = build(&shelf, false);
    assert_eq!(v1.shards.len(), 2);
    let server = Server::start();
    let publisher = server.account("studio", Role::Publisher);
    publisher
        .register_key(&shelf.secret("rosa"))
        .expect(201, "");

    // A shard that is not the manifest's, or not of its size, is refused
    // before a byte is stored.
    let bytes = std::fs::read(&v1.manifest_path).unwrap();
    let receipt: ManifestReceipt =
        serde_json::from_value(publisher.post_manifest(&bytes).expect(201, "").json()).unwrap();
    let dataset = receipt.dataset.clone().unwrap();
    assert_eq!((dataset.version, dataset.delta), (1, false));
    assert_eq!(receipt.assets.len(), 2);
    assert_eq!(receipt.shards.len(), 2);
    assert!(receipt.shards.iter().all(|s| !s.uploaded && s.assets == 1));
    let first = &receipt.shards[0];
    publisher
        .create_upload_of(
            &receipt.manifest_id,
            UploadFile::Shard("harbour-v9-00000-of-00001.tar".into()),
            first.size_bytes,
        )
        .expect(422, "asset_not_in_manifest");
    publisher
        .create_upload_of(
            &receipt.manifest_id,
            UploadFile::Shard(first.name.clone()),
            first.size_bytes + 1,
        )
        .expect(422, "upload_length_mismatch");
    // A listed version whose shards are not all there cannot be bought.
    let v1_listing = list(&publisher, &receipt);
    let v1_id = v1_listing.summary.listing_id.clone();
    let summary = v1_listing.summary.dataset.clone().unwrap();
    assert_eq!((summary.shards, summary.shards_uploaded), (2, 0));
    assert!(!v1_listing.summary.complete);
    let buyer = server.account("lab", Role::Buyer);
    buyer.buy(&v1_id).expect(409, "listing_incomplete");
    // Bytes that are not the shard's are discarded when they end.
    let shard_path = |built: &DatasetBuild, name: &str| {
        std::path::Path::new(&built.manifest_path)
            .parent()
            .unwrap()
            .join(name)
    };
    let mut wrong = std::fs::read(shard_path(&v1, &first.name)).unwrap();
    wrong[700] ^= 1;
    let url = publisher
        .create_upload_of(
            &receipt.manifest_id,
            UploadFile::Shard(first.name.clone()),
            wrong.len() as u64,
        )
        .expect(201, "")
        .header("Location")
        .unwrap();
    publisher
        .patch(&url, 0, &wrong, true)
        .expect(422, "file_checksum_mismatch");
    assert_eq!(server.count("blobs"), 0);
    for shard in &receipt.shards {
        let bytes = std::fs::read(shard_path(&v1, &shard.name)).unwrap();
        publisher.upload_of(
            &receipt.manifest_id,
            UploadFile::Shard(shard.name.clone()),
            &bytes,
            2,
        );
    }
    let listing: Listing = serde_json::from_value(
        buyer
            .get(&format!("/v1/listings/{v1_id}"))
            .expect(200, "")
            .json(),
    )
    .unwrap();
    assert!(listing.summary.complete);
    assert_eq!(listing.shards.len(), 2);
    assert!(listing.shards.iter().all(|s| s.uploaded));

    // A version is immutable: an asset leaves it by a later version.
    let asset = &receipt.assets[0].asset_id;
    publisher
        .post(
            &format!("/v1/listings/{v1_id}/withdrawals"),
            &json!({"asset_id": asset, "reason": "revoked"}),
        )
        .expect(409, "dataset_version_immutable");

    // The buyer gets the shards, byte for byte as signed.
    let purchase: Purchase =
        serde_json::from_value(buyer.buy(&v1_id).expect(201, "").json()).unwrap();
    assert_eq!(purchase.asset_ids.len(), 2);
    let links = files(&buyer, &purchase);
    assert!(links.files.is_empty());
    assert_eq!(links.shards.len(), 2);
    for link in &links.shards {
        let reply = buyer.get(&link.url).expect(200, "");
        let on_disk = std::fs::read(shard_path(&v1, &link.file_name)).unwrap();
        assert_eq!(reply.body, on_disk);
        assert_eq!(
            reply.header(SHA256_HEADER).as_deref(),
            Some(link.sha256.as_str())
        );
    }

    // Version 2: asset a retitled (changed), asset b now NO-TRAIN
    // (withdrawn: it forbids training now). Its delta ships one shard.
    let ids: Vec<String> = receipt.assets.iter().map(|a| a.asset_id.clone()).collect();
    let a = Selection::Assets(vec![ids[0].clone()]);
    shelf
        .library
        .edit(&sam, &a, &[Change::set("title", json!("Harbour at dawn"))])
        .unwrap();
    if shelf
        .library
        .record(&ids[0])
        .unwrap()
        .workflow
        .workflow_state
        == "draft"
    {
        shelf.library.submit(&sam, &a).unwrap();
    }
    shelf.library.approve(&shelf.rosa, &a, None).unwrap();
    shelf
        .library
        .edit(
            &sam,
            &Selection::Assets(vec![ids[1].clone()]),
            &[Change::set("license_tag", json!("NO-TRAIN"))],
        )
        .unwrap();
    let v2 = build(&shelf, true);
    assert_eq!(v2.changes.changed, [ids[0].clone()]);
    assert_eq!(v2.changes.withdrawn.len(), 1);
    assert_eq!(v2.shards.len(), 1);

    // Another market never saw version 1: the delta has nothing to update.
    let elsewhere = Server::start();
    let other = elsewhere.account("studio", Role::Publisher);
    other.register_key(&shelf.secret("rosa")).expect(201, "");
    other
        .post_manifest(&std::fs::read(&v2.manifest_path).unwrap())
        .expect(409, "parent_version_missing");
    assert_eq!(elsewhere.count("manifests"), 0);

    let receipt2 = post_version(&publisher, &v2);
    let dataset = receipt2.dataset.clone().unwrap();
    assert!(dataset.delta);
    assert_eq!(
        dataset.parent_manifest_hash.as_deref(),
        Some(v1.manifest_hash.as_str())
    );
    // What it sells is what its shards hold.
    let shipped: Vec<&str> = receipt2
        .assets
        .iter()
        .map(|a| a.asset_id.as_str())
        .collect();
    assert_eq!(shipped, [ids[0].as_str()]);
    let v2_listing = list(&publisher, &receipt2);
    let v2_id = v2_listing.summary.listing_id.clone();
    assert_eq!(
        v2_listing
            .summary
            .dataset
            .unwrap()
            .parent_listing_id
            .as_deref(),
        Some(v1_id.as_str())
    );
    let v1_now: Listing = serde_json::from_value(
        buyer
            .get(&format!("/v1/listings/{v1_id}"))
            .expect(200, "")
            .json(),
    )
    .unwrap();
    assert_eq!(v1_now.later_versions.len(), 1);
    assert_eq!(v1_now.later_versions[0].listing_id, v2_id);
    assert!(v1_now.later_versions[0].delta);

    // Only a buyer of version 1 may buy its delta.
    let stranger = server.account("newcomer", Role::Buyer);
    let refused = stranger.buy(&v2_id).expect(403, "parent_purchase_required");
    assert_eq!(
        refused.header("Location"),
        Some(format!("/v1/listings/{v1_id}"))
    );
    let delta: Purchase = serde_json::from_value(buyer.buy(&v2_id).expect(201, "").json()).unwrap();
    assert_eq!(delta.asset_ids, [ids[0].clone()]);
    let links = files(&buyer, &delta);
    assert_eq!(links.shards.len(), 1);
    assert_eq!(links.shards[0].file_name, v2.shards[0].name);
    // Each version of a dataset is posted once.
    publisher
        .post_manifest(&std::fs::read(&v2.manifest_path).unwrap())
        .expect(200, "");
}
