//! [`Records`] in a PostgreSQL database, which several server processes
//! (and `assay-market account ...` beside them) may share at once.
//!
//! This file owns the connection plumbing: [`PostgresRecords::open`] is the
//! one place a pool is made and the schema migrated (`migrations.rs`), and
//! [`PostgresRecords`]'s `read`/`write` run each call in one transaction.
//! The SQL of each domain lives beside it (`accounts.rs`, `manifests.rs`,
//! `uploads.rs`, `listings.rs`, `sales.rs`, `previews.rs`, `webhooks.rs`,
//! `witnessed.rs`, `fingerprints.rs`), mirroring the SQLite files one for
//! one; the [`Records`] impl below only delegates to them.
//!
//! The trait is synchronous and the driver (tokio-postgres, pooled by
//! deadpool) is async: the records own a small runtime of their own
//! ([`Bridge`]) holding the pool, and each call runs there while the
//! calling thread (a plain one, or one of tokio's blocking threads) waits.
//!
//! # One writer, without one writer
//!
//! The SQLite records rely on having a single writer: every write is
//! `BEGIN IMMEDIATE`, so checks and the changes they allow never
//! interleave with another write. Here each write runs at `SERIALIZABLE`
//! instead, which promises the same (every outcome is one that some serial
//! order of the writes would give) without a global lock; a write that
//! loses a conflict is rolled back and run again from the start (see
//! [`transact`]), and then sees what the winner committed, as the second
//! of two SQLite writers would. So the domain files keep the SQLite
//! checks as they are (quotas, a version posted once, a listing bought
//! while unchanged, a checkpoint extending the latest...). Where a rule
//! needs more than serialisability, or a conflict is better settled by
//! waiting than by a retry, the domain files say what they add:
//! conditional updates (upload offsets, deliveries), row locks (a purchase
//! being settled, a payout failing), `ON CONFLICT` for idempotent inserts,
//! and advisory locks ordering the ids that readers page through
//! (events, listings). Reads run in a read-only `REPEATABLE READ`
//! snapshot: consistent across their statements, never waiting on a
//! writer, as a SQLite reader in WAL mode.
//!
//! Text is ordered `COLLATE "C"` wherever the SQLite queries order text:
//! byte order, as SQLite's `BINARY`, whatever the database's locale.

mod accounts;
mod fingerprints;
mod listings;
mod manifests;
mod migrations;
mod previews;
mod sales;
#[cfg(test)]
mod tests;
mod uploads;
mod values;
mod webhooks;
mod witnessed;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use assay_core::preview::Fingerprint;
use assay_market_proto::listings::ListingTerms;
use assay_market_proto::Role;
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod};
use rand_core::{OsRng, RngCore};
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};
use tokio_postgres_rustls::MakeRustlsConnect;
use values::{Arg, Column};

use super::stored::{corrupt, to_i64, to_u64};
use super::{
    Account, AccountId, DueDelivery, EventRecord, Insert, ListingDetail, ListingRecord, ListingRow,
    Manifest, NearListing, NewListing, NewManifest, NewPurchase, NewUpload, NewWitnessed,
    PayoutFailure, PreviewRecord, PurchaseRecord, Records, RecordsError, Result, Settlement,
    StoredAsset, StoredKey, StoredShard, Upload, WebhookRecord, WitnessedRecord,
};
use crate::async_bridge::Bridge;
use crate::ids::{BlobId, ListingId, PayoutId, PreviewId, PurchaseId, UploadId, WebhookId};

/// Connections one process keeps at most. The server runs many more
/// blocking threads than this; a call waits for a free connection (up to
/// [`WAIT`]), and the database's `max_connections` must hold this many per
/// process sharing it.
const POOL: usize = 16;

/// How long a call waits for a free connection.
const WAIT: Duration = Duration::from_secs(30);
/// How long a new connection may take (unless the URL says
/// `connect_timeout`).
const CONNECT: Duration = Duration::from_secs(10);

