//! The publishing path: a first sync lists everything with every file
//! verified by the server; a second does nothing; two at once list once; a
//! revoked approval is withdrawn.

use assay_core::{Change, Job, Library, Selection};
use assay_market_client::SyncEvent;
use serde_json::json;

use crate::support::{options, sync, Server, Shelf, PASS};

#[test]
fn a_sync_lists_every_approved_asset_once_and_records_it() {
    let server = Server::start();
    let shelf = Shelf::approved();
    let token = shelf.add_market(&server);
    let total: u64 = shelf.sizes().iter().map(|(_, size)| size).sum();

    let (report, events) = sync(&shelf, &options(16 << 10));
    let report = report.unwrap();
    assert_eq!(report.manifests, 1);
    assert_eq!(report.files_uploaded, 3);
    assert_eq!(report.bytes_sent, total);
    assert_eq!(report.listings_created, 1);
    assert_eq!(report.assets_recorded, 3);
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    // Progress in bytes, up to each file's size, and per file.
    let last_sent = events.iter().rev().find_map(|e| match e {
        SyncEvent::Bytes { sent, .. } => Some(*sent),
        _ => None,
    });
    assert_eq!(last_sent, Some(total));
    let uploaded = events
        .iter()
        .filter(|e| matches!(e, SyncEvent::Uploaded { .. }))
        .count();
    assert_eq!(uploaded, 3);

    // The server holds the listing, complete: every file verified against
    // the manifest's checksum.
    let listing_id = events
        .iter()
        .find_map(|e| match e {
            SyncEvent::Listed { listing_id, .. } => Some(listing_id.clone()),
            _ => None,
        })
        .unwrap();
    let listing = server.get(&token, &format!("/v1/listings/{listing_id}"));
    assert_eq!(listing["complete"], json!(true), "{listing}");
    assert_eq!(listing["uploaded"], json!(3));
    assert_eq!(listing["price_minor"], json!(5000));
    assert_eq!(server.count("blobs"), 3);

    // Each asset's library preview went to the listing; a buyer who has not
    // bought sees the market's watermarked copy, never the original.
    assert_eq!(report.previews_sent, 3);
    assert_eq!(server.count("previews"), 3);
    let buyer = server.buyer("bea");
    for (asset_id, _) in shelf.sizes() {
        let record = shelf.library.record(&asset_id).unwrap();
        let original = std::fs::read(&record.locations[0].path).unwrap();
        let shown = ureq::Agent::new_with_defaults()
            .get(format!(
                "{}/v1/listings/{listing_id}/assets/{asset_id}/preview",
                server.url
            ))
            .header("Authorization", format!("Bearer {buyer}"))
            .call()
            .unwrap()
            .into_body()
            .read_to_vec()
            .unwrap();
        assert!(shown.starts_with(&[0xFF, 0xD8]), "{asset_id}: not a JPEG");
        assert_ne!(shown, original, "{asset_id}: the original was served");
    }

    // Each asset's chain ends with the signed export_to_marketplace event.
    for (asset_id, _) in shelf.sizes() {
        let chain = shelf.library.provenance(&asset_id).unwrap();
        let last = chain.last().unwrap();
        assert_eq!(last.kind.as_str(), "export_to_marketplace");
        assert_eq!(last.data["listing_id"], json!(listing_id));
        assert_eq!(last.data["market"], json!("main"));
        assert!(last.data["manifest_hash"]
            .as_str()
            .unwrap()
            .starts_with("sha256:"));
    }
    assert!(shelf.library.verify_provenance().unwrap().breaks.is_empty());

    // Nothing new: nothing posted, uploaded, listed or recorded.
    let (again, _) = sync(&shelf, &options(16 << 10));
    let again = again.unwrap();
    assert_eq!(
        (again.manifests, again.files_uploaded, again.bytes_sent),
        (0, 0, 0)
    );
    assert_eq!((again.listings_created, again.assets_recorded), (0, 0));
    assert_eq!(again.previews_sent, 0);
    assert_eq!(server.count("listings"), 1);
    assert_eq!(server.count("manifests"), 1);
}

#[test]
fn two_syncs_at_once_list_each_asset_once() {
    let server = Server::start();
    let shelf = Shelf::approved();
    shelf.add_market(&server);
    let root = shelf.library.root().to_owned();
    let reports: Vec<_> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let root = root.clone();
                s.spawn(move || {
                    let library = Library::open(&root).unwrap();
                    let rosa = library.unlock("rosa", PASS).unwrap();
                    assay_market_client::sync(
                        &library,
                        &rosa,
                        Some("main"),
                        &options(16 << 10),
                        &mut Job::quiet(),
                        &mut |_| {},
                    )
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for report in &reports {
        assert!(report.is_ok(), "{report:?}");
    }
    assert_eq!(server.count("listings"), 1);
    assert_eq!(server.count("manifests"), 1);
    assert_eq!(server.count("blobs"), 3);
    for (asset_id, _) in shelf.sizes() {
        let kinds = shelf.kinds(&asset_id);
        let recorded = kinds
            .iter()
            .filter(|k| *k == "export_to_marketplace")
            .count();
        assert_eq!(recorded, 1, "{asset_id}: {kinds:?}");
    }
}

#[test]
fn a_revoked_approval_is_withdrawn_on_the_next_sync() {
    let server = Server::start();
    let shelf = Shelf::approved();
    let token = shelf.add_market(&server);
    sync(&shelf, &options(1 << 20)).0.unwrap();
    let (first, _) = shelf.sizes()[0].clone();
    // An edit of an approved asset sends it back to review.
    shelf
        .library
        .edit(
            &shelf.sam,
            &Selection::Assets(vec![first.clone()]),
            &[Change::set("title", json!("Retitled"))],
        )
        .unwrap();

    let (report, events) = sync(&shelf, &options(1 << 20));
    let report = report.unwrap();
    assert_eq!(report.withdrawn, 1);
    assert!(events.contains(&SyncEvent::Withdrawn {
        listing_id: listing_of(&shelf),
        asset_id: first.clone(),
        reason: "revoked".into(),
    }));
    let listing = server.get(&token, &format!("/v1/listings/{}", listing_of(&shelf)));
    let item = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["asset_id"] == json!(first))
        .unwrap();
    assert_eq!(item["withdrawn"]["reason"], json!("revoked"));
    // Once is enough.
    assert_eq!(sync(&shelf, &options(1 << 20)).0.unwrap().withdrawn, 0);

    // Approved again (the edit sent it back to review), it is listed anew,
    // and only it.
    shelf
        .library
        .approve(&shelf.rosa, &Selection::Assets(vec![first]), None)
        .unwrap();
    let relisted = sync(&shelf, &options(1 << 20)).0.unwrap();
    assert_eq!(relisted.listings_created, 1);
    assert_eq!(relisted.assets_recorded, 1);
    // Its bytes were on the market already.
    assert_eq!((relisted.files_uploaded, relisted.files_present), (0, 1));
}

/// The listing of the library's first market manifest, from its events.
fn listing_of(shelf: &Shelf) -> String {
    let (asset_id, _) = shelf.sizes()[1].clone();
    let chain = shelf.library.provenance(&asset_id).unwrap();
    chain
        .iter()
        .find(|e| e.kind.as_str() == "export_to_marketplace")
        .unwrap()
        .data["listing_id"]
        .as_str()
        .unwrap()
        .to_owned()
}
