//! The review workflow, eligibility gates, separation of duties, and the
//! role x action matrix.

use std::sync::Arc;

use assay_core::{
    Actor, Change, Error, Filter, ImportOptions, NewCreator, Role, Selection, Transfer,
};
use serde_json::json;

use crate::{World, PASS};

fn all() -> Selection {
    Selection::Where(Filter::default())
}

fn one(w: &World) -> Selection {
    let id = w.library.list(&Filter::default()).unwrap()[0]
        .asset_id
        .clone();
    Selection::Assets(vec![id])
}

/// Metadata that passes every shipped gate.
fn complete(w: &World, actor: &Actor, selection: &Selection, license: &str) {
    w.library
        .edit(
            actor,
            selection,
            &[
                Change::set("license_tag", json!(license)),
                Change::set("tax_and_payout_info", json!("acct_cy")),
                Change::set("signed_contract_id", json!("K-2026-001")),
            ],
        )
        .unwrap();
}

fn states(w: &World) -> Vec<String> {
    w.library
        .list(&Filter::default())
        .unwrap()
        .into_iter()
        .map(|r| r.workflow.workflow_state)
        .collect()
}

fn kinds(w: &World, selection: &Selection) -> Vec<String> {
    let Selection::Assets(ids) = selection else {
        panic!()
    };
    w.library
        .provenance(&ids[0])
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

fn sam(w: &World) -> Actor {
    w.library
        .add_user(Some(&w.ada), "sam", Role::Steward, PASS)
        .unwrap();
    w.library.unlock("sam", PASS).unwrap()
}

#[test]
fn submit_approve_and_an_edit_sends_it_back() {
    let w = World::new();
    let asset = one(&w);
    complete(&w, &w.cy, &asset, "CC-BY-4.0");
    let d = w.library.submit(&w.cy, &asset).unwrap();
    assert_eq!(
        (d[0].state.as_str(), d[0].failed_gates.len()),
        ("pending", 0)
    );
    let d = w
        .library
        .approve(&w.rosa, &asset, Some("looks right"))
        .unwrap();
    assert_eq!(d[0].state, "approved");
    let record = w.library.record(&d[0].asset_id).unwrap();
    assert_eq!(record.workflow.marketplace_approved, "approved");

    // Any change to approved metadata needs a new approval.
    let summary = w
        .library
        .edit(
            &w.cy,
            &asset,
            &[Change::set("title", json!("Harbour at dusk"))],
        )
        .unwrap();
    assert_eq!(summary.reopened, 1);
    let record = w.library.record(&d[0].asset_id).unwrap();
    assert_eq!(
        (
            record.workflow.workflow_state.as_str(),
            record.workflow.marketplace_approved.as_str()
        ),
        ("pending", "pending")
    );
    assert_eq!(
        kinds(&w, &asset),
        [
            "import",
            "license_change",
            "submission",
            "approval",
            "metadata_change"
        ]
    );
    assert!(w.library.verify_provenance().unwrap().breaks.is_empty());
}

#[test]
fn a_submission_that_fails_a_gate_is_quarantined_with_the_reasons() {
    let w = World::new();
    let asset = one(&w);
    complete(&w, &w.cy, &asset, "NO-TRAIN");
    let d = w.library.submit(&w.cy, &asset).unwrap();
    assert_eq!(d[0].state, "quarantined");
    let gates: Vec<_> = d[0].failed_gates.iter().map(|f| f.gate.as_str()).collect();
    assert_eq!(gates, ["training-allowed"]);

    // The other asset has no metadata at all: every required field is named.
    let d = w.library.submit(&w.cy, &all()).unwrap_err();
    assert!(
        matches!(
            d,
            Error::Refused {
                rule: "workflow-state",
                ..
            }
        ),
        "{d}"
    );
    let other = Selection::Assets(vec![w.library.list(&Filter::default()).unwrap()[1]
        .asset_id
        .clone()]);
    let d = w.library.submit(&w.cy, &other).unwrap();
    assert_eq!(d[0].state, "quarantined");
    assert!(d[0].failed_gates[0]
        .reason
        .contains("license_tag, tax_and_payout_info"));

    // Release returns it to draft; approval of a quarantined asset is refused.
    let err = w.library.approve(&w.rosa, &asset, None).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Refused {
                rule: "workflow-state",
                ..
            }
        ),
        "{err}"
    );
    let d = w.library.release(&w.rosa, &asset).unwrap();
    assert_eq!(d[0].state, "draft");
    assert!(w.library.verify_provenance().unwrap().breaks.is_empty());
}

