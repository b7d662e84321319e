//! A creator's first run on a new library: their identity, their own
//! profile with a default license, a first import that carries both, and
//! a passphrase of her own.

use anyhow::{ensure, Result};
use assay_app_e2e::{corpus_file, App};
use assay_core::{Filter, Library, Role};
use fantoccini::Locator;

use crate::library::PASSPHRASE;

#[tokio::test]
async fn a_creator_sets_up_alone_and_their_first_import_carries_their_profile() -> Result<()> {
    // A library with no users yet.
    let app = App::start(|library| {
        Library::open(library)?;
        Ok(())
    })
    .await?;
    app.type_into("input[aria-label='Your name']", "mia")
        .await?;
    // Creator is what the form proposes.
    let role = app.find("select[aria-label='Your role']").await?;
    ensure!(
        role.prop("value").await?.as_deref() == Some("creator"),
        "the form does not propose the creator role"
    );
    app.text_until("[data-testid=admin-note]", |t| t.contains("mia-admin"))
        .await?;
    app.type_into("input[aria-label='New passphrase']", PASSPHRASE)
        .await?;
    app.type_into("input[aria-label='Repeat passphrase']", PASSPHRASE)
        .await?;
    // Without a payout reference a creator cannot be paid, so no identity yet.
    ensure!(
        !app.find("button[aria-label='Create identity']")
            .await?
            .is_enabled()
            .await?,
        "a creator without a payout reference was accepted"
    );
    app.type_into("input[aria-label='Name to credit']", "Mia Lind")
        .await?;
    app.type_into("input[aria-label='Your payout reference']", "acct_mia")
        .await?;
    app.find("select[aria-label='Your default license']")
        .await?
        .select_by_value("CC-BY-4.0")
        .await?;
    app.text_until("[data-testid=license-explained]", |t| !t.is_empty())
        .await?;
    app.screenshot("first-run").await?;
    app.click("button[aria-label='Create identity']").await?;
    app.text_until("[data-testid=acting]", |t| t.starts_with("mia"))
        .await?;

    let lib = Library::open_existing(&app.library)?;
    let users: Vec<(String, Role)> = lib.users()?.into_iter().map(|u| (u.name, u.role)).collect();
    ensure!(
        users
            == [
                ("mia-admin".into(), Role::Admin),
                ("mia".into(), Role::Creator)
            ],
        "{users:?}"
    );
    let profiles = lib.creators()?;
    ensure!(
        profiles.len() == 1
            && profiles[0].name == "Mia Lind"
            && profiles[0].user.as_deref() == Some("mia")
            && profiles[0].default_license.as_deref() == Some("CC-BY-4.0"),
        "{profiles:?}"
    );

    // The first import is linked to the profile and licensed on arrival.
    let folder = app.library.with_file_name("photos");
    std::fs::create_dir_all(&folder)?;
    for name in ["Canon_40D.jpg", "Nikon_D70.jpg"] {
        std::fs::copy(
            corpus_file(&format!("exif-py/jpg/{name}")),
            folder.join(name),
        )?;
    }
    app.type_into(
        "input[aria-label='Path to import']",
        &folder.to_string_lossy(),
    )
    .await?;
    app.click("form[aria-label='Import'] button[type=submit]")
        .await?;
    app.find("[aria-label='Import progress'][data-finished=true]")
        .await?;
    app.text_until("[data-testid=asset-count]", |t| t == "2 assets")
        .await?;
    app.find(".cell[data-asset]").await?;
    let licensed = app
        .client
        .find_all(Locator::XPath(
            "//*[contains(@class,'cell')]//span[contains(@class,'badge') and text()='CC-BY-4.0']",
        ))
        .await?;
    ensure!(
        licensed.len() == 2,
        "{} cells show the license",
        licensed.len()
    );
    for record in lib.list(&Filter::default())? {
        ensure!(
            record.rights["creator"] == "Mia Lind"
                && record.rights["tax_and_payout_info"] == "acct_mia",
            "{}: {:?}",
            record.asset_id,
            record.rights
        );
    }

    // Mia's administrator shares her passphrase; she changes her own in Settings.
    app.click("button[aria-label='Settings view']").await?;
    app.type_into("input[aria-label='Current passphrase']", PASSPHRASE)
        .await?;
    app.type_into(
        "input[aria-label='New passphrase for you']",
        "mia's own words",
    )
    .await?;
    app.type_into(
        "input[aria-label='New passphrase again']",
        "mia's own words",
    )
    .await?;
    app.click("button[aria-label='Change passphrase']").await?;
    app.text_until("[data-testid=settings-status]", |t| {
        t.contains("Changed your passphrase")
    })
    .await?;
    ensure!(
        lib.unlock("mia", PASSPHRASE.as_bytes()).is_err(),
        "the old passphrase still unlocks mia"
    );
    lib.unlock("mia", b"mia's own words")?;
    lib.unlock("mia-admin", PASSPHRASE.as_bytes())?;
    app.close().await
}
