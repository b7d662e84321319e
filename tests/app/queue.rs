//! The review queue and the dashboard in the window: a rights manager works
//! through the queue from the keyboard (approve, reject with a comment),
//! approves two at once and releases one, every row showing what the core's
//! queue says is missing; the dashboard shows the core's report; then a
//! steward fixes what came back and submits it again.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Result};
use assay_app_e2e::{corpus_file, App};
use assay_core::{Actor, Change, Filter, ImportOptions, Library, Report, Selection};
use fantoccini::Locator;
use serde_json::{json, Value};

use crate::library::{unlock, PASSPHRASE};
use crate::review::team;

const ENTER: &str = "\u{e007}";
const DOWN: &str = "\u{e015}";

/// The team, and six of cy's photos submitted: first one without its payout
/// reference and contract and one NO-TRAIN (both quarantined), then four
/// with everything (pending).
pub(crate) fn six_submitted(library: &Path) -> Result<()> {
    team(library)?;
    let lib = Library::open(library)?;
    let cy = Arc::new(lib.unlock("cy", PASSPHRASE.as_bytes())?);
    let folder = library.with_file_name("photos");
    std::fs::create_dir_all(&folder)?;
    for name in [
        "Canon_40D.jpg",
        "Nikon_D70.jpg",
        "Pentax_K10D.jpg",
        "Sony_HDR-HC3.jpg",
        "Kodak_CX7530.jpg",
        "Fujifilm_FinePix_E500.jpg",
    ] {
        std::fs::copy(
            corpus_file(&format!("exif-py/jpg/{name}")),
            folder.join(name),
        )?;
    }
    let options = ImportOptions {
        actor: Some(cy.clone()),
        ..Default::default()
    };
    let summary = lib.import(&[folder], &options, &mut |_| {})?;
    ensure!(summary.imported == 6, "{summary:?}");
    let ids: Vec<String> = lib
        .list(&Filter::default())?
        .into_iter()
        .map(|r| r.asset_id)
        .collect();
    let pick = |range: std::ops::Range<usize>| Selection::Assets(ids[range].to_vec());
    let complete = |license: &str| {
        [
            Change::set("license_tag", json!(license)),
            Change::set("tax_and_payout_info", json!("acct_cy")),
            Change::set("signed_contract_id", json!("K-1")),
        ]
    };
    lib.edit(
        &cy,
        &pick(0..1),
        &[Change::set("license_tag", json!("CC-BY-4.0"))],
    )?;
    lib.edit(&cy, &pick(1..2), &complete("NO-TRAIN"))?;
    lib.edit(&cy, &pick(2..6), &complete("CC-BY-4.0"))?;
    lib.submit(&cy, &pick(0..2))?;
    // A second later, so the queue (oldest first) lists these after the others.
    std::thread::sleep(Duration::from_millis(1100));
    lib.submit(&cy, &pick(2..6))?;
    Ok(())
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

/// What a row shows: the core's reason in words ("missing tax_and_payout_info"
/// reads "Missing tax and payout info").
fn words(reason: &str) -> String {
    let words = reason.replace('_', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The queue's rows in the window: asset, state, failed gates and their words.
async fn rows(app: &App) -> Result<Value> {
    Ok(app
        .client
        .execute(
            "return [...document.querySelectorAll(\"table[aria-label='Review queue'] tbody tr\")].map(tr => ({
               asset: tr.dataset.asset, state: tr.dataset.state, gates: tr.dataset.gates,
               missing: [...tr.querySelectorAll('li')].map(li => li.textContent.trim()),
             }))",
            vec![],
        )
        .await?)
}