#[test]
fn nobody_approves_what_they_uploaded_or_last_edited() {
    let w = World::new();
    let sam = sam(&w);
    let asset = one(&w);
    complete(&w, &sam, &asset, "CC-BY-4.0");
    w.library.submit(&sam, &asset).unwrap();
    // A second rights manager who imported the asset themselves.
    w.library
        .add_user(Some(&w.ada), "rex", Role::RightsManager, PASS)
        .unwrap();
    let rex = Arc::new(w.library.unlock("rex", PASS).unwrap());
    let more = w.dir.path().join("rex");
    std::fs::create_dir(&more).unwrap();
    std::fs::copy(
        crate::corpus("exif-py/jpg/exif-org/fujifilm-mx1700.jpg"),
        more.join("c.jpg"),
    )
    .unwrap();
    let options = ImportOptions {
        actor: Some(Arc::clone(&rex)),
        ..ImportOptions::default()
    };
    w.library
        .import(&[more.join("c.jpg")], &options, &mut |_| {})
        .unwrap();
    let rex_asset = Selection::Assets(vec![w
        .library
        .list(&Filter {
            text: Some("rex/c.jpg".into()),
            ..Filter::default()
        })
        .unwrap()[0]
        .asset_id
        .clone()]);
    complete(&w, &sam, &rex_asset, "CC-BY-4.0");
    w.library.submit(&sam, &rex_asset).unwrap();
    let err = w.library.approve(&rex, &rex_asset, None).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Refused {
                rule: "separation-of-duties",
                ..
            }
        ),
        "{err}"
    );
    // The app is told so before anyone presses Approve, with the reason,
    // and for a selection holding both assets, on how many it would fail.
    let permits = w.library.permits(&rex, &rex_asset).unwrap();
    assert!(!permits.approve.allowed && permits.reject.allowed);
    assert_eq!(
        permits.approve.rule.as_deref(),
        Some("separation-of-duties")
    );
    let reason = permits.approve.reason.unwrap();
    assert!(
        reason.contains("rex uploaded or last edited asset"),
        "{reason}"
    );
    let Selection::Assets(mut both) = asset.clone() else {
        unreachable!()
    };
    let Selection::Assets(rex_id) = rex_asset.clone() else {
        unreachable!()
    };
    both.extend(rex_id);
    let permits = w.library.permits(&rex, &Selection::Assets(both)).unwrap();
    assert_eq!((permits.assets, permits.approve.refused), (2, 1));
    // Rosa neither uploaded nor edited it.
    assert!(
        w.library
            .permits(&w.rosa, &rex_asset)
            .unwrap()
            .approve
            .allowed
    );
    w.library.approve(&w.rosa, &rex_asset, None).unwrap();
    w.library.approve(&rex, &asset, Some("ok")).unwrap();
    // A rejection must say why.
    assert!(w.library.reject(&w.rosa, &asset, " ").is_err());
}