/// Runs of one write before a conflict it keeps losing is reported; the
/// pauses between them double up to [`MAX_PAUSE_MS`], about 4 s in all.
const ATTEMPTS: u32 = 16;
const MAX_PAUSE_MS: u64 = 512;

/// What a call is named in the error when the runtime stops under it.
const CALL: &str = "the PostgreSQL records";

/// The records in PostgreSQL; see the module documentation.
pub struct PostgresRecords {
    pool: Pool,
    bridge: Bridge,
}

/// What PostgreSQL or the pool said, in one message: the driver's own
/// message is only its kind ("db error"), what the server said is in its
/// source, and the pool's message repeats its source's. Flattened here, so
/// the message says everything once and there is no source to repeat.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct Database {
    message: String,
    /// The SQLSTATE of an error the server reported.
    code: Option<SqlState>,
}

impl Database {
    /// `e`, a backend error of SQLSTATE `code` if the server said one.
    fn error(e: &dyn std::error::Error, code: Option<&SqlState>) -> RecordsError {
        let mut message = e.to_string();
        let mut cause = e.source();
        while let Some(e) = cause {
            let said = e.to_string();
            if !message.contains(&said) {
                message.push_str(": ");
                message.push_str(&said);
            }
            cause = e.source();
        }
        if let Some(code) = code {
            message.push_str(&format!(" (SQLSTATE {})", code.code()));
        }
        RecordsError::Backend(Box::new(Database {
            message,
            code: code.cloned(),
        }))
    }
}

impl From<tokio_postgres::Error> for RecordsError {
    fn from(e: tokio_postgres::Error) -> Self {
        Database::error(&e, e.code())
    }
}

fn pool_error(e: PoolError) -> RecordsError {
    let code = match &e {
        PoolError::Backend(e) => e.code(),
        _ => None,
    };
    Database::error(&e, code)
}

/// A write lost to a concurrent one that committed first: run it again.
/// The database reports most such losses itself (see [`conflicted`]);
/// this is for those a domain file notices, such as a conditional update
/// that found its row changed although the checks before it passed.
#[derive(Debug, thiserror::Error)]
#[error("{0} changed under this write")]
struct Conflict(String);

fn conflict(what: impl Into<String>) -> RecordsError {
    RecordsError::Backend(Box::new(Conflict(what.into())))
}

fn to_u32(n: i64, what: &str) -> Result<u32> {
    u32::try_from(n).map_err(|_| corrupt(format!("{what}: {n} is not a 32-bit count")))
}

/// A transaction, with the pool's statement cache.
type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// The arguments of one statement.
type Args<'a> = [&'a dyn Arg];

/// Column `index` of `row`, checked against its type (text decoded).
fn get<T: Column>(row: &Row, index: usize) -> Result<T> {
    T::read(row, index)
}

fn params<'a>(args: &'a Args<'_>) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|arg| arg.sql()).collect()
}

/// Every row of `sql`. Statements are prepared once per connection.
async fn rows(tx: &Tx<'_>, sql: &str, args: &Args<'_>) -> Result<Vec<Row>> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.query(&statement, &params(args)).await?)
}

/// The first row of `sql`, if any (as SQLite's `query_row` takes the first).
async fn first(tx: &Tx<'_>, sql: &str, args: &Args<'_>) -> Result<Option<Row>> {
    Ok(rows(tx, sql, args).await?.into_iter().next())
}

/// The row `sql` always gives (an aggregate, or one the transaction just
/// wrote).
async fn one(tx: &Tx<'_>, sql: &str, args: &Args<'_>) -> Result<Row> {
    first(tx, sql, args)
        .await?
        .ok_or_else(|| corrupt(format!("no row where one was expected: {sql}")))
}

/// Runs `sql`; the rows it changed.
async fn execute(tx: &Tx<'_>, sql: &str, args: &Args<'_>) -> Result<u64> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.execute(&statement, &params(args)).await?)
}