/// Waits until the window's queue is `actor`'s queue as the core reads it,
/// and returns its asset ids in order.
async fn shows_the_queue(app: &App, lib: &Library, actor: &Actor) -> Result<Vec<String>> {
    let start = Instant::now();
    loop {
        let queue = lib.queue(actor)?;
        let expected: Vec<Value> = queue
            .iter()
            .map(|item| {
                json!({
                    "asset": item.asset_id,
                    "state": item.state,
                    "gates": item.failed_gates.iter().map(|g| g.gate.as_str()).collect::<Vec<_>>().join(" "),
                    "missing": item.failed_gates.iter().map(|g| words(&g.reason)).collect::<Vec<_>>(),
                })
            })
            .collect();
        let shown = rows(app).await?;
        if shown == Value::from(expected.clone()) {
            return Ok(queue.into_iter().map(|i| i.asset_id).collect());
        }
        if start.elapsed() > Duration::from_secs(30) {
            bail!("the window's queue {shown:#} is not the core's {expected:#?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The current row's asset, and the asset of the row holding the focus.
async fn current(app: &App) -> Result<(Value, Value)> {
    let both = app
        .client
        .execute(
            "return [document.querySelector('tr[aria-current=true]')?.dataset.asset ?? null,
                     document.activeElement?.closest('tr')?.dataset.asset ?? null]",
            vec![],
        )
        .await?;
    Ok((both[0].clone(), both[1].clone()))
}

/// Moves the current row to `target` with j and k.
async fn go_to(app: &App, ids: &[String], target: &str) -> Result<()> {
    for _ in 0..ids.len() * 2 {
        let (at, _) = current(app).await?;
        let at = ids.iter().position(|id| at == id.as_str());
        let to = ids.iter().position(|id| id == target);
        match (at, to) {
            (Some(a), Some(t)) if a == t => return Ok(()),
            (Some(a), Some(t)) => app.press(if a < t { "j" } else { "k" }).await?,
            _ => bail!("{target} or the current row is not in the queue {ids:?}"),
        }
    }
    bail!("j and k never reached {target}")
}

async fn status(app: &App, expected: &str) -> Result<String> {
    app.text_until("[data-testid=queue-status]", |t| t.contains(expected))
        .await
}

async fn checkbox(app: &App, asset_id: &str, shift: bool) -> Result<()> {
    app.client
        .execute(
            "document.querySelector(`tr[data-asset='${arguments[0]}'] input[type=checkbox]`)
               .dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, shiftKey: arguments[1]}))",
            vec![asset_id.into(), shift.into()],
        )
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_rights_manager_works_through_the_queue_and_the_dashboard_shows_the_report() -> Result<()>
{
    let app = App::start(six_submitted).await?;
    let lib = Library::open(&app.library)?;
    let rosa = lib.unlock("rosa", PASSPHRASE.as_bytes())?;
    let before = lib.queue(&rosa)?;
    // Both were submitted in one call, so the queue may list them either
    // way round: the one without its payout reference first, here.
    let license = |id: &str| -> Result<Value> {
        Ok(lib
            .record(id)?
            .rights
            .get("license_tag")
            .cloned()
            .unwrap_or_default())
    };
    let mut held: Vec<String> = before
        .iter()
        .filter(|i| i.state == "quarantined")
        .map(|i| i.asset_id.clone())
        .collect();
    held.sort_by_key(|id| license(id).ok() == Some(json!("NO-TRAIN")));
    let pending: Vec<String> = before
        .iter()
        .filter(|i| i.state == "pending")
        .map(|i| i.asset_id.clone())
        .collect();
    ensure!(held.len() == 2 && pending.len() == 4, "{before:#?}");

    unlock(&app, "rosa", PASSPHRASE).await?;
    app.text_until("[data-testid=acting]", |t| t.starts_with("rosa"))
        .await?;
    app.click("button[aria-label='Queue view']").await?;
    let ids = shows_the_queue(&app, &lib, &rosa).await?;
    assert_eq!(
        ids,
        before
            .iter()
            .map(|i| i.asset_id.clone())
            .collect::<Vec<_>>(),
        "oldest first"
    );
    assert_eq!(
        (sorted(&ids[..2]), sorted(&ids[2..])),
        (sorted(&held), sorted(&pending))
    );
    // Each row says how long it has waited.
    let ages = app
        .client
        .find_all(Locator::Css("table[aria-label='Review queue'] .age"))
        .await?;
    assert_eq!(ages.len(), 6);
    assert!(ages[0].text().await?.ends_with('s'));

    // The keyboard: a click on the first row, then j and the arrow down.
    app.click(&format!("tr[data-asset='{}'] button", ids[0]))
        .await?;
    app.press("j").await?;
    app.press(DOWN).await?;
    let (at, focused) = current(&app).await?;
    assert_eq!(
        (at.as_str(), focused.as_str()),
        (Some(&*pending[0]), Some(&*pending[0]))
    );
    app.screenshot("queue").await?;

    // a approves the current row; the next one becomes current, with the focus.
    app.press("a").await?;
    status(&app, "1 approved").await?;
    let ids = shows_the_queue(&app, &lib, &rosa).await?;
    let (at, focused) = current(&app).await?;
    assert_eq!(at, json!(pending[1]));
    assert_eq!(focused, json!(pending[1]));

    // r opens the comment box; Enter rejects with the comment.
    go_to(&app, &ids, &pending[1]).await?;
    app.press("r").await?;
    app.find("input[aria-label='Rejection comment']").await?;
    let label = app
        .client
        .execute(
            "return document.activeElement.getAttribute('aria-label')",
            vec![],
        )
        .await?;
    assert_eq!(label, json!("Rejection comment"));
    app.press(&format!("horizon is tilted{ENTER}")).await?;
    status(&app, "1 rejected").await?;
    shows_the_queue(&app, &lib, &rosa).await?;
    assert_eq!(current(&app).await?.0, json!(pending[2]));

    // A click and a shift-click select both remaining pending rows; one call approves them.
    checkbox(&app, &pending[2], false).await?;
    checkbox(&app, &pending[3], true).await?;
    let batch = app.find("button[aria-label='Approve selected']").await?;
    assert!(batch.text().await?.contains("(2)"));
    app.click("button[aria-label='Approve selected']").await?;
    status(&app, "2 approved").await?;
    let ids = shows_the_queue(&app, &lib, &rosa).await?;
    assert_eq!(sorted(&ids), sorted(&held));

    // Taken back: both wait again, and are approved once more.
    app.click("[data-testid=undo-decision]").await?;
    status(
        &app,
        "Took back your approval of 2 assets: 2 pending review again.",
    )
    .await?;
    let ids = shows_the_queue(&app, &lib, &rosa).await?;
    assert_eq!(ids.len(), 4);
    checkbox(&app, &pending[2], false).await?;
    checkbox(&app, &pending[3], true).await?;
    app.click("button[aria-label='Approve selected']").await?;
    status(&app, "2 approved").await?;
    let ids = shows_the_queue(&app, &lib, &rosa).await?;
    assert_eq!(sorted(&ids), sorted(&held));

    // The NO-TRAIN one goes back to draft, to be fixed.
    go_to(&app, &ids, &held[1]).await?;
    app.click("button[aria-label='Release to draft']").await?;
    status(&app, "1 draft").await?;
    assert_eq!(shows_the_queue(&app, &lib, &rosa).await?, [held[0].clone()]);

    let state = |id: &str| -> Result<String> { Ok(lib.record(id)?.workflow.workflow_state) };
    for id in [&pending[0], &pending[2], &pending[3]] {
        assert_eq!(state(id)?, "approved");
    }
    assert_eq!(state(&pending[1])?, "rejected");
    assert_eq!(state(&held[0])?, "quarantined");
    assert_eq!(state(&held[1])?, "draft");
    let rejection = lib.provenance(&pending[1])?;
    let rejection = rejection
        .last()
        .map(|e| (e.kind.as_str(), &e.data["comment"]));
    assert_eq!(rejection, Some(("rejection", &json!("horizon is tilted"))));

    app.click("button[aria-label='Dashboard view']").await?;
    dashboard_shows(&app, &lib.report()?).await?;
    app.screenshot("dashboard").await?;

    // The steward's queue: the rejected and released assets; fix the license
    // of the released one, with the bulk edit, and submit it again.
    app.click("button[aria-label='Lock']").await?;
    unlock(&app, "sam", PASSPHRASE).await?;
    app.text_until("[data-testid=acting]", |t| t.starts_with("sam"))
        .await?;
    app.click("button[aria-label='Queue view']").await?;
    let sam = lib.unlock("sam", PASSPHRASE.as_bytes())?;
    let ids = shows_the_queue(&app, &lib, &sam).await?;
    assert!(
        ids.contains(&held[1]) && ids.contains(&pending[1]),
        "{ids:?}"
    );
    checkbox(&app, &held[1], false).await?;
    app.text_until("[aria-label='Actions on the selection'] h3", |t| {
        t.to_lowercase().starts_with("1 selected")
    })
    .await?;
    app.find("select[aria-label='License tag']")
        .await?
        .select_by_value("CC-BY-4.0")
        .await?;
    app.click("button[aria-label='Apply to selection']").await?;
    app.text_until("[data-testid=action-status]", |t| {
        t.contains("Changed 1 of 1")
    })
    .await?;
    app.click("button[aria-label='Submit for review']").await?;
    app.text_until("[data-testid=action-status]", |t| t.contains("1 pending"))
        .await?;
    assert!(!shows_the_queue(&app, &lib, &sam).await?.contains(&held[1]));
    assert_eq!(state(&held[1])?, "pending");
    app.close().await
}

/// Every figure of the dashboard is the core report's.
async fn dashboard_shows(app: &App, report: &Report) -> Result<()> {
    let value = |id: &'static str| async move {
        let e = app.find(&format!("[data-testid={id}]")).await?;
        anyhow::Ok(e.attr("data-value").await?.unwrap_or_default())
    };
    assert_eq!(value("figure-assets").await?, report.assets.to_string());
    assert_eq!(value("figure-complete").await?, report.complete.to_string());
    assert_eq!(value("figure-eligible").await?, report.eligible.to_string());
    assert_eq!(
        value("figure-quarantined").await?,
        report.quarantined.to_string()
    );
    let share = app.find("[data-testid=figure-complete]").await?;
    assert_eq!(
        share.text().await?,
        format!("{:.1}%", report.complete_share * 100.0)
    );
    let times = report.time_to_approval.as_ref();
    let approved = times.map_or(0, |t| t.count);
    assert_eq!(value("figure-approved").await?, approved.to_string());
    assert_eq!(approved, 3);
    for (id, seconds) in [
        ("figure-median", times.map(|t| t.median_seconds)),
        ("figure-p90", times.map(|t| t.p90_seconds)),
    ] {
        let e = app.find(&format!("[data-testid={id}]")).await?;
        assert_eq!(
            e.attr("data-seconds").await?,
            seconds.map(|s| s.to_string())
        );
    }
    for (label, counts) in [
        ("Assets by state", &report.by_state),
        ("Assets by license", &report.by_license),
        ("Why quarantined", &report.quarantined_by_reason),
        ("Not eligible, by gate", &report.ineligible_by_gate),
    ] {
        let shown = app
            .client
            .execute(
                "return Object.fromEntries([...document.querySelectorAll(`table[aria-label='${arguments[0]}'] tr`)]
                   .map(tr => [tr.dataset.key, Number(tr.dataset.value)]))",
                vec![label.into()],
            )
            .await?;
        assert_eq!(shown, json!(counts), "{label}");
    }
    // The weekly chart plots the core's weeks; the funnel is its funnel.
    let weeks = app
        .client
        .execute(
            "return [...document.querySelectorAll('[data-testid=chart-weeks] circle[data-week]')]
               .map(c => [c.dataset.week, Number(c.dataset.median), Number(c.dataset.p90)])",
            vec![],
        )
        .await?;
    let expected: Vec<_> = report
        .approval_weeks
        .iter()
        .map(|w| json!([w.week, w.durations.median_seconds, w.durations.p90_seconds]))
        .collect();
    assert_eq!(weeks, json!(expected));
    assert!(!expected.is_empty());
    let funnel = app
        .client
        .execute(
            "return Object.fromEntries([...document.querySelectorAll(`table[aria-label='Funnel'] tr`)]
               .map(tr => [tr.dataset.key, Number(tr.dataset.value)]))",
            vec![],
        )
        .await?;
    assert_eq!(funnel, json!(report.funnel));
    Ok(())
}

