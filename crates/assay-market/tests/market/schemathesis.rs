//! Schemathesis, a client no one here wrote, generates requests from the
//! OpenAPI document the server serves and checks every answer against it:
//! no 5xx, every status, content type, header and body as documented, no
//! method the document does not name, nothing served without a token. As
//! a publisher and as a buyer, on a market holding a listing, bounded in
//! time and reproducible (a fixed seed).

use std::path::PathBuf;

use assay_deadline::OutputWithin;
use assay_market_proto::Role;

use crate::support::{listed, Server, Shelf, CHILD_LIMIT};

fn schemathesis() -> PathBuf {
    let home = std::env::var_os("HOME").expect("HOME is not set");
    let bin = PathBuf::from(home).join(".cache/assay/venv-schemathesis/bin/st");
    assert!(
        bin.is_file(),
        "{} is missing: run scripts/setup.sh",
        bin.display()
    );
    bin
}

#[test]
fn schemathesis_finds_every_answer_as_the_openapi_document_says() {
    let st = schemathesis();
    let shelf = Shelf::approved();
    let server = Server::start();
    let sale = listed(&server, &shelf, "studio", None);
    let buyer = server.account("lab", Role::Buyer);
    let reports = tempfile::tempdir().unwrap();
    for (who, token) in [
        ("publisher", sale.publisher.token()),
        ("buyer", buyer.token()),
    ] {
        let out = std::process::Command::new(&st)
            .arg("run")
            .arg(format!("{}/openapi.json", server.url))
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,\
                 response_headers_conformance,response_schema_conformance,\
                 unsupported_method,ignored_auth",
                // Chunks are application/offset+octet-stream and credentials
                // application/c2pa, which it cannot make: tuspy uploads chunks
                // in `uploads.rs`, and the sync sends real credentials (and
                // forged ones) in assay-market-client's `deliver.rs`.
                "--exclude-name",
                "PATCH /v1/uploads/{upload_id}",
                "--exclude-name",
                "PUT /v1/listings/{listing_id}/assets/{asset_id}/credentials",
                "--max-examples",
                "5",
                "--seed",
                "1",
                "--request-timeout",
                "10",
                "--max-time",
                "30",
                "--no-color",
                "--warnings",
                "off",
            ])
            .current_dir(reports.path())
            .output_within(CHILD_LIMIT)
            .unwrap();
        assert!(
            out.status.success(),
            "as the {who}:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