/// The advisory locks the records take, each in the two-`int4` key space
/// (`class`, `object`), held until the transaction ends. The classes spell
/// "AS" and a number, to stay clear of other users of the database.
mod locks {
    /// Migrating the schema: one process at a time ([`super::migrations`]).
    pub const MIGRATIONS: i32 = 0x4153_0001;
    /// Appending to one publisher's event feed (object: the account).
    pub const EVENTS: i32 = 0x4153_0002;
    /// Adding a listing: listings are paged through by their sequence.
    pub const LISTINGS: i32 = 0x4153_0003;
    /// Leasing webhook deliveries: one process at a time looks for
    /// publishers with no lease, so two never both lease one publisher's.
    pub const DELIVERIES: i32 = 0x4153_0004;

    /// An account id folded into an `int4` object. Two accounts sharing
    /// one only wait for each other; nothing is wrong.
    pub fn account(id: i64) -> i32 {
        (id ^ (id >> 32)) as i32
    }
}

/// Takes advisory lock (`class`, `object`) until the transaction ends.
async fn lock(tx: &Tx<'_>, class: i32, object: i32) -> Result<()> {
    execute(
        tx,
        "SELECT pg_advisory_xact_lock($1::int4, $2::int4)",
        &[&class, &object],
    )
    .await?;
    Ok(())
}

/// How a call's transaction runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// A read-only `REPEATABLE READ` snapshot.
    Read,
    /// `SERIALIZABLE`, run again on a conflict (see the module doc).
    Write,
    /// `READ COMMITTED`, for a queue read that locks the rows it hands out
    /// and skips those another process holds (`FOR UPDATE SKIP LOCKED`):
    /// it must see the latest commits, not a snapshot.
    Claim,
}

/// The body of one call: its statements in the transaction `tx`, on the
/// call's arguments `args`. A plain function (no captures), so a write can
/// be run again from the start.
type Work<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;
type Job<A, T> = for<'a> fn(&'a Tx<'a>, &'a A) -> Work<'a, T>;

impl PostgresRecords {
    /// Connects to the database at `url` (`postgres://user:password@host:port/name`)
    /// and migrates it. With `?sslmode=require` every connection is TLS,
    /// and the server's certificate must chain to one of the system's
    /// roots (`SSL_CERT_FILE` or `SSL_CERT_DIR` name others) and name the
    /// host: libpq's `verify-full`. Without it, connections are plain, for
    /// a database on a private network or a unix socket.
    pub fn open(url: &str) -> Result<PostgresRecords> {
        let mut config: tokio_postgres::Config = url.parse()?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT);
        }
        if config.get_application_name().is_none() {
            config.application_name("assay-market");
        }
        let database = describe(&config);
        let pooling = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        // `prefer` (the default) stays plain rather than meeting a
        // certificate no root vouches for, such as a distribution's
        // self-signed one: TLS is asked for, and then always verified.
        let manager = match config.get_ssl_mode() {
            SslMode::Require => Manager::from_config(config, tls_with_system_roots()?, pooling),
            _ => Manager::from_config(config, NoTls, pooling),
        };
        let pool = Pool::builder(manager)
            .max_size(POOL)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(WAIT))
            .create_timeout(Some(CONNECT))
            .build()
            .map_err(|e| RecordsError::Backend(Box::new(e)))?;
        let bridge =
            Bridge::new("assay-postgres").map_err(|e| RecordsError::Backend(Box::new(e)))?;
        let records = PostgresRecords { pool, bridge };
        let pool = records.pool.clone();
        records
            .bridge
            .run(
                CALL,
                async move { migrations::migrate(&pool, &database).await },
            )
            .map_err(|e| RecordsError::Backend(Box::new(e)))??;
        Ok(records)
    }

    fn call<A, T>(
        &self,
        access: Access,
        feed: Option<AccountId>,
        args: A,
        job: Job<A, T>,
    ) -> Result<T>
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        self.bridge
            .run(CALL, async move {
                transact(&pool, access, feed, &args, job).await
            })
            .map_err(|e| RecordsError::Backend(Box::new(e)))?
    }

    fn read<A, T>(&self, args: A, job: Job<A, T>) -> Result<T>
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
    {
        self.call(Access::Read, None, args, job)
    }

    fn write<A, T>(&self, args: A, job: Job<A, T>) -> Result<T>
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
    {
        self.call(Access::Write, None, args, job)
    }

    /// A write that appends to `feed`'s events (when there is such an
    /// account), run with the feed's lock taken before its transaction
    /// begins (see [`once`]).
    fn write_to_feed<A, T>(&self, feed: Option<AccountId>, args: A, job: Job<A, T>) -> Result<T>
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
    {
        self.call(Access::Write, feed, args, job)
    }
}

