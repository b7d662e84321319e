//! A library of approved corpus photos, a marketplace server on a loopback
//! port that can be stopped and started again on the same port and data,
//! and a plain HTTP look at what the server holds.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use assay_core::{
    Actor, Change, Filter, ImportOptions, Job, Library, Role as LibraryRole, Selection,
};
use assay_market::{add_account, Config, Market, Records};
use assay_market_client::{Price, Retry, SyncEvent, SyncOptions, SyncReport};
use assay_market_proto::Role;
use serde_json::{json, Value};

pub const PASS: &[u8] = b"correct horse";

/// The longest a test server may take to start listening or to shut down.
const SERVER_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus/files")
        .join(name)
}

/// A library whose three photos are tagged CC-BY-4.0 with a payout
/// reference, submitted by the steward sam and approved by the rights
/// manager rosa.
pub struct Shelf {
    pub dir: tempfile::TempDir,
    pub library: Library,
    pub rosa: Actor,
    pub sam: Actor,
}

impl Shelf {
    pub fn approved() -> Shelf {
        let (shelf, photos) = Shelf::with_photos(&[
            ("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "a.jpg"),
            ("exif-py/jpg/exif-org/kodak-dc210.jpg", "b.jpg"),
            ("exif-py/jpg/exif-org/nikon-e950.jpg", "c.jpg"),
        ]);
        assert_eq!(photos.len(), 3);
        let all = Selection::Where(Filter::default());
        shelf.complete(
            &all,
            "CC-BY-4.0",
            Some(json!({"kind": "rev_share", "share": 0.2})),
        );
        shelf.library.submit(&shelf.sam, &all).unwrap();
        shelf.library.approve(&shelf.rosa, &all, None).unwrap();
        shelf
    }

    /// A library whose users are ada (admin), cy (creator), sam (steward)
    /// and rosa (rights manager), holding the corpus photos `photos`
    /// (corpus path, file name) as cy imported them: nothing tagged yet.
    /// Returns the asset id of each photo, in order.
    pub fn with_photos(photos: &[(&str, &str)]) -> (Shelf, Vec<String>) {
        // Argon2id at full strength costs a second per key.
        std::env::set_var("ASSAY_KDF_FAST", "1");
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(dir.path().join("library")).unwrap();
        library
            .add_user(None, "ada", LibraryRole::Admin, PASS)
            .unwrap();
        let ada = library.unlock("ada", PASS).unwrap();
        for (name, role) in [
            ("cy", LibraryRole::Creator),
            ("sam", LibraryRole::Steward),
            ("rosa", LibraryRole::RightsManager),
        ] {
            library.add_user(Some(&ada), name, role, PASS).unwrap();
        }
        let folder = dir.path().join("photos");
        std::fs::create_dir_all(&folder).unwrap();
        for (from, to) in photos {
            std::fs::copy(corpus(from), folder.join(to)).unwrap();
        }
        let cy = Arc::new(library.unlock("cy", PASS).unwrap());
        let options = ImportOptions {
            actor: Some(cy),
            ..ImportOptions::default()
        };
        let summary = library
            .import(std::slice::from_ref(&folder), &options, &mut |_| {})
            .unwrap();
        assert_eq!(summary.imported as usize, photos.len());
        let ids = photos
            .iter()
            .map(|(_, to)| {
                let path = folder.join(to);
                library.record(path.to_str().unwrap()).unwrap().asset_id
            })
            .collect();
        let shelf = Shelf {
            sam: library.unlock("sam", PASS).unwrap(),
            rosa: library.unlock("rosa", PASS).unwrap(),
            dir,
            library,
        };
        (shelf, ids)
    }

    /// sam tags `selection` with `tag` (and `payment` terms) and fills in
    /// what approval requires.
    pub fn complete(&self, selection: &Selection, tag: &str, payment: Option<Value>) {
        let mut changes = vec![
            Change::set("license_tag", json!(tag)),
            Change::set("tax_and_payout_info", json!("acct_cy")),
            Change::set("signed_contract_id", json!("K-1")),
            Change::set("creator_name", json!("Cy")),
        ];
        if let Some(terms) = payment {
            changes.push(Change::set("payment_terms", terms));
        }
        self.library.edit(&self.sam, selection, &changes).unwrap();
    }

    /// Adds `server` as market `main`, with a new publisher's token.
    pub fn add_market(&self, server: &Server) -> String {
        let token = server.publisher("studio");
        let file = self.dir.path().join("market.token");
        std::fs::write(&file, format!("{token}\n")).unwrap();
        self.library.add_market("main", &server.url, &file).unwrap();
        token
    }

    /// The asset ids and sizes, by asset id.
    pub fn sizes(&self) -> Vec<(String, u64)> {
        let mut sizes: Vec<_> = self
            .library
            .list(&Filter::default())
            .unwrap()
            .into_iter()
            .map(|r| (r.asset_id, r.size_bytes))
            .collect();
        sizes.sort();
        sizes
    }

    /// Every event kind of an asset's chain, oldest first.
    pub fn kinds(&self, asset_id: &str) -> Vec<String> {
        self.library
            .provenance(asset_id)
            .unwrap()
            .into_iter()
            .map(|e| e.kind.as_str().to_owned())
            .collect()
    }
}

/// Options for tests: small chunks and quick retries.
pub fn options(chunk_size: usize) -> SyncOptions {
    SyncOptions {
        chunk_size,
        retry: Retry {
            attempts: 3,
            first_delay: std::time::Duration::from_millis(20),
            max_delay: std::time::Duration::from_millis(100),
        },
        price: Some(Price {
            minor: 5000,
            currency: "EUR".into(),
        }),
    }
}

/// Syncs as rosa, keeping every event.
pub fn sync(
    shelf: &Shelf,
    options: &SyncOptions,
) -> (assay_market_client::Result<SyncReport>, Vec<SyncEvent>) {
    let mut events = Vec::new();
    let result = assay_market_client::sync(
        &shelf.library,
        &shelf.rosa,
        None,
        options,
        &mut Job::quiet(),
        &mut |e| events.push(e.clone()),
    );
    (result, events)
}

/// A server on its own data folder and a loopback port it keeps across
/// restarts, serving from a thread of its own until stopped or dropped.
pub struct Server {
    pub url: String,
    address: SocketAddr,
    config: Config,
    records: Arc<dyn Records>,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::new(dir.path().join("data"));
        let address = "127.0.0.1:0".parse().unwrap();
        let (records, address, stop, thread) = serve(&config, address);
        Server {
            url: format!("http://{address}"),
            address,
            config,
            records,
            _dir: dir,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops serving; connections are refused until [`Server::resume`].
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            assay_deadline::until("the market server to shut down", SERVER_LIMIT, || {
                thread.is_finished().then_some(())
            })
            .unwrap();
            thread.join().unwrap();
        }
    }

