//! Buying: a buyer purchases a listing, downloads and verifies every file
//! and the manifest through signed links, and confirms; the publisher's
//! feed shows the sale and the payouts of the split. Refunds, the hold
//! period and buying twice.

use std::time::{Duration, Instant};

use assay_core::verify_manifest;
use assay_market_proto::purchases::{Purchase, PurchaseFiles, SHA256_HEADER};
use assay_market_proto::Role;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::{entries, listed, Client, Server, Shelf};

fn purchase(reply: &crate::support::Reply) -> Purchase {
    serde_json::from_value(reply.json()).unwrap()
}

fn files(buyer: &Client, purchase_id: &str) -> PurchaseFiles {
    serde_json::from_value(
        buyer
            .get(&format!("/v1/purchases/{purchase_id}/files"))
            .expect(200, "")
            .json(),
    )
    .unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Events without what differs from run to run.
fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_buyer_downloads_verifies_and_confirms_and_the_publisher_sees_the_payouts() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let sale = listed(&server, &shelf, "studio", None);
    let (manifest_id, assets) = entries(&sale.manifest);
    let buyer = server.account("lab", Role::Buyer);

    let bought = buyer.buy(&sale.listing_id).expect(201, "");
    let p = purchase(&bought);
    assert_eq!(
        bought.header("Location"),
        Some(format!("/v1/purchases/{}", p.purchase_id))
    );
    assert_eq!((p.amount_minor, p.currency.as_str()), (10_000, "EUR"));
    assert_eq!(p.state.as_str(), "held");
    assert_eq!(p.manifest_id, manifest_id);
    assert_eq!(p.asset_ids.len(), 2);
    // 10,000 in two parts; a 20% share of each for acct_cy, the rest the publisher's.
    let payouts: Vec<_> = p
        .payouts
        .iter()
        .map(|o| (o.creator_wallet.clone(), o.amount_minor, o.asset_ids.len()))
        .collect();
    assert_eq!(
        payouts,
        [(Some("acct_cy".to_owned()), 2000, 2), (None, 8000, 2)]
    );
    assert!(p.payouts.iter().all(|o| o.state.as_str() == "pending"));

    // Buying again charges nothing: the same purchase comes back.
    let again = purchase(&buyer.buy(&sale.listing_id).expect(200, ""));
    assert_eq!(again.purchase_id, p.purchase_id);
    assert_eq!(server.count("purchases"), 1);
    assert_eq!(server.count("payouts"), 2);
    // The publisher sees the purchase too.
    let seen = sale
        .publisher
        .get(&format!("/v1/purchases/{}", p.purchase_id))
        .expect(200, "");
    assert_eq!(purchase(&seen), again);

    // Every file and the manifest, each checked against its link and header.
    let links = files(&buyer, &p.purchase_id);
    assert_eq!(links.files.len(), 2);
    for (link, entry) in links.files.iter().zip(&assets) {
        assert_eq!(link.asset_id.as_deref(), entry["asset_id"].as_str());
        assert_eq!(link.sha256, entry["checksum"].as_str().unwrap());
        let got = buyer.get(&link.url).expect(200, "");
        assert_eq!(
            got.header("Content-Length"),
            Some(link.size_bytes.to_string())
        );
        assert_eq!(
            got.header(SHA256_HEADER).as_deref(),
            Some(link.sha256.as_str())
        );
        assert_eq!(sha256(&got.body), link.sha256);
        assert_eq!(got.body, shelf.file(entry));
        // The license's AI-training terms travel with the bytes: CC-BY-4.0
        // permits training, and the revenue share owed reserves text and
        // data mining to those who take the license (TDMRep).
        assert_eq!(
            got.header("Content-Usage").as_deref(),
            Some("train-ai=y, train-genai=y")
        );
        assert_eq!(got.header("tdm-reservation").as_deref(), Some("1"));
        assert_eq!(
            got.header("tdm-policy").as_deref(),
            Some("https://creativecommons.org/licenses/by/4.0/")
        );
    }
    let manifest = buyer.get(&links.manifest.url).expect(200, "");
    assert_eq!(manifest.body, sale.manifest);
    assert_eq!(sha256(&manifest.body), links.manifest.sha256);
    assert_eq!(manifest.body.len() as u64, links.manifest.size_bytes);
    let rosa = shelf.library.user_public_key("rosa").unwrap();
    let report = verify_manifest(&manifest.body, &[rosa], None);
    assert!(report.failures.is_empty(), "{:?}", report.failures);

    // Confirming releases escrow and sends the payouts; again changes nothing.
    let confirm = format!("/v1/purchases/{}/confirm", p.purchase_id);
    let released = purchase(&buyer.request("POST", &confirm, &[], &[]).expect(200, ""));
    assert_eq!(released.state.as_str(), "released");
    assert!(released.settled_at.is_some());
    assert!(released.payouts.iter().all(|o| o.state.as_str() == "sent"));
    buyer.request("POST", &confirm, &[], &[]).expect(200, "");
    // A released purchase can no longer be refunded; its links still work.
    sale.publisher
        .request(
            "POST",
            &format!("/v1/purchases/{}/refund", p.purchase_id),
            &[],
            &[],
        )
        .expect(409, "purchase_settled");
    buyer.get(&links.files[0].url).expect(200, "");

    let events = sale.publisher.events(None);
    assert_eq!(
        kinds(&events),
        [
            "listing_created",
            "purchase",
            "escrow_released",
            "payout_sent",
            "payout_sent"
        ]
    );
    assert_eq!(events[0]["listing_id"], json!(sale.listing_id));
    assert_eq!(events[1]["purchase_id"], json!(p.purchase_id));
    assert_eq!(events[1]["amount_minor"], json!(10_000));
    assert_eq!(events[1]["asset_ids"], json!(p.asset_ids));
    assert_eq!(events[2]["reason"], json!("confirmed"));
    assert_eq!(events[3]["creator_wallet"], json!("acct_cy"));
    assert_eq!(events[3]["amount_minor"], json!(2000));
    assert_eq!(events[3]["currency"], json!("EUR"));
    assert_eq!(events[3]["asset_ids"].as_array().unwrap().len(), 2);
    assert_eq!(events[4].get("creator_wallet"), None);
    assert_eq!(events[4]["amount_minor"], json!(8000));
    // Reading on from a cursor gives the rest, with the same stable ids.
    let cursor = events[1]["cursor"].as_str().unwrap();
    let rest = sale.publisher.events(Some(cursor));
    assert_eq!(rest, events[2..]);
    let last = events[4]["cursor"].as_str().unwrap();
    assert!(sale.publisher.events(Some(last)).is_empty());
    let page = sale
        .publisher
        .get("/v1/events?limit=2")
        .expect(200, "")
        .json();
    assert_eq!(page["events"].as_array().unwrap().len(), 2);
    assert_eq!(page["next_after"], events[1]["cursor"]);
    sale.publisher
        .get("/v1/events?after=x")
        .expect(400, "invalid_request");
    // Another publisher's feed holds none of it.
    let rival = server.account("rival", Role::Publisher);
    assert!(rival.events(None).is_empty());
}

