//! Measures the marketplace on loopback against the real server
//! (`assay_market::Market`, in this process on `127.0.0.1:0`, two worker
//! threads as in the tests), in one run:
//!
//! 1. Sync throughput: `assay_market_client::sync` of a library of
//!    generated files (random bytes, cached) to a fresh server, beside the
//!    peer, plain `curl` uploading the same files to another fresh server
//!    with tus in one request per file: `curl -X POST` creating the upload,
//!    then one `curl -X PATCH --data-binary @file`. curl's clock starts
//!    once its publisher's key and manifest are posted; sync's covers
//!    everything it does (key, manifest, uploads, listing, records).
//!    Rounds alternate; medians are reported.
//! 2. Resume overhead: a sync through a loopback proxy that cuts every
//!    connection in the middle of a PATCH and then refuses new ones, so the
//!    sync fails; then the proxy passes traffic again and a second sync
//!    finishes. The bytes the client put on the wire in both, less those
//!    of an uninterrupted sync through the same proxy, are what the
//!    interruption cost, counted in chunks.
//! 3. Listing reads: `wrk` with 64 connections on `GET /v1/listings` (not
//!    rate-limited; only previews and samples are) with a buyer's token,
//!    undisturbed and, alternating with it, while `--trickling` other
//!    connections hold the server the way slowloris peers do (silent,
//!    headers a byte at a time, a JSON body a byte at a time; each one the
//!    server cuts off is opened again).
//!
//! Usage: assay-market-bench [--files N] [--mb M] [--rounds R] [--wrk-seconds S]
//! [--wrk-rounds W] [--trickling T] [--listings-only] [--cache DIR]
//!
//! `--listings-only` makes one sync for the listing and measures the reads
//! alone.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use assay_bench::machine::Machine;
use assay_bench::market::{ensure_files, http_get, run_wrk, Shelf, Wrk};
use assay_bench::stats::{max, median, min};
use assay_core::Job;
use assay_deadline::OutputWithin;
use assay_market::{add_account, Config, Market, Records};
use assay_market_client::{Price, Retry, SyncEvent, SyncOptions};
use assay_market_proto::Role;
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Generated files in the library.
    #[arg(long, default_value_t = 20)]
    files: usize,
    /// Size of each file, in MB (10^6 bytes).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u64).range(1..))]
    mb: u64,
    /// Rounds of sync and of curl, alternating.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    rounds: u16,
    /// How long wrk reads listings.
    #[arg(long, default_value_t = 10)]
    wrk_seconds: u32,
    /// Rounds of wrk undisturbed and wrk beside the trickling peers,
    /// alternating.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    wrk_rounds: u16,
    /// Connections trickling bytes while wrk reads.
    #[arg(long, default_value_t = 500)]
    trickling: usize,
    /// Only the listing reads (after one sync that makes the listing).
    #[arg(long)]
    listings_only: bool,
    #[arg(long)]
    cache: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cache = assay_bench::cache_dir(args.cache.clone())?;
    let machine = Machine::detect();
    let size = args.mb * 1_000_000;
    let dir = ensure_files(&cache, args.files, size)?;
    let total = args.files as u64 * size;
    let scratch = tempfile::tempdir_in(&cache)?;
    eprintln!("importing {} files ({total} bytes)", args.files);
    let shelf = Shelf::approved(scratch.path(), &dir, args.files)?;
    let options = SyncOptions {
        price: Some(Price {
            minor: 5000,
            currency: "EUR".into(),
        }),
        ..SyncOptions::default()
    };
    let chunk = options.chunk_size as u64;

    // 1. Sync beside curl, each on a fresh server, alternating.
    let (mut sync_times, mut curl_times) = (Vec::new(), Vec::new());
    let mut listed = None;
    let rounds = if args.listings_only { 1 } else { args.rounds };
    for round in 0..usize::from(rounds) {
        let server = Server::start(scratch.path())?;
        let name = format!("sync{round}");
        shelf.add_market(&name, &server.url, &server.account(&name, Role::Publisher)?)?;
        let started = Instant::now();
        let report = shelf.sync(&name, &options)?;
        sync_times.push(started.elapsed().as_secs_f64());
        anyhow::ensure!(
            report.files_uploaded == args.files && report.bytes_sent == total,
            "sync uploaded {} files, {} bytes",
            report.files_uploaded,
            report.bytes_sent
        );
        // The first server, with its listing, serves the listing reads.
        if listed.is_none() {
            listed = Some(server);
        } else {
            drop(server);
        }
        if args.listings_only {
            break;
        }

        let server = Server::start(scratch.path())?;
        let token = server.account("peer", Role::Publisher)?;
        let (manifest_id, assets) = shelf.manifest_on(&server.url, &token)?;
        let started = Instant::now();
        for (asset_id, file_name, length) in &assets {
            curl_upload(
                &server.url,
                &token,
                &manifest_id,
                asset_id,
                &dir.join(file_name),
                *length,
            )?;
        }
        curl_times.push(started.elapsed().as_secs_f64());
        drop(server);
        eprintln!(
            "round {}: sync {:.3} s, curl {:.3} s",
            round + 1,
            sync_times[round],
            curl_times[round]
        );
    }

    // 2. Resume: an uninterrupted sync through the proxy, then one cut short.
    let resume = if args.listings_only {
        None
    } else {
        Some(measure_resume(&shelf, scratch.path(), &options, total)?)
    };

    // 3. Listing reads under wrk, undisturbed and beside trickling peers.
    let server = listed.context("no rounds ran")?;
    let buyer = server.account("buyer", Role::Buyer)?;
    let trickler_token = server.account("trickler", Role::Publisher)?;
    let url = format!("{}/v1/listings", server.url);
    let page = http_get(&url, &buyer)?;
    let listings = page["listings"].as_array().map_or(0, Vec::len);
    let (mut undisturbed, mut trickled) = (Vec::new(), Vec::new());
    let mut reopened = 0;
    for round in 0..args.wrk_rounds {
        eprintln!(
            "round {}: wrk on {url} ({listings} listing) for {} s, undisturbed",
            round + 1,
            args.wrk_seconds
        );
        undisturbed.push(run_wrk(&url, &buyer, args.wrk_seconds)?);
        let trickler = Trickler::start(server.address, &trickler_token, args.trickling)?;
        eprintln!("... and beside {} trickling connections", args.trickling);
        trickled.push(run_wrk(&url, &buyer, args.wrk_seconds)?);
        reopened += trickler.stop();
    }
    drop(server);

    println!(
        "Machine: {}, {} cores, load {}; {}",
        machine.cpu, machine.cores, machine.load, machine.os
    );
    if let Some(resume) = resume {
        print_sync(&args, total, chunk, &sync_times, &curl_times, &resume);
    }
    println!(
        "\n| Listing reads (wrk -t2 -c64 -d{}s, GET /v1/listings, {listings} listing; median of {} rounds) | Undisturbed | Beside {} trickling connections |",
        args.wrk_seconds, args.wrk_rounds, args.trickling
    );
    println!("|---|---:|---:|");
    let rates = |runs: &[Wrk]| {
        runs.iter()
            .map(|w| w.requests_per_second)
            .collect::<Vec<_>>()
    };
    let (calm, held) = (rates(&undisturbed), rates(&trickled));
    println!(
        "| requests/s | {:.0} ({:.0}-{:.0}) | {:.0} ({:.0}-{:.0}) |",
        median(&calm),
        min(&calm),
        max(&calm),
        median(&held),
        min(&held),
        max(&held)
    );
    let middle = |runs: &[Wrk]| -> Wrk {
        let mut sorted: Vec<&Wrk> = runs.iter().collect();
        sorted.sort_by(|a, b| a.requests_per_second.total_cmp(&b.requests_per_second));
        sorted[sorted.len() / 2].clone()
    };
    let (a, b) = (middle(&undisturbed), middle(&trickled));
    println!("| latency mean (median round) | {} | {} |", a.mean, b.mean);
    println!("| latency p50 | {} | {} |", a.p50, b.p50);
    println!("| latency p99 | {} | {} |", a.p99, b.p99);
    let non_2xx = |runs: &[Wrk]| runs.iter().map(|w| w.non_2xx).sum::<u64>();
    println!(
        "| non-2xx responses, all rounds | {} | {} |",
        non_2xx(&undisturbed),
        non_2xx(&trickled)
    );
    println!("| trickling connections the server cut off and the peers reopened | | {reopened} |");
    println!(
        "\nTrickled / undisturbed requests/s: {:.2}x (target at least 0.8x)",
        median(&held) / median(&calm)
    );
    Ok(())
}

