//! Measures the marketplace as it is hosted: `assay-market serve` processes
//! (the release binary beside this one) on a throwaway PostgreSQL cluster
//! and moto's S3 server, both started here as the tests start them
//! (`assay_test_services`), beside one process on SQLite and a folder, in
//! one run:
//!
//! 1. Uploads to S3: `assay_market_client::sync` of a library of generated
//!    files (random bytes, cached) to one process on a fresh database and
//!    bucket prefix, beside the peer, `curl` putting the same files to the
//!    same S3 server (`--aws-sigv4`, one PUT per file), and beside the same
//!    sync to a process keeping its files in a folder. Rounds alternate;
//!    medians are reported.
//! 2. Listing reads: `wrk` with 64 connections on `GET /v1/listings` with a
//!    buyer's token, against one process on SQLite, one on PostgreSQL
//!    directly and through haproxy, and two on PostgreSQL behind haproxy
//!    (round robin). Configurations alternate within each round.
//! 3. Purchases: `--purchases` buyers each buy the listing and then
//!    confirm the download, `--clients` threads at once, every request sent
//!    twice at the same time (through each of the two processes on
//!    PostgreSQL; the SQLite process, the peer, gets both), as a client
//!    retrying through a load balancer would. Then every purchase, payout
//!    and payout event is counted, from the answers, the publisher's feed
//!    and, on PostgreSQL, the tables themselves: a payout lost or paid
//!    twice fails the run.
//!
//! Usage: assay-hosted-bench [--files N] [--mb M] [--rounds R]
//! [--wrk-seconds S] [--wrk-rounds W] [--purchases P] [--clients C]
//! [--parts uploads,reads,purchases] [--cache DIR]

use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use assay_bench::machine::Machine;
use assay_bench::market::{ensure_files, http_get, name_of, run_wrk, Shelf, Wrk};
use assay_bench::stats::{max, median, min};
use assay_deadline::OutputWithin;
use assay_market::{add_account, PostgresRecords, Records};
use assay_market_client::{Price, SyncOptions};
use assay_market_proto::Role;
use assay_test_services::postgres::Cluster;
use assay_test_services::s3::S3Server;
use clap::Parser;
use serde_json::Value;

#[derive(Parser)]
struct Args {
    /// Generated files in the library.
    #[arg(long, default_value_t = 20)]
    files: usize,
    /// Size of each file, in MB (10^6 bytes).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u64).range(1..))]
    mb: u64,
    /// Rounds of sync and of curl to S3, alternating.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    rounds: u16,
    /// How long wrk reads listings in each configuration and round.
    #[arg(long, default_value_t = 10)]
    wrk_seconds: u32,
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    wrk_rounds: u16,
    /// Buyers, each making one purchase.
    #[arg(long, default_value_t = 10_000)]
    purchases: usize,
    /// Client threads sending purchase requests at once.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// What to measure (the processes and their listing are made for any).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "uploads,reads,purchases"
    )]
    parts: Vec<Part>,
    #[arg(long)]
    cache: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Part {
    Uploads,
    Reads,
    Purchases,
}

/// Credentials for moto, which checks none; the processes read them as
/// AWS's own tools do.
const AWS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_REGION", "us-east-1"),
];

