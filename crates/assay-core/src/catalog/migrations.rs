//! Versioned catalog migrations. `PRAGMA user_version` records how many have
//! run; each runs in its own transaction, so a crash mid-upgrade leaves the
//! catalog at the previous version, never half-migrated.

use rusqlite::Connection;

use crate::error::{Error, Result};

/// Each entry is one migration; never edit a released one, append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: assets and their locations.
    r#"
    CREATE TABLE assets (
        id            INTEGER PRIMARY KEY,
        asset_id      TEXT NOT NULL UNIQUE,
        checksum      TEXT NOT NULL UNIQUE,
        size_bytes    INTEGER NOT NULL,
        media_type    TEXT NOT NULL,
        title         TEXT,
        capture_date  TEXT,
        capture_date_source TEXT,
        original_source TEXT,
        width         INTEGER,
        height        INTEGER,
        row_count     INTEGER,
        make          TEXT,
        model         TEXT,
        exif          TEXT,
        warnings      TEXT NOT NULL DEFAULT '[]',
        thumbnail     TEXT,
        preview       TEXT,
        imported_at   TEXT NOT NULL
    );
    CREATE INDEX assets_capture_date ON assets(capture_date);
    CREATE INDEX assets_media_type ON assets(media_type);

    -- One row per place a copy of an asset's bytes was seen. `path` holds the
    -- raw OS bytes so non-UTF-8 names round-trip; `path_text` is for display
    -- and search.
    CREATE TABLE locations (
        id          INTEGER PRIMARY KEY,
        asset       INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
        path        BLOB NOT NULL UNIQUE,
        path_text   TEXT NOT NULL,
        size_bytes  INTEGER NOT NULL,
        mtime_ns    INTEGER NOT NULL,
        status      TEXT NOT NULL DEFAULT 'present'
                    CHECK (status IN ('present', 'missing', 'modified')),
        seen_at     TEXT NOT NULL,
        verified_at TEXT
    );
    CREATE INDEX locations_asset ON locations(asset);

    CREATE TABLE watched_folders (
        path      BLOB PRIMARY KEY,
        path_text TEXT NOT NULL,
        added_at  TEXT NOT NULL
    );
    "#,
    // 2: users and the provenance chain.
    r#"
    CREATE TABLE users (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        role        TEXT NOT NULL
                    CHECK (role IN ('creator', 'steward', 'rights_manager', 'admin')),
        key_id      TEXT NOT NULL UNIQUE,
        public_key  BLOB NOT NULL,
        created_at  TEXT NOT NULL,
        created_by  INTEGER REFERENCES users(id)
    );

    -- `body` is the event's canonical JSON, byte for byte what was hashed
    -- and signed; the other columns repeat parts of it for queries.
    CREATE TABLE events (
        id         INTEGER PRIMARY KEY,
        asset      INTEGER NOT NULL REFERENCES assets(id),
        seq        INTEGER NOT NULL,
        kind       TEXT NOT NULL,
        body       TEXT NOT NULL,
        hash       TEXT NOT NULL,
        signature  BLOB NOT NULL,
        key_id     TEXT NOT NULL,
        UNIQUE (asset, seq)
    );
    CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'provenance events are append-only'); END;
    CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'provenance events are append-only'); END;

    ALTER TABLE assets ADD COLUMN provenance_hash TEXT;
    ALTER TABLE assets ADD COLUMN uploaded_by INTEGER REFERENCES users(id);
    "#,
    // 3: rights metadata, creator profiles and the review workflow.
    r#"
    CREATE TABLE creators (
        id           INTEGER PRIMARY KEY,
        name         TEXT NOT NULL UNIQUE,
        contact      TEXT,
        payout_ref   TEXT NOT NULL,
        agreement_id TEXT,
        attribution  TEXT,
        created_at   TEXT NOT NULL
    );

    -- The editable metadata as one JSON object, validated against
    -- $defs/rights of schemas/asset.schema.json before every write.
    ALTER TABLE assets ADD COLUMN rights TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE assets ADD COLUMN workflow_state TEXT NOT NULL DEFAULT 'draft'
        CHECK (workflow_state IN ('draft', 'pending', 'approved', 'rejected', 'quarantined'));
    ALTER TABLE assets ADD COLUMN state_since TEXT;
    ALTER TABLE assets ADD COLUMN last_edited_by INTEGER REFERENCES users(id);
    CREATE INDEX assets_workflow_state ON assets(workflow_state);
    "#,
    // 4: contracts the library holds, under the ids assets cite in
    // `signed_contract_id`. The bytes live in contracts/<sha256 hex>.
    r#"
    CREATE TABLE contracts (
        contract_id TEXT PRIMARY KEY,
        file_name   TEXT NOT NULL,
        checksum    TEXT NOT NULL,
        size_bytes  INTEGER NOT NULL,
        added_at    TEXT NOT NULL,
        added_by    INTEGER REFERENCES users(id)
    );
    "#,
    // 5: events signed together (see batch.rs). A batched event's own
    // `signature` is empty; its batch's signature covers the Merkle root of
    // the batch's `leaves` (the events' SHA-256 digests, 32 bytes each, in
    // leaf order), and `leaf` is its place among them.
    r#"
    CREATE TABLE batches (
        id         INTEGER PRIMARY KEY,
        root       TEXT NOT NULL,
        size       INTEGER NOT NULL,
        leaves     BLOB NOT NULL,
        signature  BLOB NOT NULL,
        key_id     TEXT NOT NULL
    );
    CREATE TRIGGER batches_append_only_update BEFORE UPDATE ON batches
    BEGIN SELECT RAISE(ABORT, 'provenance batches are append-only'); END;
    CREATE TRIGGER batches_append_only_delete BEFORE DELETE ON batches
    BEGIN SELECT RAISE(ABORT, 'provenance batches are append-only'); END;
    ALTER TABLE events ADD COLUMN batch INTEGER REFERENCES batches(id);
    ALTER TABLE events ADD COLUMN leaf INTEGER;
    "#,
    // 6: marketplaces the library publishes to (market.rs). The token stays
    // in its file; the catalog keeps only the file's path. A manifest's
    // bytes are kept as posted, so an interrupted sync posts the same ones.
    r#"
    CREATE TABLE markets (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        url         TEXT NOT NULL,
        token_file  TEXT NOT NULL,
        added_at    TEXT NOT NULL
    );
    CREATE TABLE market_manifests (
        id            INTEGER PRIMARY KEY,
        market        INTEGER NOT NULL REFERENCES markets(id),
        manifest_id   TEXT NOT NULL UNIQUE,
        manifest_hash TEXT NOT NULL,
        bytes         BLOB NOT NULL,
        listing_id    TEXT,
        recorded_at   TEXT,
        created_at    TEXT NOT NULL
    );
    -- The assets a manifest claimed for its market: an asset is claimed by
    -- at most one manifest per market until it is withdrawn.
    CREATE TABLE market_items (
        manifest    INTEGER NOT NULL REFERENCES market_manifests(id),
        market      INTEGER NOT NULL REFERENCES markets(id),
        asset       INTEGER NOT NULL REFERENCES assets(id),
        withdrawn_at     TEXT,
        withdrawn_reason TEXT,
        PRIMARY KEY (manifest, asset)
    );
    CREATE UNIQUE INDEX market_items_claimed ON market_items(market, asset)
        WHERE withdrawn_at IS NULL;
    CREATE TABLE market_uploads (
        market      INTEGER NOT NULL REFERENCES markets(id),
        asset       INTEGER NOT NULL REFERENCES assets(id),
        url         TEXT,
        offset      INTEGER NOT NULL DEFAULT 0,
        size_bytes  INTEGER NOT NULL,
        checksum    TEXT NOT NULL,
        finished    INTEGER NOT NULL DEFAULT 0,
        updated_at  TEXT NOT NULL,
        PRIMARY KEY (market, asset)
    );
    "#,
    // 7: a market's event feed as recorded in provenance (market_feed.rs).
    // Each feed event is kept once by its id, so a replayed page or two
    // syncs at once never record a payment twice; `asset_ids` keeps a
    // purchase's assets (JSON), which its release or refund concerns too.
    // `feed_cursor` is where the next read starts.
    r#"
    ALTER TABLE markets ADD COLUMN feed_cursor TEXT;
    CREATE TABLE market_feed (
        market       INTEGER NOT NULL REFERENCES markets(id),
        event_id     TEXT NOT NULL,
        cursor       TEXT NOT NULL,
        type         TEXT NOT NULL,
        purchase_id  TEXT,
        asset_ids    TEXT,
        recorded     INTEGER NOT NULL,
        recorded_at  TEXT NOT NULL,
        PRIMARY KEY (market, event_id)
    );
    CREATE INDEX market_feed_purchase ON market_feed(market, purchase_id);
    "#,
    // 8: the desktop grid's import order as a narrow index (grid.rs): a deep
    // page walks index entries instead of the wide asset rows.
    r#"
    CREATE INDEX assets_imported_at ON assets(imported_at);
    "#,
    // 9: the grid's filters on license tag and state, each paired with both
    // sorts (grid.rs): a filtered page walks only the matching entries, in
    // order, instead of testing every asset's rights JSON on the way. The
    // expression is written exactly as `catalog::where_clause` writes it,
    // which is what lets SQLite use it. The state pairs start with the
    // state, so the single-column state index is redundant.
    r#"
    CREATE INDEX assets_license_capture
        ON assets(json_extract(rights, '$.license_tag'), capture_date);
    CREATE INDEX assets_license_imported
        ON assets(json_extract(rights, '$.license_tag'), imported_at);
    CREATE INDEX assets_state_capture ON assets(workflow_state, capture_date);
    CREATE INDEX assets_state_imported ON assets(workflow_state, imported_at);
    DROP INDEX assets_workflow_state;
    "#,
    // 10: the payment events alone (market_activity.rs): a market panel
    // reads them without walking every asset's chain.
    r#"
    CREATE INDEX events_payments ON events(kind) WHERE kind = 'payment';
    "#,
    // 11: a creator profile's default license (creators.rs), given to an
    // asset that has none when the profile is linked.
    r#"
    ALTER TABLE creators ADD COLUMN default_license TEXT;
    "#,
    // 12: the creator user a profile belongs to (creators.rs): what that
    // user imports is linked to the profile on arrival. One profile per user.
    r#"
    ALTER TABLE creators ADD COLUMN user_id INTEGER REFERENCES users(id);
    CREATE UNIQUE INDEX creators_user ON creators(user_id) WHERE user_id IS NOT NULL;
    "#,
    // 13: the identity ledger (identity/ledger.rs): who may sign, as signed
    // events chained from the library's root, append-only like `events`.
    r#"
    CREATE TABLE identity_events (
        seq        INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL,
        body       TEXT NOT NULL,
        hash       TEXT NOT NULL,
        signature  BLOB NOT NULL,
        key_id     TEXT NOT NULL
    );
    CREATE TRIGGER identity_events_append_only_update BEFORE UPDATE ON identity_events
    BEGIN SELECT RAISE(ABORT, 'identity events are append-only'); END;
    CREATE TRIGGER identity_events_append_only_delete BEFORE DELETE ON identity_events
    BEGIN SELECT RAISE(ABORT, 'identity events are append-only'); END;
    ALTER TABLE users ADD COLUMN revoked_at TEXT;
    "#,
    // 14: checkpoints (provenance/checkpoint.rs), kept here as well as in
    // the library folder's checkpoints/; the catalog's copy is never what
    // verification trusts.
    r#"
    CREATE TABLE checkpoints (
        number  INTEGER PRIMARY KEY,
        at      TEXT NOT NULL,
        body    TEXT NOT NULL
    );
    "#,
    // 15: what each checkpoint leaves the next (its event tree's frontier
    // and last event), so a checkpoint hashes only what was added since.
    r#"
    ALTER TABLE checkpoints ADD COLUMN frontier TEXT;
    "#,
    // 16: files committed to but not yet renamed into place
    // (catalog/pending_files.rs).
    r#"
    CREATE TABLE pending_files (
        id          INTEGER PRIMARY KEY,
        temp        TEXT NOT NULL,
        target      TEXT NOT NULL,
        sha256      TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    "#,
    // 17: the Content Credentials a file arrived with (JSON), as validated
    // at import (assay-credentials).
    r#"
    ALTER TABLE assets ADD COLUMN content_credentials TEXT;
    "#,
    // 18: datasets, each a saved selection (datasets/selections.rs).
    r#"
    CREATE TABLE datasets (
        id          INTEGER PRIMARY KEY,
        dataset_id  TEXT NOT NULL UNIQUE,
        name        TEXT NOT NULL,
        name_key    TEXT NOT NULL UNIQUE,
        selector    TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        created_by  INTEGER NOT NULL REFERENCES users(id)
    );
    "#,
    // 19: the immutable versions a dataset was built into, and the assets
    // each holds, which the next version's delta is taken against
    // (datasets/versions.rs).
    r#"
    CREATE TABLE dataset_versions (
        id            INTEGER PRIMARY KEY,
        dataset       INTEGER NOT NULL REFERENCES datasets(id),
        version       INTEGER NOT NULL,
        parent        INTEGER REFERENCES dataset_versions(id),
        format        TEXT NOT NULL,
        delta         INTEGER NOT NULL,
        manifest_hash TEXT NOT NULL,
        manifest_path TEXT NOT NULL,
        assets        INTEGER NOT NULL,
        shards        INTEGER NOT NULL,
        shard_bytes   INTEGER NOT NULL,
        created_at    TEXT NOT NULL,
        created_by    INTEGER NOT NULL REFERENCES users(id),
        UNIQUE (dataset, version)
    );
    CREATE TABLE dataset_members (
        version       INTEGER NOT NULL REFERENCES dataset_versions(id),
        asset_id      TEXT NOT NULL,
        record_digest TEXT NOT NULL,
        PRIMARY KEY (version, asset_id)
    ) WITHOUT ROWID;
    "#,
    // 20: dataset versions listed on markets, each recorded once (its
    // `export_to_marketplace` events are appended in the same transaction).
    r#"
    CREATE TABLE market_dataset_listings (
        market       INTEGER NOT NULL REFERENCES markets(id),
        version      INTEGER NOT NULL REFERENCES dataset_versions(id),
        listing_id   TEXT NOT NULL,
        manifest_id  TEXT NOT NULL,
        recorded_at  TEXT NOT NULL,
        PRIMARY KEY (market, version)
    );
    "#,
    // 21: what a video's or audio file's container says (JSON, as
    // `formats::av::Media`); NULL for other files and those imported before.
    r#"
    ALTER TABLE assets ADD COLUMN media TEXT;
    "#,
    // 22: assets whose preview the second phase of an import has yet to
    // make (`ingest::previews`); the index holds only those.
    r#"
    ALTER TABLE assets ADD COLUMN previews_pending INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX assets_previews_pending ON assets(id) WHERE previews_pending = 1;
    "#,
    // 23: each pictured asset's perceptual hash, as shown and turned, with
    // the upright hash's 16-bit bands indexed for near-duplicate lookups
    // (`duplicates`). Assets pictured before get theirs when their
    // previews are made again, which this marks them for.
    r#"
    CREATE TABLE fingerprints (
        asset          INTEGER PRIMARY KEY REFERENCES assets(id) ON DELETE CASCADE,
        upright        INTEGER NOT NULL,
        quarter        INTEGER NOT NULL,
        half           INTEGER NOT NULL,
        three_quarters INTEGER NOT NULL,
        band0          INTEGER NOT NULL,
        band1          INTEGER NOT NULL,
        band2          INTEGER NOT NULL,
        band3          INTEGER NOT NULL
    );
    CREATE INDEX fingerprints_band0 ON fingerprints(band0);
    CREATE INDEX fingerprints_band1 ON fingerprints(band1);
    CREATE INDEX fingerprints_band2 ON fingerprints(band2);
    CREATE INDEX fingerprints_band3 ON fingerprints(band3);
    UPDATE assets SET previews_pending = 1
    WHERE preview IS NOT NULL AND substr(media_type, 1, 6) != 'audio/';
    "#,
    // 24: stacks (`catalog::stacks`): an asset folded under the top of its
    // stack, and each stack's kind; the whole library's grid walks only
    // what is not folded, on partial indexes of its two orders. And pairs
    // of near-duplicates a reviewer kept apart (`duplicates`).
    r#"
    ALTER TABLE assets ADD COLUMN stacked_under INTEGER REFERENCES assets(id);
    CREATE INDEX assets_stacked_under ON assets(stacked_under)
        WHERE stacked_under IS NOT NULL;
    CREATE INDEX assets_unstacked_capture ON assets(capture_date)
        WHERE stacked_under IS NULL;
    CREATE INDEX assets_unstacked_imported ON assets(imported_at)
        WHERE stacked_under IS NULL;
    CREATE TABLE stacks (
        top     INTEGER PRIMARY KEY REFERENCES assets(id),
        kind    TEXT NOT NULL CHECK (kind IN ('raw_pair', 'burst', 'duplicates', 'manual')),
        made_at TEXT NOT NULL
    );
    CREATE TABLE kept_apart (
        low     INTEGER NOT NULL REFERENCES assets(id),
        high    INTEGER NOT NULL REFERENCES assets(id),
        kept_at TEXT NOT NULL,
        PRIMARY KEY (low, high),
        CHECK (low < high)
    ) WITHOUT ROWID;
    "#,
];

