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
