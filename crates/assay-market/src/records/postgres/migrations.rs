//! Versioned migrations of the PostgreSQL records. `schema_migrations`
//! holds a row per migration that ran; each runs in its own transaction
//! (PostgreSQL's DDL is transactional), so a crash mid-upgrade leaves the
//! previous version, never half of one. A database from a newer build is
//! refused, never downgraded. Processes starting together take turns on
//! an advisory lock, so each migration runs exactly once.
//!
//! Version 1 is the SQLite records' schema as its nine migrations leave it
//! (`records/migrations.rs`), in PostgreSQL's dialect, collapsed into one:
//! there is no PostgreSQL database of an earlier version to upgrade. Each
//! later SQLite migration needs its counterpart appended here.
//!
//! The translation: `INTEGER PRIMARY KEY` (SQLite's rowid) becomes a
//! `BIGINT` identity, integers `BIGINT` (SQLite stores every integer in 64
//! bits), `BLOB` `BYTEA`, and the columns SQLite keeps as 0/1 integers
//! (`delta`, `tdm_reservation`) `BOOLEAN`. `publisher_keys` gains `seq`,
//! an identity standing for the rowid that SQLite lists a publisher's keys
//! in. Times stay RFC 3339 text and milliseconds as SQLite has them, so
//! both backends hand out the same values.

use super::{get, lock, locks, pool_error, RecordsError, Result};
use crate::clock;