/// The team, six of cy's photos submitted as [`six_submitted`] has them,
/// then a transfer of rights by rosa on the first pending one: her own edit,
/// which she may not approve.
fn rosa_edited_one(library: &Path) -> Result<()> {
    six_submitted(library)?;
    let lib = Library::open(library)?;
    let rosa = lib.unlock("rosa", PASSPHRASE.as_bytes())?;
    let pending = lib
        .queue(&rosa)?
        .into_iter()
        .find(|i| i.state == "pending")
        .map(|i| i.asset_id)
        .ok_or_else(|| anyhow::anyhow!("nothing pending"))?;
    lib.transfer_rights(
        &rosa,
        &Selection::Assets(vec![pending]),
        &assay_core::Transfer {
            contract_id: "K-7".into(),
            to: "Cy T Studio".into(),
            ownership: "licensed".into(),
            effective_date: None,
        },
    )?;
    Ok(())
}

/// Separation of duties, before anyone presses a button: the queue and the
/// selection's actions show Approve disabled on the asset rosa edited, with
/// the core's reason; the key says it too and decides nothing; Reject and
/// another asset's Approve stay enabled.
#[tokio::test]
async fn a_rights_manager_sees_approve_disabled_on_her_own_edit_with_the_reason() -> Result<()> {
    let app = App::start(rosa_edited_one).await?;
    let lib = Library::open(&app.library)?;
    let rosa = lib.unlock("rosa", PASSPHRASE.as_bytes())?;
    let queue = lib.queue(&rosa)?;
    let pending: Vec<String> = queue
        .iter()
        .filter(|i| i.state == "pending")
        .map(|i| i.asset_id.clone())
        .collect();
    let own = pending[0].clone();
    let edited_by = lib.record(&own)?.workflow.last_edited_by;
    assert_eq!(edited_by.as_deref(), Some("rosa"));

    unlock(&app, "rosa", PASSPHRASE).await?;
    app.text_until("[data-testid=acting]", |t| t.starts_with("rosa"))
        .await?;
    app.click("button[aria-label='Queue view']").await?;
    shows_the_queue(&app, &lib, &rosa).await?;
    app.click(&format!("tr[data-asset='{own}'] button")).await?;
    let reason = app
        .text_until("[data-testid=queue-approve-refused]", |t| !t.is_empty())
        .await?;
    assert!(
        reason.contains(&format!(
            "rosa uploaded or last edited asset {own}; someone else must approve it"
        )),
        "{reason}"
    );
    let button = app
        .find("button[aria-label='Approve current item']")
        .await?;
    assert!(
        !button.is_enabled().await?,
        "Approve is enabled on her own edit"
    );
    assert!(
        app.find("button[aria-label='Reject current item']")
            .await?
            .is_enabled()
            .await?
    );
    app.screenshot("queue-own-edit").await?;
    // The key answers with the reason and decides nothing.
    app.press("a").await?;
    status(&app, "someone else must approve it").await?;
    assert_eq!(lib.record(&own)?.workflow.workflow_state, "pending");

    // Checking it with another pending row: Approve selected says on how many it fails.
    checkbox(&app, &own, false).await?;
    checkbox(&app, &pending[1], false).await?;
    let selected = app
        .text_until("[data-testid=queue-selected-refused]", |t| {
            t.contains("(1 of 2 selected assets are refused)")
        })
        .await?;
    assert!(selected.contains(&own), "{selected}");
    assert!(
        !app.find("button[aria-label='Approve selected']")
            .await?
            .is_enabled()
            .await?
    );

    // Another pending asset: Approve lights up and the reason goes.
    go_to(
        &app,
        &lib.queue(&rosa)?
            .into_iter()
            .map(|i| i.asset_id)
            .collect::<Vec<_>>(),
        &pending[1],
    )
    .await?;
    app.click("button[aria-label='Approve current item']")
        .await?;
    status(&app, "1 approved").await?;
    assert_eq!(lib.record(&pending[1])?.workflow.workflow_state, "approved");
    assert_eq!(lib.record(&own)?.workflow.workflow_state, "pending");

    // The library's selection panel says the same of that asset.
    app.click("button[aria-label='Library view']").await?;
    app.click(&format!(".cell[data-asset='{own}']")).await?;
    app.text_until("[aria-label='Actions on the selection'] h3", |t| {
        t.to_lowercase().starts_with("1 selected")
    })
    .await?;
    let reason = app
        .text_until("[data-testid=approve-refused]", |t| !t.is_empty())
        .await?;
    assert!(reason.contains("someone else must approve it"), "{reason}");
    let approve = app.find("button[aria-label='Approve selection']").await?;
    assert!(!approve.is_enabled().await?);
    app.close().await
}