    /// Serves again on the same port and data folder.
    pub fn resume(&mut self) {
        let (records, _, stop, thread) = serve(&self.config, self.address);
        self.records = records;
        self.stop = Some(stop);
        self.thread = Some(thread);
    }

    pub fn publisher(&self, name: &str) -> String {
        add_account(&*self.records, name, Role::Publisher)
            .unwrap()
            .1
    }

    /// A new buyer account's token.
    pub fn buyer(&self, name: &str) -> String {
        add_account(&*self.records, name, Role::Buyer).unwrap().1
    }

    /// The server's data folder (`market.db`, `blobs/`).
    pub fn data(&self) -> &Path {
        &self.config.data
    }

    /// A count from the server's records database.
    pub fn count(&self, table: &str) -> i64 {
        let db = rusqlite::Connection::open(self.config.data.join("market.db")).unwrap();
        db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    /// The id of the payout to `wallet` (there is one purchase).
    pub fn payout_of(&self, wallet: &str) -> String {
        let db = rusqlite::Connection::open(self.config.data.join("market.db")).unwrap();
        db.query_row(
            "SELECT id FROM payouts WHERE creator_wallet = ?1",
            [wallet],
            |r| r.get(0),
        )
        .unwrap()
    }

    /// Marks a sent payout failed, as `assay-market payout fail` does.
    pub fn fail_payout(&self, payout: &str, reason: &str) {
        let id = assay_market::PayoutId::parse(payout).unwrap();
        assert!(self.records.fail_payout(&id, reason).unwrap().newly);
    }

    /// `method path` with `token` and `body` of `media_type`, as a client
    /// the sync would not be: the status and the answer as JSON (null when
    /// it is none).
    pub fn send(
        &self,
        method: &str,
        token: &str,
        path: &str,
        media_type: &str,
        body: &[u8],
    ) -> (u16, Value) {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url))
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", media_type)
            .body(body.to_vec())
            .unwrap();
        let mut reply = agent.run(request).unwrap();
        let status = reply.status().as_u16();
        (status, reply.body_mut().read_json().unwrap_or_default())
    }

    /// `GET path` with `token`, as JSON.
    pub fn get(&self, token: &str, path: &str) -> Value {
        let agent = ureq::Agent::new_with_defaults();
        agent
            .get(format!("{}{path}", self.url))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .unwrap()
            .into_body()
            .read_json()
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

type Serving = (
    Arc<dyn Records>,
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
);

fn serve(config: &Config, address: SocketAddr) -> Serving {
    let market = Market::open(config.clone()).unwrap();
    let records = Arc::clone(market.records());
    let (bound, bound_rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind(address).await.unwrap();
            bound.send(listener.local_addr().unwrap()).unwrap();
            market
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
    });
    let address = bound_rx
        .recv_timeout(SERVER_LIMIT)
        .expect("the market server to listen on a port");
    (records, address, stop, thread)
}
