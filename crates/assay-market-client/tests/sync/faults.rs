//! Faults: the server stopped mid-upload and started again on the same
//! data, and a network that drops connections mid-request and answers
//! 500. The sync finishes with every file verified and no finished byte
//! sent twice.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use assay_core::Job;
use assay_market_client::{Error, SyncEvent};

use crate::support::{options, Server, Shelf};

#[test]
fn a_sync_stopped_by_a_restart_resumes_from_the_recorded_offset() {
    let mut server = Server::start();
    let shelf = Shelf::approved();
    shelf.add_market(&server);
    let total: u64 = shelf.sizes().iter().map(|(_, size)| size).sum();
    let chunk = 8 << 10;

    // The server goes down once the first chunk of the first file is in.
    let mut first: Option<(String, u64)> = None;
    let result = assay_market_client::sync(
        &shelf.library,
        &shelf.rosa,
        None,
        &options(chunk),
        &mut Job::quiet(),
        &mut |e| {
            if let (
                None,
                SyncEvent::Bytes {
                    asset_id, offset, ..
                },
            ) = (&first, e)
            {
                first = Some((asset_id.clone(), *offset));
                server.stop();
            }
        },
    );
    assert!(
        matches!(result, Err(Error::Unreachable { .. })),
        "{result:?}"
    );
    let (asset_id, offset) = first.unwrap();
    assert_eq!(offset, chunk as u64);
    let recorded = shelf
        .library
        .market_upload("main", &asset_id)
        .unwrap()
        .unwrap();
    assert_eq!((recorded.offset, recorded.finished), (offset, false));

    server.resume();
    let mut resumed_at = None;
    let report = assay_market_client::sync(
        &shelf.library,
        &shelf.rosa,
        None,
        &options(chunk),
        &mut Job::quiet(),
        &mut |e| {
            if let SyncEvent::Bytes {
                asset_id: a,
                offset,
                ..
            } = e
            {
                if *a == asset_id && resumed_at.is_none() {
                    resumed_at = Some(*offset);
                }
            }
        },
    )
    .unwrap();
    // Only what the server did not hold was sent.
    assert_eq!(report.bytes_sent, total - offset);
    assert_eq!(resumed_at, Some(offset + chunk as u64));
    assert_eq!((report.files_uploaded, report.listings_created), (3, 1));
    assert_eq!(server.count("blobs"), 3);

    // Finished files are never sent again.
    let again = crate::support::sync(&shelf, &options(chunk)).0.unwrap();
    assert_eq!(again.bytes_sent, 0);
}

#[test]
fn dropped_connections_and_500s_are_retried() {
    let server = Server::start();
    let shelf = Shelf::approved();
    let token = shelf.add_market(&server);
    let total: u64 = shelf.sizes().iter().map(|(_, size)| size).sum();
    // The library talks to the server through a faulty network.
    let proxy = Flaky::start(&server.url);
    let conn = rusqlite::Connection::open(shelf.library.root().join("library.db")).unwrap();
    conn.execute("UPDATE markets SET url = ?1", [&proxy.url])
        .unwrap();

    let mut options = options(8 << 10);
    options.retry.attempts = 8;
    let (report, _) = crate::support::sync(&shelf, &options);
    let report = report.unwrap();
    assert!(proxy.faults.load(Ordering::Relaxed) > 3);
    assert_eq!((report.files_uploaded, report.listings_created), (3, 1));
    // Bytes the server acknowledged add up to the files, once each.
    assert_eq!(report.bytes_sent, total);
    assert_eq!(server.count("blobs"), 3);
    let listings = server.get(&token, "/v1/listings");
    assert_eq!(listings["listings"][0]["complete"], serde_json::json!(true));
}

/// A TCP relay to the server that answers 500 on every third connection
/// and cuts every other one after 20 KiB from the client, mid-request,
/// unless it carries a preview PUT (a preview is one request larger than
/// the budget; cutting it every time would be a network nothing crosses).
struct Flaky {
    url: String,
    faults: Arc<AtomicUsize>,
}

impl Flaky {
    fn start(upstream: &str) -> Flaky {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let faults = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&faults);
        std::thread::spawn(move || {
            for (n, client) in listener.incoming().enumerate() {
                let Ok(mut client) = client else { return };
                let faults = Arc::clone(&counted);
                let upstream = upstream.clone();
                std::thread::spawn(move || {
                    if n % 3 == 1 {
                        faults.fetch_add(1, Ordering::Relaxed);
                        let mut head = [0u8; 1024];
                        let _ = client.read(&mut head);
                        let body = r#"{"code":"internal","message":"injected"}"#;
                        let _ = write!(
                            client,
                            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        return;
                    }
                    let Ok(server) = TcpStream::connect(&upstream) else {
                        return;
                    };
                    relay(client, server, 20 << 10, &faults);
                });
            }
        });
        Flaky { url, faults }
    }
}

/// Copies both ways; cuts both once `budget` bytes went upstream, unless a
/// preview PUT starts (a client writes each request's head at the start of
/// a write, after the previous answer).
fn relay(client: TcpStream, server: TcpStream, mut budget: usize, faults: &AtomicUsize) {
    let (mut from_client, mut to_server) =
        (client.try_clone().unwrap(), server.try_clone().unwrap());
    let (mut from_server, mut to_client) = (server, client);
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Both);
    });
    let mut buf = [0u8; 4096];
    let mut sent = 0;
    loop {
        let n = match from_client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if buf[..n].starts_with(b"PUT ") {
            budget = usize::MAX;
        }
        let n = n.min(budget - sent);
        if to_server.write_all(&buf[..n]).is_err() {
            break;
        }
        sent += n;
        if sent >= budget {
            faults.fetch_add(1, Ordering::Relaxed);
            break;
        }
    }
    let _ = to_server.shutdown(Shutdown::Both);
    let _ = from_client.shutdown(Shutdown::Both);
    let _ = back.join();
}