/// TLS that trusts the system's root certificates, as rustls-native-certs
/// finds them (the platform's store, or `SSL_CERT_FILE`/`SSL_CERT_DIR`).
fn tls_with_system_roots() -> Result<MakeRustlsConnect> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _unparsable) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found
            .errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        return Err(RecordsError::Backend(
            format!("sslmode=require, but no root certificate to verify the database with: {why}")
                .into(),
        ));
    }
    // ring, as reqwest's rustls uses for the webhooks: rustls deprecated
    // it for lacking post-quantum key exchange, whose provider (aws-lc-rs)
    // would add a C build to the workspace.
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| RecordsError::Backend(Box::new(e)))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// The database as errors name it: hosts, port and name, never the
/// password.
fn describe(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let name = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("postgres://{}:{port}/{name}", hosts.join(","))
}

/// Runs `job` in one transaction of kind `access` and commits it. A write
/// that loses a conflict ([`conflicted`]) is rolled back and run again, a
/// bounded number of times, after a random pause whose range doubles each
/// time, so that losers spread out rather than meet again at once.
async fn transact<A, T>(
    pool: &Pool,
    access: Access,
    feed: Option<AccountId>,
    args: &A,
    job: Job<A, T>,
) -> Result<T> {
    let mut attempt = 1;
    loop {
        match once(pool, access, feed, args, job).await {
            Err(e) if access == Access::Write && attempt < ATTEMPTS && conflicted(&e) => {
                let range = (2u64 << attempt.min(16)).min(MAX_PAUSE_MS);
                let pause = 1 + u64::from(OsRng.next_u32()) % range;
                tokio::time::sleep(Duration::from_millis(pause)).await;
                attempt += 1;
            }
            done => return done,
        }
    }
}

/// One run of `job`. With a `feed`, the feed's lock (the one
/// `sales::add_event` takes) is taken first, for the session, and only
/// then the transaction begins. Taken inside the transaction, as
/// `add_event` does, a writer that waited for it would carry on from a
/// snapshot older than the holder's commit, so two purchases of one
/// publisher's listings at once would conflict and one run again; taken
/// before, the second starts from the first's commit and they follow
/// each other without conflict (measured: 123 of 20,000 purchase
/// requests at once lost every retry before, BENCHMARKS.md).
async fn once<A, T>(
    pool: &Pool,
    access: Access,
    feed: Option<AccountId>,
    args: &A,
    job: Job<A, T>,
) -> Result<T> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let Some(account) = feed else {
        return in_transaction(&mut client, access, args, job).await;
    };
    let object = locks::account(account);
    // Held before the lock is asked for: a call given up while it waits
    // may still be granted the lock, and must not pool the connection.
    let mut held = SessionLock(Some(client));
    held.client()?
        .execute(
            "SELECT pg_advisory_lock($1::int4, $2::int4)",
            &[&locks::EVENTS, &object],
        )
        .await?;
    let done = in_transaction(held.client()?, access, args, job).await;
    held.release(locks::EVENTS, object).await;
    done
}

