//! Versioned migrations of `market.db`. `PRAGMA user_version` counts the
//! ones that ran; each runs in its own transaction, so a crash mid-upgrade
//! leaves the previous version, never half of one. A database from a newer
//! build is refused, never downgraded.
//!
//! Version 1 holds publishing; version 2 buying: purchases with their escrow
//! state, the entitlements (files) each gives its buyer, payouts per payee,
//! and the publishers' event feed. Version 3 adds each asset's capture
//! date (for samples), the listing assets' watermarked previews (stored
//! apart from blobs), and webhooks with their deliveries. Version 8 adds
//! dataset versions: their shards, uploaded and bought like originals. Download links need
//! no table: they are HMACs over (purchase, buyer, file, expiry) under a key
//! in the data folder, and a refund revokes them through the purchase.

use rusqlite::Connection;

use super::{RecordsError, Result};

/// Each entry is one migration; never edit a released one, append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: accounts, keys, manifests, uploads, blobs and listings.
    r#"
    -- An account is known by the SHA-256 of its bearer token; the token
    -- itself is shown once and never stored.
    CREATE TABLE accounts (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        role          TEXT NOT NULL CHECK (role IN ('publisher', 'buyer')),
        token_sha256  BLOB NOT NULL UNIQUE,
        created_at    TEXT NOT NULL
    );

    -- A key belongs to one publisher: the key id is the primary key.
    CREATE TABLE publisher_keys (
        key_id      TEXT PRIMARY KEY,
        account     INTEGER NOT NULL REFERENCES accounts(id),
        public_key  BLOB NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE INDEX publisher_keys_account ON publisher_keys(account);

    -- `bytes` are the manifest as posted, what buyers will verify.
    CREATE TABLE manifests (
        id             INTEGER PRIMARY KEY,
        manifest_id    TEXT NOT NULL UNIQUE,
        account        INTEGER NOT NULL REFERENCES accounts(id),
        manifest_hash  TEXT NOT NULL,
        key_id         TEXT NOT NULL REFERENCES publisher_keys(key_id),
        bytes          BLOB NOT NULL,
        received_at    TEXT NOT NULL
    );
    CREATE INDEX manifests_account ON manifests(account);

    -- Stored files, one per publisher and content: a file uploaded once
    -- serves every manifest of the same publisher that lists its bytes.
    CREATE TABLE blobs (
        id          TEXT PRIMARY KEY,
        account     INTEGER NOT NULL REFERENCES accounts(id),
        checksum    TEXT NOT NULL,
        size_bytes  INTEGER NOT NULL,
        created_at  TEXT NOT NULL,
        UNIQUE (account, checksum)
    );

    CREATE TABLE manifest_assets (
        manifest        INTEGER NOT NULL REFERENCES manifests(id),
        seq             INTEGER NOT NULL,
        asset_id        TEXT NOT NULL,
        title           TEXT,
        file_name       TEXT NOT NULL,
        checksum        TEXT NOT NULL,
        size_bytes      INTEGER NOT NULL,
        media_type      TEXT NOT NULL,
        license_tag     TEXT NOT NULL,
        creator_wallet  TEXT NOT NULL,
        payment_terms   TEXT,
        blob            TEXT REFERENCES blobs(id),
        PRIMARY KEY (manifest, asset_id),
        UNIQUE (manifest, seq)
    );
    CREATE INDEX manifest_assets_checksum ON manifest_assets(checksum);

    -- tus uploads. `received` is the durable offset; `expires_at` is Unix
    -- milliseconds, pushed back by every write. At most one open upload
    -- per asset.
    CREATE TABLE uploads (
        id          TEXT PRIMARY KEY,
        account     INTEGER NOT NULL REFERENCES accounts(id),
        manifest    INTEGER NOT NULL,
        asset_id    TEXT NOT NULL,
        length      INTEGER NOT NULL,
        received    INTEGER NOT NULL DEFAULT 0,
        state       TEXT NOT NULL DEFAULT 'open'
                    CHECK (state IN ('open', 'complete', 'expired')),
        created_at  TEXT NOT NULL,
        expires_at  INTEGER NOT NULL,
        FOREIGN KEY (manifest, asset_id) REFERENCES manifest_assets(manifest, asset_id)
    );
    CREATE UNIQUE INDEX uploads_one_open ON uploads(manifest, asset_id) WHERE state = 'open';
    CREATE INDEX uploads_expiry ON uploads(expires_at) WHERE state = 'open';

    -- `seq` orders listings for paging; `id` is the public id. A manifest
    -- is listed at most once.
    CREATE TABLE listings (
        seq          INTEGER PRIMARY KEY,
        id           TEXT NOT NULL UNIQUE,
        account      INTEGER NOT NULL REFERENCES accounts(id),
        manifest     INTEGER NOT NULL UNIQUE REFERENCES manifests(id),
        title        TEXT NOT NULL,
        description  TEXT NOT NULL,
        price_minor  INTEGER NOT NULL CHECK (price_minor >= 0),
        currency     TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );

    -- Assets taken off a listing, for good.
    CREATE TABLE withdrawals (
        listing       INTEGER NOT NULL REFERENCES listings(seq),
        asset_id      TEXT NOT NULL,
        reason        TEXT NOT NULL,
        withdrawn_at  TEXT NOT NULL,
        PRIMARY KEY (listing, asset_id)
    );
    "#,
    // 2: purchases, entitlements, payouts and events.
    r#"
    -- A purchase holds its price in escrow until released or refunded.
    -- `hold_until` is Unix milliseconds: a purchase still held then is
    -- released by the sweeper.
    CREATE TABLE purchases (
        seq           INTEGER PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        listing       INTEGER NOT NULL REFERENCES listings(seq),
        buyer         INTEGER NOT NULL REFERENCES accounts(id),
        amount_minor  INTEGER NOT NULL CHECK (amount_minor >= 0),
        currency      TEXT NOT NULL,
        state         TEXT NOT NULL DEFAULT 'held'
                      CHECK (state IN ('held', 'released', 'refunded')),
        created_at    TEXT NOT NULL,
        hold_until    INTEGER NOT NULL,
        settled_at    TEXT
    );
    -- A buyer holds at most one live purchase of a listing: buying again
    -- answers with it. After a refund the listing may be bought anew.
    CREATE UNIQUE INDEX purchases_one_live ON purchases(listing, buyer) WHERE state <> 'refunded';
    CREATE INDEX purchases_hold ON purchases(hold_until) WHERE state = 'held';

    -- The files a purchase entitles its buyer to, fixed when it is made:
    -- a later withdrawal does not take back what was bought.
    CREATE TABLE entitlements (
        purchase  INTEGER NOT NULL REFERENCES purchases(seq),
        seq       INTEGER NOT NULL,
        asset_id  TEXT NOT NULL,
        blob      TEXT NOT NULL REFERENCES blobs(id),
        PRIMARY KEY (purchase, asset_id)
    );

    -- One row per payee of a purchase with something owed, snapshotted
    -- from the listing's split; `creator_wallet` NULL is the publisher's
    -- remainder. `asset_ids` is a JSON array.
    CREATE TABLE payouts (
        id              TEXT PRIMARY KEY,
        purchase        INTEGER NOT NULL REFERENCES purchases(seq),
        seq             INTEGER NOT NULL,
        creator_wallet  TEXT,
        asset_ids       TEXT NOT NULL,
        amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
        state           TEXT NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'sent', 'cancelled')),
        UNIQUE (purchase, seq)
    );

    -- The publishers' feed. AUTOINCREMENT so a cursor (`seq`) is never
    -- handed out twice; `body` is the event's JSON.
    CREATE TABLE events (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        id          TEXT NOT NULL UNIQUE,
        account     INTEGER NOT NULL REFERENCES accounts(id),
        body        TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE INDEX events_account ON events(account, seq);
    "#,
    // 3: capture dates, previews, webhooks and their deliveries.
    r#"
    -- Manifests posted before version 3 have none.
    ALTER TABLE manifest_assets ADD COLUMN capture_date TEXT;

    -- A listing asset's watermarked preview; `id` names its bytes in the
    -- blob store's previews, never an original.
    CREATE TABLE previews (
        listing     INTEGER NOT NULL REFERENCES listings(seq),
        asset_id    TEXT NOT NULL,
        id          TEXT NOT NULL UNIQUE,
        width       INTEGER NOT NULL,
        height      INTEGER NOT NULL,
        size_bytes  INTEGER NOT NULL,
        created_at  TEXT NOT NULL,
        PRIMARY KEY (listing, asset_id)
    );

    -- `secret` is kept as given: it is the HMAC key deliveries are signed
    -- with, so it cannot be hashed like a token.
    CREATE TABLE webhooks (
        id          TEXT PRIMARY KEY,
        account     INTEGER NOT NULL REFERENCES accounts(id),
        url         TEXT NOT NULL,
        secret      TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE INDEX webhooks_account ON webhooks(account);

    -- The outbox: a row per webhook per event, written in the event's own
    -- transaction, so a stop loses no delivery. `next_at` is Unix
    -- milliseconds.
    CREATE TABLE webhook_deliveries (
        seq           INTEGER PRIMARY KEY,
        webhook       TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        event         INTEGER NOT NULL REFERENCES events(seq),
        state         TEXT NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts      INTEGER NOT NULL DEFAULT 0,
        next_at       INTEGER NOT NULL,
        last_error    TEXT,
        delivered_at  TEXT,
        UNIQUE (webhook, event)
    );
    CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_at) WHERE state = 'pending';
    "#,
    // 4: a sent payout may fail. SQLite cannot widen a CHECK in place, so
    // the table is rebuilt; nothing references it.
    r#"
    CREATE TABLE payouts_v4 (
        id              TEXT PRIMARY KEY,
        purchase        INTEGER NOT NULL REFERENCES purchases(seq),
        seq             INTEGER NOT NULL,
        creator_wallet  TEXT,
        asset_ids       TEXT NOT NULL,
        amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
        state           TEXT NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'sent', 'cancelled', 'failed')),
        failure         TEXT CHECK ((state = 'failed') = (failure IS NOT NULL)),
        UNIQUE (purchase, seq)
    );
    INSERT INTO payouts_v4 (id, purchase, seq, creator_wallet, asset_ids, amount_minor, state)
        SELECT id, purchase, seq, creator_wallet, asset_ids, amount_minor, state FROM payouts;
    DROP TABLE payouts;
    ALTER TABLE payouts_v4 RENAME TO payouts;
    "#,
    // 5: the checkpoints the market witnessed, the last of each library
    // being what the next one must extend.
    r#"
    CREATE TABLE witnessed_checkpoints (
        seq           INTEGER PRIMARY KEY,
        account       INTEGER NOT NULL REFERENCES accounts(id),
        library       TEXT NOT NULL,
        events_size   INTEGER NOT NULL,
        checkpoint    BLOB NOT NULL,
        witness       BLOB NOT NULL,
        witnessed_at  TEXT NOT NULL
    );
    CREATE INDEX witnessed_by_library ON witnessed_checkpoints(account, library, seq);
    "#,
    // What each asset's license says of AI training, as the headers of its
    // downloads and previews carry it (NULL for manifests stored before).
    r#"
    ALTER TABLE manifest_assets ADD COLUMN content_usage TEXT;
    ALTER TABLE manifest_assets ADD COLUMN tdm_reservation INTEGER;
    ALTER TABLE manifest_assets ADD COLUMN tdm_policy TEXT;
    "#,
    // Each asset's Content Credentials (a C2PA manifest store, at most
    // 1 MiB), as its publisher sent them; NULL until then.
    r#"
    ALTER TABLE manifest_assets ADD COLUMN credentials BLOB;
    "#,
    // 8: dataset versions. A dataset manifest names its dataset and
    // version (and, for a delta, the manifest it updates); its files are
    // shards, uploaded and bought like assets' originals. An upload is of
    // an asset or of a shard, so `uploads` is rebuilt with both, exactly
    // one set (nothing references it).
    r#"
    ALTER TABLE manifests ADD COLUMN dataset_id TEXT;
    ALTER TABLE manifests ADD COLUMN dataset_name TEXT;
    ALTER TABLE manifests ADD COLUMN dataset_version INTEGER;
    ALTER TABLE manifests ADD COLUMN dataset_format TEXT;
    ALTER TABLE manifests ADD COLUMN delta INTEGER;
    ALTER TABLE manifests ADD COLUMN parent_hash TEXT;
    CREATE UNIQUE INDEX manifests_dataset_version
        ON manifests(account, dataset_id, dataset_version) WHERE dataset_id IS NOT NULL;

    CREATE TABLE manifest_shards (
        manifest    INTEGER NOT NULL REFERENCES manifests(id),
        seq         INTEGER NOT NULL,
        name        TEXT NOT NULL,
        checksum    TEXT NOT NULL,
        size_bytes  INTEGER NOT NULL,
        assets      INTEGER NOT NULL,
        blob        TEXT REFERENCES blobs(id),
        PRIMARY KEY (manifest, name),
        UNIQUE (manifest, seq)
    );
    CREATE INDEX manifest_shards_checksum ON manifest_shards(checksum);

    CREATE TABLE uploads_v8 (
        id          TEXT PRIMARY KEY,
        account     INTEGER NOT NULL REFERENCES accounts(id),
        manifest    INTEGER NOT NULL,
        asset_id    TEXT,
        shard       TEXT,
        length      INTEGER NOT NULL,
        received    INTEGER NOT NULL DEFAULT 0,
        state       TEXT NOT NULL DEFAULT 'open'
                    CHECK (state IN ('open', 'complete', 'expired')),
        created_at  TEXT NOT NULL,
        expires_at  INTEGER NOT NULL,
        CHECK ((asset_id IS NULL) <> (shard IS NULL)),
        FOREIGN KEY (manifest, asset_id) REFERENCES manifest_assets(manifest, asset_id),
        FOREIGN KEY (manifest, shard) REFERENCES manifest_shards(manifest, name)
    );
    INSERT INTO uploads_v8 (id, account, manifest, asset_id, length, received, state,
                            created_at, expires_at)
        SELECT id, account, manifest, asset_id, length, received, state, created_at, expires_at
        FROM uploads;
    DROP TABLE uploads;
    ALTER TABLE uploads_v8 RENAME TO uploads;
    CREATE UNIQUE INDEX uploads_one_open ON uploads(manifest, asset_id)
        WHERE state = 'open' AND asset_id IS NOT NULL;
    CREATE UNIQUE INDEX uploads_one_open_shard ON uploads(manifest, shard)
        WHERE state = 'open' AND shard IS NOT NULL;
    CREATE INDEX uploads_expiry ON uploads(expires_at) WHERE state = 'open';

    -- The shards a purchase of a dataset version entitles its buyer to.
    CREATE TABLE shard_entitlements (
        purchase  INTEGER NOT NULL REFERENCES purchases(seq),
        seq       INTEGER NOT NULL,
        name      TEXT NOT NULL,
        blob      TEXT NOT NULL REFERENCES blobs(id),
        PRIMARY KEY (purchase, name)
    );
    "#,
    // 9: each stored picture's perceptual hash, the upright hash's bands
    // indexed, so a listing that repeats another publisher's picture is
    // refused (`near_duplicates.rs`); and the assets holding a blob.
    r#"
    CREATE TABLE blob_fingerprints (
        blob            TEXT PRIMARY KEY REFERENCES blobs(id),
        upright         INTEGER NOT NULL,
        quarter         INTEGER NOT NULL,
        half            INTEGER NOT NULL,
        three_quarters  INTEGER NOT NULL,
        band0           INTEGER NOT NULL,
        band1           INTEGER NOT NULL,
        band2           INTEGER NOT NULL,
        band3           INTEGER NOT NULL
    );
    CREATE INDEX blob_fingerprints_band0 ON blob_fingerprints(band0);
    CREATE INDEX blob_fingerprints_band1 ON blob_fingerprints(band1);
    CREATE INDEX blob_fingerprints_band2 ON blob_fingerprints(band2);
    CREATE INDEX blob_fingerprints_band3 ON blob_fingerprints(band3);
    CREATE INDEX manifest_assets_blob ON manifest_assets(blob);
    "#,
    // 10: what several server processes share through the records: the
    // preview and sample rate buckets, and the lease of a webhook delivery
    // being sent (milliseconds since the epoch; NULL when none).
    r#"
    CREATE TABLE rate_buckets (
        account  INTEGER PRIMARY KEY REFERENCES accounts(id),
        tokens   REAL NOT NULL,
        at_ms    INTEGER NOT NULL
    );
    ALTER TABLE webhook_deliveries ADD COLUMN leased_until INTEGER;
    "#,
];

pub(super) const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings `conn`'s database up to [`CURRENT_VERSION`]. The version is read
/// inside each migration's exclusive transaction, so two processes opening
/// the same folder at once (the server and `account add`) never both run one.
pub(super) fn migrate(conn: &mut Connection, path: &str) -> Result<()> {
    loop {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
            .map_err(backend)?;
        let found: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(backend)?;
        if found > CURRENT_VERSION {
            return Err(RecordsError::SchemaTooNew {
                path: path.to_owned(),
                found,
                known: CURRENT_VERSION,
            });
        }
        let Some(sql) = usize::try_from(found).ok().and_then(|i| MIGRATIONS.get(i)) else {
            return Ok(());
        };
        tx.execute_batch(sql).map_err(backend)?;
        tx.pragma_update(None, "user_version", found + 1)
            .map_err(backend)?;
        tx.commit().map_err(backend)?;
    }
}

fn backend(e: rusqlite::Error) -> RecordsError {
    RecordsError::Backend(Box::new(e))
}
