//! First run: the person opening a new library creates their identity in
//! their own role; a creator's profile links what they import on arrival.

use std::sync::Arc;

use assay_core::{EventKind, Filter, FirstUser, ImportOptions, NewCreator, Role};

use crate::{empty_library, photos, PASS};

fn first(name: &str, role: Role, creator: Option<NewCreator>) -> FirstUser {
    FirstUser {
        name: name.into(),
        role,
        passphrase: PASS.to_vec(),
        creator,
    }
}

fn own_profile(license: &str) -> NewCreator {
    NewCreator {
        name: "Mia Lind".into(),
        payout_ref: "acct_mia".into(),
        contact: Some("mia@example.org".into()),
        default_license: Some(license.into()),
        ..NewCreator::default()
    }
}

#[test]
fn a_creator_sets_up_alone_and_their_imports_carry_their_profile() {
    let (dir, library) = empty_library();
    let mia = library
        .set_up(&first("mia", Role::Creator, Some(own_profile("CC-BY-4.0"))))
        .unwrap();
    assert_eq!((mia.name(), mia.role()), ("mia", Role::Creator));

    // The administrator who added mia, under the same passphrase.
    let users: Vec<(String, Role, Option<String>)> = library
        .users()
        .unwrap()
        .into_iter()
        .map(|u| (u.name, u.role, u.created_by))
        .collect();
    assert_eq!(
        users,
        [
            ("mia-admin".into(), Role::Admin, None),
            ("mia".into(), Role::Creator, Some("mia-admin".into()))
        ]
    );
    library.unlock("mia-admin", PASS).unwrap();
    let profiles = library.creators().unwrap();
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].user.as_deref(), Some("mia"));

    let options = ImportOptions {
        actor: Some(Arc::new(mia)),
        ..ImportOptions::default()
    };
    let summary = library
        .import(&[photos(dir.path())], &options, &mut |_| {})
        .unwrap();
    assert_eq!(summary.imported, 2);
    for record in library.list(&Filter::default()).unwrap() {
        let rights = &record.rights;
        assert_eq!(rights["creator"], "Mia Lind", "{}", record.asset_id);
        assert_eq!(rights["creator_name"], "Mia Lind");
        assert_eq!(rights["creator_contact"], "mia@example.org");
        assert_eq!(rights["tax_and_payout_info"], "acct_mia");
        assert_eq!(rights["license_tag"], "CC-BY-4.0");
        // The import event says which profile it linked.
        let chain = library.provenance(&record.asset_id).unwrap();
        assert_eq!(chain[0].kind, EventKind::Import.as_str());
        assert_eq!(chain[0].data["creator_profile"], "Mia Lind");
    }
    // The filter by profile finds them, as after linking by hand.
    let linked = Filter {
        creator: Some("Mia Lind".into()),
        ..Filter::default()
    };
    assert_eq!(library.grid_count(&linked, None).unwrap(), 2);
    assert!(library.verify_provenance().unwrap().breaks.is_empty());
}

#[test]
fn an_administrator_sets_up_as_one_user_without_a_profile() {
    let (_dir, library) = empty_library();
    let ada = library.set_up(&first("ada", Role::Admin, None)).unwrap();
    assert_eq!(ada.role(), Role::Admin);
    assert_eq!(library.users().unwrap().len(), 1);
    // A second first run is refused: the library has users now.
    let err = library
        .set_up(&first("eve", Role::Admin, None))
        .unwrap_err();
    assert_eq!(err.code(), "refused", "{err}");
    assert_eq!(library.users().unwrap().len(), 1);
}

#[test]
fn a_refused_first_run_writes_nothing() {
    let (_dir, library) = empty_library();
    // An unknown default license is named, and no user is left behind.
    let err = library
        .set_up(&first("mia", Role::Creator, Some(own_profile("CC-MAYBE"))))
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"CC-MAYBE\""), "{err}");
    // Only a creator has a profile of their own.
    let err = library
        .set_up(&first("sam", Role::Steward, Some(own_profile("CC-BY-4.0"))))
        .unwrap_err()
        .to_string();
    assert!(err.contains("only a creator"), "{err}");
    // A name that is fine alone but too long with "-admin".
    let long = "m".repeat(60);
    assert!(library.set_up(&first(&long, Role::Creator, None)).is_err());
    assert!(library.users().unwrap().is_empty());
    assert!(library.creators().unwrap().is_empty());
    // The form, corrected, goes through.
    library
        .set_up(&first("mia", Role::Creator, Some(own_profile("CC-BY-4.0"))))
        .unwrap();
}

#[test]
fn a_profile_belongs_to_one_creator_user() {
    let (_dir, library) = empty_library();
    library.set_up(&first("ada", Role::Admin, None)).unwrap();
    let ada = library.unlock("ada", PASS).unwrap();
    library
        .add_user(Some(&ada), "rosa", Role::RightsManager, PASS)
        .unwrap();
    library
        .add_user(Some(&ada), "cy", Role::Creator, PASS)
        .unwrap();
    let profile = |name: &str, user: &str| NewCreator {
        name: name.into(),
        payout_ref: "acct".into(),
        user: Some(user.into()),
        ..NewCreator::default()
    };
    let err = library
        .add_creator(&ada, &profile("Rosa", "rosa"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"rosa\" is a rights_manager"), "{err}");
    let err = library
        .add_creator(&ada, &profile("Nobody", "nemo"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no user named \"nemo\""), "{err}");
    library.add_creator(&ada, &profile("Cy", "cy")).unwrap();
    let err = library
        .add_creator(&ada, &profile("Cy again", "cy"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("already has the profile \"Cy\""), "{err}");
    let names: Vec<String> = library
        .creators()
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["Cy"]);
}