fn print_sync(
    args: &Args,
    total: u64,
    chunk: u64,
    sync_times: &[f64],
    curl_times: &[f64],
    resume: &Resume,
) {
    let mb = total as f64 / 1e6;
    let (s, c) = (median(sync_times), median(curl_times));
    println!(
        "Files: {} of {} MB random bytes ({mb:.0} MB); chunk {} MiB; median of {} rounds each\n",
        args.files,
        args.mb,
        chunk >> 20,
        args.rounds
    );
    println!("| Measurement | Median (s) | Range (s) | Throughput |");
    println!("|---|---:|---:|---:|");
    for (name, times, median) in [
        (
            "assay sync (key, manifest, tus chunks with SHA-256, listing, records)",
            sync_times,
            s,
        ),
        ("peer: curl, tus POST + one PATCH per file", curl_times, c),
    ] {
        println!(
            "| {name} | {median:.3} | {:.3}-{:.3} | {:.0} MB/s |",
            min(times),
            max(times),
            mb / median
        );
    }
    println!(
        "\nSync / curl throughput: {:.2}x (target at least 0.8x)\n",
        c / s
    );
    println!("| Resume | Bytes |");
    println!("|---|---:|");
    println!(
        "| upstream, uninterrupted sync through the proxy | {} |",
        resume.baseline
    );
    println!(
        "| upstream when the proxy cut (target offset {}) | {} |",
        resume.cut_at, resume.cut_wire
    );
    println!(
        "| acknowledged to the client before the cut | {} |",
        resume.acked
    );
    println!(
        "| upstream, cut sync + resumed sync | {} |",
        resume.resumed_wire
    );
    println!(
        "| re-sent on the wire beyond the uninterrupted sync | {} ({:.3} chunks; target at most 1) |",
        resume.extra,
        resume.extra as f64 / chunk as f64
    );
    println!(
        "| re-sent as the client counts (acknowledged + second sync - files) | {} |",
        resume.counted_again
    );
}