#[test]
fn a_refund_revokes_the_links_and_cancels_the_payouts() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let sale = listed(&server, &shelf, "studio", None);
    let buyer = server.account("lab", Role::Buyer);
    let p = purchase(&buyer.buy(&sale.listing_id).expect(201, ""));
    let links = files(&buyer, &p.purchase_id);
    buyer.get(&links.files[0].url).expect(200, "");

    // Only the listing's publisher refunds.
    let refund = format!("/v1/purchases/{}/refund", p.purchase_id);
    let rival = server.account("rival", Role::Publisher);
    rival
        .request("POST", &refund, &[], &[])
        .expect(404, "not_found");
    buyer
        .request("POST", &refund, &[], &[])
        .expect(403, "missing_scope");
    let refunded = purchase(
        &sale
            .publisher
            .request("POST", &refund, &[], &[])
            .expect(200, ""),
    );
    assert_eq!(refunded.state.as_str(), "refunded");
    assert!(refunded
        .payouts
        .iter()
        .all(|o| o.state.as_str() == "cancelled"));
    sale.publisher
        .request("POST", &refund, &[], &[])
        .expect(200, "");

    for link in links.files.iter().chain([&links.manifest]) {
        buyer.get(&link.url).expect(410, "entitlement_revoked");
    }
    buyer
        .get(&format!("/v1/purchases/{}/files", p.purchase_id))
        .expect(410, "entitlement_revoked");
    buyer
        .request(
            "POST",
            &format!("/v1/purchases/{}/confirm", p.purchase_id),
            &[],
            &[],
        )
        .expect(409, "purchase_settled");
    let events = sale.publisher.events(None);
    assert_eq!(kinds(&events), ["listing_created", "purchase", "refunded"]);
    assert_eq!(events[2]["purchase_id"], json!(p.purchase_id));

    // After a refund the listing can be bought anew, as a new purchase.
    let anew = purchase(&buyer.buy(&sale.listing_id).expect(201, ""));
    assert_ne!(anew.purchase_id, p.purchase_id);
    assert_eq!(server.count("purchases"), 2);
}

#[test]
fn escrow_is_released_when_the_hold_period_ends() {
    let shelf = Shelf::approved();
    let server = Server::start_with(|config| {
        config.escrow_hold = Duration::ZERO;
        config.sweep_every = Duration::from_millis(100);
    });
    let sale = listed(&server, &shelf, "studio", None);
    let buyer = server.account("lab", Role::Buyer);
    let p = purchase(&buyer.buy(&sale.listing_id).expect(201, ""));
    let path = format!("/v1/purchases/{}", p.purchase_id);
    let started = Instant::now();
    let released = loop {
        let now = purchase(&buyer.get(&path).expect(200, ""));
        if now.state.as_str() == "released" {
            break now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never released"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(released.payouts.iter().all(|o| o.state.as_str() == "sent"));
    let events = sale.publisher.events(None);
    assert_eq!(
        kinds(&events),
        [
            "listing_created",
            "purchase",
            "escrow_released",
            "payout_sent",
            "payout_sent"
        ]
    );
    assert_eq!(events[2]["reason"], json!("hold_expired"));
    // Released is final: no refund, and no second release.
    sale.publisher
        .request("POST", &format!("{path}/refund"), &[], &[])
        .expect(409, "purchase_settled");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sale.publisher.events(None).len(), 5);
}
