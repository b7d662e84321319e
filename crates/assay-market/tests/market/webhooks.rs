//! Webhooks: a publisher's events POSTed to a receiver on a loopback port,
//! signed with its secret; a failed delivery is retried until it succeeds
//! and then never sent again; pending deliveries survive a restart; HTTPS
//! receivers get them when their certificate is trusted, and only then.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assay_market_proto::{webhooks, Role};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use crate::support::{entries, publisher_with, Client, Server, Shelf, TestCa};

const SECRET: &str = "a secret of some length";

/// What the receiver got, and how many requests it still fails.
#[derive(Default)]
struct Inbox {
    fail_first: usize,
    seen: Vec<(HeaderMap, Bytes)>,
}

/// An HTTP receiver on a loopback port, answering 500 to its first
/// `fail_first` requests and 200 after.
pub(crate) struct Receiver {
    pub(crate) url: String,
    inbox: Arc<Mutex<Inbox>>,
    _thread: std::thread::JoinHandle<()>,
}

impl Receiver {
    pub(crate) fn start(fail_first: usize) -> Receiver {
        let inbox = Arc::new(Mutex::new(Inbox {
            fail_first,
            seen: Vec::new(),
        }));
        let state = Arc::clone(&inbox);
        let (bound, address) = std::sync::mpsc::channel::<SocketAddr>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let app = axum::Router::new()
                    .route("/hook", axum::routing::post(receive))
                    .with_state(state);
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                bound.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        let address = address
            .recv_timeout(crate::support::SERVER_LIMIT)
            .expect("the webhook receiver to listen on a port");
        Receiver {
            url: format!("http://{address}/hook"),
            inbox,
            _thread: thread,
        }
    }

    pub(crate) fn seen(&self) -> Vec<(HeaderMap, Bytes)> {
        self.inbox.lock().unwrap().seen.clone()
    }

