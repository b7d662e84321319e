//! Each way of tampering with the chain named in the rights issue, done
//! directly on the database; verification must name the first broken link.

use assay_core::canonical::canonical_json;
use assay_core::keys;
use ed25519_dalek::{Signer, SigningKey};
use rusqlite::{params, Connection};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{World, PASS};

/// What an attacker needs first: the append-only triggers out of the way.
pub fn drop_triggers(db: &Connection) {
    db.execute_batch(
        "DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete;",
    )
    .unwrap();
}

pub fn secret(w: &World, name: &str) -> SigningKey {
    keys::read_secret_key(&w.library.keys_dir().join(format!("{name}.key")), PASS).unwrap()
}

/// The row id and asset id of the first asset.
fn first_asset(db: &Connection) -> (i64, String) {
    db.query_row(
        "SELECT id, asset_id FROM assets ORDER BY id LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// Appends an event as the core would, claiming `user` in `role` and
/// `claimed_key`'s id, signed with `signing`.
#[allow(clippy::too_many_arguments)]
fn append(
    db: &Connection,
    asset: i64,
    asset_id: &str,
    user: &str,
    role: &str,
    claimed_key: &SigningKey,
    signing: &SigningKey,
    kind: &str,
) {
    let (seq, prev): (i64, String) = db
        .query_row(
            "SELECT seq + 1, hash FROM events WHERE asset = ?1 ORDER BY seq DESC LIMIT 1",
            [asset],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let key_id = keys::key_id(&claimed_key.verifying_key()).to_string();
    let body = canonical_json(&json!({
        "v": 1, "asset_id": asset_id, "seq": seq, "kind": kind, "at": "2026-11-21T00:00:00Z",
        "actor": {"user": user, "role": role, "key_id": key_id},
        "prev": prev, "data": {"note": format!("event {seq}")},
    }));
    let digest = Sha256::digest(&body);
    let hash = format!("sha256:{}", hex::encode(digest));
    let signature = signing.sign(&digest).to_bytes();
    db.execute(
        "INSERT INTO events (asset, seq, kind, body, hash, signature, key_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![asset, seq, kind, String::from_utf8(body).unwrap(), hash, signature.as_slice(), key_id],
    )
    .unwrap();
    db.execute(
        "UPDATE assets SET provenance_hash = ?1 WHERE id = ?2",
        params![hash, asset],
    )
    .unwrap();
}

/// A world whose first asset has a chain of four events, all legitimate:
/// import (cy), two edits (cy), an approval (rosa).
fn chained() -> (World, i64, String) {
    let w = World::new();
    let db = w.db();
    let (asset, asset_id) = first_asset(&db);
    let (cy, rosa) = (secret(&w, "cy"), secret(&w, "rosa"));
    append(
        &db,
        asset,
        &asset_id,
        "cy",
        "creator",
        &cy,
        &cy,
        "metadata_change",
    );
    append(
        &db,
        asset,
        &asset_id,
        "cy",
        "creator",
        &cy,
        &cy,
        "submission",
    );
    append(
        &db,
        asset,
        &asset_id,
        "rosa",
        "rights_manager",
        &rosa,
        &rosa,
        "approval",
    );
    (w, asset, asset_id)
}

/// The single break verification reports, as (asset, seq, problem).
fn single_break(w: &World) -> (String, Option<i64>, String) {
    let report = w.library.verify_provenance().unwrap();
    assert_eq!(report.breaks.len(), 1, "{:#?}", report.breaks);
    let b = report.breaks.into_iter().next().unwrap();
    (b.asset_id, b.seq, b.problem)
}

fn event_id(db: &Connection, asset: i64, seq: i64) -> i64 {
    db.query_row(
        "SELECT id FROM events WHERE asset = ?1 AND seq = ?2",
        [asset, seq],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn an_untouched_chain_verifies() {
    let (w, _, _) = chained();
    let report = w.library.verify_provenance().unwrap();
    assert_eq!((report.assets, report.events), (2, 5));
    assert!(report.breaks.is_empty(), "{:#?}", report.breaks);
}

#[test]
fn the_catalog_refuses_to_change_or_delete_an_event() {
    let (w, _, _) = chained();
    let db = w.db();
    let update = db.execute("UPDATE events SET kind = 'approval' WHERE seq = 1", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = db.execute("DELETE FROM events WHERE seq = 1", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

#[test]
fn a_changed_byte_is_caught() {
    let (w, asset, asset_id) = chained();
    let db = w.db();
    drop_triggers(&db);
    db.execute(
        "UPDATE events SET body = replace(body, 'event 2', 'event 7') WHERE asset = ?1 AND seq = 2",
        [asset],
    )
    .unwrap();
    let (id, seq, problem) = single_break(&w);
    assert_eq!((id, seq), (asset_id, Some(2)));
    assert!(problem.contains("do not match its hash"), "{problem}");
}

#[test]
fn a_changed_byte_with_a_recomputed_hash_fails_its_signature() {
    let (w, asset, asset_id) = chained();
    let db = w.db();
    drop_triggers(&db);
    let body: String = db
        .query_row(
            "SELECT body FROM events WHERE asset = ?1 AND seq = 1",
            [asset],
            |r| r.get(0),
        )
        .unwrap();
    let forged = body.replace("event 1", "event 9");
    let hash = format!("sha256:{}", hex::encode(Sha256::digest(forged.as_bytes())));
    db.execute(
        "UPDATE events SET body = ?1, hash = ?2 WHERE asset = ?3 AND seq = 1",
        params![forged, hash, asset],
    )
    .unwrap();
    let (id, seq, problem) = single_break(&w);
    assert_eq!((id, seq), (asset_id, Some(1)));
    assert!(problem.contains("signature does not verify"), "{problem}");
}

#[test]
fn a_removed_event_is_caught() {
    let (w, asset, asset_id) = chained();
    let db = w.db();
    drop_triggers(&db);
    db.execute("DELETE FROM events WHERE asset = ?1 AND seq = 1", [asset])
        .unwrap();
    let (id, seq, problem) = single_break(&w);
    assert_eq!((id, seq), (asset_id, Some(2)));
    assert!(problem.contains("does not follow"), "{problem}");
}

#[test]
fn a_removed_last_event_is_caught() {
    let (w, asset, asset_id) = chained();
    let db = w.db();
    drop_triggers(&db);
    db.execute("DELETE FROM events WHERE asset = ?1 AND seq = 3", [asset])
        .unwrap();
    let (id, seq, problem) = single_break(&w);
    assert_eq!((id, seq), (asset_id, None));
    assert!(problem.contains("last event was removed"), "{problem}");
}

#[test]
fn reordered_events_are_caught() {
    let (w, asset, asset_id) = chained();
    let db = w.db();
    drop_triggers(&db);
    // Swap everything but the row order of events 1 and 2.
    let (one, two) = (event_id(&db, asset, 1), event_id(&db, asset, 2));
    db.execute_batch(&format!(
        "CREATE TEMP TABLE t AS SELECT * FROM events WHERE id IN ({one}, {two});
         UPDATE events SET seq = -seq WHERE id IN ({one}, {two});
         UPDATE events SET (seq, kind, body, hash, signature, key_id) =
           (SELECT seq, kind, body, hash, signature, key_id FROM t WHERE t.id = {two}) WHERE id = {one};
         UPDATE events SET (seq, kind, body, hash, signature, key_id) =
           (SELECT seq, kind, body, hash, signature, key_id FROM t WHERE t.id = {one}) WHERE id = {two};"
    ))
    .unwrap();
    let (id, seq, problem) = single_break(&w);
    assert_eq!(id, asset_id);
    assert_eq!(seq, Some(2), "{problem}");
    assert!(problem.contains("does not follow"), "{problem}");
}

/// A fresh chain with one more event claiming `user` in `role`, naming the
/// key of `claimed` and signed by `signing` (a user's name, or "stranger"
/// for a key the library has never seen); returns the single break found.
fn forge(
    user: &str,
    role: &str,
    claimed: &str,
    signing: &str,
    kind: &str,
) -> (Option<i64>, String) {
    let (w, asset, asset_id) = chained();
    let stranger = keys::generate();
    let key = |name: &str| match name {
        "stranger" => stranger.clone(),
        name => secret(&w, name),
    };
    let db = w.db();
    append(
        &db,
        asset,
        &asset_id,
        user,
        role,
        &key(claimed),
        &key(signing),
        kind,
    );
    let (_, seq, problem) = single_break(&w);
    (seq, problem)
}

#[test]
fn a_signature_by_a_key_that_is_not_the_users_is_caught() {
    // Claims cy and cy's key id, but rosa signed.
    let (seq, problem) = forge("cy", "creator", "cy", "rosa", "metadata_change");
    assert_eq!(seq, Some(4));
    assert!(problem.contains("signature does not verify"), "{problem}");
    // Claims cy but names (and is signed by) rosa's key.
    let (seq, problem) = forge("cy", "creator", "rosa", "rosa", "metadata_change");
    assert_eq!(seq, Some(4));
    assert!(problem.contains("not cy's key"), "{problem}");
    // A key nobody in the library has.
    let (_, problem) = forge("cy", "creator", "stranger", "stranger", "metadata_change");
    assert!(problem.contains("not cy's key"), "{problem}");
}

#[test]
fn an_event_the_signers_role_could_not_make_is_caught() {
    // A creator approving, with a perfectly valid signature.
    let (seq, problem) = forge("cy", "creator", "cy", "cy", "approval");
    assert_eq!(seq, Some(4));
    assert!(
        problem.contains("a creator, who may not approve"),
        "{problem}"
    );
    // Claiming a role the user does not have.
    let (_, problem) = forge("cy", "rights_manager", "cy", "cy", "approval");
    assert!(
        problem.contains("records role rights_manager but cy is a creator"),
        "{problem}"
    );
}