/// A pooled connection holding a session-level advisory lock. Dropped
/// before [`SessionLock::release`] (an error, a call given up), it closes
/// the connection, which frees the lock, rather than pool it still held.
struct SessionLock(Option<deadpool_postgres::Object>);

impl SessionLock {
    /// The connection; only `release` and drop take it away.
    fn client(&mut self) -> Result<&mut deadpool_postgres::Object> {
        self.0
            .as_mut()
            .ok_or_else(|| corrupt("the session lock lost its connection".to_owned()))
    }

    /// Unlocks and pools the connection; closes it if unlocking fails.
    async fn release(mut self, class: i32, object: i32) {
        let Some(client) = self.0.take() else {
            return;
        };
        let unlocked = client
            .execute(
                "SELECT pg_advisory_unlock($1::int4, $2::int4)",
                &[&class, &object],
            )
            .await;
        if unlocked.is_err() {
            drop(deadpool_postgres::Object::take(client));
        }
    }
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            drop(deadpool_postgres::Object::take(client));
        }
    }
}

async fn in_transaction<A, T>(
    client: &mut deadpool_postgres::Object,
    access: Access,
    args: &A,
    job: Job<A, T>,
) -> Result<T> {
    let (level, read_only) = match access {
        Access::Read => (IsolationLevel::RepeatableRead, true),
        Access::Write => (IsolationLevel::Serializable, false),
        Access::Claim => (IsolationLevel::ReadCommitted, false),
    };
    let tx = client
        .build_transaction()
        .isolation_level(level)
        .read_only(read_only)
        .start()
        .await?;
    // An error drops `tx`, which rolls it back.
    let value = job(&tx, args).await?;
    tx.commit().await?;
    Ok(value)
}

/// Whether `e` is a write losing to a concurrent one: a serialization
/// failure, a deadlock, or a unique key another transaction took
/// meanwhile. PostgreSQL's manual advises retrying unique violations too
/// under `SERIALIZABLE`, since the check that would have seen the other
/// row ran before it was committed; run again, the domain's own check
/// answers (an existing row, or its typed refusal). A violation that is
/// not a race fails the same way every run and is reported after the last.
fn conflicted(e: &RecordsError) -> bool {
    let RecordsError::Backend(source) = e else {
        return false;
    };
    if source.is::<Conflict>() {
        return true;
    }
    source
        .downcast_ref::<Database>()
        .and_then(|e| e.code.as_ref())
        .is_some_and(|code| {
            [
                SqlState::T_R_SERIALIZATION_FAILURE,
                SqlState::T_R_DEADLOCK_DETECTED,
                SqlState::UNIQUE_VIOLATION,
            ]
            .contains(code)
        })
}

impl Records for PostgresRecords {
    fn add_account(&self, name: &str, role: Role, token_sha256: &[u8; 32]) -> Result<Account> {
        self.write(
            (name.to_owned(), role, *token_sha256),
            |tx, (name, role, token)| Box::pin(accounts::add(tx, name, *role, token)),
        )
    }

    fn account_by_token(&self, token_sha256: &[u8; 32]) -> Result<Option<Account>> {
        self.read(*token_sha256, |tx, token| {
            Box::pin(accounts::by_token(tx, token))
        })
    }

    fn set_token(&self, name: &str, token_sha256: &[u8; 32]) -> Result<Account> {
        self.write((name.to_owned(), *token_sha256), |tx, (name, token)| {
            Box::pin(accounts::set_token(tx, name, token))
        })
    }

    fn add_key(
        &self,
        account: AccountId,
        key_id: &str,
        public_key: &[u8; 32],
    ) -> Result<Insert<StoredKey>> {
        self.write(
            (account, key_id.to_owned(), *public_key),
            |tx, (account, key_id, public_key)| {
                Box::pin(accounts::add_key(tx, *account, key_id, public_key))
            },
        )
    }

    fn keys(&self, account: AccountId) -> Result<Vec<StoredKey>> {
        self.read(account, |tx, account| {
            Box::pin(accounts::keys(tx, *account))
        })
    }

