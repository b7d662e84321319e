//! The `assay-market` binary: accounts added from the command line, and a
//! server that prints where it listens.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::json;

use crate::support::Server;

const BIN: &str = env!("CARGO_BIN_EXE_assay-market");

fn add(data: &std::path::Path, name: &str, role: &str) -> String {
    let out = Command::new(BIN)
        .args(["account", "add", name, "--role", role, "--data"])
        .arg(data)
        .output()
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
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let publisher = add(&data, "studio", "publisher");
    let buyer = add(&data, "lab", "buyer");
    // A name is an account's alone.
    let again = Command::new(BIN)
        .args(["account", "add", "studio", "--role", "buyer", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("studio"));

    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let address = first.trim().to_owned();
    assert!(
        address.starts_with("127.0.0.1:") && !address.ends_with(":0"),
        "{address}"
    );

    // Talk to it as any client would, with the tokens printed.
    let server_view = Server::start();
    let mut as_publisher = server_view.client(Some(publisher));
    as_publisher.url = format!("http://{address}");
    let keys = as_publisher.get("/v1/keys").expect(200, "").json();
    assert_eq!(keys, json!({"keys": []}));
    let mut as_buyer = server_view.client(Some(buyer));
    as_buyer.url = format!("http://{address}");
    as_buyer.get("/v1/keys").expect(403, "missing_scope");
    as_buyer.get("/v1/listings").expect(200, "");

    child.kill().unwrap();
    child.wait().unwrap();
}
