//! Metadata edits: validation with the field's pointer, all-or-nothing bulk
//! edits, creator ownership, and the events they leave.

use assay_core::{Change, Error, Filter, NewCreator, Role, Selection};
use serde_json::json;

use crate::{World, PASS};

fn all() -> Selection {
    Selection::Where(Filter::default())
}

#[test]
fn an_edit_is_validated_recorded_and_shown_in_the_record() {
    let w = World::new();
    let summary = w
        .library
        .edit(
            &w.cy,
            &all(),
            &[
                Change::set("license_tag", json!("CC-BY-4.0")),
                Change::set("payment_terms", json!({"kind": "rev_share", "share": 0.2})),
                Change::Flag("location".into()),
            ],
        )
        .unwrap();
    assert_eq!(
        (summary.selected, summary.changed, summary.unchanged),
        (2, 2, 0)
    );
    let record = &w.library.list(&Filter::default()).unwrap()[0];
    assert_eq!(record.rights["license_tag"], "CC-BY-4.0");
    assert_eq!(record.rights["sensitive_flags"], json!(["location"]));
    assert_eq!(record.workflow.last_edited_by.as_deref(), Some("cy"));
    assert_eq!(record.workflow.uploaded_by.as_deref(), Some("cy"));

    let events = w.library.provenance(&record.asset_id).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].kind, "license_change");
    assert_eq!(events[1].data["previous_license"], json!(null));
    assert_eq!(events[1].data["new_license"], "CC-BY-4.0");
    assert_eq!(
        events[1].data["changes"]["payment_terms"]["new"],
        json!({"kind": "rev_share", "share": 0.2})
    );
    assert_eq!(
        record.workflow.provenance_hash.as_ref(),
        Some(&events[1].hash)
    );

    // The same edit again changes nothing and records nothing.
    let again = w
        .library
        .edit(
            &w.cy,
            &all(),
            &[Change::set("license_tag", json!("CC-BY-4.0"))],
        )
        .unwrap();
    assert_eq!((again.changed, again.unchanged), (0, 2));
    assert_eq!(w.library.provenance(&record.asset_id).unwrap().len(), 2);
    assert!(w.library.verify_provenance().unwrap().breaks.is_empty());
}

#[test]
fn bad_values_are_refused_with_the_field_and_nothing_changes() {
    let w = World::new();
    let cases = [
        (
            Change::set("license_tag", json!("NOT-A-TAG")),
            "/license_tag",
            "unknown license tag",
        ),
        (
            Change::set("payment_terms", json!({"kind": "rev_share", "share": 1.5})),
            "/payment_terms",
            "",
        ),
        (
            Change::set("ownership_status", json!("stolen")),
            "/ownership_status",
            "",
        ),
        (Change::Flag("haunted".into()), "/sensitive_flags/0", ""),
    ];
    for (change, pointer, reason) in cases {
        let err = w
            .library
            .edit(&w.cy, &all(), std::slice::from_ref(&change))
            .unwrap_err();
        match &err {
            Error::Invalid {
                pointer: p,
                reason: r,
                ..
            } => {
                assert_eq!(p, pointer, "{change:?}");
                assert!(r.contains(reason), "{r}");
            }
            other => panic!("{change:?}: {other}"),
        }
    }
    for r in w.library.list(&Filter::default()).unwrap() {
        assert!(r.rights.is_empty(), "{:?}", r.rights);
        assert_eq!(w.library.provenance(&r.asset_id).unwrap().len(), 1);
    }
    assert!(Change::parse_set("colour=red").is_err());
    assert!(
        assay_core::licenses::PaymentTerms::parse_cli("rev_share:1.5")
            .unwrap_err()
            .to_string()
            .contains("1.5")
    );
}

