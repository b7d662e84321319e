//! Datasets as saved selections: who may save one, names unique case
//! aside, and what a selection holds now, with every asset a build would
//! leave out named with its reason.

use assay_core::{Change, Error, Filter, Selection};
use serde_json::json;

use crate::manifest::approved_world;

#[test]
fn a_dataset_keeps_its_filter_and_says_what_a_build_would_take_now() {
    let (w, sam) = approved_world();
    let everything = Filter::default();
    let approved = Filter {
        state: Some("approved".into()),
        ..Filter::default()
    };
    let harbour = w
        .library
        .create_dataset(&sam, "harbour-v", &everything)
        .unwrap();
    assert!(harbour.dataset_id.starts_with("urn:uuid:"));
    assert_eq!(
        (harbour.created_by.as_str(), &harbour.selector),
        ("sam", &everything)
    );
    w.library
        .create_dataset(&w.rosa, "Approved.only", &approved)
        .unwrap();
    let names: Vec<String> = w
        .library
        .datasets()
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["Approved.only", "harbour-v"]);

    let view = w.library.dataset("HARBOUR-V").unwrap();
    assert_eq!(view.dataset, harbour);
    assert_eq!((view.matched, view.eligible), (2, 2));
    assert!(view.left_out.is_empty());

    // The selection is a filter, not a list: an asset that leaves the
    // approved state leaves the build, named with the reason, and one that
    // no longer matches leaves the selection.
    let record = &w.library.list(&Filter::default()).unwrap()[0];
    w.library
        .edit(
            &sam,
            &Selection::Assets(vec![record.asset_id.clone()]),
            &[Change::set("license_tag", json!("NO-TRAIN"))],
        )
        .unwrap();
    let view = w.library.dataset("harbour-v").unwrap();
    assert_eq!((view.matched, view.eligible), (2, 1));
    assert_eq!(view.left_out.len(), 1);
    assert_eq!(view.left_out[0].asset_id, record.asset_id);
    assert!(
        view.left_out[0].reason.contains("only approved assets"),
        "{:?}",
        view.left_out
    );
    let view = w.library.dataset("approved.only").unwrap();
    assert_eq!((view.matched, view.eligible), (1, 1));
}

#[test]
fn names_are_plain_unique_case_aside_and_only_curators_save_them() {
    let (w, sam) = approved_world();
    let any = Filter::default();
    w.library.create_dataset(&sam, "Street", &any).unwrap();
    let err = w
        .library
        .create_dataset(&w.rosa, "street", &any)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Exists {
                what: "dataset",
                ..
            }
        ),
        "{err}"
    );
    for bad in ["", "../up", ".hidden", "two words", &"x".repeat(65)] {
        let err = w.library.create_dataset(&sam, bad, &any).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidName {
                    what: "dataset",
                    ..
                }
            ),
            "{bad:?}: {err}"
        );
    }
    // A creator curates nothing; an admin neither.
    for who in [&*w.cy, &w.ada] {
        let err = w.library.create_dataset(who, "mine", &any).unwrap_err();
        assert!(matches!(err, Error::Refused { rule: "role", .. }), "{err}");
    }
    let err = w.library.dataset("nowhere").unwrap_err();
    assert!(
        matches!(
            err,
            Error::NoSuch {
                what: "dataset",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(w.library.datasets().unwrap().len(), 1);
}

/// A selector edited behind Assay's back into something that is not a
/// filter is named as damage, never read as "everything".
#[test]
fn a_selector_that_is_not_a_filter_is_named() {
    let (w, sam) = approved_world();
    w.library
        .create_dataset(&sam, "street", &Filter::default())
        .unwrap();
    w.db()
        .execute("UPDATE datasets SET selector = '[1, 2]'", [])
        .unwrap();
    let err = w.library.dataset("street").unwrap_err();
    assert!(matches!(err, Error::Corrupt(_)), "{err}");
    assert!(err.to_string().contains("dataset street"), "{err}");
    assert!(w.library.datasets().is_err());
}