/// Every role tries every action on an asset prepared for it; the expected
/// outcome is written out here, independently of the core's role table.
#[test]
fn role_by_action_matrix() {
    let roles = ["admin", "creator", "steward", "rights_manager"];
    let expected: [(&str, [bool; 4]); 10] = [
        ("add user", [true, false, false, false]),
        ("add creator", [true, false, true, false]),
        ("import", [true, true, true, true]),
        ("edit", [false, true, true, false]),
        ("submit", [false, true, true, false]),
        ("approve", [false, false, false, true]),
        ("reject", [false, false, false, true]),
        ("quarantine", [false, false, false, true]),
        ("release", [false, false, false, true]),
        ("transfer", [false, false, false, true]),
    ];
    for (action, allowed) in expected {
        for (role, allowed) in roles.iter().zip(allowed) {
            let w = World::new();
            let sam = sam(&w);
            let asset = one(&w);
            // Preconditions: a complete asset the creator uploaded and the
            // steward edited, in the state the action starts from.
            complete(&w, &sam, &asset, "CC-BY-4.0");
            match action {
                "approve" | "reject" => {
                    w.library.submit(&sam, &asset).unwrap();
                }
                "release" => {
                    w.library.quarantine(&w.rosa, &asset, "check").unwrap();
                }
                _ => {}
            }
            let actor = match *role {
                "admin" => &w.ada,
                "creator" => &*w.cy,
                "steward" => &sam,
                _ => &w.rosa,
            };
            let before = (
                states(&w),
                kinds(&w, &asset),
                w.library.users().unwrap().len(),
            );
            // What the app is told beforehand, for the actions it enables
            // per asset: it must foretell the outcome and the refusing rule.
            let permits = w.library.permits(actor, &asset).unwrap();
            let foretold = match action {
                "edit" => Some(permits.edit),
                "submit" => Some(permits.submit),
                "approve" => Some(permits.approve),
                "reject" => Some(permits.reject),
                "quarantine" => Some(permits.quarantine),
                "release" => Some(permits.release),
                _ => None,
            };
            let result = match action {
                "add user" => w
                    .library
                    .add_user(Some(actor), "new", Role::Creator, PASS)
                    .map(drop),
                "add creator" => w
                    .library
                    .add_creator(
                        actor,
                        &NewCreator {
                            name: "New".into(),
                            payout_ref: "acct".into(),
                            ..NewCreator::default()
                        },
                    )
                    .map(drop),
                "import" => {
                    let dir = w.dir.path().join("import");
                    std::fs::create_dir(&dir).unwrap();
                    std::fs::copy(
                        crate::corpus("exif-py/jpg/exif-org/fujifilm-mx1700.jpg"),
                        dir.join("c.jpg"),
                    )
                    .unwrap();
                    let unlocked = Arc::new(w.library.unlock(actor.name(), PASS).unwrap());
                    let options = ImportOptions {
                        actor: Some(unlocked),
                        ..ImportOptions::default()
                    };
                    w.library.import(&[dir], &options, &mut |_| {}).map(drop)
                }
                "edit" => w
                    .library
                    .edit(actor, &asset, &[Change::set("title", json!("t"))])
                    .map(drop),
                "submit" => w.library.submit(actor, &asset).map(drop),
                "approve" => w.library.approve(actor, &asset, None).map(drop),
                "reject" => w.library.reject(actor, &asset, "no").map(drop),
                "quarantine" => w.library.quarantine(actor, &asset, "hold").map(drop),
                "transfer" => w
                    .library
                    .transfer_rights(
                        actor,
                        &asset,
                        &Transfer {
                            contract_id: "K-9".into(),
                            to: "Acme".into(),
                            ownership: "owned".into(),
                            effective_date: None,
                        },
                    )
                    .map(drop),
                _ => w.library.release(actor, &asset).map(drop),
            };
            assert_eq!(result.is_ok(), allowed, "{role} {action}: {result:?}");
            if let Some(verdict) = foretold {
                let rule = match &result {
                    Err(Error::Refused { rule, .. }) => Some(rule.to_string()),
                    _ => None,
                };
                assert_eq!(
                    (verdict.allowed, verdict.rule, verdict.refused),
                    (result.is_ok(), rule, u32::from(result.is_err())),
                    "{role} {action}: the permit foretold otherwise"
                );
            }
            if let Err(err) = result {
                assert!(
                    matches!(err, Error::Refused { .. }),
                    "{role} {action}: {err}"
                );
                let after = (
                    states(&w),
                    kinds(&w, &asset),
                    w.library.users().unwrap().len(),
                );
                assert_eq!(before, after, "{role} {action} changed something");
            }
            assert!(w.library.verify_provenance().unwrap().breaks.is_empty());
        }
    }
}

