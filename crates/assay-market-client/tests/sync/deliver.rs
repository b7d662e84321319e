//! Delivery and what comes back: a buyer pulls a listing (every file
//! verified against the signed manifest) and confirms; the publisher's next
//! sync records the purchase, the release and the payouts as signed
//! `payment` events, once however often the feed is read. A file tampered
//! with on the server never lands in the buyer's folder, and a byte flipped
//! after download is caught by `verify_pulled`.

use std::path::{Path, PathBuf};

use assay_core::{Change, Job, MarketPayment, Selection, Total};
use assay_deadline::OutputWithin;
use assay_market_client::{
    pull, verify_pulled, PullEvent, PullOptions, PullReport, PullTarget, SyncEvent,
    MARKET_KEYS_FILE,
};
use ed25519_dalek::VerifyingKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::{options, sync, Server, Shelf};

/// Pulls `listing_id` as a new buyer `name` into `out`, trusting rosa's key.
fn pull_as(
    server: &Server,
    shelf: &Shelf,
    name: &str,
    listing_id: &str,
    out: &Path,
    confirm: bool,
) -> (assay_market_client::Result<PullReport>, Vec<PullEvent>) {
    let key = shelf.library.user_public_key("rosa").unwrap();
    pull_trusting(server, name, listing_id, out, confirm, &[key], false)
}

/// Pulls `listing_id` as a new buyer `name` into `out`, trusting `keys`
/// (none: the market's word for the publisher's).
fn pull_trusting(
    server: &Server,
    name: &str,
    listing_id: &str,
    out: &Path,
    confirm: bool,
    keys: &[VerifyingKey],
    credentials: bool,
) -> (assay_market_client::Result<PullReport>, Vec<PullEvent>) {
    let token = server.buyer(name);
    let mut events = Vec::new();
    let result = pull(
        &PullTarget {
            url: &server.url,
            token: &token,
            listing_id,
            out,
            trusted: keys,
        },
        &PullOptions {
            retry: options(1 << 20).retry,
            confirm,
            credentials,
            ..PullOptions::default()
        },
        &mut Job::quiet(),
        &mut |e| events.push(e.clone()),
    );
    (result, events)
}

fn listing_id(events: &[SyncEvent]) -> String {
    events
        .iter()
        .find_map(|e| match e {
            SyncEvent::Listed { listing_id, .. } => Some(listing_id.clone()),
            _ => None,
        })
        .unwrap()
}

fn sha256(path: &Path) -> String {
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
    )
}

/// The payment events of an asset's chain, as their data.
fn payments(shelf: &Shelf, asset_id: &str) -> Vec<Value> {
    shelf
        .library
        .provenance(asset_id)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "payment")
        .map(|e| e.data)
        .collect()
}