#[test]
fn roles_and_ownership_decide_who_edits() {
    let w = World::new();
    // A rights manager and an admin do not edit metadata.
    for actor in [&w.rosa, &w.ada] {
        let err = w
            .library
            .edit(actor, &all(), &[Change::set("title", json!("x"))])
            .unwrap_err();
        assert!(matches!(err, Error::Refused { rule: "role", .. }), "{err}");
    }
    // Another creator may not edit cy's uploads; a steward may edit anything.
    w.library
        .add_user(Some(&w.ada), "dee", Role::Creator, PASS)
        .unwrap();
    w.library
        .add_user(Some(&w.ada), "sam", Role::Steward, PASS)
        .unwrap();
    let dee = w.library.unlock("dee", PASS).unwrap();
    let err = w
        .library
        .edit(&dee, &all(), &[Change::set("title", json!("mine now"))])
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Refused {
                rule: "creator-own-assets",
                ..
            }
        ),
        "{err}"
    );
    let sam = w.library.unlock("sam", PASS).unwrap();
    w.library
        .add_creator(
            &sam,
            &NewCreator {
                name: "Cy Twombly".into(),
                payout_ref: "acct_123".into(),
                contact: Some("cy@example.org".into()),
                ..NewCreator::default()
            },
        )
        .unwrap();
    let summary = w
        .library
        .edit(&sam, &all(), &[Change::Creator("Cy Twombly".into())])
        .unwrap();
    assert_eq!(summary.changed, 2);
    let record = &w.library.list(&Filter::default()).unwrap()[0];
    assert_eq!(record.rights["tax_and_payout_info"], "acct_123");
    assert_eq!(record.rights["creator_contact"], "cy@example.org");
    assert_eq!(record.workflow.last_edited_by.as_deref(), Some("sam"));
    // Creators do not manage creator profiles.
    assert!(w
        .library
        .add_creator(
            &w.cy,
            &NewCreator {
                name: "x".into(),
                payout_ref: "y".into(),
                ..NewCreator::default()
            }
        )
        .is_err());
    assert!(w.library.verify_provenance().unwrap().breaks.is_empty());
}