/// The catalog version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// The first version with the provenance chain; older catalogs' assets need
/// their import events recorded after the upgrade.
pub(crate) const CHAIN_VERSION: i64 = 2;

/// Brings the catalog up to `CURRENT_VERSION` and returns the version it
/// found; refuses a catalog from a newer build.
pub(crate) fn migrate(conn: &mut Connection, path: &std::path::Path) -> Result<i64> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > CURRENT_VERSION {
        return Err(Error::SchemaTooNew {
            path: path.to_owned(),
            found,
            known: CURRENT_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    #[test]
    fn migrates_an_empty_database_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.db");
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, &path).unwrap();
        assert_eq!(
            tables(&conn),
            [
                "assets",
                "batches",
                "checkpoints",
                "contracts",
                "creators",
                "dataset_members",
                "dataset_versions",
                "datasets",
                "events",
                "fingerprints",
                "identity_events",
                "kept_apart",
                "locations",
                "market_dataset_listings",
                "market_feed",
                "market_items",
                "market_manifests",
                "market_uploads",
                "markets",
                "pending_files",
                "stacks",
                "users",
                "watched_folders"
            ]
            .map(String::from)
        );
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, CURRENT_VERSION);
        // A second run finds nothing to do and changes nothing.
        let before = tables(&conn);
        migrate(&mut conn, &path).unwrap();
        assert_eq!(tables(&conn), before);
    }

    #[test]
    fn pictured_assets_are_marked_to_be_fingerprinted_on_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.db");
        let mut conn = Connection::open(&path).unwrap();
        // A catalog of the version before fingerprints, with a photo, an
        // audio file (its waveform is no picture) and a file never pictured.
        for sql in &MIGRATIONS[..22] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 22).unwrap();
        for (id, media_type, preview) in [
            (1, "image/jpeg", Some("previews/aa/a-preview.jpg")),
            (2, "audio/flac", Some("previews/bb/b-preview.jpg")),
            (3, "text/csv", None),
        ] {
            conn.execute(
                "INSERT INTO assets (id, asset_id, checksum, size_bytes, media_type, preview,
                    imported_at, rights)
                 VALUES (?1, ?1, ?1, 1, ?2, ?3, '2026-01-01T00:00:00Z', '{}')",
                rusqlite::params![id, media_type, preview],
            )
            .unwrap();
        }
        migrate(&mut conn, &path).unwrap();
        let pending: Vec<i64> = conn
            .prepare("SELECT id FROM assets WHERE previews_pending = 1")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(pending, [1]);
    }

    #[test]
    fn refuses_a_catalog_from_a_newer_build() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.db");
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", CURRENT_VERSION + 1)
            .unwrap();
        let err = migrate(&mut conn, &path).unwrap_err();
        assert_eq!(err.code(), "schema_too_new");
    }

    #[test]
    fn a_failed_migration_leaves_the_previous_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.db");
        let mut conn = Connection::open(&path).unwrap();
        // A table that collides with migration 1 makes it fail midway.
        conn.execute_batch("CREATE TABLE watched_folders (x)")
            .unwrap();
        assert!(migrate(&mut conn, &path).is_err());
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 0);
        assert_eq!(tables(&conn), ["watched_folders"].map(String::from));
    }
}