    fn add_manifest(&self, manifest: NewManifest) -> Result<Insert<Manifest>> {
        self.write(manifest, |tx, manifest| {
            Box::pin(manifests::add(tx, manifest))
        })
    }

    fn manifest(&self, account: AccountId, manifest_id: &str) -> Result<Option<Manifest>> {
        self.read((account, manifest_id.to_owned()), |tx, (account, id)| {
            Box::pin(manifests::find(tx, *account, id))
        })
    }

    fn manifest_bytes(&self, account: AccountId, manifest_id: &str) -> Result<Option<Vec<u8>>> {
        self.read((account, manifest_id.to_owned()), |tx, (account, id)| {
            Box::pin(manifests::bytes(tx, *account, id))
        })
    }

    fn manifest_asset(
        &self,
        account: AccountId,
        manifest_id: &str,
        asset_id: &str,
    ) -> Result<Option<StoredAsset>> {
        self.read(
            (account, manifest_id.to_owned(), asset_id.to_owned()),
            |tx, (account, manifest_id, asset_id)| {
                Box::pin(manifests::find_asset(tx, *account, manifest_id, asset_id))
            },
        )
    }

    fn manifest_shard(
        &self,
        account: AccountId,
        manifest_id: &str,
        name: &str,
    ) -> Result<Option<StoredShard>> {
        self.read(
            (account, manifest_id.to_owned(), name.to_owned()),
            |tx, (account, manifest_id, name)| {
                Box::pin(manifests::find_shard(tx, *account, manifest_id, name))
            },
        )
    }

    fn create_upload(&self, upload: NewUpload) -> Result<Upload> {
        self.write(upload, |tx, upload| Box::pin(uploads::create(tx, upload)))
    }

    fn upload(&self, id: &UploadId) -> Result<Option<Upload>> {
        self.read(id.clone(), |tx, id| Box::pin(uploads::load(tx, id)))
    }

    fn advance_upload(&self, id: &UploadId, from: u64, to: u64, expires_at_ms: i64) -> Result<()> {
        self.write(
            (id.clone(), from, to, expires_at_ms),
            |tx, (id, from, to, expires_at_ms)| {
                Box::pin(uploads::advance(tx, id, *from, *to, *expires_at_ms))
            },
        )
    }

    fn complete_upload(&self, id: &UploadId) -> Result<BlobId> {
        self.write(id.clone(), |tx, id| Box::pin(uploads::complete(tx, id)))
    }

    fn record_fingerprint(&self, blob: &BlobId, print: &Fingerprint) -> Result<()> {
        self.write((blob.clone(), *print), |tx, (blob, print)| {
            Box::pin(fingerprints::record(tx, blob, print))
        })
    }

    fn near_listed(
        &self,
        account: AccountId,
        print: &Fingerprint,
        max: u32,
    ) -> Result<Option<NearListing>> {
        self.read((account, *print, max), |tx, (account, print, max)| {
            Box::pin(fingerprints::near_listed(tx, *account, print, *max))
        })
    }

    fn manifest_fingerprints(
        &self,
        account: AccountId,
        manifest_id: &str,
    ) -> Result<Vec<(String, Fingerprint)>> {
        self.read((account, manifest_id.to_owned()), |tx, (account, id)| {
            Box::pin(fingerprints::of_manifest(tx, *account, id))
        })
    }

    fn remove_upload(&self, id: &UploadId) -> Result<()> {
        self.write(id.clone(), |tx, id| Box::pin(uploads::remove(tx, id)))
    }

    fn expire_upload(&self, id: &UploadId) -> Result<()> {
        self.write(id.clone(), |tx, id| Box::pin(uploads::expire(tx, id)))
    }

    fn expired_uploads(&self, now_ms: i64) -> Result<Vec<UploadId>> {
        self.read(now_ms, |tx, now_ms| Box::pin(uploads::expired(tx, *now_ms)))
    }