#[test]
fn each_role_sees_its_own_queue_oldest_first_with_what_is_missing() {
    let w = World::new();
    let sam = sam(&w);
    let ids: Vec<String> = w
        .library
        .list(&Filter::default())
        .unwrap()
        .into_iter()
        .map(|r| r.asset_id)
        .collect();
    // Creator and steward see both drafts; the rights manager nothing yet.
    assert_eq!(w.library.queue(&w.cy).unwrap().len(), 2);
    assert_eq!(w.library.queue(&sam).unwrap().len(), 2);
    assert!(w.library.queue(&w.rosa).unwrap().is_empty());
    assert!(w.library.queue(&w.ada).unwrap().is_empty());
    let item = &w.library.queue(&w.cy).unwrap()[0];
    assert!(
        item.failed_gates[0].reason.contains("license_tag"),
        "{item:?}"
    );

    let second = Selection::Assets(vec![ids[1].clone()]);
    complete(&w, &sam, &second, "CC-BY-4.0");
    w.library.submit(&sam, &second).unwrap();
    let rosa = w.library.queue(&w.rosa).unwrap();
    assert_eq!(rosa.len(), 1);
    assert_eq!(
        (rosa[0].asset_id.as_str(), rosa[0].state.as_str()),
        (ids[1].as_str(), "pending")
    );
    assert!(rosa[0].failed_gates.is_empty());
    assert!(rosa[0].age_seconds >= 0);
    // What the row shows: the import's thumbnail and preview, and who made
    // it (whoever imported it, until its rights name a creator).
    for made in [&rosa[0].thumbnail, &rosa[0].preview] {
        let path = made.as_deref().expect("the import made it");
        assert!(w.library.root().join(path).is_file(), "{path}");
    }
    assert_eq!(rosa[0].creator.as_deref(), Some("cy"));
    let record = w.library.record(&ids[1]).unwrap();
    let first = record.locations[0].path.rsplit('/').next().unwrap();
    assert_eq!(rosa[0].file_name.as_deref(), Some(first));
    // The draft is now the steward's only item.
    let steward = w.library.queue(&sam).unwrap();
    assert_eq!(steward.len(), 1);
    assert_eq!(steward[0].asset_id, ids[0]);
    let first = Selection::Assets(vec![ids[0].clone()]);
    w.library
        .edit(
            &sam,
            &first,
            &[Change::set("creator_name", json!("Cy Twombly"))],
        )
        .unwrap();
    assert_eq!(
        w.library.queue(&sam).unwrap()[0].creator.as_deref(),
        Some("Cy Twombly")
    );
}