/// cy's photo and a picture whose Content Credentials say a trained model
/// made it, both submitted complete.
fn one_model_made(library: &Path) -> Result<()> {
    team(library)?;
    let lib = Library::open(library)?;
    let cy = Arc::new(lib.unlock("cy", PASSPHRASE.as_bytes())?);
    let folder = library.with_file_name("photos");
    std::fs::create_dir_all(&folder)?;
    std::fs::copy(
        corpus_file("exif-py/jpg/Canon_40D.jpg"),
        folder.join("camera.jpg"),
    )?;
    std::fs::copy(
        assay_app_e2e::repo().join("tests/corpus/c2pa/ai-generated.png"),
        folder.join("generated.png"),
    )?;
    let options = ImportOptions {
        actor: Some(cy.clone()),
        ..Default::default()
    };
    let summary = lib.import(&[folder], &options, &mut |_| {})?;
    ensure!(summary.imported == 2, "{summary:?}");
    let all = Selection::Where(Filter::default());
    lib.edit(
        &cy,
        &all,
        &[
            Change::set("license_tag", json!("CC-BY-4.0")),
            Change::set("tax_and_payout_info", json!("acct_cy")),
            Change::set("signed_contract_id", json!("K-1")),
        ],
    )?;
    lib.submit(&cy, &all)?;
    Ok(())
}