#[test]
fn a_creator_profiles_default_license_fills_only_assets_without_one() {
    let w = World::new();
    w.library
        .add_user(Some(&w.ada), "sam", Role::Steward, PASS)
        .unwrap();
    let sam = w.library.unlock("sam", PASS).unwrap();
    let profile = |name: &str, license: &str| NewCreator {
        name: name.into(),
        payout_ref: "acct_9".into(),
        default_license: Some(license.into()),
        ..NewCreator::default()
    };
    // An unknown tag is refused, naming the profile and the tag.
    let err = w
        .library
        .add_creator(&sam, &profile("Ada", "CC-MAYBE"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("Ada") && err.contains("\"CC-MAYBE\""), "{err}");
    assert!(w.library.creators().unwrap().is_empty());

    let added = w
        .library
        .add_creator(&sam, &profile("Ada", "CC-BY-4.0"))
        .unwrap();
    assert_eq!(added.default_license.as_deref(), Some("CC-BY-4.0"));
    assert_eq!(
        w.library.creators().unwrap()[0].default_license.as_deref(),
        Some("CC-BY-4.0")
    );
    // One asset already carries a license; linking the profile keeps it.
    let records = w.library.list(&Filter::default()).unwrap();
    let (tagged, untagged) = (&records[0].asset_id, &records[1].asset_id);
    w.library
        .edit(
            &sam,
            &Selection::Assets(vec![tagged.clone()]),
            &[Change::Set {
                field: "license_tag".into(),
                value: "BRAND-NONEXCL".into(),
            }],
        )
        .unwrap();
    let summary = w
        .library
        .edit(&sam, &all(), &[Change::Creator("Ada".into())])
        .unwrap();
    assert_eq!(summary.changed, 2);
    let license = |id: &str| w.library.record(id).unwrap().rights["license_tag"].clone();
    assert_eq!(license(tagged), "BRAND-NONEXCL");
    assert_eq!(license(untagged), "CC-BY-4.0");
    assert!(w.library.verify_provenance().unwrap().breaks.is_empty());
}

#[test]
fn a_photo_with_gps_is_flagged_for_location_privacy_on_import() {
    crate::fast_kdf();
    let dir = tempfile::tempdir().unwrap();
    let library = assay_core::Library::open(dir.path().join("library")).unwrap();
    let photos = crate::photos(dir.path());
    std::fs::copy(
        crate::corpus("exif-py/jpg/Kodak_CX7530.jpg"),
        photos.join("gps.jpg"),
    )
    .unwrap();
    library
        .import(
            &[photos],
            &assay_core::ImportOptions::default(),
            &mut |_| {},
        )
        .unwrap();
    for r in library.list(&Filter::default()).unwrap() {
        let has_gps = r.exif.as_ref().and_then(|e| e.gps.as_ref()).is_some();
        let flags = r.rights.get("sensitive_flags").cloned();
        if r.locations[0].path.ends_with("gps.jpg") {
            assert!(has_gps);
            assert_eq!(flags, Some(json!(["location"])));
            let events = library.provenance(&r.asset_id).unwrap();
            assert_eq!(events[0].data["auto_flags"], json!(["location"]));
        } else {
            assert_eq!(flags, None, "{}", r.locations[0].path);
        }
    }
}

#[test]
fn a_dataset_with_personal_data_is_flagged_pii_with_counts_per_kind() {
    crate::fast_kdf();
    let dir = tempfile::tempdir().unwrap();
    let library = assay_core::Library::open(dir.path().join("library")).unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(
        data.join("customers.csv"),
        "name,email,phone,card\nAnn,ann@example.org,+44 20 7946 0958,4111 1111 1111 1111\nBob,bob@example.org,,\n",
    )
    .unwrap();
    std::fs::write(
        data.join("sales.csv"),
        "sku,qty,price\nA-1,3,9.99\nB-2,1,19.50\n",
    )
    .unwrap();
    library
        .import(&[data], &assay_core::ImportOptions::default(), &mut |_| {})
        .unwrap();
    for r in library.list(&Filter::default()).unwrap() {
        if r.locations[0].path.ends_with("customers.csv") {
            assert_eq!(r.rights["sensitive_flags"], json!(["pii"]));
            assert_eq!(
                r.rights["pii_findings"],
                json!({"card": 1, "email": 2, "phone": 1})
            );
        } else {
            assert!(r.rights.is_empty(), "{:?}", r.rights);
        }
    }
}

/// Past the first few hundred assets the edit has already written earlier
/// chunks inside its transaction when it meets a refusal; nothing of it may
/// survive.
#[test]
fn a_refusal_late_in_a_large_edit_leaves_every_asset_as_it_was() {
    let w = World::new();
    let data = w.dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for i in 0..600 {
        std::fs::write(
            data.join(format!("row-{i:03}.csv")),
            format!("id,value\n{i},x\n"),
        )
        .unwrap();
    }
    let options = assay_core::ImportOptions {
        actor: Some(std::sync::Arc::clone(&w.cy)),
        ..assay_core::ImportOptions::default()
    };
    w.library.import(&[data], &options, &mut |_| {}).unwrap();
    // The last asset in catalog order belongs to someone else.
    w.library
        .add_user(Some(&w.ada), "dee", Role::Creator, PASS)
        .unwrap();
    let dee = std::sync::Arc::new(w.library.unlock("dee", PASS).unwrap());
    let other = w.dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("dee.csv"), "id\n1\n").unwrap();
    let options = assay_core::ImportOptions {
        actor: Some(dee),
        ..assay_core::ImportOptions::default()
    };
    w.library.import(&[other], &options, &mut |_| {}).unwrap();
    let before = w.library.list(&Filter::default()).unwrap();
    assert_eq!(before.len(), 603);

    let err = w
        .library
        .edit(&w.cy, &all(), &[Change::set("title", json!("bulk"))])
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Refused {
                rule: "creator-own-assets",
                ..
            }
        ),
        "{err}"
    );
    let after = w.library.list(&Filter::default()).unwrap();
    assert_eq!(
        serde_json::to_value(&after).unwrap(),
        serde_json::to_value(&before).unwrap()
    );
    let report = w.library.verify_provenance().unwrap();
    assert!(report.breaks.is_empty());
    assert_eq!(
        report.events, 603,
        "one import event per asset, nothing else"
    );
}

#[test]
fn a_whole_id_names_its_asset_even_where_another_id_starts_with_it() {
    let w = World::new();
    let id = w.library.list(&Filter::default()).unwrap()[0]
        .asset_id
        .clone();
    // Another asset whose id begins with the whole of the first's.
    w.db()
        .execute(
            "INSERT INTO assets (asset_id, checksum, size_bytes, media_type, imported_at, provenance_hash, uploaded_by, rights)
             SELECT asset_id || '-2', checksum || '-2', size_bytes, media_type, imported_at, provenance_hash, uploaded_by, rights
             FROM assets WHERE asset_id = ?1",
            [&id],
        )
        .unwrap();
    assert_eq!(w.library.record(&id).unwrap().asset_id, id);
    let summary = w
        .library
        .edit(
            &w.cy,
            &Selection::Assets(vec![id.clone()]),
            &[Change::Set {
                field: "title".into(),
                value: "Only this one".into(),
            }],
        )
        .unwrap();
    assert_eq!(summary.changed, 1);
    // A part of the id that fits both is still refused as ambiguous.
    let err = w.library.record(&id[..13]).unwrap_err();
    assert!(err.to_string().contains("more than one asset"), "{err}");
}