#[test]
fn a_transfer_of_rights_is_recorded_with_contract_parties_and_date() {
    let w = World::new();
    let sam = sam(&w);
    let asset = one(&w);
    complete(&w, &sam, &asset, "CC-BY-4.0");
    w.library
        .edit(&sam, &asset, &[Change::set("creator_name", json!("Cy"))])
        .unwrap();
    w.library.submit(&sam, &asset).unwrap();
    w.library.approve(&w.rosa, &asset, None).unwrap();
    w.library
        .add_user(Some(&w.ada), "rita", Role::RightsManager, PASS)
        .unwrap();
    let rita = w.library.unlock("rita", PASS).unwrap();
    let transfer = Transfer {
        contract_id: "K-2026-042".into(),
        to: "Acme Brand Ltd".into(),
        ownership: "owned".into(),
        effective_date: Some("2026-12-01".into()),
    };
    let summary = w.library.transfer_rights(&rita, &asset, &transfer).unwrap();
    assert_eq!((summary.changed, summary.reopened), (1, 1));

    let Selection::Assets(ids) = &asset else {
        panic!()
    };
    let record = w.library.record(&ids[0]).unwrap();
    assert_eq!(record.rights["signed_contract_id"], "K-2026-042");
    assert_eq!(record.rights["rights_holder"], "Acme Brand Ltd");
    assert_eq!(record.rights["ownership_status"], "owned");
    // An approval covers the rights it saw: a transfer sends it back.
    assert_eq!(record.workflow.workflow_state, "pending");
    let events = w.library.provenance(&ids[0]).unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.kind, "transfer_of_rights");
    assert_eq!(last.user.as_deref(), Some("rita"));
    assert_eq!(last.data["contract_id"], "K-2026-042");
    assert_eq!(
        last.data["parties"],
        json!({"from": "Cy", "to": "Acme Brand Ltd"})
    );
    assert_eq!(last.data["effective_date"], "2026-12-01");
    assert_eq!(
        last.data["changes"]["signed_contract_id"],
        json!({"old": "K-2026-001", "new": "K-2026-042"})
    );
    assert_eq!(
        record.workflow.provenance_hash.as_deref(),
        Some(last.hash.as_str())
    );
    // Whoever transferred the rights does not approve them; someone else does.
    let err = w.library.approve(&rita, &asset, None).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Refused {
                rule: "separation-of-duties",
                ..
            }
        ),
        "{err}"
    );
    w.library.approve(&w.rosa, &asset, None).unwrap();
    assert!(w.library.verify_provenance().unwrap().breaks.is_empty());
}

