//! The market witnesses each sync's checkpoint: it countersigns only a
//! checkpoint its publisher's registered key signed that extends the last
//! one it witnessed for that library, stores nothing it refuses, and shows
//! buyers a listing's witnessed checkpoint.

use assay_market_client::SyncEvent;
use serde_json::{json, Value};

use crate::support::{options, sync, Server, Shelf};

fn post(server: &Server, token: &str, body: &Value) -> (u16, Value) {
    let body = serde_json::to_vec(body).unwrap();
    server.send("POST", token, "/v1/checkpoints", "application/json", &body)
}

#[test]
fn each_sync_is_witnessed_and_buyers_see_the_listings_checkpoint() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let token = shelf.add_market(&server);
    let (report, events) = sync(&shelf, &options(1 << 20));
    let report = report.unwrap();
    let events_now = shelf.library.verify_provenance().unwrap().events;
    assert_eq!(report.witnessed_events, Some(events_now));
    assert!(events
        .iter()
        .any(|e| matches!(e, SyncEvent::Witnessed { events, .. } if *events == events_now)));
    let seen = assay_market_client::witnessed(&shelf.library, None)
        .unwrap()
        .unwrap();
    assert_eq!(seen.events, events_now);
    // The checkpoint the market holds is the library's newest, byte for byte.
    let newest = shelf.library.latest_checkpoint_file().unwrap().unwrap();
    let own: Value = serde_json::from_slice(&std::fs::read(&newest).unwrap()).unwrap();
    assert_eq!(seen.checkpoint, own);

    // Sending it again changes nothing.
    let (status, _) = post(&server, &token, &json!({"checkpoint": own}));
    assert_eq!(status, 200);
    assert_eq!(server.count("witnessed_checkpoints"), 1);

    // A second sync (nothing new to publish) is witnessed as extending it.
    let (report, _) = sync(&shelf, &options(1 << 20));
    assert!(report.unwrap().witnessed_events.unwrap() >= events_now);
    assert_eq!(server.count("witnessed_checkpoints"), 2);

    // A buyer fetches the listing's witnessed checkpoint.
    let listing = server.get(&token, "/v1/listings")["listings"][0]["listing_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let buyer = server.buyer("trainer");
    let shown = server.get(&buyer, &format!("/v1/listings/{listing}/checkpoint"));
    let latest = assay_market_client::witnessed(&shelf.library, None)
        .unwrap()
        .unwrap();
    assert_eq!(shown["checkpoint"], latest.checkpoint);
    assert_eq!(shown["witness"]["type"], "assay-witness");
}

#[test]
fn an_altered_a_foreign_or_a_rolled_back_checkpoint_is_refused_and_nothing_stored() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let token = shelf.add_market(&server);
    sync(&shelf, &options(1 << 20)).0.unwrap();
    assert_eq!(server.count("witnessed_checkpoints"), 1);
    let newest = shelf.library.latest_checkpoint_file().unwrap().unwrap();
    let own: Value = serde_json::from_slice(&std::fs::read(&newest).unwrap()).unwrap();

    // One event fewer than it saw: what a rollback would need it to say.
    let mut altered = own.clone();
    let size = altered["events"]["size"].as_u64().unwrap();
    altered["events"]["size"] = json!(size - 1);
    let (status, body) = post(&server, &token, &json!({"checkpoint": altered}));
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("checkpoint_invalid"))
    );

    // Signed by sam, a steward whose key this publisher never registered.
    let sams = shelf.library.checkpoint(&shelf.sam).unwrap();
    let foreign: Value = serde_json::from_slice(&std::fs::read(&sams.path).unwrap()).unwrap();
    let (status, body) = post(&server, &token, &json!({"checkpoint": foreign}));
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("key_not_registered"))
    );

    // A newer checkpoint, after more work, without the proof that it
    // extends the last one.
    let one = shelf.sizes()[0].0.clone();
    shelf
        .library
        .edit(
            &shelf.sam,
            &assay_core::Selection::Assets(vec![one]),
            &[assay_core::Change::set("title", json!("Quay"))],
        )
        .unwrap();
    let later = shelf.library.checkpoint(&shelf.rosa).unwrap();
    let later: Value = serde_json::from_slice(&std::fs::read(&later.path).unwrap()).unwrap();
    let (status, body) = post(&server, &token, &json!({"checkpoint": later}));
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("checkpoint_not_extending")),
        "{body}"
    );
    // And an older one after a newer was witnessed.
    sync(&shelf, &options(1 << 20)).0.unwrap();
    let (status, body) = post(&server, &token, &json!({"checkpoint": own}));
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("checkpoint_not_extending"))
    );
    assert_eq!(server.count("witnessed_checkpoints"), 2);
}
