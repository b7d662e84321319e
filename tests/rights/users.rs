use std::os::unix::fs::PermissionsExt;

use assay_core::{Error, ImportOptions, Role};

use crate::{empty_library, photos, World, PASS};

fn refused_by(err: &Error, expected: &str) -> bool {
    matches!(err, Error::Refused { rule, .. } if *rule == expected)
}

#[test]
fn the_first_user_must_be_an_admin_and_a_refusal_leaves_nothing_behind() {
    let (_dir, library) = empty_library();
    let err = library
        .add_user(None, "cy", Role::Creator, PASS)
        .unwrap_err();
    assert!(refused_by(&err, "first-user-admin"), "{err}");
    assert!(library.users().unwrap().is_empty());
    assert!(!library.keys_dir().join("cy.key").exists());

    library.add_user(None, "ada", Role::Admin, PASS).unwrap();
    // Now that there is a user, adding one needs an acting admin.
    let err = library
        .add_user(None, "eve", Role::Admin, PASS)
        .unwrap_err();
    assert!(refused_by(&err, "acting-user"), "{err}");
    assert_eq!(library.users().unwrap().len(), 1);
}

#[test]
fn only_an_admin_adds_users() {
    let w = World::new();
    for actor in [&*w.cy, &w.rosa] {
        let err = w
            .library
            .add_user(Some(actor), "mallory", Role::Admin, PASS)
            .unwrap_err();
        assert!(refused_by(&err, "role"), "{err}");
        assert!(err.to_string().contains("may not manage users"), "{err}");
    }
    assert_eq!(w.library.users().unwrap().len(), 3);
    assert!(!w.library.keys_dir().join("mallory.key").exists());
    w.library
        .add_user(Some(&w.ada), "sam", Role::Steward, PASS)
        .unwrap();
    let names: Vec<_> = w
        .library
        .users()
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["ada", "cy", "rosa", "sam"]);
}

#[test]
fn keys_are_private_files_and_the_public_key_matches_the_catalog() {
    let w = World::new();
    for name in ["ada", "cy", "rosa"] {
        let path = w.library.keys_dir().join(format!("{name}.key"));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", path.display());
    }
    let pem = assay_core::keys::public_key_pem(&w.library.user_public_key("cy").unwrap());
    let parsed = assay_core::keys::parse_public_key(&pem).unwrap();
    let user = w.library.users().unwrap().remove(1);
    assert_eq!(assay_core::keys::key_id(&parsed).to_string(), user.key_id);
    // The key file holds no clear key material.
    let file = std::fs::read_to_string(w.library.keys_dir().join("cy.key")).unwrap();
    assert!(file.contains("xchacha20poly1305") && file.contains("argon2id"));
}

#[test]
fn a_wrong_passphrase_or_a_missing_user_is_a_clear_error() {
    let w = World::new();
    let err = w.library.unlock("cy", b"wrong").unwrap_err();
    assert_eq!(err.code(), "wrong_passphrase", "{err}");
    let message = err.to_string();
    assert!(message.contains("wrong passphrase"), "{message}");
    let file = std::fs::read_to_string(w.library.keys_dir().join("cy.key")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert!(!message.contains(doc["ciphertext"].as_str().unwrap()));

    let err = w.library.unlock("nobody", PASS).unwrap_err();
    assert!(
        matches!(err, Error::UnknownUser(ref n) if n == "nobody"),
        "{err}"
    );
    assert!(w.library.user_public_key("nobody").is_err());
}

#[test]
fn once_a_library_has_users_an_import_names_who_imports() {
    let w = World::new();
    let more = w.dir.path().join("more");
    std::fs::create_dir(&more).unwrap();
    std::fs::copy(
        crate::corpus("exif-py/jpg/exif-org/fujifilm-mx1700.jpg"),
        more.join("c.jpg"),
    )
    .unwrap();
    let err = w
        .library
        .import(
            std::slice::from_ref(&more),
            &ImportOptions::default(),
            &mut |_| {},
        )
        .unwrap_err();
    assert!(refused_by(&err, "acting-user"), "{err}");
    assert_eq!(w.library.list(&Default::default()).unwrap().len(), 2);

    // The creator's import is signed by the creator.
    let id = &w.library.list(&Default::default()).unwrap()[0].asset_id;
    let events = w.library.provenance(id).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "import");
    assert_eq!(events[0].user.as_deref(), Some("cy"));
    assert_eq!(events[0].role, "creator");
    assert_eq!(events[0].prev, None);
}

