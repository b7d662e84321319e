//! Peers that hold connections on purpose, on raw sockets: headers and
//! bodies sent a byte at a time, connections opened and left silent,
//! downloads never read. Each is cut off by its deadline while the market
//! keeps answering everyone else, and shutdown does not wait for them.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use assay_market::ConnectionLimits;
use assay_market_proto::Role;
use sha2::{Digest, Sha256};

use crate::support::{entries, listed, publisher_with, Client, Server, Shelf};

/// Short deadlines, so the tests see them pass.
fn short_limits() -> ConnectionLimits {
    ConnectionLimits {
        header_read: Duration::from_secs(2),
        body_idle: Duration::from_secs(2),
        body_min_rate: 1000,
        write_stall: Duration::from_secs(2),
        shutdown_grace: Duration::from_secs(2),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Trickle {
    /// Connects and sends nothing.
    Silent,
    /// A request line, then a header a byte at a time, never ending.
    Headers,
    /// A whole head announcing a large JSON body, then the body a byte
    /// (of whitespace) at a time.
    Body,
}

/// A raw connection trickling bytes until the server cuts it off.
struct Peer {
    stream: TcpStream,
    trickle: Trickle,
    /// When the server was seen to close it.
    cut: Option<Instant>,
}

impl Peer {
    fn open(address: &str, trickle: Trickle, token: &str) -> Peer {
        let mut stream = TcpStream::connect(address).unwrap();
        let head = match trickle {
            Trickle::Silent => String::new(),
            Trickle::Headers => format!("GET /v1/listings HTTP/1.1\r\nHost: {address}\r\nX-Slow: "),
            Trickle::Body => format!(
                "POST /v1/listings HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{"
            ),
        };
        stream.write_all(head.as_bytes()).unwrap();
        stream.set_nonblocking(true).unwrap();
        Peer {
            stream,
            trickle,
            cut: None,
        }
    }

    /// One more byte, and whether the server has closed the connection
    /// (an answer it sent before closing is read and dropped).
    fn tick(&mut self) {
        if self.cut.is_some() {
            return;
        }
        let byte: &[u8] = match self.trickle {
            Trickle::Silent => b"",
            Trickle::Headers => b"a",
            Trickle::Body => b" ",
        };
        if self.stream.write_all(byte).is_err() {
            self.cut = Some(Instant::now());
            return;
        }
        let mut buffer = [0u8; 4096];
        loop {
            match self.stream.read(&mut buffer) {
                Ok(0) => break self.cut = Some(Instant::now()),
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => break self.cut = Some(Instant::now()),
            }
        }
    }
}

/// 500 connections trickle headers and bodies or say nothing at all; the
/// market answers a buyer's reads meanwhile, and every trickling
/// connection is cut off once its deadline passes (not at once: they are
/// held first, as a slow real client would be).
#[test]
fn trickling_peers_are_cut_off_while_the_market_answers_others() {
    let shelf = Shelf::approved();
    // Deadlines long enough that opening 500 sockets and a first read fit
    // well inside them on a loaded machine, short enough to watch pass.
    let limit = Duration::from_secs(5);
    let server = Server::start_with(|c| {
        c.connections = ConnectionLimits {
            header_read: limit,
            body_idle: limit,
            ..short_limits()
        }
    });
    let sale = listed(&server, &shelf, "studio", None);
    let buyer = server.account("lab", Role::Buyer);
    let address = server.address().to_owned();
    let token = sale.publisher.token().to_owned();
    let started = Instant::now();
    let mut peers: Vec<Peer> = (0..500)
        .map(|i| {
            let trickle = [Trickle::Silent, Trickle::Headers, Trickle::Body][i % 3];
            Peer::open(&address, trickle, &token)
        })
        .collect();
    let trickler = std::thread::spawn(move || {
        let deadline = started + Duration::from_secs(40);
        while peers.iter().any(|p| p.cut.is_none()) && Instant::now() < deadline {
            for peer in &mut peers {
                peer.tick();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        peers
    });
    let mut answered = Vec::new();
    for _ in 0..20 {
        let page = buyer.get("/v1/listings").expect(200, "").json();
        assert_eq!(page["listings"].as_array().unwrap().len(), 1);
        buyer
            .get(&format!("/v1/listings/{}", sale.listing_id))
            .expect(200, "");
        answered.push(started.elapsed());
    }
    let peers = trickler.join().unwrap();
    for trickle in [Trickle::Silent, Trickle::Headers, Trickle::Body] {
        let of_kind: Vec<&Peer> = peers.iter().filter(|p| p.trickle == trickle).collect();
        let held: Vec<Duration> = of_kind
            .iter()
            .map(|p| {
                p.cut
                    .unwrap_or_else(|| panic!("a {trickle:?} peer was never cut off"))
                    - started
            })
            .collect();
        let (first, last) = (held.iter().min().unwrap(), held.iter().max().unwrap());
        // Held until the deadline, then let go: opening 500 sockets and
        // the ticks' 100 ms make the slack.
        assert!(
            *first >= limit - Duration::from_millis(500),
            "{trickle:?} cut off after {first:?}, before its deadline"
        );
        assert!(
            *last < limit + Duration::from_secs(15),
            "{trickle:?} held for {last:?}"
        );
    }
    // The market answered while every peer was still held.
    let first_cut = peers.iter().filter_map(|p| p.cut).min().unwrap() - started;
    assert!(
        answered[0] < first_cut,
        "the buyer's first reads were answered after {:?}, once a peer was cut off at {first_cut:?}",
        answered[0]
    );
    // Nothing the trickled bodies announced was stored.
    assert_eq!(server.count("listings"), 1);
}

/// A WAV file larger than the socket buffers on both sides, so a download
/// nobody reads stalls the server's writes.
pub(crate) fn long_wav(bytes: usize) -> Vec<u8> {
    let data = bytes - 44;
    let mut wav = Vec::with_capacity(bytes);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(bytes as u32 - 8).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&44_100u32.to_le_bytes());
    wav.extend_from_slice(&88_200u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(data as u32).to_le_bytes());
    wav.extend((0..data).map(|i| (i % 251) as u8));
    wav
}

/// Lists `shelf` on `server` and buys it as a buyer; the buyer and the
/// download link of the file of `size` bytes (the WAV).
fn bought_wav(server: &Server, shelf: &Shelf, size: usize) -> (Client, String) {
    let sale = listed(server, shelf, "studio", None);
    let buyer = server.account("lab", Role::Buyer);
    let purchase = buyer.buy(&sale.listing_id).expect(201, "").json();
    let id = purchase["purchase_id"].as_str().unwrap();
    let files = buyer
        .get(&format!("/v1/purchases/{id}/files"))
        .expect(200, "")
        .json();
    let url = files["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["size_bytes"].as_u64() == Some(size as u64))
        .expect("the WAV among the purchase's files")["url"]
        .as_str()
        .unwrap()
        .to_owned();
    (buyer, url)
}

/// A raw download of `url` that reads the status line (the download began,
/// holding one of the buyer's slots) and then nothing more.
fn stalled_download(server: &Server, buyer: &Client, url: &str) -> TcpStream {
    let address = server.address();
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {url} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\r\n",
        buyer.token()
    )
    .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    stream
}

/// Two downloads of a large file that are never read (past their status
/// line) hold both of the buyer's download slots, so a third is refused;
/// once the write-stall deadline passes they are cut off, the slots come
/// back, and the buyer's next download is whole.
#[test]
fn a_download_nobody_reads_gives_back_its_slot() {
    let wav = long_wav(24 << 20);
    let shelf = Shelf::approved_with(&[("long.wav", &wav)]);
    let server = Server::start_with(|c| {
        // Long enough that the refusal below is seen, however loaded the
        // machine, before the stalled downloads are cut off.
        c.connections.write_stall = Duration::from_secs(5);
        c.downloads_at_once_per_account = 2;
    });
    let (buyer, url) = bought_wav(&server, &shelf, wav.len());
    let mut stalled: Vec<TcpStream> = (0..2)
        .map(|_| stalled_download(&server, &buyer, &url))
        .collect();
    buyer.get(&url).expect(429, "rate_limited");
    // After the stall deadline, both are cut off and a download is whole.
    let whole = assay_deadline::until("the slots to come back", Duration::from_secs(30), || {
        let reply = buyer.get(&url);
        (reply.status == 200).then_some(reply)
    })
    .unwrap();
    assert_eq!(whole.body.len(), wav.len());
    assert_eq!(
        whole.header("Assay-Sha256"),
        Some(format!("sha256:{}", hex::encode(Sha256::digest(&wav))))
    );
    // The stalled ones got part of the file, then the connection ended.
    for stream in &mut stalled {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut got = Vec::new();
        let _ = stream.read_to_end(&mut got);
        assert!(
            got.len() < wav.len(),
            "a stalled download received {} bytes",
            got.len()
        );
    }
}

/// Downloads nobody reads and chunks trickling in hold no thread the
/// market needs: with two blocking threads and the default deadlines (tens
/// of seconds), six stalled downloads and two trickling uploads leave the
/// listings answered at once. (When each held a blocking thread, the
/// listings waited for the write-stall deadline.)
#[test]
fn stalled_peers_hold_no_thread_the_market_needs() {
    let wav = long_wav(24 << 20);
    let shelf = Shelf::approved_with(&[("long.wav", &wav)]);
    let server = Server::start_with(|c| {
        c.blocking_threads = 2;
        c.downloads_at_once_per_account = 8;
    });
    let (buyer, url) = bought_wav(&server, &shelf, wav.len());
    let _stalled: Vec<TcpStream> = (0..6)
        .map(|_| stalled_download(&server, &buyer, &url))
        .collect();
    // Two chunks of another library's manifest, half sent.
    let other = Shelf::approved();
    let manifest = other.export();
    let publisher = publisher_with(&server, &other, "other-studio", &manifest);
    let (manifest_id, assets) = entries(&manifest);
    let _trickling: Vec<_> = assets
        .iter()
        .map(|asset| {
            let size = asset["size_bytes"].as_u64().unwrap();
            let location = publisher
                .create_upload(&manifest_id, asset["asset_id"].as_str().unwrap(), size)
                .expect(201, "")
                .header("Location")
                .unwrap();
            let bytes = other.file(asset);
            publisher.open_patch(&location, bytes.len(), &bytes[..bytes.len() / 2])
        })
        .collect();
    let reader = server.client(Some(buyer.token().to_owned()));
    let reads = std::thread::spawn(move || {
        for _ in 0..5 {
            reader.get("/v1/listings").expect(200, "");
        }
    });
    assay_deadline::until(
        "the listings to be answered",
        Duration::from_secs(15),
        || reads.is_finished().then_some(()),
    )
    .unwrap();
    reads.join().unwrap();
}

/// With the default deadlines (tens of seconds), connections in the middle
/// of a request still let the server stop within its grace period.
#[test]
fn shutdown_does_not_wait_for_peers_that_never_finish() {
    let shelf = Shelf::approved();
    let grace = Duration::from_secs(2);
    let server = Server::start_with(|c| c.connections.shutdown_grace = grace);
    let sale = listed(&server, &shelf, "studio", None);
    let address = server.address().to_owned();
    let token = sale.publisher.token().to_owned();
    let mut peers: Vec<Peer> = (0..300)
        .map(|i| {
            let trickle = [Trickle::Silent, Trickle::Headers, Trickle::Body][i % 3];
            Peer::open(&address, trickle, &token)
        })
        .collect();
    for peer in &mut peers {
        peer.tick();
    }
    let took = server.stop();
    assert!(
        took < grace + Duration::from_secs(3),
        "shutdown took {took:?} with a grace of {grace:?}"
    );
    // Every connection is closed now.
    for peer in &mut peers {
        peer.stream.set_nonblocking(false).unwrap();
        peer.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut rest = Vec::new();
        let closed = match peer.stream.read_to_end(&mut rest) {
            Ok(_) => true,
            Err(e) => e.kind() != ErrorKind::WouldBlock && e.kind() != ErrorKind::TimedOut,
        };
        assert!(closed, "a {:?} peer is still connected", peer.trickle);
    }
}
