//! Undo of a bulk edit: a new signed edit sets back what the edit changed,
//! on every asset not changed since; the provenance shows both, and an undo
//! is not undone again. And the last approval or rejection, taken back
//! where nothing followed it.

use assay_core::{Change, Filter, Role, Selection};
use serde_json::json;

use crate::{World, PASS};

#[test]
fn the_last_bulk_edit_is_set_back_where_nothing_changed_since_and_both_are_signed() {
    let w = World::new();
    w.library
        .add_user(Some(&w.ada), "sam", Role::Steward, PASS)
        .unwrap();
    let sam = w.library.unlock("sam", PASS).unwrap();
    let records = w.library.list(&Filter::default()).unwrap();
    let (a, b) = (&records[0].asset_id, &records[1].asset_id);
    w.library
        .edit(
            &sam,
            &Selection::Assets(vec![a.clone(), b.clone()]),
            &[Change::set("creator_name", json!("Cy T"))],
        )
        .unwrap();
    let all = Selection::Where(Filter::default());
    let edit = w
        .library
        .edit(
            &sam,
            &all,
            &[
                Change::set("license_tag", json!("CC-BY-4.0")),
                Change::set("creator_name", json!("Cy")),
            ],
        )
        .unwrap();
    assert_eq!(edit.changed, 2);
    // Someone else changes a's name after the bulk edit.
    w.library
        .edit(
            &w.cy,
            &Selection::Assets(vec![a.clone()]),
            &[Change::set("creator_name", json!("Cy Tan"))],
        )
        .unwrap();

    let undone = w.library.undo_last_edit(&sam).unwrap();
    assert_eq!((undone.assets, undone.restored), (2, 1));
    assert_eq!(undone.kept.len(), 1);
    assert_eq!(&undone.kept[0].asset_id, a);
    assert!(
        undone.kept[0].reason.contains("creator_name"),
        "{:?}",
        undone.kept
    );

    // b is as it was before the bulk edit; a keeps what was set since.
    let b_now = w.library.record(b).unwrap();
    assert_eq!(b_now.rights.get("license_tag"), None);
    assert_eq!(b_now.rights["creator_name"], "Cy T");
    let a_now = w.library.record(a).unwrap();
    assert_eq!(a_now.rights["creator_name"], "Cy Tan");
    assert_eq!(a_now.rights["license_tag"], "CC-BY-4.0");

    // The provenance shows the edit and, after it, the undo naming it.
    let events = w.library.provenance(b).unwrap();
    let (edit_event, undo_event) = (&events[events.len() - 2], &events[events.len() - 1]);
    assert_eq!(edit_event.kind, "license_change");
    assert_eq!(undo_event.kind, "license_change");
    assert_eq!(undo_event.data["undoes"], json!(undone.edit_at));
    assert_eq!(
        undo_event.data["changes"]["license_tag"]["new"],
        json!(null)
    );
    assert_eq!(undo_event.data["changes"]["creator_name"]["new"], "Cy T");
    assert_eq!(undo_event.user.as_deref(), Some("sam"));
    assert!(w.library.verify_provenance().unwrap().breaks.is_empty());

    // An undo is not undone again, and someone without edits has none to undo.
    let again = w.library.undo_last_edit(&sam).unwrap_err();
    assert!(again.to_string().contains("was an undo"), "{again}");
    w.library
        .add_user(Some(&w.ada), "sue", Role::Steward, PASS)
        .unwrap();
    let sue = w.library.unlock("sue", PASS).unwrap();
    let none = w.library.undo_last_edit(&sue).unwrap_err();
    assert!(none.to_string().contains("no edit"), "{none}");
}