/// Every entry of a folder, by name.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_pulled_listing_verifies_and_its_payments_reach_provenance_once() {
    let server = Server::start();
    let shelf = Shelf::approved();
    shelf.add_market(&server);
    let (report, events) = sync(&shelf, &options(1 << 20));
    let first = report.unwrap();
    // Listing it is on the feed, but no payment yet.
    assert_eq!(first.payments_recorded, 0);
    let listing = listing_id(&events);

    let out = shelf.dir.path().join("trainer");
    let (report, events) = pull_as(&server, &shelf, "lab", &listing, &out, true);
    let report = report.unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!((report.files_fetched, report.files_present), (3, 0));
    assert!(report.confirmed);
    assert!(matches!(
        events.first(),
        Some(PullEvent::Purchased {
            created: true,
            amount_minor: 5000,
            ..
        })
    ));
    // Every file is the library's, byte for byte, and nothing else is left.
    for record in shelf.library.list(&Default::default()).unwrap() {
        let name = Path::new(&record.locations[0].path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(sha256(&out.join(&name)), record.checksum, "{name}");
    }
    assert_eq!(
        names(&out),
        [
            "a.jpg",
            "b.jpg",
            "c.jpg",
            "manifest.json",
            "purchase.json",
            "witnessed-checkpoint.json"
        ]
    );
    // The trainer holds the checkpoint the market witnessed at the sync,
    // apart from the library: the library checks against it.
    let witnessed = assay_market_client::witnessed(&shelf.library, None)
        .unwrap()
        .unwrap();
    assert_eq!(report.witnessed_events, Some(witnessed.events));
    let kept: Value =
        serde_json::from_slice(&std::fs::read(out.join("witnessed-checkpoint.json")).unwrap())
            .unwrap();
    assert_eq!(kept["checkpoint"], witnessed.checkpoint);
    let held = shelf.dir.path().join("held.json");
    std::fs::write(
        &held,
        assay_core::canonical::canonical_json(&kept["checkpoint"]),
    )
    .unwrap();
    let against = shelf
        .library
        .verify_provenance_against(Some(&held))
        .unwrap();
    assert!(against.holds(), "{against:?}");
    let key = shelf.library.user_public_key("rosa").unwrap();
    let check = verify_pulled(&out, &[key]).unwrap();
    assert!(check.failures.is_empty(), "{:?}", check.failures);
    assert_eq!(check.files, 3);
    // A second pull holds the purchase already and fetches nothing.
    let again = pull_as(&server, &shelf, "lab-2", &listing, &out, false);
    let again = again.0.unwrap();
    assert_eq!((again.files_fetched, again.files_present), (0, 3));

    // The publisher's next sync records the purchase, the release and both
    // payouts (the creator's share and the publisher's remainder) on every
    // asset, each with the market's ids and amounts.
    let (report, events) = sync(&shelf, &options(1 << 20));
    let report = report.unwrap();
    assert_eq!(report.payments_recorded, 3 * 4 + 3, "{events:?}");
    for (asset_id, _) in shelf.sizes() {
        let paid = payments(&shelf, &asset_id);
        let kinds: Vec<&str> = paid
            .iter()
            .map(|d| d["feed_event"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds.iter().filter(|k| **k == "purchase").count(),
            2,
            "{asset_id}: {kinds:?}"
        );
        assert!(kinds.contains(&"escrow_released"), "{kinds:?}");
        let purchase = paid.iter().find(|d| d["feed_event"] == "purchase").unwrap();
        assert_eq!(purchase["market"], json!("main"));
        assert_eq!(purchase["listing_id"], json!(listing));
        assert_eq!(purchase["amount_minor"], json!(5000));
        assert_eq!(purchase["currency"], json!("EUR"));
        assert_eq!(purchase["assets"], json!(3));
        assert!(purchase["feed_event_id"].as_str().is_some());
        let payouts: Vec<&Value> = paid
            .iter()
            .filter(|d| d["feed_event"] == "payout_sent")
            .collect();
        assert_eq!(payouts.len(), 2, "{payouts:?}");
        let creator = payouts.iter().find(|d| d["payee"] == "creator").unwrap();
        let publisher = payouts.iter().find(|d| d["payee"] == "publisher").unwrap();
        assert_eq!(creator["creator_wallet"], json!("acct_cy"));
        // 20% of each asset's equal part goes to its creator.
        let share = creator["amount_minor"].as_u64().unwrap();
        assert!((999..=1000).contains(&share), "{creator}");
        assert_eq!(
            creator["amount_minor"].as_u64().unwrap() + publisher["amount_minor"].as_u64().unwrap(),
            5000
        );
        // Every event is signed by the syncing rights manager.
        let chain = shelf.library.provenance(&asset_id).unwrap();
        assert!(chain
            .iter()
            .filter(|e| e.kind == "payment")
            .all(|e| e.user.as_deref() == Some("rosa")));
    }
    assert!(shelf.library.verify_provenance().unwrap().breaks.is_empty());

    // What the app's market panel shows: the listing of three assets, both
    // sales, and the released one paid out in full (creator and publisher),
    // each feed event once however many assets it was recorded on.
    let activity = shelf.library.market_activity("main").unwrap();
    assert_eq!(activity.listings.len(), 1);
    let listed = &activity.listings[0];
    assert_eq!(listed.listing_id.as_deref(), Some(listing.as_str()));
    assert_eq!((listed.assets, listed.withdrawn), (3, 0));
    assert!(listed.listed_at.is_some());
    let eur = |minor, count| {
        vec![Total {
            currency: "EUR".into(),
            minor,
            count,
        }]
    };
    assert_eq!(activity.sales, eur(10_000, 2));
    assert_eq!(activity.paid_out, eur(5_000, 2));
    let purchases: Vec<&MarketPayment> = activity
        .payments
        .iter()
        .filter(|p| p.kind == "purchase")
        .collect();
    assert_eq!(purchases.len(), 2);
    assert!(purchases.iter().all(|p| p.asset_ids.len() == 3));
    let creator = activity
        .payments
        .iter()
        .find(|p| p.payee.as_deref() == Some("creator"))
        .unwrap();
    assert_eq!(creator.creator_wallet.as_deref(), Some("acct_cy"));
    // Newest first: the payouts came after the purchases.
    assert_eq!(activity.payments.last().unwrap().kind, "purchase");

    // Read again, from the cursor and then from the very beginning: nothing
    // is recorded twice.
    let before: Vec<usize> = shelf
        .sizes()
        .iter()
        .map(|(id, _)| payments(&shelf, id).len())
        .collect();
    let again = sync(&shelf, &options(1 << 20)).0.unwrap();
    assert_eq!((again.feed_events, again.payments_recorded), (0, 0));
    let db = rusqlite::Connection::open(shelf.library.root().join("library.db")).unwrap();
    db.execute("UPDATE markets SET feed_cursor = NULL", [])
        .unwrap();
    let replay = sync(&shelf, &options(1 << 20)).0.unwrap();
    assert_eq!((replay.feed_events, replay.payments_recorded), (0, 0));
    let after: Vec<usize> = shelf
        .sizes()
        .iter()
        .map(|(id, _)| payments(&shelf, id).len())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn a_file_tampered_with_on_the_server_never_lands_in_the_folder() {
    let server = Server::start();
    let shelf = Shelf::approved();
    shelf.add_market(&server);
    let (report, events) = sync(&shelf, &options(1 << 20));
    report.unwrap();
    let listing = listing_id(&events);

    // One stored file changes on the server, its length kept.
    let blob = blobs(&server.data().join("blobs")).remove(0);
    let original = sha256(&blob);
    let mut bytes = std::fs::read(&blob).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let record = shelf
        .library
        .list(&Default::default())
        .unwrap()
        .into_iter()
        .find(|r| r.checksum == original)
        .unwrap();
    let name = Path::new(&record.locations[0].path)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();

    let out = shelf.dir.path().join("trainer");
    let (report, events) = pull_as(&server, &shelf, "lab", &listing, &out, true);
    let report = report.unwrap();
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert!(report.failures[0].contains(&name), "{:?}", report.failures);
    assert!(events.iter().any(|e| matches!(
        e,
        PullEvent::Failed { file_name, .. } if *file_name == name
    )));
    // Nothing of it is in the folder, not even a partial download; the
    // others are, and nothing was confirmed.
    assert!(!out.join(&name).exists());
    assert!(
        names(&out).iter().all(|n| !n.ends_with(".assay-part")),
        "{:?}",
        names(&out)
    );
    assert_eq!(report.files_fetched, 2);
    assert!(!report.confirmed);
    assert!(!events
        .iter()
        .any(|e| matches!(e, PullEvent::Confirmed { .. })));
    // The folder as left does not verify: the file is missing.
    let key = shelf.library.user_public_key("rosa").unwrap();
    let check = verify_pulled(&out, &[key]).unwrap();
    assert_eq!(check.failures.len(), 1, "{:?}", check.failures);
    assert!(check.failures[0].contains(&name));
}

#[test]
fn verify_only_names_every_file_changed_after_download() {
    let server = Server::start();
    let shelf = Shelf::approved();
    shelf.add_market(&server);
    let (report, events) = sync(&shelf, &options(1 << 20));
    report.unwrap();
    let out = shelf.dir.path().join("trainer");
    let (report, _) = pull_as(&server, &shelf, "lab", &listing_id(&events), &out, false);
    assert!(report.unwrap().failures.is_empty());
    let key = shelf.library.user_public_key("rosa").unwrap();
    assert!(verify_pulled(&out, &[key]).unwrap().failures.is_empty());

    for name in ["a.jpg", "c.jpg"] {
        let path = out.join(name);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[100] ^= 0x01;
        std::fs::write(&path, bytes).unwrap();
    }
    let check = verify_pulled(&out, &[key]).unwrap();
    // One failure per changed file, each naming it and what differs; in the
    // manifest's order, which follows capture dates (a fresh clone's files
    // have none but their checkout time), so not asserted.
    assert_eq!(check.failures.len(), 2, "{:?}", check.failures);
    for name in ["a.jpg", "c.jpg"] {
        assert!(
            check
                .failures
                .iter()
                .any(|f| f.contains(name) && f.contains("checksum")),
            "{name}: {:?}",
            check.failures
        );
    }

    // The purchase record, which nobody signed, does not decide what is
    // checked: emptied, the changed files are still named.
    let record = out.join("purchase.json");
    let mut purchase: Value = serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    purchase["asset_ids"] = json!([]);
    std::fs::write(&record, serde_json::to_vec(&purchase).unwrap()).unwrap();
    let check = verify_pulled(&out, &[key]).unwrap();
    assert_eq!(
        (check.files, check.failures.len()),
        (3, 2),
        "{:?}",
        check.failures
    );
    // A deleted file is a failure; only the record's say-so that it was
    // never delivered explains an absence, and it spares no file present.
    std::fs::remove_file(out.join("b.jpg")).unwrap();
    purchase["asset_ids"] = json!(["no-such-asset"]);
    std::fs::write(&record, serde_json::to_vec(&purchase).unwrap()).unwrap();
    let check = verify_pulled(&out, &[key]).unwrap();
    assert_eq!(check.failures.len(), 2, "{:?}", check.failures);
    assert_eq!(check.not_delivered, ["b.jpg"]);

    // A manifest signed by someone else is not trusted.
    let stranger = shelf.library.user_public_key("sam").unwrap();
    let check = verify_pulled(&out, &[stranger]).unwrap();
    assert!(!check.failures.is_empty());
    assert!(check.failures[0].contains("manifest.json"));
}

#[test]
fn a_no_train_license_after_listing_is_withdrawn_and_recorded() {
    let server = Server::start();
    let shelf = Shelf::approved();
    let token = shelf.add_market(&server);
    let (report, events) = sync(&shelf, &options(1 << 20));
    report.unwrap();
    let listing = listing_id(&events);
    let (first, _) = shelf.sizes()[0].clone();
    shelf
        .library
        .edit(
            &shelf.sam,
            &Selection::Assets(vec![first.clone()]),
            &[Change::set("license_tag", json!("NO-TRAIN"))],
        )
        .unwrap();

    let (report, events) = sync(&shelf, &options(1 << 20));
    let report = report.unwrap();
    assert_eq!(report.withdrawn, 1);
    assert!(events.contains(&SyncEvent::Withdrawn {
        listing_id: listing.clone(),
        asset_id: first.clone(),
        reason: "no_train".into(),
    }));
    // The server's listing no longer offers it.
    let offered = server.get(&token, &format!("/v1/listings/{listing}"));
    let item = offered["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["asset_id"] == json!(first))
        .unwrap();
    assert_eq!(item["withdrawn"]["reason"], json!("no_train"), "{offered}");
    assert_eq!(offered["withdrawn"], json!(1));
    assert!(!offered["license_tags"]
        .as_array()
        .unwrap()
        .contains(&json!("NO-TRAIN")));
    // Its chain says so, signed by the syncing rights manager.
    let chain = shelf.library.provenance(&first).unwrap();
    let last = chain.last().unwrap();
    assert_eq!(last.kind, "marketplace_withdrawal");
    assert_eq!(last.user.as_deref(), Some("rosa"));
    assert_eq!(last.data["listing_id"], json!(listing));
    assert_eq!(last.data["reason"], json!("no_train"));
    assert_eq!(last.data["market"], json!("main"));
    assert!(shelf.library.verify_provenance().unwrap().breaks.is_empty());
    // Once.
    assert_eq!(sync(&shelf, &options(1 << 20)).0.unwrap().withdrawn, 0);
    assert_eq!(
        shelf
            .kinds(&first)
            .iter()
            .filter(|k| *k == "marketplace_withdrawal")
            .count(),
        1
    );
    // A buyer now gets the two others only.
    let out = shelf.dir.path().join("trainer");
    let (pulled, _) = pull_as(&server, &shelf, "lab", &listing, &out, false);
    let pulled = pulled.unwrap();
    assert_eq!(pulled.files_fetched, 2);
    let key = shelf.library.user_public_key("rosa").unwrap();
    let check = verify_pulled(&out, &[key]).unwrap();
    assert!(check.failures.is_empty(), "{:?}", check.failures);
    assert_eq!(check.files, 2);
}

/// Every blob file under `dir`, by path.
fn blobs(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for shard in std::fs::read_dir(dir).unwrap() {
        let shard = shard.unwrap().path();
        if shard.is_dir() {
            for blob in std::fs::read_dir(&shard).unwrap() {
                found.push(blob.unwrap().path());
            }
        } else {
            found.push(shard);
        }
    }
    found.sort();
    found
}

#[test]
fn without_a_key_pull_trusts_the_markets_keys_for_the_publisher_and_says_so() {
    let server = Server::start();
    let shelf = Shelf::approved();
    shelf.add_market(&server);
    let (report, events) = sync(&shelf, &options(1 << 20));
    report.unwrap();
    let listing = listing_id(&events);
    let out = shelf.dir.path().join("trainer");
    let (report, events) = pull_trusting(&server, "lab", &listing, &out, false, &[], false);
    let report = report.unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(report.trusted_market_keys);
    assert_eq!(report.files_fetched, 3);
    // The first step names the keys trusted, before anything is fetched.
    let rosa = shelf.library.user_public_key("rosa").unwrap();
    let rosa_id = assay_core::keys::key_id(&rosa).to_string();
    assert_eq!(
        events.first(),
        Some(&PullEvent::MarketKeys {
            key_ids: vec![rosa_id.clone()]
        })
    );
    // They are kept, and --verify-only without a key checks against them.
    let kept: Value =
        serde_json::from_slice(&std::fs::read(out.join(MARKET_KEYS_FILE)).unwrap()).unwrap();
    assert_eq!(kept["keys"][0]["key_id"], json!(rosa_id));
    let check = verify_pulled(&out, &[]).unwrap();
    assert!(check.trusted_saved_keys);
    assert!(check.failures.is_empty(), "{:?}", check.failures);
    assert_eq!(check.files, 3);
    // Kept keys that are not the signer's do not verify it.
    let sam = shelf.library.user_public_key("sam").unwrap();
    let forged = json!({"keys": [{
        "key_id": assay_core::keys::key_id(&sam).to_string(),
        "public_key": assay_core::keys::public_key_compact(&sam),
        "created_at": "2026-01-01T00:00:00Z"
    }]});
    std::fs::write(out.join(MARKET_KEYS_FILE), forged.to_string()).unwrap();
    let check = verify_pulled(&out, &[]).unwrap();
    assert!(!check.failures.is_empty());
    assert!(
        check.failures[0].contains("manifest.json"),
        "{:?}",
        check.failures
    );
    // A folder pulled with a key of the trainer's keeps none, so
    // --verify-only there needs one.
    let own = shelf.dir.path().join("own-key");
    pull_as(&server, &shelf, "lab-2", &listing, &own, false)
        .0
        .unwrap();
    assert!(!own.join(MARKET_KEYS_FILE).exists());
    let refused = verify_pulled(&own, &[]).unwrap_err().to_string();
    assert!(refused.contains("no trusted key"), "{refused}");
}

#[test]
fn a_payout_that_came_back_is_recorded_as_a_failed_payment() {
    let server = Server::start();
    let shelf = Shelf::approved();
    shelf.add_market(&server);
    let (report, events) = sync(&shelf, &options(1 << 20));
    report.unwrap();
    let out = shelf.dir.path().join("trainer");
    pull_as(&server, &shelf, "lab", &listing_id(&events), &out, true)
        .0
        .unwrap();
    sync(&shelf, &options(1 << 20)).0.unwrap();

    // The creator's payout bounces; the operator records it.
    let payout = server.payout_of("acct_cy");
    server.fail_payout(&payout, "account closed");
    let (report, _) = sync(&shelf, &options(1 << 20));
    assert_eq!(report.unwrap().payments_recorded, 3);
    for (asset_id, _) in shelf.sizes() {
        let failed: Vec<Value> = payments(&shelf, &asset_id)
            .into_iter()
            .filter(|d| d["feed_event"] == "payout_failed")
            .collect();
        assert_eq!(failed.len(), 1, "{asset_id}: {failed:?}");
        assert_eq!(failed[0]["payout_id"], json!(payout));
        assert_eq!(failed[0]["payee"], json!("creator"));
        assert_eq!(failed[0]["creator_wallet"], json!("acct_cy"));
        assert_eq!(failed[0]["reason"], json!("account closed"));
    }
    assert!(shelf.library.verify_provenance().unwrap().breaks.is_empty());
}

/// `PUT path` with `token` and `body` as `application/c2pa`: the status
/// and the error code, if any.
fn put_credentials(server: &Server, token: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let (status, answer) = server.send("PUT", token, path, "application/c2pa", body);
    (status, answer["code"].clone())
}

/// The sync sends each asset's Content Credentials, which the market keeps
/// only when they bind the file it holds and name that asset; a pull with
/// credentials asked for checks them against each verified file and
/// writes them beside it, where c2patool finds them.
#[test]
fn credentials_travel_with_each_file_and_bind_it() {
    let server = Server::start();
    let shelf = Shelf::approved();
    let token = shelf.add_market(&server);
    let (report, events) = sync(&shelf, &options(1 << 20));
    let report = report.unwrap();
    assert_eq!(report.credentials_sent, 3, "{report:?}");
    assert!(report.credentials_refused.is_empty());
    let listing = listing_id(&events);

    let out = shelf.dir.path().join("trainer");
    let key = shelf.library.user_public_key("rosa").unwrap();
    let (report, _) = pull_trusting(&server, "lab", &listing, &out, false, &[key], true);
    let report = report.unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let mut written = report.credentials.clone();
    written.sort();
    assert_eq!(written, ["a.c2pa", "b.c2pa", "c.c2pa"]);
    assert!(report.credentials_missing.is_empty());
    let check = verify_pulled(&out, &[key]).unwrap();
    assert!(check.failures.is_empty(), "{:?}", check.failures);
    let by_name: std::collections::HashMap<String, String> = shelf
        .library
        .list(&Default::default())
        .unwrap()
        .into_iter()
        .map(|r| {
            let name = Path::new(&r.locations[0].path)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, r.asset_id)
        })
        .collect();
    for name in ["a.jpg", "b.jpg", "c.jpg"] {
        let read = std::process::Command::new(c2patool())
            .arg(out.join(name))
            .output_within(std::time::Duration::from_secs(120))
            .expect("c2patool runs (scripts/setup.sh installs it)");
        assert!(
            read.status.success(),
            "{}",
            String::from_utf8_lossy(&read.stderr)
        );
        let report: Value = serde_json::from_slice(&read.stdout).unwrap();
        assert_eq!(report["validation_state"], "Valid", "{name}: {report:#}");
        let active = report["active_manifest"].as_str().unwrap();
        let assay = report["manifests"][active]["assertions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["label"] == "assay.asset")
            .unwrap();
        assert_eq!(assay["data"]["asset_id"], json!(by_name[name]), "{name}");
    }

    // The market keeps nothing that does not bind the asset's own file:
    // a's credentials sent for b, and bytes that are no manifest store.
    let a_store = std::fs::read(out.join("a.c2pa")).unwrap();
    let path = |name: &str| {
        format!(
            "/v1/listings/{listing}/assets/{}/credentials",
            by_name[name]
        )
    };
    let (status, code) = put_credentials(&server, &token, &path("b.jpg"), &a_store);
    assert_eq!((status, code), (422, json!("credentials_invalid")));
    let (status, code) = put_credentials(&server, &token, &path("b.jpg"), b"not a manifest store");
    assert_eq!((status, code), (422, json!("credentials_invalid")));
    // Another publisher may not send any.
    let other = server.publisher("elsewhere");
    let (status, code) = put_credentials(&server, &other, &path("a.jpg"), &a_store);
    assert_eq!((status, code), (403, json!("not_owner")));
    // b's are still its own: a second pull writes them again.
    let again = shelf.dir.path().join("again");
    let (report, _) = pull_trusting(&server, "lab-2", &listing, &again, false, &[key], true);
    let report = report.unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(
        std::fs::read(again.join("b.c2pa")).unwrap(),
        std::fs::read(out.join("b.c2pa")).unwrap()
    );
}

fn c2patool() -> PathBuf {
    let installed = std::env::var_os("HOME")
        .map(|home| Path::new(&home).join(".cargo/bin/c2patool"))
        .filter(|p| p.exists());
    installed.unwrap_or_else(|| PathBuf::from("c2patool"))
}
