//! What the tests share: a library with approved assets and a signed
//! manifest, a server on a free loopback port, and an HTTP client that
//! reports every status instead of failing on errors.
//!
//! Two test targets include these modules: `market` keeps each server's
//! records in SQLite (`market.db` in its data folder), `market-postgres`
//! in PostgreSQL, a throwaway cluster started for each server
//! ([`on_postgres`]). Whatever a test asks of the records here (a count,
//! a statement run behind a stopped server's back, the binary's
//! arguments) goes to the one its server uses.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use assay_core::keys::{self, read_secret_key};
use assay_core::{Actor, Change, Filter, ImportOptions, Library, Role as LibraryRole, Selection};
use assay_market::{add_account, Config, Market, Records};
use assay_market_proto::tus::{self, UploadFile, UploadMetadata};
use assay_market_proto::Role;
use assay_test_services::postgres::Cluster;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const PASS: &[u8] = b"correct horse";

/// The longest a child process of a test may run: past it the child is
/// stopped and the test fails naming the command.
pub const CHILD_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// The longest a test server may take to start listening or to shut down.
pub const SERVER_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus/files")
        .join(name)
}

/// A library whose two photos (from two cameras) are tagged CC-BY-4.0 with
/// a 20% revenue share for creator wallet `acct_cy`, and approved by the
/// rights manager rosa.
pub struct Shelf {
    pub dir: tempfile::TempDir,
    pub library: Library,
    pub rosa: Actor,
}

impl Shelf {
    pub fn approved() -> Shelf {
        Shelf::approved_with(&[])
    }

    /// The two photos and `extra` files (name, bytes), all approved alike.
    pub fn approved_with(extra: &[(&str, &[u8])]) -> Shelf {
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
        let photos = dir.path().join("photos");
        std::fs::create_dir_all(&photos).unwrap();
        for (from, to) in [
            ("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "a.jpg"),
            ("exif-py/jpg/exif-org/kodak-dc210.jpg", "b.jpg"),
        ] {
            std::fs::copy(corpus(from), photos.join(to)).unwrap();
        }
        for (name, bytes) in extra {
            std::fs::write(photos.join(name), bytes).unwrap();
        }
        let cy = Arc::new(library.unlock("cy", PASS).unwrap());
        let options = ImportOptions {
            actor: Some(cy),
            ..ImportOptions::default()
        };
        let summary = library.import(&[photos], &options, &mut |_| {}).unwrap();
        assert_eq!(summary.imported, 2 + extra.len() as u64);
        let sam = library.unlock("sam", PASS).unwrap();
        let all = Selection::Where(Filter::default());
        library
            .edit(
                &sam,
                &all,
                &[
                    Change::set("license_tag", json!("CC-BY-4.0")),
                    Change::set("tax_and_payout_info", json!("acct_cy")),
                    Change::set("signed_contract_id", json!("K-1")),
                    Change::set("creator_name", json!("Cy")),
                    Change::set("payment_terms", json!({"kind": "rev_share", "share": 0.2})),
                ],
            )
            .unwrap();
        library.submit(&sam, &all).unwrap();
        let rosa = library.unlock("rosa", PASS).unwrap();
        library.approve(&rosa, &all, None).unwrap();
        Shelf { dir, library, rosa }
    }

    /// A fresh signed manifest of every approved asset: the file's bytes.
    pub fn export(&self) -> Vec<u8> {
        let out = self
            .dir
            .path()
            .join(format!("{}.json", uuid::Uuid::new_v4()));
        self.library
            .export_manifest(&self.rosa, &Selection::Where(Filter::default()), &out)
            .unwrap();
        std::fs::read(out).unwrap()
    }

    /// A user's public key as `assay user key` prints it.
    pub fn pem(&self, user: &str) -> String {
        keys::public_key_pem(&self.library.user_public_key(user).unwrap())
    }

    pub fn secret(&self, user: &str) -> SigningKey {
        read_secret_key(&self.library.root().join(format!("keys/{user}.key")), PASS).unwrap()
    }

    /// The bytes of a manifest entry's file.
    pub fn file(&self, entry: &Value) -> Vec<u8> {
        let name = entry["file_name"].as_str().unwrap();
        std::fs::read(self.dir.path().join("photos").join(name)).unwrap()
    }
}

/// Signs `doc` again as `signer` (changing `signer` to match), as a
/// forger holding that key would.
pub fn resign(doc: &mut Value, user: &str, role: &str, key: &SigningKey) -> Vec<u8> {
    let public = key.verifying_key();
    let doc_map = doc.as_object_mut().unwrap();
    doc_map.remove("signature");
    doc["signer"]["user"] = json!(user);
    doc["signer"]["role"] = json!(role);
    doc["signer"]["key_id"] = json!(keys::key_id(&public).as_str());
    doc["signer"]["public_key"] = json!(keys::public_key_compact(&public));
    let signature = key.sign(&assay_core::canonical::canonical_json(doc));
    doc["signature"] = json!({
        "alg": "Ed25519",
        "value": base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
    });
    serde_json::to_vec(doc).unwrap()
}

/// Starts `command` (an `assay-market serve`, stdout piped) and reads the
/// address it prints first: the child and `host:port`.
pub fn serve_binary(command: &mut std::process::Command) -> (std::process::Child, String) {
    use std::io::BufRead as _;
    let mut child = assay_deadline::spawn(
        command.stdout(std::process::Stdio::piped()),
        "assay-market serve",
    )
    .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (line, first) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut first);
        let _ = line.send(first);
    });
    let address = first
        .recv_timeout(SERVER_LIMIT)
        .expect("assay-market serve to print the address it listens on");
    (child, address.trim().to_owned())
}

