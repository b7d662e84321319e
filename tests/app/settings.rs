//! A library that went missing, a first run, settings and a watched folder
//! whose imports reach the open window; and a field value the schema
//! refuses, named under its field before anything is saved.

use std::path::Path;

use anyhow::{ensure, Result};
use assay_app_e2e::{corpus_file, App};
use assay_core::{ImportOptions, Library};
use fantoccini::Locator;
use serde_json::json;

use crate::library::{import_as, unlock, PASSPHRASE};
use crate::review::team;

#[tokio::test]
async fn a_missing_library_is_named_then_created_set_up_and_its_watched_folder_imports_live(
) -> Result<()> {
    // Nothing is made: the library the app is told to open is not there.
    let app = App::start(|_| Ok(())).await?;
    let problem = app
        .text_until("[data-testid=library-problem]", |t| !t.is_empty())
        .await?;
    ensure!(
        problem.contains(&app.library.display().to_string()) && problem.contains("does not exist"),
        "{problem}"
    );
    ensure!(
        !app.library.exists(),
        "the app re-created a missing library"
    );
    app.screenshot("missing-library").await?;

    // Create it where it was; a library without users asks who you are.
    // Ada administers: one user, no profile.
    app.click("button[aria-label='Create a library here']")
        .await?;
    app.type_into("input[aria-label='Your name']", "ada")
        .await?;
    app.find("select[aria-label='Your role']")
        .await?
        .select_by_value("admin")
        .await?;
    app.type_into("input[aria-label='New passphrase']", PASSPHRASE)
        .await?;
    app.type_into("input[aria-label='Repeat passphrase']", "not the same")
        .await?;
    app.text_until(
        "form[aria-label='Create your identity'] [role=alert]",
        |t| t.contains("differ"),
    )
    .await?;
    ensure!(
        !app.find("button[aria-label='Create identity']")
            .await?
            .is_enabled()
            .await?,
        "differing passphrases were accepted"
    );
    app.type_into("input[aria-label='Repeat passphrase']", PASSPHRASE)
        .await?;
    app.click("button[aria-label='Create identity']").await?;
    app.text_until("[data-testid=acting]", |t| t.starts_with("ada"))
        .await?;
    let lib = Library::open_existing(&app.library)?;
    let users = lib.users()?;
    ensure!(users.len() == 1 && users[0].name == "ada", "{users:?}");

    // Settings: a creator, a creator profile, and a watched folder.
    app.click("button[aria-label='Settings view']").await?;
    app.type_into("input[aria-label='New user name']", "cy")
        .await?;
    app.find("select[aria-label='New user role']")
        .await?
        .select_by_value("creator")
        .await?;
    app.type_into("input[aria-label='New user passphrase']", PASSPHRASE)
        .await?;
    app.click("button[aria-label='Add user']").await?;
    app.text_until("[data-testid=settings-status]", |t| t.contains("Added cy"))
        .await?;
    app.type_into("input[aria-label='Creator name']", "Cy T")
        .await?;
    app.type_into("input[aria-label='Payout reference']", "acct_cy")
        .await?;
    app.find("select[aria-label='Default license']")
        .await?
        .select_by_value("CC-BY-4.0")
        .await?;
    app.click("button[aria-label='Add creator profile']")
        .await?;
    app.text_until("li[data-creator='Cy T']", |t| {
        t.contains("license CC-BY-4.0 by default")
    })
    .await?;
    app.text_until("[data-testid=settings-status]", |t| t.contains("Cy T"))
        .await?;
    let watched = app.library.with_file_name("inbox");
    std::fs::create_dir_all(&watched)?;
    app.type_into(
        "input[aria-label='Folder to watch']",
        &watched.display().to_string(),
    )
    .await?;
    app.click("button[aria-label='Watch folder']").await?;
    app.text_until("[data-testid=watched-folders]", |t| t.contains("inbox"))
        .await?;
    app.screenshot("settings").await?;
    let creators = lib.creators()?;
    ensure!(
        creators.len() == 1
            && creators[0].payout_ref == "acct_cy"
            && creators[0].default_license.as_deref() == Some("CC-BY-4.0"),
        "{creators:?}"
    );
    ensure!(lib.users()?.len() == 2);
    ensure!(lib.watched_folders()? == [std::fs::canonicalize(&watched)?]);

    // A file dropped into the watched folder shows up without a reload.
    app.click("button[aria-label='Library view']").await?;
    app.text_until("[data-testid=asset-count]", |t| t == "0 assets")
        .await?;
    std::fs::copy(
        corpus_file("exif-py/jpg/Canon_40D.jpg"),
        watched.join("Canon_40D.jpg"),
    )?;
    app.text_until("[data-testid=asset-count]", |t| t == "1 assets")
        .await?;
    app.find(".cell").await?;
    let imported = lib.list(&Default::default())?;
    ensure!(imported.len() == 1, "{imported:?}");
    ensure!(
        imported[0].workflow.uploaded_by.as_deref() == Some("ada"),
        "{:?}",
        imported[0].workflow.uploaded_by
    );

    // And a change made outside the window (another process) reaches it too.
    let other = app.library.with_file_name("other");
    std::fs::create_dir_all(&other)?;
    std::fs::copy(
        corpus_file("exif-py/jpg/Nikon_D70.jpg"),
        other.join("Nikon_D70.jpg"),
    )?;
    let ada = lib.unlock("ada", PASSPHRASE.as_bytes())?;
    lib.import(
        &[other],
        &ImportOptions {
            actor: Some(ada.into()),
            ..ImportOptions::default()
        },
        &mut |_| {},
    )?;
    app.text_until("[data-testid=asset-count]", |t| t == "2 assets")
        .await?;
    app.close().await
}

