//! The whole review flow in the window: a creator tags and submits, a rights
//! manager approves one, rejects one with a comment and exports a signed
//! manifest (a wrong passphrase first), an audit package and an XMP sidecar,
//! each shown verified; the timeline shows every step.

use std::path::Path;

use anyhow::Result;
use assay_app_e2e::{corpus_file, App};
use assay_core::{Library, NewCreator, Role};
use fantoccini::Locator;

use crate::library::{unlock, PASSPHRASE};

/// Four users and the creator profile the creator's assets link to.
pub fn team(library: &Path) -> Result<()> {
    let lib = Library::open(library)?;
    lib.add_user(None, "ada", Role::Admin, PASSPHRASE.as_bytes())?;
    let ada = lib.unlock("ada", PASSPHRASE.as_bytes())?;
    for (name, role) in [
        ("cy", Role::Creator),
        ("sam", Role::Steward),
        ("rosa", Role::RightsManager),
    ] {
        lib.add_user(Some(&ada), name, role, PASSPHRASE.as_bytes())?;
    }
    let sam = lib.unlock("sam", PASSPHRASE.as_bytes())?;
    lib.add_creator(
        &sam,
        &NewCreator {
            name: "Cy T".into(),
            contact: None,
            payout_ref: "acct_cy".into(),
            agreement_id: None,
            attribution: None,
            default_license: None,
            user: None,
        },
    )?;
    Ok(())
}

async fn status(app: &App, expected: &str) -> Result<String> {
    app.text_until("[data-testid=action-status]", |t| t.contains(expected))
        .await
}

async fn set_field(app: &App, field: &str, value: &str) -> Result<()> {
    app.find("select[aria-label='Field to set']")
        .await?
        .select_by_value(field)
        .await?;
    let input = app.find("input[aria-label='Field value']").await?;
    input.clear().await?;
    input.send_keys(value).await?;
    app.click("button[aria-label='Apply to selection']").await?;
    Ok(())
}

/// Fills the export form and exports the selection.
async fn export(app: &App, kind: &str, out: &str, passphrase: Option<&str>) -> Result<()> {
    app.find("select[aria-label='Export kind']")
        .await?
        .select_by_value(kind)
        .await?;
    let destination = app.find("input[aria-label='Export destination']").await?;
    destination.clear().await?;
    // WebDriver refuses an empty text; an empty destination is just cleared.
    if !out.is_empty() {
        destination.send_keys(out).await?;
    }
    if let Some(passphrase) = passphrase {
        app.find("input[aria-label='Signing passphrase']")
            .await?
            .send_keys(passphrase)
            .await?;
    }
    app.click("button[data-testid=export-selection]").await?;
    Ok(())
}

/// Clicks the grid cell of `asset_id`.
async fn pick(app: &App, asset_id: &str) -> Result<()> {
    app.click(&format!(".cell[data-asset='{asset_id}']"))
        .await?;
    Ok(())
}