/// How long a process or haproxy may take to start listening.
const START_LIMIT: Duration = Duration::from_secs(60);

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cache = assay_bench::cache_dir(args.cache.clone())?;
    let machine = Machine::detect();
    let binary = market_binary()?;
    let size = args.mb * 1_000_000;
    let dir = ensure_files(&cache, args.files, size)?;
    let total = args.files as u64 * size;
    let scratch = tempfile::tempdir_in(&cache)?;
    eprintln!("importing {} files ({total} bytes)", args.files);
    let shelf = Shelf::approved(scratch.path(), &dir, args.files)?;
    let options = SyncOptions {
        price: Some(Price {
            minor: PRICE,
            currency: "EUR".into(),
        }),
        ..SyncOptions::default()
    };
    let cluster = Cluster::start().context("starting PostgreSQL")?;
    let s3 = S3Server::start("assay-market").context("starting moto's S3 server")?;

    // 1. Uploads: sync to a process on S3 beside curl to the same server,
    // and to a process keeping files in a folder (what S3 costs the sync).
    let (mut sync_times, mut folder_times, mut curl_times) = (Vec::new(), Vec::new(), Vec::new());
    let upload_rounds = if args.parts.contains(&Part::Uploads) {
        usize::from(args.rounds)
    } else {
        0
    };
    let timed_sync = |name: &str, blobs: &str| -> anyhow::Result<f64> {
        cluster.psql(&format!("CREATE DATABASE {name}"))?;
        let database = cluster.database_url(name);
        let process = Process::start(&binary, scratch.path(), Some(&database), Some(blobs))?;
        let records = PostgresRecords::open(&database)?;
        let token = add_account(&records, name, Role::Publisher)?.1;
        shelf.add_market(name, &process.url, &token)?;
        let started = Instant::now();
        let report = shelf.sync(name, &options)?;
        let seconds = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            report.files_uploaded == args.files && report.bytes_sent == total,
            "sync to {name} uploaded {} files, {} bytes",
            report.files_uploaded,
            report.bytes_sent
        );
        Ok(seconds)
    };
    for round in 0..upload_rounds {
        let name = format!("upload{round}");
        let blobs = format!("s3://{}/{name}?endpoint={}", s3.bucket(), s3.endpoint());
        sync_times.push(timed_sync(&name, &blobs)?);

        let started = Instant::now();
        for i in 0..args.files {
            curl_put(
                &s3,
                &format!("peer{round}/{}", name_of(i)),
                &dir.join(name_of(i)),
            )?;
        }
        curl_times.push(started.elapsed().as_secs_f64());

        let folder = tempfile::tempdir_in(scratch.path())?;
        let name = format!("folder{round}");
        folder_times.push(timed_sync(&name, &folder.path().display().to_string())?);
        eprintln!(
            "round {}: sync to S3 {:.3} s, curl {:.3} s, sync to a folder {:.3} s",
            round + 1,
            sync_times[round],
            curl_times[round],
            folder_times[round]
        );
    }

    // 2. Listing reads: the listing, once on SQLite and once on PostgreSQL.
    let sqlite = Process::start(&binary, scratch.path(), None, None)?;
    let sqlite_records = assay_market::open_records(&sqlite.data.path().join("data"))?;
    let sqlite_publisher = add_account(&sqlite_records, "studio", Role::Publisher)?.1;
    cluster.psql("CREATE DATABASE market")?;
    let database = cluster.database_url("market");
    let blobs = format!("s3://{}/market?endpoint={}", s3.bucket(), s3.endpoint());
    let first = Process::start(&binary, scratch.path(), Some(&database), Some(&blobs))?;
    let second = Process::start(&binary, scratch.path(), Some(&database), Some(&blobs))?;
    let pg_records = PostgresRecords::open(&database)?;
    let pg_publisher = add_account(&pg_records, "studio", Role::Publisher)?.1;
    for (name, url, token) in [
        ("sqlite", &sqlite.url, &sqlite_publisher),
        ("postgres", &first.url, &pg_publisher),
    ] {
        shelf.add_market(name, url, token)?;
        let report = shelf.sync(name, &options)?;
        anyhow::ensure!(report.listings_created == 1, "sync to {name}: {report:?}");
    }
    let one = Haproxy::start(scratch.path(), &[first.address])?;
    let two = Haproxy::start(scratch.path(), &[first.address, second.address])?;
    let sqlite_buyer = add_account(&sqlite_records, "reader", Role::Buyer)?.1;
    let pg_buyer = add_account(&pg_records, "reader", Role::Buyer)?.1;
    let targets = [
        (
            "one process on SQLite, direct",
            sqlite.url.clone(),
            &sqlite_buyer,
        ),
        (
            "one process on PostgreSQL, direct",
            first.url.clone(),
            &pg_buyer,
        ),
        (
            "one process on PostgreSQL, through haproxy",
            one.url.clone(),
            &pg_buyer,
        ),
        (
            "two processes on PostgreSQL, through haproxy",
            two.url.clone(),
            &pg_buyer,
        ),
    ];
    for (what, url, token) in &targets {
        let page = http_get(&format!("{url}/v1/listings"), token)?;
        let listed = page["listings"].as_array().map_or(0, Vec::len);
        anyhow::ensure!(listed == 1, "{what}: {listed} listings");
    }
    let mut reads: Vec<Vec<Wrk>> = vec![Vec::new(); targets.len()];
    let wrk_rounds = if args.parts.contains(&Part::Reads) {
        args.wrk_rounds
    } else {
        0
    };
    for round in 0..wrk_rounds {
        for ((what, url, token), runs) in targets.iter().zip(&mut reads) {
            eprintln!("round {}: wrk, {what}", round + 1);
            runs.push(run_wrk(
                &format!("{url}/v1/listings"),
                token,
                args.wrk_seconds,
            )?);
        }
    }
    drop((one, two));

    // 3. Purchases through both PostgreSQL processes, and through SQLite's.
    let runs = if args.parts.contains(&Part::Purchases) {
        let pg_run = purchases(
            &pg_records,
            &[first.url.clone(), second.url.clone()],
            &pg_publisher,
            &args,
        )?;
        let pg_tables = count_tables(&cluster)?;
        let sqlite_run = purchases(
            &sqlite_records,
            std::slice::from_ref(&sqlite.url),
            &sqlite_publisher,
            &args,
        )?;
        Some((pg_run, sqlite_run, pg_tables))
    } else {
        None
    };
    drop((first, second, sqlite));

    println!(
        "Machine: {}, {} cores, load {}; {}",
        machine.cpu, machine.cores, machine.load, machine.os
    );
    if upload_rounds > 0 {
        print_uploads(&args, total, &sync_times, &curl_times, &folder_times);
    }
    if wrk_rounds > 0 {
        print_reads(&args, &targets.map(|t| t.0), &reads);
    }
    if let Some((pg_run, sqlite_run, pg_tables)) = runs {
        print_purchases(&args, &pg_run, &sqlite_run, &pg_tables);
        pg_run.check("two processes on PostgreSQL")?;
        sqlite_run.check("one process on SQLite")?;
        pg_tables.check(args.purchases, &pg_run)?;
    }
    Ok(())
}