/// `team`, and one of cy's photos in draft.
fn one_draft(library: &Path) -> Result<()> {
    team(library)?;
    let lib = Library::open(library)?;
    let dir = library.with_file_name("photos");
    std::fs::create_dir_all(&dir)?;
    std::fs::copy(
        corpus_file("exif-py/jpg/Canon_40D.jpg"),
        dir.join("Canon_40D.jpg"),
    )?;
    import_as(&lib, "cy", &dir)?;
    Ok(())
}

#[tokio::test]
async fn a_value_the_schema_refuses_is_named_under_its_field_and_nothing_is_saved() -> Result<()> {
    let app = App::start(one_draft).await?;
    let lib = Library::open(&app.library)?;
    let asset = lib.list(&Default::default())?.remove(0);
    unlock(&app, "cy", PASSPHRASE).await?;
    app.text_until("[data-testid=acting]", |t| t.starts_with("cy"))
        .await?;
    app.click(&format!(".cell[data-asset='{}']", asset.asset_id))
        .await?;
    app.find("form[aria-label='Metadata']").await?;

    // A fee with a decimal comma: the problem shows under the fee.
    app.find("select[aria-label='Payment kind']")
        .await?
        .select_by_value("one_time")
        .await?;
    app.type_into("input[aria-label='Payment fee']", "12,50")
        .await?;
    app.type_into("input[aria-label='Payment currency']", "EUR")
        .await?;
    let fee = app
        .text_until(
            "[data-testid=problem][data-pointer='/payment_terms/fee']",
            |t| !t.is_empty(),
        )
        .await?;
    ensure!(
        fee.contains("\"12,50\"") && fee.contains("four decimals"),
        "{fee}"
    );
    ensure!(
        app.find("input[aria-label='Payment fee']")
            .await?
            .attr("aria-invalid")
            .await?
            .as_deref()
            == Some("true")
    );
    let save = app.find("button[aria-label='Save metadata']").await?;
    ensure!(
        !save.is_enabled().await?,
        "Save is enabled with a problem shown"
    );
    // The problem sits low in the form; show it, not the fields above.
    app.client
        .execute(
            "document.querySelector('[data-testid=problem]').scrollIntoView({block: 'center'})",
            vec![],
        )
        .await?;
    app.screenshot("metadata").await?;
    ensure!(
        lib.record(&asset.asset_id)?
            .rights
            .get("payment_terms")
            .is_none(),
        "something was saved"
    );

    // Fixed, the problem goes and Save writes one metadata_change event.
    app.type_into("input[aria-label='Payment fee']", "12.50")
        .await?;
    let start = std::time::Instant::now();
    while !app
        .client
        .find_all(Locator::Css("[data-testid=problem]"))
        .await?
        .is_empty()
    {
        ensure!(start.elapsed().as_secs() < 10, "the fee's problem stayed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.click("button[aria-label='Save metadata']").await?;
    app.text_until("[data-testid=metadata-status]", |t| {
        t.contains("Saved 1 field")
    })
    .await?;
    let rights = lib.record(&asset.asset_id)?.rights;
    ensure!(
        rights.get("payment_terms")
            == Some(&json!({"kind": "one_time", "fee": "12.50", "currency": "EUR"})),
        "{rights:?}"
    );
    let kinds: Vec<_> = lib
        .provenance(&asset.asset_id)?
        .into_iter()
        .map(|e| e.kind)
        .collect();
    ensure!(
        kinds.last().map(String::as_str) == Some("metadata_change"),
        "{kinds:?}"
    );
    app.close().await
}