/// Each entry is one migration; never edit a released one, append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the SQLite schema of version 9. Comments on each table are in
    // the SQLite migrations.
    r#"
    CREATE TABLE accounts (
        id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        role          TEXT NOT NULL CHECK (role IN ('publisher', 'buyer')),
        token_sha256  BYTEA NOT NULL UNIQUE,
        created_at    TEXT NOT NULL
    );

    CREATE TABLE publisher_keys (
        key_id      TEXT PRIMARY KEY,
        account     BIGINT NOT NULL REFERENCES accounts(id),
        public_key  BYTEA NOT NULL,
        created_at  TEXT NOT NULL,
        seq         BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
    );
    CREATE INDEX publisher_keys_account ON publisher_keys(account);

    CREATE TABLE manifests (
        id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        manifest_id      TEXT NOT NULL UNIQUE,
        account          BIGINT NOT NULL REFERENCES accounts(id),
        manifest_hash    TEXT NOT NULL,
        key_id           TEXT NOT NULL REFERENCES publisher_keys(key_id),
        bytes            BYTEA NOT NULL,
        received_at      TEXT NOT NULL,
        dataset_id       TEXT,
        dataset_name     TEXT,
        dataset_version  BIGINT,
        dataset_format   TEXT,
        delta            BOOLEAN,
        parent_hash      TEXT
    );
    CREATE INDEX manifests_account ON manifests(account);
    CREATE UNIQUE INDEX manifests_dataset_version
        ON manifests(account, dataset_id, dataset_version) WHERE dataset_id IS NOT NULL;

    CREATE TABLE blobs (
        id          TEXT PRIMARY KEY,
        account     BIGINT NOT NULL REFERENCES accounts(id),
        checksum    TEXT NOT NULL,
        size_bytes  BIGINT NOT NULL,
        created_at  TEXT NOT NULL,
        UNIQUE (account, checksum)
    );

    CREATE TABLE manifest_assets (
        manifest         BIGINT NOT NULL REFERENCES manifests(id),
        seq              BIGINT NOT NULL,
        asset_id         TEXT NOT NULL,
        title            TEXT,
        file_name        TEXT NOT NULL,
        checksum         TEXT NOT NULL,
        size_bytes       BIGINT NOT NULL,
        media_type       TEXT NOT NULL,
        license_tag      TEXT NOT NULL,
        creator_wallet   TEXT NOT NULL,
        payment_terms    TEXT,
        blob             TEXT REFERENCES blobs(id),
        capture_date     TEXT,
        content_usage    TEXT,
        tdm_reservation  BOOLEAN,
        tdm_policy       TEXT,
        credentials      BYTEA,
        PRIMARY KEY (manifest, asset_id),
        UNIQUE (manifest, seq)
    );
    CREATE INDEX manifest_assets_checksum ON manifest_assets(checksum);
    CREATE INDEX manifest_assets_blob ON manifest_assets(blob);

    CREATE TABLE manifest_shards (
        manifest    BIGINT NOT NULL REFERENCES manifests(id),
        seq         BIGINT NOT NULL,
        name        TEXT NOT NULL,
        checksum    TEXT NOT NULL,
        size_bytes  BIGINT NOT NULL,
        assets      BIGINT NOT NULL,
        blob        TEXT REFERENCES blobs(id),
        PRIMARY KEY (manifest, name),
        UNIQUE (manifest, seq)
    );
    CREATE INDEX manifest_shards_checksum ON manifest_shards(checksum);

    CREATE TABLE uploads (
        id          TEXT PRIMARY KEY,
        account     BIGINT NOT NULL REFERENCES accounts(id),
        manifest    BIGINT NOT NULL,
        asset_id    TEXT,
        shard       TEXT,
        length      BIGINT NOT NULL,
        received    BIGINT NOT NULL DEFAULT 0,
        state       TEXT NOT NULL DEFAULT 'open'
                    CHECK (state IN ('open', 'complete', 'expired')),
        created_at  TEXT NOT NULL,
        expires_at  BIGINT NOT NULL,
        CHECK ((asset_id IS NULL) <> (shard IS NULL)),
        FOREIGN KEY (manifest, asset_id) REFERENCES manifest_assets(manifest, asset_id),
        FOREIGN KEY (manifest, shard) REFERENCES manifest_shards(manifest, name)
    );
    CREATE UNIQUE INDEX uploads_one_open ON uploads(manifest, asset_id)
        WHERE state = 'open' AND asset_id IS NOT NULL;
    CREATE UNIQUE INDEX uploads_one_open_shard ON uploads(manifest, shard)
        WHERE state = 'open' AND shard IS NOT NULL;
    CREATE INDEX uploads_expiry ON uploads(expires_at) WHERE state = 'open';

    CREATE TABLE listings (
        seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id           TEXT NOT NULL UNIQUE,
        account      BIGINT NOT NULL REFERENCES accounts(id),
        manifest     BIGINT NOT NULL UNIQUE REFERENCES manifests(id),
        title        TEXT NOT NULL,
        description  TEXT NOT NULL,
        price_minor  BIGINT NOT NULL CHECK (price_minor >= 0),
        currency     TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );

    CREATE TABLE withdrawals (
        listing       BIGINT NOT NULL REFERENCES listings(seq),
        asset_id      TEXT NOT NULL,
        reason        TEXT NOT NULL,
        withdrawn_at  TEXT NOT NULL,
        PRIMARY KEY (listing, asset_id)
    );

    CREATE TABLE purchases (
        seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        listing       BIGINT NOT NULL REFERENCES listings(seq),
        buyer         BIGINT NOT NULL REFERENCES accounts(id),
        amount_minor  BIGINT NOT NULL CHECK (amount_minor >= 0),
        currency      TEXT NOT NULL,
        state         TEXT NOT NULL DEFAULT 'held'
                      CHECK (state IN ('held', 'released', 'refunded')),
        created_at    TEXT NOT NULL,
        hold_until    BIGINT NOT NULL,
        settled_at    TEXT
    );
    CREATE UNIQUE INDEX purchases_one_live ON purchases(listing, buyer) WHERE state <> 'refunded';
    CREATE INDEX purchases_hold ON purchases(hold_until) WHERE state = 'held';

    CREATE TABLE entitlements (
        purchase  BIGINT NOT NULL REFERENCES purchases(seq),
        seq       BIGINT NOT NULL,
        asset_id  TEXT NOT NULL,
        blob      TEXT NOT NULL REFERENCES blobs(id),
        PRIMARY KEY (purchase, asset_id)
    );

    CREATE TABLE shard_entitlements (
        purchase  BIGINT NOT NULL REFERENCES purchases(seq),
        seq       BIGINT NOT NULL,
        name      TEXT NOT NULL,
        blob      TEXT NOT NULL REFERENCES blobs(id),
        PRIMARY KEY (purchase, name)
    );

    CREATE TABLE payouts (
        id              TEXT PRIMARY KEY,
        purchase        BIGINT NOT NULL REFERENCES purchases(seq),
        seq             BIGINT NOT NULL,
        creator_wallet  TEXT,
        asset_ids       TEXT NOT NULL,
        amount_minor    BIGINT NOT NULL CHECK (amount_minor > 0),
        state           TEXT NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'sent', 'cancelled', 'failed')),
        failure         TEXT CHECK ((state = 'failed') = (failure IS NOT NULL)),
        UNIQUE (purchase, seq)
    );

    -- An identity never hands a value out twice, as SQLite's AUTOINCREMENT;
    -- the order readers see is kept by the lock `sales.rs` takes.
    CREATE TABLE events (
        seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,
        account     BIGINT NOT NULL REFERENCES accounts(id),
        body        TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE INDEX events_account ON events(account, seq);

    CREATE TABLE previews (
        listing     BIGINT NOT NULL REFERENCES listings(seq),
        asset_id    TEXT NOT NULL,
        id          TEXT NOT NULL UNIQUE,
        width       BIGINT NOT NULL,
        height      BIGINT NOT NULL,
        size_bytes  BIGINT NOT NULL,
        created_at  TEXT NOT NULL,
        PRIMARY KEY (listing, asset_id)
    );

    CREATE TABLE webhooks (
        id          TEXT PRIMARY KEY,
        account     BIGINT NOT NULL REFERENCES accounts(id),
        url         TEXT NOT NULL,
        secret      TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE INDEX webhooks_account ON webhooks(account);

    CREATE TABLE webhook_deliveries (
        seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        webhook       TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        event         BIGINT NOT NULL REFERENCES events(seq),
        state         TEXT NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts      BIGINT NOT NULL DEFAULT 0,
        next_at       BIGINT NOT NULL,
        last_error    TEXT,
        delivered_at  TEXT,
        UNIQUE (webhook, event)
    );
    CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_at) WHERE state = 'pending';

    CREATE TABLE witnessed_checkpoints (
        seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account       BIGINT NOT NULL REFERENCES accounts(id),
        library       TEXT NOT NULL,
        events_size   BIGINT NOT NULL,
        checkpoint    BYTEA NOT NULL,
        witness       BYTEA NOT NULL,
        witnessed_at  TEXT NOT NULL
    );
    CREATE INDEX witnessed_by_library ON witnessed_checkpoints(account, library, seq);

    CREATE TABLE blob_fingerprints (
        blob            TEXT PRIMARY KEY REFERENCES blobs(id),
        upright         BIGINT NOT NULL,
        quarter         BIGINT NOT NULL,
        half            BIGINT NOT NULL,
        three_quarters  BIGINT NOT NULL,
        band0           BIGINT NOT NULL,
        band1           BIGINT NOT NULL,
        band2           BIGINT NOT NULL,
        band3           BIGINT NOT NULL
    );
    CREATE INDEX blob_fingerprints_band0 ON blob_fingerprints(band0);
    CREATE INDEX blob_fingerprints_band1 ON blob_fingerprints(band1);
    CREATE INDEX blob_fingerprints_band2 ON blob_fingerprints(band2);
    CREATE INDEX blob_fingerprints_band3 ON blob_fingerprints(band3);
    "#,
    // 2: what several server processes share through the records (SQLite's
    // version 10, and the secrets SQLite keeps in files of its data
    // folder): the preview and sample rate buckets, the lease of a webhook
    // delivery being sent, and the server's secrets.
    r#"
    CREATE TABLE rate_buckets (
        account  BIGINT PRIMARY KEY REFERENCES accounts(id),
        tokens   DOUBLE PRECISION NOT NULL,
        at_ms    BIGINT NOT NULL
    );
    ALTER TABLE webhook_deliveries ADD COLUMN leased_until BIGINT;
    CREATE TABLE server_secrets (
        name    TEXT PRIMARY KEY,
        secret  BYTEA NOT NULL CHECK (length(secret) = 32)
    );
    "#,
];

pub(super) const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`CURRENT_VERSION`]. Each migration's
/// transaction first takes the migrations' advisory lock, then reads the
/// version (at `READ COMMITTED`, so it sees what a process that held the
/// lock before committed): of several processes starting at once, one
/// migrates and the others find it done.
pub(super) async fn migrate(pool: &deadpool_postgres::Pool, database: &str) -> Result<()> {
    let mut client = pool.get().await.map_err(pool_error)?;
    loop {
        let tx = client.transaction().await?;
        lock(&tx, locks::MIGRATIONS, 0).await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version     BIGINT PRIMARY KEY,
                 applied_at  TEXT NOT NULL
             )",
        )
        .await?;
        let row = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )
            .await?;
        let found: i64 = get(&row, 0)?;
        if found > CURRENT_VERSION {
            return Err(RecordsError::SchemaTooNew {
                path: database.to_owned(),
                found,
                known: CURRENT_VERSION,
            });
        }
        let Some(sql) = usize::try_from(found).ok().and_then(|i| MIGRATIONS.get(i)) else {
            tx.commit().await?;
            return Ok(());
        };
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[&(found + 1), &clock::timestamp()],
        )
        .await?;
        tx.commit().await?;
    }
}