#[test]
fn assets_imported_before_any_user_are_signed_by_the_library() {
    let (dir, library) = empty_library();
    library
        .import(
            &[photos(dir.path())],
            &ImportOptions::default(),
            &mut |_| {},
        )
        .unwrap();
    let id = &library.list(&Default::default()).unwrap()[0].asset_id;
    let events = library.provenance(id).unwrap();
    assert_eq!(
        (events[0].user.as_deref(), events[0].role.as_str()),
        (None, "library")
    );
    let key = library.keys_dir().join("library.key");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let report = library.verify_provenance().unwrap();
    assert_eq!((report.assets, report.events), (2, 2));
    assert!(report.breaks.is_empty(), "{:?}", report.breaks);
}

#[test]
fn a_passphrase_changes_without_changing_the_key() {
    let w = World::new();
    let before = w.library.users().unwrap();
    let key_file = std::fs::read(w.library.root().join("keys/cy.key")).unwrap();

    // A wrong current passphrase or an empty new one changes nothing.
    assert!(w
        .library
        .change_passphrase("cy", b"wrong", b"new one")
        .is_err());
    assert!(w.library.change_passphrase("cy", PASS, b"").is_err());
    assert_eq!(
        std::fs::read(w.library.root().join("keys/cy.key")).unwrap(),
        key_file
    );

    w.library
        .change_passphrase("cy", PASS, b"a new passphrase")
        .unwrap();
    assert!(w.library.unlock("cy", PASS).is_err());
    w.library.unlock("cy", b"a new passphrase").unwrap();
    // The same key (unlocking checks it against the catalog, which is untouched), so what cy signed still verifies.
    assert_eq!(w.library.users().unwrap(), before);
    assert!(w.library.verify_provenance().unwrap().breaks.is_empty());
    // No temporary copy of the key is left beside it.
    let stray: Vec<_> = std::fs::read_dir(w.library.root().join("keys"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(stray.is_empty());
}

#[test]
fn a_library_without_a_signed_identity_record_fails_until_an_admin_records_it() {
    // A library from before the ledger, or one whose ledger was deleted
    // with the triggers out of the way: its signers cannot be proved.
    let w = World::new();
    let db = w.db();
    db.execute_batch(
        "DROP TRIGGER identity_events_append_only_delete; DELETE FROM identity_events;",
    )
    .unwrap();
    let report = w.library.verify_provenance().unwrap();
    assert!(report.breaks.is_empty(), "{:#?}", report.breaks);
    assert_eq!(report.signers.len(), 1, "{:?}", report.signers);
    assert!(report.signers[0].contains("no signed identity record"));
    assert!(!report.holds());

    // A creator's unlock does not record it; an administrator's does, once,
    // each event marked as backfilled with the user's creation time.
    w.library.unlock("cy", PASS).unwrap();
    let count = |db: &rusqlite::Connection| -> i64 {
        db.query_row("SELECT count(*) FROM identity_events", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count(&db), 0);
    w.library.unlock("ada", PASS).unwrap();
    assert_eq!(count(&db), 3, "the root (ada) and grants to cy and rosa");
    w.library.unlock("ada", PASS).unwrap();
    assert_eq!(count(&db), 3, "recorded once");
    let backfilled: i64 = db
        .query_row(
            "SELECT count(*) FROM identity_events
             WHERE json_extract(body, '$.data.backfilled') = 1
               AND json_extract(body, '$.data.since') IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(backfilled, 3);
    let report = w.library.verify_provenance().unwrap();
    assert!(report.holds(), "{report:?}");
}

#[test]
fn the_signed_identity_record_grants_each_user_as_added() {
    let w = World::new();
    let report = w.library.verify_provenance().unwrap();
    assert!(report.holds(), "{report:?}");
    let db = w.db();
    let kinds: Vec<(String, String)> = db
        .prepare(
            "SELECT kind, json_extract(body, '$.data.user') || ':' ||
                    json_extract(body, '$.actor.user') FROM identity_events ORDER BY seq",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        kinds,
        [
            ("root".to_owned(), "ada:ada".to_owned()),
            ("add_user".to_owned(), "cy:ada".to_owned()),
            ("add_user".to_owned(), "rosa:ada".to_owned()),
        ]
    );
    // The ledger is append-only, as the events are.
    let refused = db.execute("DELETE FROM identity_events WHERE seq = 3", []);
    assert!(refused.is_err());
}

/// An event on the first asset signed with `key` as `user` in `role`, dated
/// `at`: what someone holding a key that was rotated out (or revoked) would
/// forge, claiming a time.
fn forge(w: &World, user: &str, role: &str, key: &ed25519_dalek::SigningKey, at: &str) {
    use ed25519_dalek::Signer;
    use sha2::Digest;
    let db = w.db();
    let (asset, asset_id, seq, prev): (i64, String, i64, String) = db
        .query_row(
            "SELECT a.id, a.asset_id, e.seq + 1, e.hash FROM assets a JOIN events e ON e.asset = a.id
             ORDER BY a.id, e.seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    let key_id = assay_core::keys::key_id(&key.verifying_key()).to_string();
    let body = assay_core::canonical::canonical_json(&serde_json::json!({
        "v": 1, "asset_id": asset_id, "seq": seq, "kind": "metadata_change", "at": at,
        "actor": {"user": user, "role": role, "key_id": key_id},
        "prev": prev, "data": {"note": "forged"},
    }));
    let digest = sha2::Sha256::digest(&body);
    let hash = format!("sha256:{}", hex::encode(digest));
    db.execute(
        "INSERT INTO events (asset, seq, kind, body, hash, signature, key_id)
         VALUES (?1, ?2, 'metadata_change', ?3, ?4, ?5, ?6)",
        rusqlite::params![
            asset,
            seq,
            String::from_utf8(body).unwrap(),
            hash,
            key.sign(&digest).to_bytes().as_slice(),
            key_id
        ],
    )
    .unwrap();
    db.execute(
        "UPDATE assets SET provenance_hash = ?1 WHERE id = ?2",
        rusqlite::params![hash, asset],
    )
    .unwrap();
}

#[test]
fn a_key_rotated_out_signs_nothing_dated_after_the_rotation() {
    let w = World::new();
    let old = crate::tamper::secret(&w, "cy");
    // Before the rotation, the old key's events verify.
    forge(&w, "cy", "creator", &old, "2026-01-01T00:00:00.000000Z");
    assert!(w.library.verify_provenance().unwrap().holds());
    w.library.rotate_key(&w.ada, "cy", PASS).unwrap();
    assert!(w.library.verify_provenance().unwrap().holds());
    forge(&w, "cy", "creator", &old, "2999-01-01T00:00:00.000000Z");
    let report = w.library.verify_provenance().unwrap();
    assert_eq!(report.breaks.len(), 1, "{:#?}", report.breaks);
    assert!(
        report.breaks[0].problem.contains("after a new key ended"),
        "{}",
        report.breaks[0].problem
    );
    // The new key acts; the catalog and the ledger agree.
    w.library.unlock("cy", PASS).unwrap();
    assert!(report.signers.is_empty(), "{:?}", report.signers);
}

#[test]
fn a_revoked_user_signs_nothing_after_and_cannot_act() {
    let w = World::new();
    let key = crate::tamper::secret(&w, "cy");
    w.library.revoke_user(&w.ada, "cy").unwrap();
    assert!(w.library.verify_provenance().unwrap().holds());
    let acting = w.library.unlock("cy", PASS);
    assert!(
        matches!(&acting, Err(Error::Refused { message, .. }) if message.contains("revoked")),
        "{acting:?}"
    );
    forge(&w, "cy", "creator", &key, "2999-01-01T00:00:00.000000Z");
    let report = w.library.verify_provenance().unwrap();
    assert!(
        report.breaks[0].problem.contains("after revocation ended"),
        "{}",
        report.breaks[0].problem
    );
    // Only an administrator changes users, and a revoked user stays revoked.
    let refused = w.library.change_role(&w.rosa, "cy", Role::Steward);
    assert!(matches!(refused, Err(Error::Refused { .. })), "{refused:?}");
    let again = w.library.change_role(&w.ada, "cy", Role::Steward);
    assert!(
        matches!(
            again,
            Err(Error::Refused {
                rule: "revoked",
                ..
            })
        ),
        "{again:?}"
    );
}