    fn open_uploads(&self) -> Result<Vec<Upload>> {
        self.read((), |tx, ()| Box::pin(uploads::open(tx)))
    }

    fn blob_ids(&self) -> Result<Vec<BlobId>> {
        self.read((), |tx, ()| Box::pin(uploads::blob_ids(tx)))
    }

    fn create_listing(&self, listing: NewListing) -> Result<ListingRecord> {
        self.write_to_feed(Some(listing.account), listing, |tx, listing| {
            Box::pin(listings::create(tx, listing))
        })
    }

    fn listing(&self, id: &ListingId) -> Result<Option<ListingDetail>> {
        self.read(id.clone(), |tx, id| Box::pin(listings::detail(tx, id)))
    }

    fn listings(&self, after: Option<&ListingId>, limit: u32) -> Result<Vec<ListingRow>> {
        self.read((after.cloned(), limit), |tx, (after, limit)| {
            Box::pin(listings::page(tx, after.as_ref(), *limit))
        })
    }

    fn update_listing(&self, id: &ListingId, terms: &ListingTerms) -> Result<()> {
        self.write((id.clone(), terms.clone()), |tx, (id, terms)| {
            Box::pin(listings::update(tx, id, terms))
        })
    }

    fn withdraw(&self, id: &ListingId, asset_id: &str, reason: &str) -> Result<()> {
        self.write(
            (id.clone(), asset_id.to_owned(), reason.to_owned()),
            |tx, (id, asset_id, reason)| Box::pin(listings::withdraw(tx, id, asset_id, reason)),
        )
    }

    fn create_purchase(&self, purchase: NewPurchase) -> Result<Insert<PurchaseRecord>> {
        let publisher = self.read(purchase.listing.clone(), |tx, id| {
            Box::pin(sales::listing_publisher(tx, id))
        })?;
        self.write_to_feed(publisher, purchase, |tx, purchase| {
            Box::pin(sales::create_purchase(tx, purchase))
        })
    }

    fn purchase(&self, id: &PurchaseId) -> Result<Option<PurchaseRecord>> {
        self.read(id.clone(), |tx, id| Box::pin(sales::load(tx, id)))
    }

    fn settle(&self, id: &PurchaseId, how: Settlement) -> Result<PurchaseRecord> {
        let publisher = self.read(id.clone(), |tx, id| {
            Box::pin(sales::purchase_publisher(tx, id))
        })?;
        self.write_to_feed(publisher, (id.clone(), how), |tx, (id, how)| {
            Box::pin(sales::settle(tx, id, *how))
        })
    }

    fn fail_payout(&self, id: &PayoutId, reason: &str) -> Result<PayoutFailure> {
        let publisher = self.read(id.clone(), |tx, id| {
            Box::pin(sales::payout_publisher(tx, id))
        })?;
        self.write_to_feed(
            publisher,
            (id.clone(), reason.to_owned()),
            |tx, (id, reason)| Box::pin(sales::fail_payout(tx, id, reason)),
        )
    }

    fn due_purchases(&self, now_ms: i64) -> Result<Vec<PurchaseId>> {
        self.read(now_ms, |tx, now_ms| {
            Box::pin(sales::due_purchases(tx, *now_ms))
        })
    }

    fn events(&self, account: AccountId, after: i64, limit: u32) -> Result<Vec<EventRecord>> {
        self.read((account, after, limit), |tx, (account, after, limit)| {
            Box::pin(sales::events(tx, *account, *after, *limit))
        })
    }

    fn set_preview(
        &self,
        listing: &ListingId,
        preview: &PreviewRecord,
    ) -> Result<Option<PreviewId>> {
        self.write(
            (listing.clone(), preview.clone()),
            |tx, (listing, preview)| Box::pin(previews::set(tx, listing, preview)),
        )
    }

    fn previews(&self, listing: &ListingId) -> Result<Vec<PreviewRecord>> {
        self.read(listing.clone(), |tx, listing| {
            Box::pin(previews::list(tx, listing))
        })
    }