/// The core flags media its Content Credentials name as made by a trained
/// model: the rights manager sees it in the queue, and the detail panel
/// shows the credentials (state, signer, actions with their source type,
/// training-mining entries).
#[tokio::test]
async fn a_rights_manager_sees_model_made_media_flagged_and_its_credentials() -> Result<()> {
    let app = App::start(one_model_made).await?;
    let lib = Library::open(&app.library)?;
    let rosa = lib.unlock("rosa", PASSPHRASE.as_bytes())?;
    let queue = lib.queue(&rosa)?;
    let made: Vec<&str> = queue
        .iter()
        .filter(|i| i.model_made.is_some())
        .map(|i| i.asset_id.as_str())
        .collect();
    ensure!(made.len() == 1, "{queue:?}");
    let generated = made[0].to_owned();
    let camera = queue
        .iter()
        .find(|i| i.model_made.is_none())
        .map(|i| i.asset_id.clone())
        .ok_or_else(|| anyhow::anyhow!("the camera photo is in the queue"))?;

    unlock(&app, "rosa", PASSPHRASE).await?;
    app.click("button[aria-label='Queue view']").await?;
    let flag = app
        .text_until(
            &format!("tr[data-asset='{generated}'] [data-testid=model-made]"),
            |t| t == "AI-made",
        )
        .await?;
    assert_eq!(flag, "AI-made");
    let flags = app
        .client
        .find_all(Locator::Css(&format!(
            "tr[data-asset='{camera}'] [data-testid=model-made]"
        )))
        .await?;
    assert!(flags.is_empty(), "the camera photo is not flagged");

    app.click(&format!("tr[data-asset='{generated}'] button.open"))
        .await?;
    let state = app
        .text_until("[data-testid=credentials-state]", |t| !t.is_empty())
        .await?;
    assert_eq!(state, "valid");
    let source = app
        .text_until("[data-testid=source-type]", |t| !t.is_empty())
        .await?;
    assert_eq!(source, "trainedAlgorithmicMedia");
    app.screenshot("queue-model-made").await?;
    app.close().await
}