    /// Waits until `n` requests arrived.
    pub(crate) fn wait_for(&self, n: usize) -> Vec<(HeaderMap, Bytes)> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let seen = self.seen();
            if seen.len() >= n || Instant::now() > deadline {
                return seen;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

async fn receive(
    State(inbox): State<Arc<Mutex<Inbox>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut inbox = inbox.lock().unwrap();
    inbox.seen.push((headers, body));
    if inbox.fail_first > 0 {
        inbox.fail_first -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

/// Checks `Assay-Signature` as a receiver would.
fn verify(headers: &HeaderMap, body: &[u8]) {
    let value = headers["assay-signature"].to_str().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(webhooks::verify(SECRET, value, body, now, 60), Ok(()));
    let mut forged = body.to_vec();
    forged.push(b' ');
    assert_eq!(
        webhooks::verify(SECRET, value, &forged, now, 60),
        Err(webhooks::DeliveryRefused::Forged)
    );
}

fn list_for_sale(publisher: &Client, manifest: &[u8]) -> String {
    let (manifest_id, _) = entries(manifest);
    publisher
        .post(
            "/v1/listings",
            &json!({
                "manifest_id": manifest_id, "title": "Two cameras", "description": "",
                "price_minor": 10_000, "currency": "EUR"
            }),
        )
        .expect(201, "")
        .json()["listing_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn events_are_delivered_signed_retried_after_a_500_and_sent_once() {
    let shelf = Shelf::approved();
    let receiver = Receiver::start(1);
    let server = Server::start_with(|c| {
        c.allow_private_webhooks = true;
        c.webhook_poll = Duration::from_millis(50);
        c.webhook_first_retry = Duration::from_millis(200);
    });
    let manifest = shelf.export();
    let publisher = publisher_with(&server, &shelf, "studio", &manifest);

    // Refusals store nothing.
    for (url, secret) in [
        ("ftp://example.com/hook", SECRET),
        ("http:///hook", SECRET),
        ("http://user@example.com/hook", SECRET),
        (receiver.url.as_str(), "short"),
    ] {
        publisher
            .post("/v1/webhooks", &json!({"url": url, "secret": secret}))
            .expect(422, "webhook_invalid");
    }
    server
        .account("lab", Role::Buyer)
        .post(
            "/v1/webhooks",
            &json!({"url": receiver.url, "secret": SECRET}),
        )
        .expect(403, "missing_scope");
    assert_eq!(server.count("webhooks"), 0);

    let hook = publisher
        .post(
            "/v1/webhooks",
            &json!({"url": receiver.url, "secret": SECRET}),
        )
        .expect(201, "")
        .json();
    assert!(hook.get("secret").is_none());
    let hook_id = hook["webhook_id"].as_str().unwrap().to_owned();

    let listing_id = list_for_sale(&publisher, &manifest);
    let seen = receiver.wait_for(2);
    assert_eq!(seen.len(), 2, "a 500, then the retry");
    for (headers, body) in &seen {
        verify(headers, body);
        assert_eq!(headers["content-type"], "application/json");
    }
    // The same event both times, as the feed gives it.
    assert_eq!(seen[0].1, seen[1].1);
    let event: Value = serde_json::from_slice(&seen[1].1).unwrap();
    assert_eq!(event["type"], "listing_created");
    assert_eq!(event["listing_id"], Value::from(listing_id));
    assert_eq!(
        seen[1].0["assay-event-id"],
        event["event_id"].as_str().unwrap()
    );
    assert_eq!(publisher.events(None)[0], event);

    // Delivered: never sent again.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(receiver.seen().len(), 2);
    let listed = publisher.get("/v1/webhooks").expect(200, "").json();
    let counts = &listed["webhooks"][0];
    assert_eq!(
        (&counts["pending"], &counts["delivered"], &counts["failed"]),
        (&json!(0), &json!(1), &json!(0))
    );

    // Only its publisher sees or removes it.
    let rival = server.account("rival", Role::Publisher);
    assert_eq!(
        rival.get("/v1/webhooks").expect(200, "").json()["webhooks"],
        json!([])
    );
    rival
        .request("DELETE", &format!("/v1/webhooks/{hook_id}"), &[], &[])
        .expect(404, "not_found");
    publisher
        .request("DELETE", &format!("/v1/webhooks/{hook_id}"), &[], &[])
        .expect(204, "");
    publisher
        .request("DELETE", &format!("/v1/webhooks/{hook_id}"), &[], &[])
        .expect(404, "not_found");
    assert_eq!(server.count("webhook_deliveries"), 0);
}

#[test]
fn a_delivery_pending_at_a_stop_is_made_after_the_restart_and_failures_are_bounded() {
    let shelf = Shelf::approved();
    let receiver = Receiver::start(0);
    let failing = Receiver::start(usize::MAX);
    // The deliverer looks once at start, before there is anything, then
    // not for an hour: the event stays pending in the records.
    let server = Server::start_with(|c| {
        c.allow_private_webhooks = true;
        c.webhook_poll = Duration::from_secs(3600);
        c.webhook_first_retry = Duration::from_millis(50);
        c.webhook_attempts = 3;
    });
    let manifest = shelf.export();
    let publisher = publisher_with(&server, &shelf, "studio", &manifest);
    for url in [&receiver.url, &failing.url] {
        publisher
            .post("/v1/webhooks", &json!({"url": url, "secret": SECRET}))
            .expect(201, "");
    }
    list_for_sale(&publisher, &manifest);
    std::thread::sleep(Duration::from_millis(200));
    assert!(receiver.seen().is_empty());
    assert_eq!(server.count("webhook_deliveries"), 2);

    let mut server = server;
    server.config.webhook_poll = Duration::from_millis(50);
    let server = server.restart();
    let seen = receiver.wait_for(1);
    assert_eq!(seen.len(), 1);
    verify(&seen[0].0, &seen[0].1);
    // The failing receiver gets its three attempts, then no more.
    assert_eq!(failing.wait_for(3).len(), 3);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(failing.seen().len(), 3);
    assert_eq!(receiver.seen().len(), 1);
    let publisher = publisher.moved_to(&server);
    let hooks = publisher.get("/v1/webhooks").expect(200, "").json();
    let counts: Vec<_> = hooks["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["url"].as_str().unwrap().to_owned(),
                h["delivered"].as_u64().unwrap(),
                h["failed"].as_u64().unwrap(),
                h["pending"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        counts.contains(&(receiver.url.clone(), 1, 0, 0)),
        "{counts:?}"
    );
    assert!(
        counts.contains(&(failing.url.clone(), 0, 1, 0)),
        "{counts:?}"
    );
}

/// Webhooks reach only public addresses unless the operator allows private
/// ones: a publisher could otherwise have the server POST to its loopback,
/// its private network or the cloud's metadata service. Checked when the
/// webhook is registered and again at every delivery.
#[test]
fn webhooks_to_private_addresses_are_refused_unless_the_operator_allows_them() {
    let shelf = Shelf::approved();
    let receiver = Receiver::start(0);
    let server = Server::start_with(|c| {
        c.webhook_poll = Duration::from_millis(50);
        c.webhook_attempts = 1;
    });
    let manifest = shelf.export();
    let publisher = publisher_with(&server, &shelf, "studio", &manifest);
    for url in [
        receiver.url.as_str(),
        "http://localhost:9/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]:9/hook",
        "http://10.0.0.1/hook",
        "http://192.168.1.1:8080/hook",
    ] {
        let reply = publisher
            .post("/v1/webhooks", &json!({"url": url, "secret": SECRET}))
            .expect(422, "webhook_invalid");
        let message = reply.json()["message"].as_str().unwrap().to_owned();
        assert!(message.contains("not a public address"), "{url}: {message}");
    }
    assert_eq!(server.count("webhooks"), 0);

    // Registered while allowed, then the operator takes the allowance back:
    // the delivery goes nowhere and counts as failed.
    let mut server = server;
    server.config.allow_private_webhooks = true;
    let server = server.restart();
    let publisher = publisher.moved_to(&server);
    publisher
        .post(
            "/v1/webhooks",
            &json!({"url": receiver.url, "secret": SECRET}),
        )
        .expect(201, "");
    let mut server = server;
    server.config.allow_private_webhooks = false;
    let server = server.restart();
    let publisher = publisher.moved_to(&server);
    list_for_sale(&publisher, &manifest);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let hooks = publisher.get("/v1/webhooks").expect(200, "").json();
        if hooks["webhooks"][0]["failed"] == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{hooks}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(receiver.seen().is_empty());
}

/// Each publisher's deliveries go out on their own: while one publisher's
/// endpoint takes the request and never answers, another's event arrives,
/// before the hung delivery gives up.
#[test]
fn one_publishers_dead_endpoint_never_delays_anothers() {
    let (studio_shelf, rival_shelf) = (Shelf::approved(), Shelf::approved());
    let receiver = Receiver::start(0);
    // Takes each connection and never answers; says when the client gave up.
    let hanging = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hanging_url = format!("http://{}/hook", hanging.local_addr().unwrap());
    let (accepted, accepted_rx) = std::sync::mpsc::channel::<()>();
    let closed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let closed_by_client = Arc::clone(&closed);
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = hanging.accept() {
            let _ = accepted.send(());
            let mut buffer = [0u8; 4096];
            while matches!(std::io::Read::read(&mut stream, &mut buffer), Ok(n) if n > 0) {}
            closed_by_client.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let server = Server::start_with(|c| {
        c.allow_private_webhooks = true;
        c.webhook_poll = Duration::from_millis(50);
        c.webhook_attempts = 1;
    });
    let studio_manifest = studio_shelf.export();
    let studio = publisher_with(&server, &studio_shelf, "studio", &studio_manifest);
    studio
        .post(
            "/v1/webhooks",
            &json!({"url": hanging_url, "secret": SECRET}),
        )
        .expect(201, "");
    let rival_manifest = rival_shelf.export();
    let rival = publisher_with(&server, &rival_shelf, "rival", &rival_manifest);
    rival
        .post(
            "/v1/webhooks",
            &json!({"url": receiver.url, "secret": SECRET}),
        )
        .expect(201, "");

    // The studio's event first, so a single queue would send it first.
    list_for_sale(&studio, &studio_manifest);
    accepted_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the studio's delivery to reach its endpoint");
    list_for_sale(&rival, &rival_manifest);
    assert_eq!(
        receiver.wait_for(1).len(),
        1,
        "the rival's event never came"
    );
    assert!(
        !closed.load(std::sync::atomic::Ordering::SeqCst),
        "the rival's event came only after the studio's hung delivery gave up"
    );
}

/// A receiver over HTTPS (`https_receiver.py`, Python's own TLS server)
/// with a certificate for `localhost` signed by a CA of its own.
struct HttpsReceiver {
    url: String,
    /// The CA that signed the receiver's certificate.
    ca: std::path::PathBuf,
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    _ca: TestCa,
}

impl HttpsReceiver {
    fn start() -> HttpsReceiver {
        use std::io::BufRead as _;
        use std::process::{Command, Stdio};
        let ca = TestCa::new();
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/market/https_receiver.py"
        );
        let mut command = Command::new("python3");
        command
            .arg(script)
            .arg(&ca.cert)
            .arg(&ca.key)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = assay_deadline::spawn(&mut command, "the HTTPS receiver").unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        let port = lines
            .recv_timeout(crate::support::SERVER_LIMIT)
            .expect("the HTTPS receiver to print its port");
        HttpsReceiver {
            url: format!("https://localhost:{port}/hook"),
            ca: ca.ca.clone(),
            child,
            lines,
            _ca: ca,
        }
    }

    /// The next delivery's headers and body, waiting up to `limit`.
    fn next(&self, limit: Duration) -> Option<(Value, String)> {
        let line = self.lines.recv_timeout(limit).ok()?;
        let got: Value = serde_json::from_str(&line).unwrap();
        Some((
            got["headers"].clone(),
            got["body"].as_str().unwrap().to_owned(),
        ))
    }
}

impl Drop for HttpsReceiver {
    fn drop(&mut self) {
        assay_deadline::stop(&mut self.child);
    }
}

/// Deliveries go over HTTPS with the system's roots: a receiver whose
/// certificate they trust gets the event, signed; one they do not trust
/// gets nothing, and its delivery fails naming the certificate.
#[test]
fn events_reach_an_https_receiver_only_when_its_certificate_is_trusted() {
    let trusted = HttpsReceiver::start();
    let stranger = HttpsReceiver::start();
    // The system's roots, as the market reads them, are the trusted
    // receiver's CA alone (rustls-native-certs reads SSL_CERT_FILE
    // instead of the system's store when it is set). This test runs in a
    // process of its own (nextest).
    std::env::set_var("SSL_CERT_FILE", &trusted.ca);
    std::env::remove_var("SSL_CERT_DIR");
    let shelf = Shelf::approved();
    let server = Server::start_with(|c| {
        c.allow_private_webhooks = true;
        c.webhook_poll = Duration::from_millis(50);
        c.webhook_first_retry = Duration::from_millis(50);
        c.webhook_attempts = 2;
    });
    let manifest = shelf.export();
    let publisher = publisher_with(&server, &shelf, "studio", &manifest);
    for url in [&trusted.url, &stranger.url] {
        publisher
            .post("/v1/webhooks", &json!({"url": url, "secret": SECRET}))
            .expect(201, "");
    }
    let listing_id = list_for_sale(&publisher, &manifest);
    let (headers, body) = trusted
        .next(Duration::from_secs(30))
        .expect("the trusted receiver to get the event");
    let mut map = HeaderMap::new();
    for (name, value) in headers.as_object().unwrap() {
        map.insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.as_str().unwrap().parse().unwrap(),
        );
    }
    verify(&map, body.as_bytes());
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["type"], "listing_created");
    assert_eq!(event["listing_id"], Value::from(listing_id));

    let failed = |hooks: &Value| {
        hooks["webhooks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["url"] == stranger.url.as_str() && h["failed"] == json!(1))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !failed(&publisher.get("/v1/webhooks").expect(200, "").json()) {
        assert!(
            Instant::now() < deadline,
            "the untrusted delivery never failed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(stranger.next(Duration::ZERO).is_none());
    assert!(
        trusted.next(Duration::from_millis(300)).is_none(),
        "sent once"
    );
}