/// What a sync cut off in the middle of a chunk and then resumed put on
/// the wire, beside an uninterrupted sync through the same proxy.
struct Resume {
    baseline: u64,
    cut_at: u64,
    cut_wire: u64,
    acked: u64,
    resumed_wire: u64,
    extra: u64,
    counted_again: u64,
}

fn measure_resume(
    shelf: &Shelf,
    scratch: &Path,
    options: &SyncOptions,
    total: u64,
) -> anyhow::Result<Resume> {
    let chunk = options.chunk_size as u64;
    let quick = SyncOptions {
        retry: Retry {
            attempts: 2,
            first_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
        },
        ..options.clone()
    };
    let baseline = {
        let server = Server::start(scratch)?;
        let proxy = Proxy::start(server.address)?;
        shelf.add_market(
            "baseline",
            &proxy.url,
            &server.account("baseline", Role::Publisher)?,
        )?;
        let report = shelf.sync("baseline", &quick)?;
        anyhow::ensure!(report.bytes_sent == total, "baseline sync: {report:?}");
        proxy.upstream.load(Ordering::SeqCst)
    };
    eprintln!("baseline sync through the proxy: {baseline} bytes upstream");
    let server = Server::start(scratch)?;
    let proxy = Proxy::start(server.address)?;
    // In the middle of a chunk, some 40% of the way.
    let cut_at = total * 2 / 5 + chunk / 2;
    proxy.cut_at.store(cut_at, Ordering::SeqCst);
    shelf.add_market(
        "resume",
        &proxy.url,
        &server.account("resume", Role::Publisher)?,
    )?;
    let mut acked = 0;
    let first = assay_market_client::sync(
        &shelf.library,
        &shelf.rosa,
        Some("resume"),
        &quick,
        &mut Job::quiet(),
        &mut |e| {
            if let SyncEvent::Bytes { sent, .. } = e {
                acked = *sent;
            }
        },
    );
    anyhow::ensure!(first.is_err(), "the cut sync finished: {first:?}");
    let cut_wire = proxy.upstream.load(Ordering::SeqCst);
    eprintln!(
        "cut after {cut_wire} bytes upstream ({acked} acknowledged): {}",
        first.err().map(|e| e.to_string()).unwrap_or_default()
    );
    proxy.cut_at.store(u64::MAX, Ordering::SeqCst);
    proxy.cut.store(false, Ordering::SeqCst);
    let second = shelf.sync("resume", &quick)?;
    anyhow::ensure!(
        second.listings_created == 1 && acked + second.bytes_sent >= total,
        "the resumed sync: {second:?}"
    );
    let resumed_wire = proxy.upstream.load(Ordering::SeqCst);
    let extra = resumed_wire.saturating_sub(baseline);
    // What the client counted: acknowledged before the cut, sent after it
    // (bytes of the cut PATCH the server kept count as sent by the second).
    let counted_again = (acked + second.bytes_sent).saturating_sub(total);
    drop(proxy);
    drop(server);

    Ok(Resume {
        baseline,
        cut_at,
        cut_wire,
        acked,
        resumed_wire,
        extra,
        counted_again,
    })
}

