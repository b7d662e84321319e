//! Who may sign, attacked the way someone who can write `library.db` would:
//! with SQLite on the real catalog, then the ordinary `assay` binary. The
//! signed identity ledger, not the `users` table, says who may sign; a
//! planted user, a changed role or a swapped key can neither act nor pass
//! `verify --provenance`, which names each.

use std::process::Output;

use assay_deadline::OutputWithin;
use rusqlite::{params, Connection};

use crate::support::{stderr, Sandbox, CHILD_LIMIT};
use crate::users::{ok, setup};

/// `setup()`'s library (ada, cy) with a rights manager `rosa` and one photo
/// cy imported and submitted; returns the asset's id.
fn library_with_a_submission(sb: &Sandbox) -> String {
    sb.add("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "a.jpg");
    ok(&sb.as_user("ada", &["user", "add", "rosa", "--role", "rights_manager"]));
    ok(&sb.as_user("cy", &["import", sb.photos().to_str().unwrap()]));
    let (assets, _) = sb.json_lines(&["ls"]);
    let id = assets[0]["asset_id"].as_str().unwrap().to_owned();
    ok(&sb.as_user("cy", &["edit", &id, "--set", "license_tag=CC-BY-4.0"]));
    ok(&sb.as_user("cy", &["submit", &id]));
    ok(&sb.run(&["verify", "--provenance"]));
    id
}

/// A user made in another library: their key file (under `NAME pass`) and
/// the row the catalog keeps for them.
fn stranger(name: &str) -> (Vec<u8>, String, Vec<u8>) {
    let other = Sandbox::new();
    let out = other
        .assay()
        .args(["user", "add", name, "--role", "admin"])
        .env("ASSAY_PASSPHRASE", format!("{name} pass"))
        .output_within(CHILD_LIMIT)
        .unwrap();
    ok(&out);
    let db = Connection::open(other.library().join("library.db")).unwrap();
    let (key_id, public_key): (String, Vec<u8>) = db
        .query_row(
            "SELECT key_id, public_key FROM users WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let key_file = std::fs::read(other.library().join("keys").join(format!("{name}.key"))).unwrap();
    (key_file, key_id, public_key)
}

fn verify_fails_naming(sb: &Sandbox, words: &[&str]) {
    let out = sb.run(&["verify", "--provenance"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let line = stdout
        .lines()
        .find(|l| l.starts_with("signers: "))
        .unwrap_or_else(|| panic!("no signers line in {stdout}"));
    for word in words {
        assert!(line.contains(word), "{word:?} not in {line}");
    }
}

fn refused(out: &Output, why: &str) {
    assert!(!out.status.success(), "it was allowed");
    assert!(stderr(out).contains(why), "{}", stderr(out));
}

#[test]
fn a_rights_manager_planted_in_the_catalog_cannot_approve_and_is_named() {
    let sb = setup();
    let id = library_with_a_submission(&sb);
    // Mallory's own key, from a library of her own, planted as a rights manager.
    let (key_file, key_id, public_key) = stranger("mallory");
    std::fs::write(sb.library().join("keys/mallory.key"), key_file).unwrap();
    let db = Connection::open(sb.library().join("library.db")).unwrap();
    db.execute(
        "INSERT INTO users (name, role, key_id, public_key, created_at)
         VALUES ('mallory', 'rights_manager', ?1, ?2, '2026-01-01T00:00:00Z')",
        params![key_id, public_key],
    )
    .unwrap();

    refused(
        &sb.as_user("mallory", &["approve", &id]),
        "no signed identity event adds them",
    );
    verify_fails_naming(&sb, &["\"mallory\"", "no signed identity event adds them"]);
    // Nothing was approved.
    let (assets, _) = sb.json_lines(&["ls"]);
    assert_ne!(assets[0]["workflow_state"], "approved");
}

#[test]
fn a_role_changed_in_the_catalog_gives_no_power_and_is_named() {
    let sb = setup();
    let id = library_with_a_submission(&sb);
    let db = Connection::open(sb.library().join("library.db")).unwrap();
    db.execute(
        "UPDATE users SET role = 'rights_manager' WHERE name = 'cy'",
        [],
    )
    .unwrap();
    refused(
        &sb.as_user("cy", &["approve", &id]),
        "not what the signed identity events grant",
    );
    verify_fails_naming(
        &sb,
        &[
            "\"cy\"",
            "rights_manager in the catalog",
            "make them a creator",
        ],
    );
}

#[test]
fn a_public_key_swapped_in_the_catalog_signs_nothing_and_is_named() {
    let sb = setup();
    library_with_a_submission(&sb);
    // Rosa's key replaced by one Mallory holds, file and catalog row alike.
    let (key_file, key_id, public_key) = stranger("rosa");
    std::fs::write(sb.library().join("keys/rosa.key"), key_file).unwrap();
    let db = Connection::open(sb.library().join("library.db")).unwrap();
    db.execute(
        "UPDATE users SET key_id = ?1, public_key = ?2 WHERE name = 'rosa'",
        params![key_id, public_key],
    )
    .unwrap();
    refused(
        &sb.as_user("rosa", &["queue"]),
        "not what the signed identity events grant",
    );
    verify_fails_naming(
        &sb,
        &["\"rosa\"", &key_id, "the signed identity events grant"],
    );
}

#[test]
fn a_rewritten_identity_event_breaks_the_ledger_and_stops_everyone() {
    let sb = setup();
    library_with_a_submission(&sb);
    let db = Connection::open(sb.library().join("library.db")).unwrap();
    // The grant of cy rewritten to make her a rights manager, and the users
    // table to match: the ledger's hash and signature no longer hold.
    db.execute_batch(
        "DROP TRIGGER identity_events_append_only_update;
         UPDATE identity_events SET body = replace(body, '\"role\":\"creator\"', '\"role\":\"rights_manager\"')
           WHERE seq = 2;
         UPDATE users SET role = 'rights_manager' WHERE name = 'cy';",
    )
    .unwrap();
    verify_fails_naming(&sb, &["identity event 2"]);
    refused(
        &sb.as_user("rosa", &["queue"]),
        "signed identity record does not hold",
    );
}

#[test]
fn roles_keys_and_revocations_change_through_signed_events() {
    let sb = setup();
    let id = library_with_a_submission(&sb);
    // cy becomes a steward: what she signed as a creator still verifies.
    ok(&sb.as_user("ada", &["user", "role", "cy", "steward"]));
    ok(&sb.run(&["verify", "--provenance"]));
    ok(&sb.as_user("cy", &["edit", &id, "--set", "title=Quay"]));

    // rosa gets a new key under a new passphrase; the old passphrase (and
    // key) no longer act, the new one does.
    let rotate = sb
        .assay()
        .args(["--as", "ada", "user", "rotate-key", "rosa"])
        .env("ASSAY_PASSPHRASE", "ada pass")
        .env("ASSAY_NEW_PASSPHRASE", "rosa pass 2")
        .output_within(CHILD_LIMIT)
        .unwrap();
    ok(&rotate);
    assert!(!sb.as_user("rosa", &["queue"]).status.success());
    let queue = sb
        .assay()
        .args(["--as", "rosa", "queue"])
        .env("ASSAY_PASSPHRASE", "rosa pass 2")
        .output_within(CHILD_LIMIT)
        .unwrap();
    ok(&queue);
    ok(&sb.run(&["verify", "--provenance"]));

    // cy is revoked: she can no longer act, and the library still verifies.
    ok(&sb.as_user("ada", &["user", "revoke", "cy"]));
    refused(
        &sb.as_user("cy", &["edit", &id, "--set", "title=Pier"]),
        "revoked",
    );
    ok(&sb.run(&["verify", "--provenance"]));
    let (users, _) = sb.json_lines(&["user", "ls"]);
    let cy = users.iter().find(|u| u["name"] == "cy").unwrap();
    assert_eq!(cy["role"], "steward");
    assert!(cy["revoked_at"].is_string(), "{cy}");

    let db = Connection::open(sb.library().join("library.db")).unwrap();
    let kinds: Vec<String> = db
        .prepare("SELECT kind FROM identity_events ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        kinds,
        [
            "root",
            "add_user",
            "add_user",
            "change_role",
            "rotate_key",
            "revoke"
        ]
    );
}
