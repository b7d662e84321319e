//! Events signed together: an export signs its events as one batch, over the
//! Merkle root of their digests. Tampering with a batched event, its place in
//! the batch, or the batch itself must be named like any other break.

use std::path::PathBuf;

use assay_core::{Filter, Selection};
use ed25519_dalek::Signer as _;
use rusqlite::{params, Connection};
use sha2::{Digest, Sha256};

use crate::manifest::approved_world;
use crate::tamper::{drop_triggers, secret};
use crate::World;

/// The approved world after a manifest export of both photos: each asset's
/// last event is an `export` signed in one batch. Returns the world and the
/// (asset row, asset id, seq) of each export event, in leaf order.
fn exported() -> (World, Vec<(i64, String, i64)>) {
    let (w, _) = approved_world();
    let out: PathBuf = w.dir.path().join("manifest.json");
    let all = Selection::Where(Filter::default());
    let export = w.library.export_manifest(&w.rosa, &all, &out).unwrap();
    assert_eq!(export.assets, 2);
    let db = w.db();
    let events = db
        .prepare(
            "SELECT e.asset, a.asset_id, e.seq FROM events e JOIN assets a ON a.id = e.asset
             WHERE e.kind = 'export' ORDER BY e.leaf",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (w, events)
}

fn breaks(w: &World) -> Vec<(String, Option<i64>, String)> {
    let report = w.library.verify_provenance().unwrap();
    report
        .breaks
        .into_iter()
        .map(|b| (b.asset_id, b.seq, b.problem))
        .collect()
}

/// The batch the export signed (the bulk edit before it signed its own).
fn export_batch(db: &Connection) -> i64 {
    db.query_row(
        "SELECT DISTINCT batch FROM events WHERE kind = 'export'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn drop_batch_triggers(db: &Connection) {
    db.execute_batch(
        "DROP TRIGGER batches_append_only_update; DROP TRIGGER batches_append_only_delete;",
    )
    .unwrap();
}

#[test]
fn an_export_signs_its_events_once_and_they_verify() {
    let (w, events) = exported();
    let db = w.db();
    let (batches, size, leaves): (i64, i64, Vec<u8>) = db
        .query_row(
            "SELECT count(*), max(size), max(leaves) FROM batches
             WHERE id IN (SELECT batch FROM events WHERE kind = 'export')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((batches, size, leaves.len()), (1, 2, 64));
    for (leaf, (asset, _, seq)) in events.iter().enumerate() {
        let (body, signature, stored_leaf): (String, Vec<u8>, i64) = db
            .query_row(
                "SELECT body, signature, leaf FROM events WHERE asset = ?1 AND seq = ?2",
                params![asset, seq],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(stored_leaf, leaf as i64);
        assert!(signature.is_empty(), "the batch signs it");
        assert_eq!(
            &leaves[leaf * 32..leaf * 32 + 32],
            Sha256::digest(body.as_bytes()).as_slice()
        );
    }
    let report = w.library.verify_provenance().unwrap();
    assert!(report.breaks.is_empty(), "{:?}", report.breaks);
}

#[test]
fn a_batched_event_changed_with_its_hash_recomputed_is_named() {
    let (w, events) = exported();
    let db = w.db();
    drop_triggers(&db);
    let (asset, asset_id, seq) = &events[1];
    let body: String = db
        .query_row(
            "SELECT body FROM events WHERE asset = ?1 AND seq = ?2",
            params![asset, seq],
            |r| r.get(0),
        )
        .unwrap();
    let forged = body
        .replace("\"export\"", "\"export\" ")
        .replace("\" ", "\"");
    let forged = forged.replace("manifest_id\":\"urn:uuid:", "manifest_id\":\"urn:uuid:0");
    assert_ne!(forged, body);
    let hash = format!("sha256:{}", hex::encode(Sha256::digest(forged.as_bytes())));
    db.execute(
        "UPDATE events SET body = ?1, hash = ?2 WHERE asset = ?3 AND seq = ?4",
        params![forged, hash, asset, seq],
    )
    .unwrap();
    db.execute(
        "UPDATE assets SET provenance_hash = ?1 WHERE id = ?2",
        params![hash, asset],
    )
    .unwrap();
    let found = breaks(&w);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((&found[0].0, found[0].1), (asset_id, Some(*seq)));
    assert!(
        found[0].2.contains("are not leaf 1 of the batch"),
        "{found:?}"
    );
}

#[test]
fn events_that_swap_places_in_their_batch_are_named() {
    let (w, events) = exported();
    let db = w.db();
    drop_triggers(&db);
    for (leaf, (asset, _, seq)) in events.iter().enumerate() {
        db.execute(
            "UPDATE events SET leaf = ?1 WHERE asset = ?2 AND seq = ?3",
            params![1 - leaf as i64, asset, seq],
        )
        .unwrap();
    }
    let found = breaks(&w);
    assert_eq!(found.len(), 2, "{found:?}");
    for (asset_id, seq, problem) in &found {
        let (_, _, expected) = events.iter().find(|e| &e.1 == asset_id).unwrap();
        assert_eq!(*seq, Some(*expected));
        assert!(problem.contains("are not leaf"), "{problem}");
    }
}

#[test]
fn changed_leaves_or_a_foreign_batch_signature_break_every_event_of_the_batch() {
    // Leaves rewritten: they no longer give the signed root.
    let (w, events) = exported();
    let db = w.db();
    drop_batch_triggers(&db);
    let mut leaves: Vec<u8> = db
        .query_row(
            &format!(
                "SELECT leaves FROM batches WHERE id = {}",
                export_batch(&db)
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    leaves[40] ^= 1;
    db.execute(
        "UPDATE batches SET leaves = ?1 WHERE id = ?2",
        params![leaves, export_batch(&db)],
    )
    .unwrap();
    let found = breaks(&w);
    assert_eq!(found.len(), 2, "{found:?}");
    for (_, seq, problem) in &found {
        assert!(events.iter().any(|e| Some(e.2) == *seq));
        assert!(
            problem.contains("leaves do not give the batch's root"),
            "{problem}"
        );
    }

    // The batch signed again by a key that is not rosa's, over the same root.
    let (w, _) = exported();
    let db = w.db();
    drop_batch_triggers(&db);
    let (root, size): (String, u64) = db
        .query_row(
            "SELECT root, size FROM batches WHERE id = ?1",
            [export_batch(&db)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let message = format!("{{\"batch_root\":\"{root}\",\"size\":{size}}}");
    let digest = Sha256::digest(message.as_bytes());
    let ada = secret(&w, "ada").sign(&digest);
    db.execute(
        "UPDATE batches SET signature = ?1 WHERE id = ?2",
        params![ada.to_bytes().as_slice(), export_batch(&db)],
    )
    .unwrap();
    let found = breaks(&w);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found.iter().all(|b| b.2.contains(&format!(
            "signature of its batch {} does not verify",
            export_batch(&db)
        ))),
        "{found:?}"
    );

    // Rosa's own signature over that message verifies: the message is what
    // the module documents.
    let (w, _) = exported();
    let db = w.db();
    drop_batch_triggers(&db);
    let (root, size): (String, u64) = db
        .query_row(
            "SELECT root, size FROM batches WHERE id = ?1",
            [export_batch(&db)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let message = format!("{{\"batch_root\":\"{root}\",\"size\":{size}}}");
    let rosa = secret(&w, "rosa").sign(&Sha256::digest(message.as_bytes()));
    db.execute(
        "UPDATE batches SET signature = ?1 WHERE id = ?2",
        params![rosa.to_bytes().as_slice(), export_batch(&db)],
    )
    .unwrap();
    assert!(breaks(&w).is_empty());
}