/// The listing's price, in cents.
const PRICE: u64 = 5000;

/// `assay-market` from the same build as this binary.
fn market_binary() -> anyhow::Result<PathBuf> {
    let here = std::env::current_exe().context("finding this binary")?;
    let binary = here.with_file_name("assay-market");
    anyhow::ensure!(
        binary.is_file(),
        "{} is missing: cargo build --release -p assay-market",
        binary.display()
    );
    Ok(binary)
}

/// An `assay-market serve` process on a free loopback port, stopped when
/// dropped.
struct Process {
    child: Child,
    url: String,
    address: SocketAddr,
    data: tempfile::TempDir,
}

impl Process {
    fn start(
        binary: &Path,
        scratch: &Path,
        database: Option<&str>,
        blobs: Option<&str>,
    ) -> anyhow::Result<Process> {
        let data = tempfile::tempdir_in(scratch)?;
        let mut command = Command::new(binary);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data.path().join("data"))
            .envs(AWS)
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        if let Some(database) = database {
            command.env("ASSAY_MARKET_DATABASE", database);
        }
        if let Some(blobs) = blobs {
            command.args(["--blobs", blobs]);
        }
        let what = assay_deadline::describe(&command);
        let mut child = assay_deadline::spawn(&mut command, &what)?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (line, first) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut first = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut first);
            let _ = line.send(first);
        });
        let started = first
            .recv_timeout(START_LIMIT)
            .ok()
            .and_then(|line| line.trim().parse::<SocketAddr>().ok());
        let Some(address) = started else {
            assay_deadline::stop(&mut child);
            anyhow::bail!("{what} printed no address within {START_LIMIT:?}");
        };
        Ok(Process {
            child,
            url: format!("http://{address}"),
            address,
            data,
        })
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        assay_deadline::stop(&mut self.child);
    }
}