/// Both photos completed by cy and submitted: pending review.
fn both_pending(w: &World) -> Selection {
    let all = Selection::Where(Filter::default());
    w.library
        .edit(
            &w.cy,
            &all,
            &[
                Change::set("license_tag", json!("CC-BY-4.0")),
                Change::set("tax_and_payout_info", json!("acct_cy")),
                Change::set("signed_contract_id", json!("K-1")),
            ],
        )
        .unwrap();
    w.library.submit(&w.cy, &all).unwrap();
    all
}

#[test]
fn the_last_approval_goes_back_to_review_unless_exported_since_and_both_are_signed() {
    let w = World::new();
    let all = both_pending(&w);
    let records = w.library.list(&Filter::default()).unwrap();
    let (a, b) = (&records[0].asset_id, &records[1].asset_id);
    w.library.approve(&w.rosa, &all, None).unwrap();

    let undone = w.library.undo_last_decision(&w.rosa).unwrap();
    assert_eq!(
        (undone.decision.as_str(), undone.assets, undone.reopened),
        ("approved", 2, 2)
    );
    assert!(undone.kept.is_empty());
    for id in [a, b] {
        assert_eq!(
            w.library.record(id).unwrap().workflow.workflow_state,
            "pending"
        );
        // The provenance shows the approval and, after it, the undo naming it.
        let events = w.library.provenance(id).unwrap();
        let (approval, undo) = (&events[events.len() - 2], &events[events.len() - 1]);
        assert_eq!(approval.kind, "approval");
        assert_eq!(undo.kind, "decision_undone");
        assert_eq!(undo.data["undoes"], json!(approval.hash));
        assert_eq!(undo.user.as_deref(), Some("rosa"));
    }
    assert!(w.library.verify_provenance().unwrap().breaks.is_empty());
    // Taken back once: nothing more to take back.
    let again = w.library.undo_last_decision(&w.rosa).unwrap_err();
    assert!(again.to_string().contains("taken back already"), "{again}");

    // Approved again, and a exported: a's approval stands, b's is taken back.
    w.library.approve(&w.rosa, &all, None).unwrap();
    let out = w.dir.path().join("a.manifest.json");
    w.library
        .export_manifest(&w.rosa, &Selection::Assets(vec![a.clone()]), &out)
        .unwrap();
    let undone = w.library.undo_last_decision(&w.rosa).unwrap();
    assert_eq!((undone.assets, undone.reopened), (2, 1));
    assert_eq!(undone.kept.len(), 1);
    assert_eq!(&undone.kept[0].asset_id, a);
    assert_eq!(undone.kept[0].reason, "exported since");
    assert_eq!(
        w.library.record(a).unwrap().workflow.workflow_state,
        "approved"
    );
    assert_eq!(
        w.library.record(b).unwrap().workflow.workflow_state,
        "pending"
    );
    assert!(w.library.verify_provenance().unwrap().breaks.is_empty());
}

#[test]
fn a_rejection_is_taken_back_and_only_a_decider_may_take_one_back() {
    let w = World::new();
    let all = both_pending(&w);
    w.library.reject(&w.rosa, &all, "wrong contract").unwrap();
    let undone = w.library.undo_last_decision(&w.rosa).unwrap();
    assert_eq!((undone.decision.as_str(), undone.reopened), ("rejected", 2));
    let states: Vec<String> = w
        .library
        .list(&Filter::default())
        .unwrap()
        .into_iter()
        .map(|r| r.workflow.workflow_state)
        .collect();
    assert_eq!(states, ["pending", "pending"]);
    // A creator decides nothing, so has nothing to take back.
    let refused = w.library.undo_last_decision(&w.cy).unwrap_err();
    assert!(refused.to_string().contains("approve"), "{refused}");
    // Nor has a rights manager who never decided.
    w.library
        .add_user(Some(&w.ada), "rita", Role::RightsManager, PASS)
        .unwrap();
    let rita = w.library.unlock("rita", PASS).unwrap();
    let none = w.library.undo_last_decision(&rita).unwrap_err();
    assert!(none.to_string().contains("no decision"), "{none}");
}
