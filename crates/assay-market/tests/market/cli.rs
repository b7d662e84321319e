//! The `assay-market` binary: accounts added from the command line, a
//! server that prints where it listens, and payouts the operator marks failed.

use std::process::Command;

use assay_deadline::OutputWithin;
use assay_market_proto::purchases::Purchase;
use assay_market_proto::Role;
use serde_json::{json, Value};

use crate::support::{listed, serve_binary, Server, Shelf, CHILD_LIMIT};

const BIN: &str = env!("CARGO_BIN_EXE_assay-market");

/// `account add` on `data`, with the records of `server`'s kind (its
/// database on `market-postgres`).
fn add(server: &Server, data: &std::path::Path, name: &str, role: &str) -> String {
    let out = Command::new(BIN)
        .args(["account", "add", name, "--role", role])
        .args(server.database_args())
        .arg("--data")
        .arg(data)
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("amk_"), "{token}");
    token
}

#[test]
fn the_binary_adds_accounts_and_serves_on_the_address_it_prints() {
    // On `market-postgres`, the binary shares this server's database.
    let server_view = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let publisher = add(&server_view, &data, "studio", "publisher");
    let buyer = add(&server_view, &data, "lab", "buyer");
    // A name is an account's alone.
    let again = Command::new(BIN)
        .args(["account", "add", "studio", "--role", "buyer"])
        .args(server_view.database_args())
        .arg("--data")
        .arg(&data)
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("studio"));

    let (mut child, address) = serve_binary(
        Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(server_view.database_args())
            .arg("--data")
            .arg(&data),
    );
    assert!(
        address.starts_with("127.0.0.1:") && !address.ends_with(":0"),
        "{address}"
    );

    // Talk to it as any client would, with the tokens printed.
    let mut as_publisher = server_view.client(Some(publisher));
    as_publisher.url = format!("http://{address}");
    let keys = as_publisher.get("/v1/keys").expect(200, "").json();
    assert_eq!(keys, json!({"keys": []}));
    let mut as_buyer = server_view.client(Some(buyer));
    as_buyer.url = format!("http://{address}");
    as_buyer.get("/v1/keys").expect(403, "missing_scope");
    as_buyer.get("/v1/listings").expect(200, "");

    assay_deadline::stop(&mut child);
}

#[test]
fn the_operator_records_a_payout_the_rail_returned() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let sale = listed(&server, &shelf, "studio", None);
    let buyer = server.account("lab", Role::Buyer);
    let bought: Purchase = serde_json::from_value(buyer.buy(&sale.listing_id).json()).unwrap();
    let fail = |payout_id: &str| {
        Command::new(BIN)
            .args(["payout", "fail", payout_id, "--reason", "account closed"])
            .args(server.database_args())
            .arg("--data")
            .arg(server.data())
            .output_within(CHILD_LIMIT)
            .unwrap()
    };
    // Held in escrow, nothing was sent, so nothing can fail.
    let creator = bought.payouts[0].payout_id.clone();
    let early = fail(&creator);
    assert_eq!(early.status.code(), Some(2));
    let said = String::from_utf8_lossy(&early.stderr);
    assert!(
        said.contains(&creator) && said.contains("pending"),
        "{said}"
    );

    let path = format!("/v1/purchases/{}", bought.purchase_id);
    buyer
        .request("POST", &format!("{path}/confirm"), &[], &[])
        .expect(200, "");
    let out = fail(&creator);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Again: nothing more happens.
    let again = fail(&creator);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already"));

    let now: Purchase = serde_json::from_value(buyer.get(&path).expect(200, "").json()).unwrap();
    let states: Vec<(&str, Option<&str>)> = now
        .payouts
        .iter()
        .map(|p| (p.state.as_str(), p.failure.as_deref()))
        .collect();
    assert_eq!(states, [("failed", Some("account closed")), ("sent", None)]);
    let events = sale.publisher.events(None);
    let failed: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "payout_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{events:?}");
    assert_eq!(failed[0]["payout_id"], json!(creator));
    assert_eq!(failed[0]["purchase_id"], json!(bought.purchase_id));
    assert_eq!(failed[0]["creator_wallet"], json!("acct_cy"));
    assert_eq!(failed[0]["amount_minor"], json!(2000));
    assert_eq!(failed[0]["reason"], json!("account closed"));

    // Not a payout id at all.
    let bad = fail("../etc");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a payout id"));
}

/// A leaked token is replaced, or withdrawn, from the command line, and a
/// server already running on the same data stops taking the old one at once.
#[test]
fn the_operator_rotates_and_revokes_a_token_and_a_running_server_follows() {
    let server = Server::start();
    let before = server.account("studio", Role::Publisher);
    before.get("/v1/keys").expect(200, "");
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .args(server.database_args())
            .arg("--data")
            .arg(server.data())
            .output_within(CHILD_LIMIT)
            .unwrap()
    };
    let out = run(&["account", "rotate", "studio"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("amk_"), "{token}");
    before.get("/v1/keys").expect(401, "unauthorized");
    let after = server.client(Some(token));
    after.get("/v1/keys").expect(200, "");

    let out = run(&["account", "revoke", "studio"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    after.get("/v1/keys").expect(401, "unauthorized");
    before.get("/v1/keys").expect(401, "unauthorized");

    let out = run(&["account", "rotate", "nobody"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody"));
}