/// Whether this test target keeps the records in PostgreSQL: the crate
/// name is the target's (`market_postgres`, or `market` for SQLite).
pub fn on_postgres() -> bool {
    env!("CARGO_CRATE_NAME") == "market_postgres"
}

/// A server on its own data folder, serving on a free loopback port from a
/// thread of its own until dropped.
pub struct Server {
    pub url: String,
    pub config: Config,
    pub records: Arc<dyn Records>,
    dir: Option<tempfile::TempDir>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The records' cluster on `market-postgres`, kept across restarts;
    /// last, so it stops after the server.
    cluster: Option<Cluster>,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(|_| {})
    }

    pub fn start_with(tune: impl FnOnce(&mut Config)) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(dir.path().join("data"));
        let cluster = on_postgres().then(|| Cluster::start().unwrap());
        config.database = cluster.as_ref().map(Cluster::url);
        tune(&mut config);
        Server::serve(config, dir, cluster)
    }

    fn serve(config: Config, dir: tempfile::TempDir, cluster: Option<Cluster>) -> Server {
        let market = Market::open(config.clone()).unwrap();
        let records = Arc::clone(market.records());
        let (bound, address) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let blocking_threads = config.blocking_threads;
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .max_blocking_threads(blocking_threads)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                bound.send(listener.local_addr().unwrap()).unwrap();
                market
                    .serve(listener, async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let address: SocketAddr = address
            .recv_timeout(SERVER_LIMIT)
            .expect("the market server to listen on a port");
        Server {
            url: format!("http://{address}"),
            config,
            records,
            dir: Some(dir),
            stop: Some(stop),
            thread: Some(thread),
            cluster,
        }
    }

    /// Stops the server and starts another on the same data folder.
    pub fn restart(self) -> Server {
        self.restart_with(|_| {})
    }

    /// Stops the server, lets `between` change its data folder and its
    /// records (through the stopped server's [`Server::data`] and
    /// [`Server::execute`]) as a crash could have left them, and starts
    /// another on them.
    pub fn restart_with(mut self, between: impl FnOnce(&Server)) -> Server {
        self.halt();
        between(&self);
        let dir = self.dir.take().unwrap();
        Server::serve(self.config.clone(), dir, self.cluster.take())
    }

    fn halt(&mut self) {
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

    /// Stops the server; how long it took.
    pub fn stop(mut self) -> Duration {
        let started = std::time::Instant::now();
        self.halt();
        started.elapsed()
    }

    /// `host:port`, for raw connections.
    pub fn address(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    pub fn data(&self) -> &Path {
        &self.config.data
    }

    /// A new account's client.
    pub fn account(&self, name: &str, role: Role) -> Client {
        let (_, token) = add_account(&*self.records, name, role).unwrap();
        self.client(Some(token))
    }

    pub fn client(&self, token: Option<String>) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        Client {
            agent,
            url: self.url.clone(),
            token,
        }
    }

    /// Every stored file: the blobs and the unfinished parts.
    pub fn stored_files(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for dir in ["blobs", "parts"] {
            for entry in walk(&self.data().join(dir)) {
                files.push(entry);
            }
        }
        files
    }

    /// A count from the records database.
    pub fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {table}");
        match &self.cluster {
            Some(cluster) => cluster.psql(&sql).unwrap().parse().unwrap(),
            None => {
                let db = rusqlite::Connection::open(self.data().join("market.db")).unwrap();
                db.query_row(&sql, [], |r| r.get(0)).unwrap()
            }
        }
    }

    /// Every byte the records keep, whatever holds them: the SQLite files
    /// of the data folder, or PostgreSQL's rows as `pg_dump` writes them.
    pub fn stored_records(&self) -> Vec<u8> {
        match &self.cluster {
            Some(cluster) => cluster.dump().unwrap().into_bytes(),
            None => ["market.db", "market.db-wal"]
                .iter()
                .flat_map(|file| std::fs::read(self.data().join(file)).unwrap_or_default())
                .collect(),
        }
    }

    /// Runs `sql` on the records database, behind the server's back.
    pub fn execute(&self, sql: &str) {
        match &self.cluster {
            Some(cluster) => {
                cluster.psql(sql).unwrap();
            }
            None => {
                let db = rusqlite::Connection::open(self.data().join("market.db")).unwrap();
                db.execute_batch(sql).unwrap();
            }
        }
    }

    /// What the `assay-market` binary needs besides `--data DIR` to reach
    /// this server's records: `--database URL` on `market-postgres`.
    pub fn database_args(&self) -> Vec<String> {
        match &self.config.database {
            Some(url) => vec!["--database".to_owned(), url.clone()],
            None => Vec::new(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.halt();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// An HTTP reply, whatever its status.
pub struct Reply {
    method: String,
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// Asserts the status and, for an error, the code (which a reply to
    /// HEAD cannot carry).
    #[track_caller]
    pub fn expect(self, status: u16, code: &str) -> Reply {
        let text = String::from_utf8_lossy(&self.body).into_owned();
        assert_eq!(self.status, status, "{text}");
        if !code.is_empty() && self.method != "HEAD" {
            assert_eq!(self.code(), code, "{text}");
        }
        self
    }
}

#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    pub url: String,
    token: Option<String>,
}

impl Client {
    /// The bearer token, for a client that is not this one (tuspy).
    pub fn token(&self) -> &str {
        self.token.as_deref().unwrap_or_default()
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Reply {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url));
        if let Some(token) = &self.token {
            builder = builder.header("Authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        let response = match method {
            "GET" | "HEAD" | "OPTIONS" | "DELETE" => self.agent.run(builder.body(()).unwrap()),
            _ => self.agent.run(builder.body(body).unwrap()),
        }
        .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = if method == "HEAD" {
            Vec::new()
        } else {
            response
                .into_body()
                .with_config()
                .limit(1 << 30)
                .read_to_vec()
                .unwrap()
        };
        Reply {
            method: method.to_owned(),
            status,
            headers,
            body,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], &[])
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        let json = serde_json::to_vec(body).unwrap();
        self.request(
            "POST",
            path,
            &[("Content-Type", "application/json".into())],
            &json,
        )
    }

    pub fn put(&self, path: &str, body: &Value) -> Reply {
        let json = serde_json::to_vec(body).unwrap();
        self.request(
            "PUT",
            path,
            &[("Content-Type", "application/json".into())],
            &json,
        )
    }

    pub fn post_manifest(&self, bytes: &[u8]) -> Reply {
        self.request(
            "POST",
            "/v1/manifests",
            &[("Content-Type", "application/json".into())],
            bytes,
        )
    }

    /// Registers `key`'s public half, proving possession as a client does:
    /// a challenge, signed by the key.
    pub fn register_key(&self, key: &SigningKey) -> Reply {
        self.register_key_as(&keys::public_key_pem(&key.verifying_key()), key)
    }

    /// Registers the key `pem` with `signer`'s signature over a challenge
    /// this caller got (one of the key's own, or not).
    pub fn register_key_as(&self, pem: &str, signer: &SigningKey) -> Reply {
        let reply = self.post("/v1/keys/challenge", &json!({}));
        let challenge = serde_json::from_slice::<Value>(&reply.body)
            .ok()
            .and_then(|v| v["challenge"].as_str().map(str::to_owned))
            .unwrap_or_default();
        self.register_key_with(pem, &challenge, signer)
    }

    /// Registers the key `pem` with `signer`'s signature over `challenge`.
    pub fn register_key_with(&self, pem: &str, challenge: &str, signer: &SigningKey) -> Reply {
        use base64::Engine as _;
        use ed25519_dalek::Signer as _;
        let signature = signer.sign(&keys::possession_message(challenge));
        self.post(
            "/v1/keys",
            &json!({
                "public_key": pem,
                "challenge": challenge,
                "signature": base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
            }),
        )
    }

    /// `POST /v1/uploads` for one asset.
    pub fn create_upload(&self, manifest_id: &str, asset_id: &str, length: u64) -> Reply {
        self.create_upload_of(manifest_id, UploadFile::Asset(asset_id.into()), length)
    }

    /// `POST /v1/uploads` for one file of a manifest, an asset's or a shard.
    pub fn create_upload_of(&self, manifest_id: &str, file: UploadFile, length: u64) -> Reply {
        let metadata = UploadMetadata {
            manifest_id: manifest_id.into(),
            file,
        };
        self.request(
            "POST",
            tus::UPLOADS_PATH,
            &[
                (tus::TUS_RESUMABLE, tus::VERSION.into()),
                (tus::UPLOAD_LENGTH, length.to_string()),
                (tus::UPLOAD_METADATA, metadata.to_header()),
            ],
            &[],
        )
    }

    /// One tus PATCH at `offset`, with the chunk's checksum when asked.
    pub fn patch(&self, url: &str, offset: u64, chunk: &[u8], checksum: bool) -> Reply {
        let mut headers = vec![
            (tus::TUS_RESUMABLE, tus::VERSION.to_owned()),
            (tus::UPLOAD_OFFSET, offset.to_string()),
            ("Content-Type", tus::OFFSET_OCTET_STREAM.to_owned()),
        ];
        if checksum {
            headers.push((
                tus::UPLOAD_CHECKSUM,
                tus::checksum_header(&Sha256::digest(chunk)),
            ));
        }
        self.request("PATCH", url, &headers, chunk)
    }

    pub fn tus(&self, method: &str, url: &str) -> Reply {
        self.request(
            method,
            url,
            &[(tus::TUS_RESUMABLE, tus::VERSION.into())],
            &[],
        )
    }

    /// Uploads `bytes` as one asset in `chunks` checksummed chunks; returns
    /// the upload's URL.
    pub fn upload(&self, manifest_id: &str, asset_id: &str, bytes: &[u8], chunks: usize) -> String {
        self.upload_of(
            manifest_id,
            UploadFile::Asset(asset_id.into()),
            bytes,
            chunks,
        )
    }

    /// Uploads `bytes` as one file of a manifest in `chunks` checksummed
    /// chunks; returns the upload's URL.
    pub fn upload_of(
        &self,
        manifest_id: &str,
        file: UploadFile,
        bytes: &[u8],
        chunks: usize,
    ) -> String {
        let url = self
            .create_upload_of(manifest_id, file, bytes.len() as u64)
            .expect(201, "")
            .header("Location")
            .unwrap();
        let size = bytes.len().div_ceil(chunks).max(1);
        let mut offset = 0;
        for chunk in bytes.chunks(size) {
            let reply = self.patch(&url, offset as u64, chunk, true).expect(204, "");
            offset += chunk.len();
            assert_eq!(reply.header(tus::UPLOAD_OFFSET), Some(offset.to_string()));
        }
        url
    }

    /// The same account against another server (a restarted one).
    pub fn moved_to(&self, server: &Server) -> Client {
        server.client(self.token.clone())
    }

    /// A raw connection with `head` (request line and headers) sent, for
    /// what a well-behaved client would never send.
    fn connect(&self, head: &str) -> TcpStream {
        let address = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).unwrap();
        let token = self.token.as_deref().unwrap_or_default();
        write!(
            stream,
            "{head}\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        stream
    }

    /// Sends `head` and `body` raw; returns the status.
    pub fn raw(&self, head: &str, body: &[u8]) -> u16 {
        let mut stream = self.connect(head);
        stream.write_all(body).unwrap();
        status_of(stream)
    }

    /// Sends `head` and `body` raw and hangs up without waiting.
    pub fn hang_up(&self, head: &str, body: &[u8]) {
        let mut stream = self.connect(head);
        stream.write_all(body).unwrap();
        stream.shutdown(std::net::Shutdown::Both).unwrap();
    }

    /// A PATCH at offset 0 announcing `length` bytes, of which only `first`
    /// are sent so far.
    pub fn open_patch(&self, url: &str, length: usize, first: &[u8]) -> OpenPatch {
        let mut stream = self.connect(&format!(
            "PATCH {url} HTTP/1.1\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: {}\r\nContent-Length: {length}",
            tus::OFFSET_OCTET_STREAM
        ));
        stream.write_all(first).unwrap();
        stream.flush().unwrap();
        OpenPatch { stream }
    }
}

/// A PATCH still sending its body.
pub struct OpenPatch {
    stream: TcpStream,
}

impl OpenPatch {
    /// Sends the rest and expects the upload to take it.
    pub fn finish(mut self, rest: &[u8]) {
        self.stream.write_all(rest).unwrap();
        assert_eq!(status_of(self.stream), 204);
    }
}

fn status_of(mut stream: TcpStream) -> u16 {
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {reply:?}"))
}

/// The manifest's parsed entries.
pub fn entries(manifest: &[u8]) -> (String, Vec<Value>) {
    let doc: Value = serde_json::from_slice(manifest).unwrap();
    (
        doc["manifest_id"].as_str().unwrap().to_owned(),
        doc["assets"].as_array().unwrap().clone(),
    )
}

/// A publisher with rosa's key registered and `manifest` posted.
pub fn publisher_with(server: &Server, shelf: &Shelf, name: &str, manifest: &[u8]) -> Client {
    let publisher = server.account(name, Role::Publisher);
    publisher
        .register_key(&shelf.secret("rosa"))
        .expect(201, "");
    publisher.post_manifest(manifest).expect(201, "");
    publisher
}

/// A publisher's listing of a manifest whose files are all uploaded.
pub struct Listed {
    pub publisher: Client,
    pub listing_id: String,
    pub manifest: Vec<u8>,
}

/// Publishes `shelf`'s manifest as `name`, uploads `uploaded` of its files
/// (all of them when `None`) and lists it at 100.00 EUR.
pub fn listed(server: &Server, shelf: &Shelf, name: &str, uploaded: Option<usize>) -> Listed {
    let manifest = shelf.export();
    let publisher = publisher_with(server, shelf, name, &manifest);
    let (manifest_id, assets) = entries(&manifest);
    for entry in assets.iter().take(uploaded.unwrap_or(assets.len())) {
        let id = entry["asset_id"].as_str().unwrap();
        publisher.upload(&manifest_id, id, &shelf.file(entry), 2);
    }
    let listing = publisher
        .post(
            "/v1/listings",
            &json!({
                "manifest_id": manifest_id, "title": "Two cameras", "description": "",
                "price_minor": 10_000, "currency": "EUR"
            }),
        )
        .expect(201, "")
        .json();
    Listed {
        publisher,
        listing_id: listing["listing_id"].as_str().unwrap().to_owned(),
        manifest,
    }
}

impl Client {
    /// Buys a listing; the reply is the purchase.
    pub fn buy(&self, listing_id: &str) -> Reply {
        self.request(
            "POST",
            &format!("/v1/listings/{listing_id}/purchases"),
            &[],
            &[],
        )
    }

    /// Every event of the caller's feed after `after`.
    pub fn events(&self, after: Option<&str>) -> Vec<Value> {
        let path = match after {
            Some(cursor) => format!("/v1/events?after={cursor}"),
            None => "/v1/events".to_owned(),
        };
        self.get(&path).expect(200, "").json()["events"]
            .as_array()
            .unwrap()
            .clone()
    }
}

/// A certificate authority of a test's own and a server certificate it
/// signed for `localhost` and 127.0.0.1, made by `openssl` in a temporary
/// folder (P-256 keys, valid for a day).
pub struct TestCa {
    /// The CA's certificate, PEM: what a client is told to trust.
    pub ca: PathBuf,
    /// The server's certificate and its unencrypted key, PEM.
    pub cert: PathBuf,
    pub key: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestCa {
    pub fn new() -> TestCa {
        let dir = tempfile::tempdir().unwrap();
        let key = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let ca = [
            &["req", "-x509"],
            &key[..],
            &["-days", "1", "-subj", "/CN=Test CA"],
        ]
        .concat();
        openssl(
            &[&ca[..], &["-keyout", "ca.key", "-out", "ca.pem"]].concat(),
            dir.path(),
        );
        let request = [&["req"], &key[..], &["-subj", "/CN=localhost"]].concat();
        openssl(
            &[&request[..], &["-keyout", "key.pem", "-out", "leaf.csr"]].concat(),
            dir.path(),
        );
        std::fs::write(
            dir.path().join("leaf.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "1",
                "-extfile",
                "leaf.ext",
                "-out",
                "cert.pem",
            ],
            dir.path(),
        );
        TestCa {
            ca: dir.path().join("ca.pem"),
            cert: dir.path().join("cert.pem"),
            key: dir.path().join("key.pem"),
            _dir: dir,
        }
    }
}

fn openssl(args: &[&str], dir: &Path) {
    let made = assay_deadline::output(
        std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir),
        CHILD_LIMIT,
    )
    .unwrap();
    assert!(
        made.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&made.stderr)
    );
}