/// haproxy in front of `backends`, balancing HTTP requests round robin
/// over kept-alive connections, as a hosted deployment's load balancer.
struct Haproxy {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Haproxy {
    fn start(scratch: &Path, backends: &[SocketAddr]) -> anyhow::Result<Haproxy> {
        let dir = tempfile::tempdir_in(scratch)?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut config = format!(
            "global\n  maxconn 4096\n\
             defaults\n  mode http\n  option http-keep-alive\n  timeout connect 5s\n  \
             timeout client 60s\n  timeout server 60s\n\
             frontend market\n  bind 127.0.0.1:{port}\n  default_backend processes\n\
             backend processes\n  balance roundrobin\n"
        );
        for (i, backend) in backends.iter().enumerate() {
            config.push_str(&format!("  server p{i} {backend}\n"));
        }
        let file = dir.path().join("haproxy.cfg");
        std::fs::write(&file, config)?;
        let log = std::fs::File::create(dir.path().join("haproxy.log"))?;
        let mut command = Command::new("haproxy");
        command
            .arg("-db")
            .arg("-f")
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let what = assay_deadline::describe(&command);
        let mut child = assay_deadline::spawn(&mut command, &what)
            .context("running haproxy (scripts/setup.sh --bench installs it)")?;
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        if let Err(e) = assay_deadline::until(&format!("{what} to listen"), START_LIMIT, || {
            TcpStream::connect(address).ok()
        }) {
            assay_deadline::stop(&mut child);
            let log = std::fs::read_to_string(dir.path().join("haproxy.log")).unwrap_or_default();
            anyhow::bail!("{e}; its log:\n{log}");
        }
        Ok(Haproxy {
            child,
            url: format!("http://{address}"),
            _dir: dir,
        })
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        assay_deadline::stop(&mut self.child);
    }
}

/// The peer of the upload: one signed PUT of `file` to `key` in the
/// bucket, with curl.
fn curl_put(s3: &S3Server, key: &str, file: &Path) -> anyhow::Result<()> {
    let url = format!("{}/{}/{key}", s3.endpoint(), s3.bucket());
    let output = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(["--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "test:test"])
        // As object_store sends a part whose hash is not signed.
        .args([
            "-H",
            "x-amz-content-sha256: UNSIGNED-PAYLOAD",
            "-H",
            "Expect:",
        ])
        .arg("-T")
        .arg(file)
        .arg(&url)
        .output_within(assay_bench::TOOL_LIMIT)
        .context("running curl")?;
    let status = String::from_utf8_lossy(&output.stdout).into_owned();
    anyhow::ensure!(status == "200", "PUT {url}: {status}");
    Ok(())
}

/// What one run of purchases did and what the market says it did.
#[derive(Default)]
struct PurchaseRun {
    buy_seconds: f64,
    confirm_seconds: f64,
    /// Purchase requests answered 201 (a new purchase) and 200 (the
    /// buyer's live purchase again).
    created: usize,
    repeated: usize,
    /// Buyers whose two answers named different purchases.
    split_answers: usize,
    /// Requests that failed, and the first few reasons.
    failed: usize,
    failures: Vec<String>,
    /// Confirmations answered 200 with the purchase released and every
    /// payout sent.
    released: usize,
    /// Payouts the confirmations named, and their sum.
    payouts: HashSet<String>,
    payouts_minor: u64,
    /// The publisher's feed: events by type, and how often each payout
    /// was announced as sent, and their sum.
    feed: HashMap<String, usize>,
    sent_times: HashMap<String, usize>,
    sent_minor: u64,
}

impl PurchaseRun {
    fn fail(&mut self, why: String) {
        self.failed += 1;
        if self.failures.len() < 5 {
            self.failures.push(why);
        }
    }

    /// Every purchase made once, released once, each of its payouts sent
    /// once, and the money adding up.
    fn check(&self, what: &str) -> anyhow::Result<()> {
        let n = self.created + self.failed;
        let twice = self.sent_times.values().filter(|&&t| t > 1).count();
        let unannounced = self
            .payouts
            .iter()
            .filter(|p| !self.sent_times.contains_key(*p))
            .count();
        anyhow::ensure!(
            self.failed == 0
                && self.split_answers == 0
                && self.created == self.repeated
                && self.released == 2 * n
                && twice == 0
                && unannounced == 0
                && self.sent_times.len() == self.payouts.len()
                && self.sent_minor == self.payouts_minor
                && self.payouts_minor == n as u64 * PRICE
                && self.feed.get("purchase") == Some(&n)
                && self.feed.get("escrow_released") == Some(&n),
            "{what}: purchases do not add up: {} failed ({:?}), {} answers split, {} created, {} \
             repeated, {} confirmations released, {} payouts named, {} announced, {twice} \
             announced twice, {unannounced} never, {} minor units named, {} announced, feed {:?}",
            self.failed,
            self.failures,
            self.split_answers,
            self.created,
            self.repeated,
            self.released,
            self.payouts.len(),
            self.sent_times.len(),
            self.payouts_minor,
            self.sent_minor,
            self.feed
        );
        Ok(())
    }
}

/// A ureq agent that returns every status as an answer.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent()
}

/// `POST url` with an empty body as `token`; the status and JSON answer.
fn post(agent: &ureq::Agent, url: &str, token: &str) -> Result<(u16, Value), String> {
    let mut response = agent
        .post(url)
        .header("Authorization", format!("Bearer {token}"))
        .send_empty()
        .map_err(|e| format!("POST {url}: {e}"))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_vec()
        .map_err(|e| format!("POST {url}: {e}"))?;
    let json = serde_json::from_slice(&body).map_err(|e| {
        format!(
            "POST {url}: {status}, not JSON ({e}): {}",
            String::from_utf8_lossy(&body)
        )
    })?;
    Ok((status, json))
}

/// Runs `items` on `clients` threads, each taking the next item in turn;
/// what each returned, by item.
fn run_clients<T: Send>(
    clients: usize,
    items: usize,
    work: impl Fn(&ureq::Agent, usize) -> T + Sync,
) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, T)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                scope.spawn(|| {
                    let agent = agent();
                    let mut done = Vec::new();
                    loop {
                        let item = next.fetch_add(1, Ordering::Relaxed);
                        if item >= items {
                            return done;
                        }
                        done.push((item, work(&agent, item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    done.sort_by_key(|(item, _)| *item);
    done.into_iter().map(|(_, t)| t).collect()
}

/// `args.purchases` buyers each buy the one listing on `bases` and confirm
/// it, every request sent twice at once (item `2b` and `2b + 1` of buyer
/// `b`, taken by two threads one after the other, through `bases` in
/// turn); then the publisher's feed, read to its end.
fn purchases(
    records: &dyn Records,
    bases: &[String],
    publisher: &str,
    args: &Args,
) -> anyhow::Result<PurchaseRun> {
    let page = http_get(&format!("{}/v1/listings", bases[0]), publisher)?;
    let listing = page["listings"][0]["listing_id"]
        .as_str()
        .context("no listing")?
        .to_owned();
    eprintln!("making {} buyers", args.purchases);
    let buyers = (0..args.purchases)
        .map(|i| Ok(add_account(records, &format!("lab-{i}"), Role::Buyer)?.1))
        .collect::<anyhow::Result<Vec<String>>>()?;
    let base = |item: usize| &bases[item % bases.len()];
    let mut run = PurchaseRun::default();

    eprintln!(
        "{} purchases, each asked twice, {} clients, through {} process(es)",
        args.purchases,
        args.clients,
        bases.len()
    );
    let started = Instant::now();
    let bought = run_clients(args.clients, 2 * buyers.len(), |agent, item| {
        let url = format!("{}/v1/listings/{listing}/purchases", base(item));
        post(agent, &url, &buyers[item / 2])
    });
    run.buy_seconds = started.elapsed().as_secs_f64();
    let mut purchase_ids = Vec::with_capacity(buyers.len());
    for pair in bought.chunks(2) {
        let mut ids = Vec::new();
        for answer in pair {
            match answer {
                Ok((201, body)) => {
                    run.created += 1;
                    ids.push(body["purchase_id"].as_str().unwrap_or_default().to_owned());
                }
                Ok((200, body)) => {
                    run.repeated += 1;
                    ids.push(body["purchase_id"].as_str().unwrap_or_default().to_owned());
                }
                Ok((status, body)) => run.fail(format!("purchase: {status} {body}")),
                Err(e) => run.fail(e.clone()),
            }
        }
        if ids.windows(2).any(|w| w[0] != w[1]) {
            run.split_answers += 1;
        }
        purchase_ids.push(ids.into_iter().next());
    }

    let started = Instant::now();
    let confirmed = run_clients(args.clients, 2 * buyers.len(), |agent, item| {
        let Some(id) = &purchase_ids[item / 2] else {
            return Err("no purchase to confirm".to_owned());
        };
        let url = format!("{}/v1/purchases/{id}/confirm", base(item));
        post(agent, &url, &buyers[item / 2])
    });
    run.confirm_seconds = started.elapsed().as_secs_f64();
    for answer in &confirmed {
        let body = match answer {
            Ok((200, body)) => body,
            Ok((status, body)) => {
                run.fail(format!("confirm: {status} {body}"));
                continue;
            }
            Err(e) => {
                run.fail(e.clone());
                continue;
            }
        };
        let payouts = body["payouts"].as_array().map_or(&[][..], Vec::as_slice);
        let all_sent = payouts.iter().all(|p| p["state"] == "sent");
        if body["state"] == "released" && all_sent && !payouts.is_empty() {
            run.released += 1;
        }
        for payout in payouts {
            let id = payout["payout_id"].as_str().unwrap_or_default().to_owned();
            if run.payouts.insert(id) {
                run.payouts_minor += payout["amount_minor"].as_u64().unwrap_or_default();
            }
        }
    }

    // The feed, as the publisher's sync and webhooks read it.
    let agent = agent();
    let mut after = String::new();
    loop {
        let query = if after.is_empty() {
            "limit=1000".to_owned()
        } else {
            format!("after={after}&limit=1000")
        };
        let url = format!("{}/v1/events?{query}", bases[0]);
        let mut response = agent
            .get(&url)
            .header("Authorization", format!("Bearer {publisher}"))
            .call()
            .with_context(|| format!("GET {url}"))?;
        anyhow::ensure!(response.status() == 200, "GET {url}: {}", response.status());
        let page: Value = response.body_mut().read_json()?;
        let events = page["events"].as_array().context("no events")?;
        if events.is_empty() {
            break;
        }
        for event in events {
            let kind = event["type"].as_str().unwrap_or_default();
            *run.feed.entry(kind.to_owned()).or_default() += 1;
            if kind == "payout_sent" {
                let id = event["payout_id"].as_str().unwrap_or_default();
                *run.sent_times.entry(id.to_owned()).or_default() += 1;
                run.sent_minor += event["amount_minor"].as_u64().unwrap_or_default();
            }
        }
        after = page["next_after"].as_str().unwrap_or_default().to_owned();
    }
    Ok(run)
}

/// What PostgreSQL's tables hold after the purchases.
struct Tables {
    /// Purchases released, their buyers, and the money.
    released: u64,
    buyers: u64,
    released_minor: u64,
    /// Purchases in any other state.
    unreleased: u64,
    /// Payouts, distinct ids, sent, and their sum.
    payouts: u64,
    payout_ids: u64,
    payouts_sent: u64,
    payouts_minor: u64,
    /// Purchases whose payouts do not add up to their price.
    unbalanced: u64,
    /// `payout_sent` events, distinct payouts they name, and payouts with
    /// none.
    sent_events: u64,
    sent_payouts: u64,
    unannounced: u64,
}

fn count_tables(cluster: &Cluster) -> anyhow::Result<Tables> {
    let numbers = |sql: &str| -> anyhow::Result<Vec<u64>> {
        let text = cluster.psql_in("market", sql)?;
        text.trim()
            .split('|')
            .map(|n| n.trim().parse().with_context(|| format!("{sql}: {text:?}")))
            .collect()
    };
    let released = numbers(
        "SELECT count(*), count(DISTINCT buyer), coalesce(sum(amount_minor), 0) \
         FROM purchases WHERE state = 'released'",
    )?;
    let unreleased = numbers("SELECT count(*) FROM purchases WHERE state <> 'released'")?;
    let payouts = numbers(
        "SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE state = 'sent'), \
         coalesce(sum(amount_minor), 0) FROM payouts",
    )?;
    let unbalanced = numbers(
        "SELECT count(*) FROM purchases p WHERE p.amount_minor <> \
         (SELECT coalesce(sum(o.amount_minor), 0) FROM payouts o WHERE o.purchase = p.seq)",
    )?;
    let sent = numbers(
        "SELECT count(*), count(DISTINCT body::json->>'payout_id') FROM events \
         WHERE body::json->>'type' = 'payout_sent'",
    )?;
    let unannounced = numbers(
        "SELECT count(*) FROM payouts o WHERE NOT EXISTS (SELECT 1 FROM events e \
         WHERE e.body::json->>'type' = 'payout_sent' AND e.body::json->>'payout_id' = o.id)",
    )?;
    let at = |v: &[u64], i: usize| v.get(i).copied().unwrap_or_default();
    Ok(Tables {
        released: at(&released, 0),
        buyers: at(&released, 1),
        released_minor: at(&released, 2),
        unreleased: at(&unreleased, 0),
        payouts: at(&payouts, 0),
        payout_ids: at(&payouts, 1),
        payouts_sent: at(&payouts, 2),
        payouts_minor: at(&payouts, 3),
        unbalanced: at(&unbalanced, 0),
        sent_events: at(&sent, 0),
        sent_payouts: at(&sent, 1),
        unannounced: at(&unannounced, 0),
    })
}

impl Tables {
    fn check(&self, purchases: usize, run: &PurchaseRun) -> anyhow::Result<()> {
        let n = purchases as u64;
        let payouts = run.payouts.len() as u64;
        anyhow::ensure!(
            self.released == n
                && self.buyers == n
                && self.released_minor == n * PRICE
                && self.unreleased == 0
                && self.payouts == payouts
                && self.payout_ids == payouts
                && self.payouts_sent == payouts
                && self.payouts_minor == n * PRICE
                && self.unbalanced == 0
                && self.sent_events == payouts
                && self.sent_payouts == payouts
                && self.unannounced == 0,
            "PostgreSQL's tables do not add up for {n} purchases and {payouts} payouts: \
             released {} by {} buyers for {}, {} not released; payouts {} ({} ids, {} sent) \
             for {}; {} unbalanced; payout_sent events {} naming {} payouts, {} payouts never \
             announced",
            self.released,
            self.buyers,
            self.released_minor,
            self.unreleased,
            self.payouts,
            self.payout_ids,
            self.payouts_sent,
            self.payouts_minor,
            self.unbalanced,
            self.sent_events,
            self.sent_payouts,
            self.unannounced
        );
        Ok(())
    }
}

fn print_uploads(
    args: &Args,
    total: u64,
    sync_times: &[f64],
    curl_times: &[f64],
    folder_times: &[f64],
) {
    let mb = total as f64 / 1e6;
    let (s, c) = (median(sync_times), median(curl_times));
    println!(
        "\nFiles: {} of {} MB random bytes ({mb:.0} MB); median of {} rounds each\n",
        args.files, args.mb, args.rounds
    );
    println!("| Upload | Median (s) | Range (s) | Throughput |");
    println!("|---|---:|---:|---:|");
    for (name, times) in [
        (
            "assay sync through one process on PostgreSQL, files to moto's S3 (tus chunks, multipart parts)",
            sync_times,
        ),
        ("peer: curl to moto's S3, one signed PUT per file", curl_times),
        (
            "assay sync through one process on PostgreSQL, files to a folder",
            folder_times,
        ),
    ] {
        let median = median(times);
        println!(
            "| {name} | {median:.3} | {:.3}-{:.3} | {:.0} MB/s |",
            min(times),
            max(times),
            mb / median
        );
    }
    println!("\nSync to S3 / curl to S3 throughput: {:.2}x", c / s);
}

fn print_reads(args: &Args, names: &[&str], reads: &[Vec<Wrk>]) {
    println!(
        "\n| Listing reads (wrk -t2 -c64 -d{}s, GET /v1/listings; median of {} rounds) | requests/s | range | latency p50 | p99 | non-2xx |",
        args.wrk_seconds, args.wrk_rounds
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, runs) in names.iter().zip(reads) {
        let rates: Vec<f64> = runs.iter().map(|w| w.requests_per_second).collect();
        let mut sorted: Vec<&Wrk> = runs.iter().collect();
        sorted.sort_by(|a, b| a.requests_per_second.total_cmp(&b.requests_per_second));
        let Some(middle) = sorted.get(sorted.len() / 2) else {
            continue;
        };
        println!(
            "| {name} | {:.0} | {:.0}-{:.0} | {} | {} | {} |",
            median(&rates),
            min(&rates),
            max(&rates),
            middle.p50,
            middle.p99,
            runs.iter().map(|w| w.non_2xx).sum::<u64>()
        );
    }
}

/// One row of the purchases table: its name, and its cell for a run.
type Cell = fn(&PurchaseRun) -> String;

fn print_purchases(args: &Args, pg: &PurchaseRun, sqlite: &PurchaseRun, tables: &Tables) {
    println!(
        "\n| {} purchases, each request sent twice at once, {} clients | Two processes on PostgreSQL | One process on SQLite |",
        args.purchases, args.clients
    );
    println!("|---|---:|---:|");
    let rows: [(&str, Cell); 10] = [
        ("buying: seconds (purchases/s)", |r| {
            format!(
                "{:.1} ({:.0})",
                r.buy_seconds,
                (r.created + r.failed) as f64 / r.buy_seconds
            )
        }),
        ("confirming: seconds (purchases/s)", |r| {
            format!(
                "{:.1} ({:.0})",
                r.confirm_seconds,
                (r.created + r.failed) as f64 / r.confirm_seconds
            )
        }),
        (
            "answers 201 (new purchase) / 200 (the same purchase again)",
            |r| format!("{} / {}", r.created, r.repeated),
        ),
        ("buyers whose two answers named different purchases", |r| {
            r.split_answers.to_string()
        }),
        ("failed requests", |r| r.failed.to_string()),
        ("confirmations answered released, every payout sent", |r| {
            r.released.to_string()
        }),
        ("payouts the answers name; their sum (minor units)", |r| {
            format!("{}; {}", r.payouts.len(), r.payouts_minor)
        }),
        ("feed: purchase / escrow_released events", |r| {
            format!(
                "{} / {}",
                r.feed.get("purchase").copied().unwrap_or_default(),
                r.feed.get("escrow_released").copied().unwrap_or_default()
            )
        }),
        (
            "feed: payout_sent events; payouts announced twice; never",
            |r| {
                format!(
                    "{}; {}; {}",
                    r.sent_times.values().sum::<usize>(),
                    r.sent_times.values().filter(|&&t| t > 1).count(),
                    r.payouts
                        .iter()
                        .filter(|p| !r.sent_times.contains_key(*p))
                        .count()
                )
            },
        ),
        ("feed: payout_sent sum (minor units)", |r| {
            r.sent_minor.to_string()
        }),
    ];
    for (name, cell) in rows {
        println!("| {name} | {} | {} |", cell(pg), cell(sqlite));
    }
    println!(
        "\nPostgreSQL's tables: {} purchases released ({} buyers, {} minor units), {} not; \
         {} payouts ({} distinct, {} sent, {} minor units); {} purchases whose payouts differ \
         from their price; {} payout_sent events naming {} payouts; {} payouts never announced.",
        tables.released,
        tables.buyers,
        tables.released_minor,
        tables.unreleased,
        tables.payouts,
        tables.payout_ids,
        tables.payouts_sent,
        tables.payouts_minor,
        tables.unbalanced,
        tables.sent_events,
        tables.sent_payouts,
        tables.unannounced
    );
}