    fn preview_ids(&self) -> Result<Vec<PreviewId>> {
        self.read((), |tx, ()| Box::pin(previews::ids(tx)))
    }

    fn set_credentials(&self, listing: &ListingId, asset_id: &str, store: &[u8]) -> Result<()> {
        self.write(
            (listing.clone(), asset_id.to_owned(), store.to_vec()),
            |tx, (listing, asset_id, store)| {
                Box::pin(previews::set_credentials(tx, listing, asset_id, store))
            },
        )
    }

    fn credentials(&self, listing: &ListingId, asset_id: &str) -> Result<Option<Vec<u8>>> {
        self.read(
            (listing.clone(), asset_id.to_owned()),
            |tx, (listing, asset_id)| Box::pin(previews::credentials(tx, listing, asset_id)),
        )
    }

    fn add_webhook(
        &self,
        id: &WebhookId,
        account: AccountId,
        url: &str,
        secret: &str,
    ) -> Result<WebhookRecord> {
        self.write(
            (id.clone(), account, url.to_owned(), secret.to_owned()),
            |tx, (id, account, url, secret)| Box::pin(webhooks::add(tx, id, *account, url, secret)),
        )
    }

    fn webhooks(&self, account: AccountId) -> Result<Vec<WebhookRecord>> {
        self.read(account, |tx, account| {
            Box::pin(webhooks::list(tx, *account))
        })
    }

    fn delete_webhook(&self, account: AccountId, id: &WebhookId) -> Result<bool> {
        self.write((account, id.clone()), |tx, (account, id)| {
            Box::pin(webhooks::delete(tx, *account, id))
        })
    }

    fn due_deliveries(
        &self,
        now_ms: i64,
        limit: u32,
        lease_until_ms: i64,
    ) -> Result<Vec<DueDelivery>> {
        self.call(
            Access::Claim,
            None,
            (now_ms, limit, lease_until_ms),
            |tx, (now_ms, limit, lease_until_ms)| {
                Box::pin(webhooks::due(tx, *now_ms, *limit, *lease_until_ms))
            },
        )
    }

    fn take_token(&self, account: AccountId, per_minute: u32, now_ms: i64) -> Result<Option<u64>> {
        self.write(
            (account, per_minute, now_ms),
            |tx, (account, per_minute, now_ms)| {
                Box::pin(accounts::take_token(tx, *account, *per_minute, *now_ms))
            },
        )
    }

    fn server_secret(&self, name: &str) -> Result<[u8; 32]> {
        let mut fresh = [0u8; 32];
        rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut fresh)
            .map_err(|e| RecordsError::Backend(e.to_string().into()))?;
        self.write((name.to_owned(), fresh), |tx, (name, fresh)| {
            Box::pin(accounts::server_secret(tx, name, fresh))
        })
    }

    fn delivered(&self, seq: i64) -> Result<()> {
        self.write(seq, |tx, seq| Box::pin(webhooks::delivered(tx, *seq)))
    }

    fn delivery_failed(&self, seq: i64, error: &str, retry_at_ms: Option<i64>) -> Result<()> {
        self.write(
            (seq, error.to_owned(), retry_at_ms),
            |tx, (seq, error, retry_at_ms)| {
                Box::pin(webhooks::failed(tx, *seq, error, *retry_at_ms))
            },
        )
    }

    fn latest_witnessed(
        &self,
        account: AccountId,
        library: Option<&str>,
    ) -> Result<Option<WitnessedRecord>> {
        self.read(
            (account, library.map(str::to_owned)),
            |tx, (account, library)| Box::pin(witnessed::latest(tx, *account, library.as_deref())),
        )
    }

    fn add_witnessed(&self, new: NewWitnessed, after: Option<i64>) -> Result<WitnessedRecord> {
        self.write((new, after), |tx, (new, after)| {
            Box::pin(witnessed::add(tx, new, *after))
        })
    }
}