/// The peer: creates the upload with curl, then sends the file in one PATCH.
fn curl_upload(
    base: &str,
    token: &str,
    manifest_id: &str,
    asset_id: &str,
    file: &Path,
    length: u64,
) -> anyhow::Result<()> {
    use assay_market_proto::tus::{self, UploadMetadata};
    let auth = format!("Authorization: Bearer {token}");
    let metadata = UploadMetadata {
        manifest_id: manifest_id.to_owned(),
        file: tus::UploadFile::Asset(asset_id.to_owned()),
    };
    let created = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-D", "-", "-X", "POST"])
        .args(["-H", &auth])
        .args(["-H", &format!("{}: {}", tus::TUS_RESUMABLE, tus::VERSION)])
        .args(["-H", &format!("{}: {length}", tus::UPLOAD_LENGTH)])
        .args([
            "-H",
            &format!("{}: {}", tus::UPLOAD_METADATA, metadata.to_header()),
        ])
        .arg(format!("{base}{}", tus::UPLOADS_PATH))
        .output_within(assay_bench::TOOL_LIMIT)
        .context("running curl")?;
    let head = String::from_utf8_lossy(&created.stdout).into_owned();
    let location = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("location")
                .then(|| value.trim().to_owned())
        })
        .with_context(|| format!("POST {}: no Location in {head:?}", tus::UPLOADS_PATH))?;
    let url = if location.starts_with("http") {
        location
    } else {
        format!("{base}{location}")
    };
    let patched = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "PATCH",
        ])
        .args(["-H", &auth])
        .args(["-H", &format!("{}: {}", tus::TUS_RESUMABLE, tus::VERSION)])
        .args(["-H", &format!("{}: 0", tus::UPLOAD_OFFSET)])
        .args(["-H", &format!("Content-Type: {}", tus::OFFSET_OCTET_STREAM)])
        // No `Expect: 100-continue` round trip: the peer at its best.
        .args(["-H", "Expect:"])
        .arg("--data-binary")
        .arg(format!("@{}", file.display()))
        .arg(&url)
        .output_within(assay_bench::TOOL_LIMIT)
        .context("running curl")?;
    let status = String::from_utf8_lossy(&patched.stdout).into_owned();
    anyhow::ensure!(status == "204", "PATCH {url}: {status}");
    Ok(())
}