#[tokio::test]
async fn creator_submits_rights_manager_decides_and_exports_a_verified_manifest() -> Result<()> {
    let app = App::start(team).await?;
    let folder = app.library.with_file_name("photos");
    std::fs::create_dir_all(&folder)?;
    for name in ["Canon_40D.jpg", "Nikon_D70.jpg", "Pentax_K10D.jpg"] {
        std::fs::copy(
            corpus_file(&format!("exif-py/jpg/{name}")),
            folder.join(name),
        )?;
    }

    unlock(&app, "cy", PASSPHRASE).await?;
    app.text_until("[data-testid=acting]", |t| t.starts_with("cy"))
        .await?;
    app.find("input[aria-label='Path to import']")
        .await?
        .send_keys(&folder.to_string_lossy())
        .await?;
    app.click("form[aria-label='Import'] button").await?;
    app.find("[aria-label='Import progress'][data-finished=true]")
        .await?;
    app.text_until("[data-testid=asset-count]", |t| t == "3 assets")
        .await?;

    // Select all three: a click, then shift-click on the last cell.
    let cells = app
        .client
        .find_all(Locator::Css(".cell[data-asset]"))
        .await?;
    let mut ids = Vec::new();
    for cell in &cells {
        ids.push(cell.attr("data-asset").await?.unwrap_or_default());
    }
    assert_eq!(ids.len(), 3);
    pick(&app, &ids[0]).await?;
    app.client
        .execute(
            "document.querySelector(`.cell[data-asset='${arguments[0]}']`).dispatchEvent(new MouseEvent('click', {bubbles: true, shiftKey: true}))",
            vec![ids[2].clone().into()],
        )
        .await?;
    app.text_until("[aria-label='Actions on the selection'] h3", |t| {
        t.to_lowercase().starts_with("3 selected")
    })
    .await?;

    app.find("select[aria-label='License tag']")
        .await?
        .select_by_value("CC-BY-4.0")
        .await?;
    app.text_until("[data-testid=license-explanation]", |t| !t.is_empty())
        .await?;
    app.find("input[aria-label='Creator profile']")
        .await?
        .send_keys("Cy T")
        .await?;
    app.click("button[aria-label='Apply to selection']").await?;
    status(&app, "Changed 3 of 3").await?;
    set_field(&app, "signed_contract_id", "K-1").await?;
    status(&app, "Changed 3 of 3").await?;
    set_field(&app, "payment_terms", r#"{"kind":"rev_share","share":0.2}"#).await?;
    status(&app, "Changed 3 of 3").await?;
    // A slip, undone: the contract id is set back on all three.
    set_field(&app, "signed_contract_id", "K-WRONG").await?;
    status(&app, "Changed 3 of 3").await?;
    app.click("button[aria-label='Undo my last edit']").await?;
    status(&app, "Undid your last edit: 3 of 3 assets set back").await?;
    let lib = Library::open(&app.library)?;
    for id in &ids {
        let rights = lib.record(id)?.rights;
        assert_eq!(rights["signed_contract_id"], "K-1", "{id}");
    }
    app.screenshot("tagging").await?;
    app.click("button[aria-label='Submit for review']").await?;
    status(&app, "3 pending").await?;

    app.click("button[aria-label='Lock']").await?;
    unlock(&app, "rosa", PASSPHRASE).await?;
    app.text_until("[data-testid=acting]", |t| t.starts_with("rosa"))
        .await?;

    pick(&app, &ids[0]).await?;
    app.click("button[aria-label='Approve selection']").await?;
    status(&app, "1 approved").await?;
    pick(&app, &ids[1]).await?;
    app.find("input[aria-label='Review comment']")
        .await?
        .send_keys("horizon is tilted")
        .await?;
    app.click("button[aria-label='Reject selection']").await?;
    status(&app, "1 rejected").await?;
    app.screenshot("review").await?;

    let lib = Library::open(&app.library)?;
    assert_eq!(lib.record(&ids[0])?.workflow.workflow_state, "approved");
    assert_eq!(lib.record(&ids[1])?.workflow.workflow_state, "rejected");
    assert_eq!(lib.record(&ids[2])?.workflow.workflow_state, "pending");

    pick(&app, &ids[0]).await?;
    let out = app.library.with_file_name("manifest.json");
    // A wrong passphrase signs nothing and writes nothing.
    export(&app, "manifest", &out.to_string_lossy(), Some("not rosa's")).await?;
    let alert = app.text_until("[role=alert]", |t| !t.is_empty()).await?;
    assert!(alert.contains("passphrase"), "{alert}");
    assert!(
        !out.exists(),
        "a manifest was written with a wrong passphrase"
    );
    app.click("button[aria-label='Dismiss error']").await?;

    export(&app, "manifest", &out.to_string_lossy(), Some(PASSPHRASE)).await?;
    let verified = app
        .find("[data-testid=export-verification][data-kind=manifest][data-ok=true]")
        .await?;
    assert!(verified.text().await?.contains("1 assets"));
    let check = lib.verify_manifest_file(&out)?;
    assert!(check.failures.is_empty(), "{:?}", check.failures);
    assert_eq!(check.assets, 1);
    app.screenshot("export").await?;

    // The same asset as an audit package and as an XMP sidecar beside its file.
    let package = app.library.with_file_name("audit.tar");
    export(&app, "audit", &package.to_string_lossy(), Some(PASSPHRASE)).await?;
    app.find("[data-testid=export-verification][data-kind=audit][data-ok=true]")
        .await?;
    let audit = lib.verify_audit_file(&package)?;
    assert!(audit.failures.is_empty(), "{:?}", audit.failures);
    assert_eq!(audit.assets, 1);
    export(&app, "xmp", "", None).await?;
    app.find("[data-testid=export-verification][data-kind=xmp][data-ok=true]")
        .await?;
    let sidecar = format!("{}.xmp", lib.record(&ids[0])?.locations[0].path);
    assert!(std::path::Path::new(&sidecar).is_file(), "no {sidecar}");

    // The approved asset's timeline, in order.
    let timeline = app
        .text_until("ol[aria-label='Provenance timeline']", |t| {
            t.contains("export")
        })
        .await?;
    let steps: Vec<&str> = [
        "import",
        "license change",
        "submission",
        "approval",
        "export",
    ]
    .into_iter()
    .filter(|s| !timeline.contains(s))
    .collect();
    assert!(steps.is_empty(), "missing {steps:?} in:\n{timeline}");
    app.close().await
}