#[test]
fn a_transfer_without_contract_holder_or_valid_values_changes_nothing() {
    let w = World::new();
    let asset = one(&w);
    let good = Transfer {
        contract_id: "K-1".into(),
        to: "Acme".into(),
        ownership: "owned".into(),
        effective_date: None,
    };
    let before = kinds(&w, &asset);
    for (bad, needle) in [
        (
            Transfer {
                contract_id: " ".into(),
                ..good.clone()
            },
            "--contract",
        ),
        (
            Transfer {
                to: String::new(),
                ..good.clone()
            },
            "--to",
        ),
        (
            Transfer {
                effective_date: Some("2026-13-01".into()),
                ..good.clone()
            },
            "--effective",
        ),
        (
            Transfer {
                ownership: "stolen".into(),
                ..good.clone()
            },
            "/ownership_status",
        ),
    ] {
        let err = w
            .library
            .transfer_rights(&w.rosa, &asset, &bad)
            .unwrap_err();
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
    assert_eq!(kinds(&w, &asset), before);
    w.library.transfer_rights(&w.rosa, &asset, &good).unwrap();
    assert_eq!(
        kinds(&w, &asset).last().map(String::as_str),
        Some("transfer_of_rights")
    );
}

#[test]
fn the_report_counts_states_licenses_completeness_and_why_assets_are_held() {
    let w = World::new();
    let more = w.dir.path().join("more");
    std::fs::create_dir(&more).unwrap();
    for (from, to) in [
        ("exif-py/jpg/exif-org/fujifilm-mx1700.jpg", "c.jpg"),
        ("exif-py/jpg/exif-org/olympus-c960.jpg", "d.jpg"),
    ] {
        std::fs::copy(crate::corpus(from), more.join(to)).unwrap();
    }
    let options = ImportOptions {
        actor: Some(Arc::clone(&w.cy)),
        ..ImportOptions::default()
    };
    w.library.import(&[more], &options, &mut |_| {}).unwrap();
    let by_name = |name: &str| {
        let records = w.library.list(&Filter::default()).unwrap();
        let r = records
            .iter()
            .find(|r| r.locations[0].path.ends_with(name))
            .unwrap();
        Selection::Assets(vec![r.asset_id.clone()])
    };
    let (a, b, c) = (by_name("a.jpg"), by_name("b.jpg"), by_name("c.jpg"));
    // a: approved. b: NO-TRAIN, quarantined by its gate on submission.
    // c: complete, quarantined by hand. d: untouched draft.
    complete(&w, &w.cy, &a, "CC-BY-4.0");
    w.library.submit(&w.cy, &a).unwrap();
    w.library.approve(&w.rosa, &a, None).unwrap();
    complete(&w, &w.cy, &b, "NO-TRAIN");
    w.library.submit(&w.cy, &b).unwrap();
    complete(&w, &w.cy, &c, "PAY-ONE");
    w.library
        .quarantine(&w.rosa, &c, "disputed ownership")
        .unwrap();

    let r = w.library.report().unwrap();
    assert_eq!(r.assets, 4);
    let counts = |pairs: &[(&str, u64)]| {
        pairs
            .iter()
            .map(|(k, n)| (k.to_string(), *n))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    assert_eq!(
        r.by_state,
        counts(&[("approved", 1), ("draft", 1), ("quarantined", 2)])
    );
    assert_eq!(
        r.by_license,
        counts(&[
            ("(none)", 1),
            ("CC-BY-4.0", 1),
            ("NO-TRAIN", 1),
            ("PAY-ONE", 1)
        ])
    );
    assert_eq!(r.complete, 3);
    assert!((r.complete_share - 0.75).abs() < 1e-9);
    assert_eq!(r.eligible, 2, "a and c pass every gate");
    assert_eq!(r.ineligible_by_gate["required-fields"], 1);
    assert_eq!(r.ineligible_by_gate["training-allowed"], 1);
    assert_eq!(r.quarantined, 2);
    assert_eq!(
        r.quarantined_by_reason,
        counts(&[("disputed ownership", 1), ("training-allowed", 1)])
    );
    let t = r.time_to_approval.unwrap();
    assert_eq!(t.count, 1);
    assert!(t.median_seconds == t.p90_seconds && t.p90_seconds == t.max_seconds);
    assert!((0..600).contains(&t.median_seconds), "{t:?}");
    // The same approval, in this week's row of the chart.
    assert_eq!(r.approval_weeks.len(), 1);
    assert_eq!(r.approval_weeks[0].durations, t);
    // Four imported, two submitted, one approved, none listed or sold.
    let f = &r.funnel;
    assert_eq!(
        (f.imported, f.submitted, f.approved, f.listed, f.sold),
        (4, 2, 1, 0, 0)
    );
    assert!(r.earnings.is_empty(), "nothing sold");
}

#[test]
fn permits_name_what_a_creator_may_not_touch_and_an_empty_selection() {
    let w = World::new();
    w.library
        .add_user(Some(&w.ada), "kim", Role::Creator, PASS)
        .unwrap();
    let kim = w.library.unlock("kim", PASS).unwrap();
    // Cy uploaded both photos: Kim, another creator, may edit neither.
    let permits = w.library.permits(&kim, &all()).unwrap();
    assert_eq!(permits.assets, 2);
    assert_eq!(
        (permits.edit.rule.as_deref(), permits.edit.refused),
        (Some("creator-own-assets"), 2)
    );
    assert_eq!(permits.submit.rule.as_deref(), Some("creator-own-assets"));
    // The role table answers once for every asset.
    assert_eq!(
        (permits.approve.rule.as_deref(), permits.approve.refused),
        (Some("role"), 2)
    );
    let mine = w.library.permits(&w.cy, &all()).unwrap();
    assert!(mine.edit.allowed && mine.submit.allowed && !mine.release.allowed);
    // A rights manager may release, but only what is quarantined.
    let release = w.library.permits(&w.rosa, &all()).unwrap().release;
    assert_eq!(
        (release.rule.as_deref(), release.refused),
        (Some("workflow-state"), 2)
    );
    let none = w
        .library
        .permits(&w.cy, &Selection::Assets(Vec::new()))
        .unwrap();
    assert_eq!(
        (none.assets, none.edit.allowed, none.edit.rule.as_deref()),
        (0, false, Some("selection"))
    );
}
