//! Chain heads committed outside the catalog, attacked the way someone who
//! can write `library.db` would: SQLite with the append-only triggers
//! dropped, an older copy of the database put back, a whole library folder
//! rewritten. `verify --provenance` checks the catalog against the newest
//! checkpoint in the library folder, or one held apart, and names what
//! changed.

use std::path::Path;
use std::process::Output;

use rusqlite::Connection;

use crate::support::{stderr, Sandbox};
use crate::users::{ok, setup};

/// Two photos cy imported and edited, rosa a rights manager; the asset ids.
pub(crate) fn library(sb: &Sandbox) -> Vec<String> {
    sb.add("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "a.jpg");
    sb.add("exif-py/jpg/exif-org/kodak-dc210.jpg", "b.jpg");
    ok(&sb.as_user("ada", &["user", "add", "rosa", "--role", "rights_manager"]));
    ok(&sb.as_user("cy", &["import", sb.photos().to_str().unwrap()]));
    let (assets, _) = sb.json_lines(&["ls"]);
    let ids: Vec<String> = assets
        .iter()
        .map(|a| a["asset_id"].as_str().unwrap().to_owned())
        .collect();
    for id in &ids {
        ok(&sb.as_user("cy", &["edit", id, "--set", "title=Quay"]));
    }
    ids
}

/// Writes a checkpoint as rosa; returns its path.
fn checkpoint(sb: &Sandbox) -> String {
    let out = sb.as_user("rosa", &["checkpoint"]);
    ok(&out);
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

pub(crate) fn db(sb: &Sandbox) -> Connection {
    Connection::open(sb.library().join("library.db")).unwrap()
}

/// Verification fails, each of `words` on one `checkpoint:` line, and it
/// says which checkpoint it trusted.
pub(crate) fn fails_naming(out: &Output, words: &[&str]) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    assert!(
        stderr(out).contains("checked against checkpoint"),
        "{}",
        stderr(out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("checkpoint: ") && words.iter().all(|w| l.contains(w))),
        "{words:?} not on one line of {stdout}"
    );
}

/// Cuts the last event off `asset_id`'s chain and moves its head back, so
/// the chain itself still links and verifies.
pub(crate) fn cut_last_event(db: &Connection, asset_id: &str) {
    db.execute_batch(
        "DROP TRIGGER IF EXISTS events_append_only_delete;
         DROP TRIGGER IF EXISTS events_append_only_update;",
    )
    .unwrap();
    let (row, last): (i64, i64) = db
        .query_row(
            "SELECT a.id, max(e.seq) FROM assets a JOIN events e ON e.asset = a.id
             WHERE a.asset_id = ?1 GROUP BY a.id",
            [asset_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    db.execute(
        "DELETE FROM events WHERE asset = ?1 AND seq = ?2",
        [row, last],
    )
    .unwrap();
    db.execute(
        "UPDATE assets SET provenance_hash =
           (SELECT hash FROM events WHERE asset = ?1 AND seq = ?2) WHERE id = ?1",
        [row, last - 1],
    )
    .unwrap();
}

#[test]
fn a_chain_cut_short_after_a_checkpoint_is_named() {
    let sb = setup();
    let ids = library(&sb);
    checkpoint(&sb);
    let out = sb.run(&["verify", "--provenance"]);
    ok(&out);
    assert!(stderr(&out).contains("checked against checkpoint"));

    cut_last_event(&db(&sb), &ids[0]);
    let out = sb.run(&["verify", "--provenance"]);
    fails_naming(&out, &[&ids[0], "cut short", "saw event 1", "ends at 0"]);
}

#[test]
fn an_asset_dropped_with_its_whole_chain_is_named() {
    let sb = setup();
    let ids = library(&sb);
    checkpoint(&sb);
    let db = db(&sb);
    db.execute_batch(
        "PRAGMA foreign_keys = OFF;
         DROP TRIGGER events_append_only_delete;",
    )
    .unwrap();
    let row: i64 = db
        .query_row(
            "SELECT id FROM assets WHERE asset_id = ?1",
            [&ids[1]],
            |r| r.get(0),
        )
        .unwrap();
    for table in ["events", "locations"] {
        db.execute(&format!("DELETE FROM {table} WHERE asset = ?1"), [row])
            .unwrap();
    }
    db.execute("DELETE FROM assets WHERE id = ?1", [row])
        .unwrap();
    // Without the checkpoint, what is left verifies.
    let out = sb.run(&["verify", "--provenance"]);
    fails_naming(&out, &[&ids[1], "dropped with its whole chain"]);
}

#[test]
fn an_older_copy_of_the_catalog_put_back_is_caught() {
    let sb = setup();
    let ids = library(&sb);
    checkpoint(&sb);
    let aside = sb.dir.path().join("library.db.old");
    std::fs::copy(sb.library().join("library.db"), &aside).unwrap();
    // Later work, committed in a later checkpoint.
    ok(&sb.as_user("cy", &["submit", &ids[0]]));
    checkpoint(&sb);
    ok(&sb.run(&["verify", "--provenance"]));

    std::fs::copy(&aside, sb.library().join("library.db")).unwrap();
    let out = sb.run(&["verify", "--provenance"]);
    fails_naming(&out, &["older copy"]);
}

#[test]
fn a_checkpoint_held_apart_catches_a_rewritten_library_folder() {
    let sb = setup();
    let ids = library(&sb);
    let written = checkpoint(&sb);
    // A buyer keeps the checkpoint (and its heads list) apart.
    let held = sb.dir.path().join("held.json");
    std::fs::copy(&written, &held).unwrap();
    std::fs::copy(
        Path::new(&written).with_extension("heads"),
        held.with_extension("heads"),
    )
    .unwrap();
    // Whoever holds the folder cuts a chain and removes the checkpoints.
    cut_last_event(&db(&sb), &ids[0]);
    std::fs::remove_dir_all(sb.library().join("checkpoints")).unwrap();
    let out = sb.run(&["verify", "--provenance"]);
    ok(&out);
    assert!(
        stderr(&out).contains("no checkpoint to check against"),
        "{}",
        stderr(&out)
    );
    let out = sb.run(&[
        "verify",
        "--provenance",
        "--checkpoint",
        held.to_str().unwrap(),
    ]);
    fails_naming(&out, &[&ids[0], "cut short"]);
}

#[test]
fn an_altered_checkpoint_is_not_trusted() {
    let sb = setup();
    library(&sb);
    let written = checkpoint(&sb);
    // One event fewer than it saw: what a rollback would need it to say.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&written).unwrap()).unwrap();
    let size = doc["events"]["size"].as_u64().unwrap();
    doc["events"]["size"] = (size - 1).into();
    let altered = serde_json::to_vec(&doc).unwrap();
    std::fs::write(&written, altered).unwrap();
    let out = sb.run(&["verify", "--provenance"]);
    fails_naming(&out, &["signature does not verify"]);
}

#[test]
fn a_checkpoint_written_over_a_rewritten_catalog_does_not_extend_the_one_before() {
    let sb = setup();
    let ids = library(&sb);
    checkpoint(&sb);
    ok(&sb.run(&["verify", "--provenance"]));
    cut_last_event(&db(&sb), &ids[0]);
    // The next checkpoint, written in good faith over the tampered catalog,
    // grows from what the last one signed, so it still holds the cut event
    // and verification names the chain.
    checkpoint(&sb);
    let out = sb.run(&["verify", "--provenance"]);
    fails_naming(&out, &[&ids[0], "cut short"]);
    // Whoever also rewrites what the checkpoints left each other in the
    // catalog makes the next one read every event; it then matches the
    // tampered catalog, and cannot prove it extends the one before.
    db(&sb)
        .execute("UPDATE checkpoints SET frontier = NULL", [])
        .unwrap();
    checkpoint(&sb);
    let out = sb.run(&["verify", "--provenance"]);
    fails_naming(&out, &["do not extend", "00000002.json"]);
    // Two honest checkpoints in a row extend each other.
    let sb = setup();
    library(&sb);
    checkpoint(&sb);
    ok(&sb.as_user("cy", &["import", sb.photos().to_str().unwrap()]));
    checkpoint(&sb);
    ok(&sb.run(&["verify", "--provenance"]));
}

/// A checkpoint grows from the last one's frontier and heads list, reading
/// only the events stored since; where those no longer match what the last
/// one signed, it reads everything, and either way it commits to the
/// catalog as it is.
#[test]
fn a_checkpoint_grown_from_the_last_one_is_the_checkpoint_of_the_whole_catalog() {
    let sb = setup();
    let ids = library(&sb);
    checkpoint(&sb);
    for (round, title) in ["Harbour", "Dock", "Pier"].iter().enumerate() {
        for id in &ids {
            ok(&sb.as_user("cy", &["edit", id, "--set", &format!("title={title}")]));
        }
        // Third time round, a frontier rewritten behind Assay's back.
        if round == 2 {
            db(&sb)
                .execute(
                    "UPDATE checkpoints SET frontier = replace(frontier, '\"nodes\":[\"', '\"nodes\":[\"00')",
                    [],
                )
                .unwrap();
        }
        let written = checkpoint(&sb);
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&written).unwrap()).unwrap();
        let events: u64 = db(&sb)
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(doc["events"]["size"], events);
        assert_eq!(doc["heads"]["size"], ids.len());
        let out = sb.run(&["verify", "--provenance"]);
        ok(&out);
        assert!(
            stderr(&out).contains(&format!("{:08}.json", round + 2)),
            "{}",
            stderr(&out)
        );
        // Grown or read whole, the heads list names every asset's last
        // event as the catalog has it, in asset-id order.
        let heads = std::fs::read_to_string(Path::new(&written).with_extension("heads")).unwrap();
        let db = db(&sb);
        let listed: Vec<&str> = heads
            .lines()
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        let mut sorted = ids.iter().map(String::as_str).collect::<Vec<_>>();
        sorted.sort_unstable();
        assert_eq!(listed, sorted, "round {round}");
        for line in heads.lines() {
            let parts: Vec<&str> = line.split(' ').collect();
            let (seq, head): (i64, String) = db
                .query_row(
                    "SELECT max(e.seq), a.provenance_hash FROM assets a JOIN events e ON e.asset = a.id
                     WHERE a.asset_id = ?1",
                    [parts[0]],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!(
                (parts[1], parts[2]),
                (seq.to_string().as_str(), head.as_str()),
                "{line}"
            );
        }
    }
}