/// Connections that hold the server the way slowloris peers do, from one
/// thread: a third open and say nothing, a third send a request's headers
/// a byte at a time, a third announce a 100 kB JSON body and send it a
/// byte at a time; every 100 ms each gets one more byte. One the server
/// cuts off is opened again at once, so the count holds.
struct Trickler {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl Trickler {
    fn start(address: SocketAddr, token: &str, count: usize) -> anyhow::Result<Trickler> {
        let open = {
            let token = token.to_owned();
            move |i: usize| -> std::io::Result<TcpStream> {
                let mut stream = TcpStream::connect(address)?;
                let head = match i % 3 {
                    0 => String::new(),
                    1 => format!("GET /v1/listings HTTP/1.1\r\nHost: {address}\r\nX-Slow: "),
                    _ => format!(
                        "POST /v1/listings HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{"
                    ),
                };
                stream.write_all(head.as_bytes())?;
                stream.set_nonblocking(true)?;
                Ok(stream)
            }
        };
        let mut peers = (0..count).map(&open).collect::<std::io::Result<Vec<_>>>()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut reopened = 0;
            let mut buffer = [0u8; 4096];
            while !stopping.load(Ordering::SeqCst) {
                for (i, peer) in peers.iter_mut().enumerate() {
                    let byte: &[u8] = [&b""[..], b"a", b" "][i % 3];
                    let mut cut = peer.write_all(byte).is_err();
                    while !cut {
                        match peer.read(&mut buffer) {
                            Ok(0) => cut = true,
                            Ok(_) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                            Err(_) => cut = true,
                        }
                    }
                    if cut {
                        if let Ok(again) = open(i) {
                            *peer = again;
                            reopened += 1;
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            reopened
        });
        Ok(Trickler {
            stop,
            thread: Some(thread),
        })
    }

    /// Closes every connection; how many the server had cut off.
    fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

/// A marketplace server on its own data folder and a free loopback port,
/// serving from a thread of its own until dropped.
struct Server {
    url: String,
    address: SocketAddr,
    records: Arc<dyn Records>,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl Server {
    fn start(scratch: &Path) -> anyhow::Result<Server> {
        let dir = tempfile::tempdir_in(scratch)?;
        let market = Market::open(Config::new(dir.path().join("data")))?;
        let records = Arc::clone(market.records());
        let (bound, bound_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                bound.send(listener.local_addr()?)?;
                market
                    .serve(listener, async {
                        let _ = stopped.await;
                    })
                    .await?;
                Ok(())
            })
        });
        let address = bound_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .context("the server did not start listening within 30 s")?;
        Ok(Server {
            url: format!("http://{address}"),
            address,
            records,
            _dir: dir,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// A new account's token.
    fn account(&self, name: &str, role: Role) -> anyhow::Result<String> {
        Ok(add_account(&*self.records, name, role)?.1)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            match thread.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => eprintln!("server: {e:#}"),
                Err(_) => eprintln!("server thread panicked"),
            }
        }
    }
}

/// A TCP proxy in front of a server that counts the bytes clients send and,
/// once they pass `cut_at`, cuts every connection and refuses new ones
/// until `cut` is cleared.
struct Proxy {
    url: String,
    upstream: Arc<AtomicU64>,
    cut_at: Arc<AtomicU64>,
    cut: Arc<AtomicBool>,
}

impl Proxy {
    fn start(server: SocketAddr) -> anyhow::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let upstream = Arc::new(AtomicU64::new(0));
        let cut_at = Arc::new(AtomicU64::new(u64::MAX));
        let cut = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (up, at, gate) = (upstream.clone(), cut_at.clone(), cut.clone());
        // Lives as long as the process; a few idle threads at most.
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if gate.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(backend) = TcpStream::connect(server) else {
                    continue;
                };
                let (Ok(c2), Ok(b2)) = (client.try_clone(), backend.try_clone()) else {
                    continue;
                };
                if let Ok(mut list) = open.lock() {
                    list.retain(|s| s.peer_addr().is_ok());
                    for s in [&client, &backend] {
                        if let Ok(s) = s.try_clone() {
                            list.push(s);
                        }
                    }
                }
                let (up, at, gate, open) = (up.clone(), at.clone(), gate.clone(), open.clone());
                std::thread::spawn(move || {
                    pump(client, backend, |n| {
                        let sent = up.fetch_add(n, Ordering::SeqCst) + n;
                        if sent >= at.load(Ordering::SeqCst) && !gate.swap(true, Ordering::SeqCst) {
                            if let Ok(list) = open.lock() {
                                for s in list.iter() {
                                    let _ = s.shutdown(Shutdown::Both);
                                }
                            }
                        }
                        !gate.load(Ordering::SeqCst)
                    })
                });
                std::thread::spawn(move || pump(b2, c2, |_| true));
            }
        });
        Ok(Proxy {
            url,
            upstream,
            cut_at,
            cut,
        })
    }
}

/// Copies `from` to `to` while `go` (told each read's length) agrees.
fn pump(mut from: TcpStream, mut to: TcpStream, mut go: impl FnMut(u64) -> bool) {
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() || !go(n as u64) {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
