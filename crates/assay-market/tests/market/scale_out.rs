//! The hosted configuration: two server processes on one PostgreSQL
//! database and one S3 bucket (moto's server), as behind a load balancer.
//! One is this test's own (`Server`), the other the `assay-market` binary
//! in a process of its own. A publisher uploads through one and resumes
//! through the other (an S3 multipart upload under the tus upload); buyers
//! purchase through one and download through the other with its links;
//! webhooks go out once each while both deliver; the preview rate limit
//! is the account's across both. Only on the `market-postgres` target.

use std::collections::HashMap;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use assay_market::{BlobsAt, S3Location};
use assay_market_proto::{tus, Role};
use assay_test_services::s3::S3Server;
use serde_json::{json, Value};

use crate::slow_peers::long_wav;
use crate::support::{entries, publisher_with, serve_binary, Client, Server, Shelf};
use crate::webhooks::Receiver;

const BIN: &str = env!("CARGO_BIN_EXE_assay-market");
const MIB: usize = 1 << 20;

/// The `assay-market serve` process beside the test's own server.
struct Other {
    child: Child,
    url: String,
    _data: tempfile::TempDir,
}

impl Other {
    fn start(database: &str, blobs: &str) -> Other {
        let data = tempfile::tempdir().unwrap();
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--blobs", blobs])
            .args(["--preview-rate-per-min", "3", "--allow-private-webhooks"])
            .arg("--data")
            .arg(data.path())
            // The database's URL from the environment, as an operator keeps
            // its password out of the process list.
            .env("ASSAY_MARKET_DATABASE", database)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1");
        let (child, address) = serve_binary(&mut command);
        Other {
            child,
            url: format!("http://{address}"),
            _data: data,
        }
    }

    /// `client` talking to this process instead.
    fn as_(&self, client: &Client) -> Client {
        let mut moved = client.clone();
        moved.url = self.url.clone();
        moved
    }
}

impl Drop for Other {
    fn drop(&mut self) {
        assay_deadline::stop(&mut self.child);
    }
}

#[test]
fn two_processes_share_one_database_and_one_bucket() {
    // This process's server reads its S3 credentials as the binary does.
    for (name, value) in [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ] {
        std::env::set_var(name, value);
    }
    let bucket = S3Server::start("assay-market").unwrap();
    let location = S3Location::parse(&bucket.blobs_url()).unwrap().unwrap();
    let receiver = Receiver::start(0);
    let here = Server::start_with(|c| {
        c.blobs = Some(BlobsAt::S3(location));
        c.preview_rate_per_minute = 3;
        c.allow_private_webhooks = true;
        c.webhook_poll = Duration::from_millis(50);
    });
    let database = here.config.database.clone().unwrap();
    let there = Other::start(&database, &bucket.blobs_url());

    // A 18 MiB recording goes to S3 as a multipart upload: begun here, a
    // part sent, then resumed there from the offset the records hold.
    let wav = long_wav(18 * MIB + 4321);
    let shelf = Shelf::approved_with(&[("long.wav", &wav)]);
    let manifest = shelf.export();
    let publisher = publisher_with(&here, &shelf, "studio", &manifest);
    let (manifest_id, assets) = entries(&manifest);
    let long = assets
        .iter()
        .find(|a| a["file_name"] == "long.wav")
        .unwrap();
    let url = publisher
        .create_upload(
            &manifest_id,
            long["asset_id"].as_str().unwrap(),
            wav.len() as u64,
        )
        .expect(201, "")
        .header("Location")
        .unwrap();
    publisher
        .patch(&url, 0, &wav[..9 * MIB], true)
        .expect(204, "");
    assert_eq!(bucket.open_multipart_uploads().unwrap(), 1);
    let elsewhere = there.as_(&publisher);
    let head = elsewhere.tus("HEAD", &url).expect(200, "");
    assert_eq!(head.header(tus::UPLOAD_OFFSET), Some((9 * MIB).to_string()));
    elsewhere
        .patch(&url, 9 * MIB as u64, &wav[9 * MIB..], true)
        .expect(204, "");
    assert_eq!(bucket.open_multipart_uploads().unwrap(), 0);
    for entry in assets.iter().filter(|a| a["file_name"] != "long.wav") {
        let id = entry["asset_id"].as_str().unwrap();
        elsewhere.upload(&manifest_id, id, &shelf.file(entry), 2);
    }
    assert_eq!(bucket.keys("blobs/").unwrap().len(), 3);
    assert!(bucket.keys("parts/").unwrap().is_empty());

    // Events go to the receiver from whichever process leases them.
    publisher
        .post(
            "/v1/webhooks",
            &json!({"url": receiver.url, "secret": "a secret of some length"}),
        )
        .expect(201, "");
    let listing = elsewhere
        .post(
            "/v1/listings",
            &json!({
                "manifest_id": manifest_id, "title": "Sounds and pictures", "description": "",
                "price_minor": 10_000, "currency": "EUR"
            }),
        )
        .expect(201, "")
        .json();
    let listing_id = listing["listing_id"].as_str().unwrap().to_owned();

    // Buyers purchase through one process and download through the other.
    for n in 0..4 {
        let buyer = here.account(&format!("lab-{n}"), Role::Buyer);
        let (buy_at, fetch_at) = match n % 2 {
            0 => (buyer.clone(), there.as_(&buyer)),
            _ => (there.as_(&buyer), buyer.clone()),
        };
        let purchase = buy_at.buy(&listing_id).expect(201, "").json();
        let id = purchase["purchase_id"].as_str().unwrap();
        let files = buy_at
            .get(&format!("/v1/purchases/{id}/files"))
            .expect(200, "")
            .json();
        for file in files["files"].as_array().unwrap() {
            let got = fetch_at.get(file["url"].as_str().unwrap()).expect(200, "");
            let entry = assets
                .iter()
                .find(|a| a["asset_id"] == file["asset_id"])
                .unwrap();
            assert!(
                got.body == shelf.file(entry),
                "{} differs",
                entry["file_name"]
            );
        }
        fetch_at
            .request("POST", &format!("/v1/purchases/{id}/confirm"), &[], &[])
            .expect(200, "");
    }

    // Every event of the feed reaches the receiver once, though two
    // deliverers poll the same outbox.
    let feed = publisher.events(None);
    // The listing, and for each purchase at least the sale and its release.
    assert!(feed.len() > 4 * 2, "{} events", feed.len());
    let deadline = Instant::now() + Duration::from_secs(60);
    while receiver.seen().len() < feed.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Time for a second delivery of anything to show.
    std::thread::sleep(Duration::from_millis(1500));
    let mut times: HashMap<String, usize> = HashMap::new();
    for (_, body) in receiver.seen() {
        let event: Value = serde_json::from_slice(&body).unwrap();
        *times
            .entry(event["event_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(times.len(), feed.len(), "every event delivered");
    assert!(
        times.values().all(|&n| n == 1),
        "delivered more than once: {times:?}"
    );

    // Three previews a minute, whichever process is asked.
    let viewer = here.account("viewer", Role::Buyer);
    let sample = format!("/v1/listings/{listing_id}/sample");
    viewer.get(&sample).expect(200, "");
    there.as_(&viewer).get(&sample).expect(200, "");
    viewer.get(&sample).expect(200, "");
    there.as_(&viewer).get(&sample).expect(429, "rate_limited");
}
