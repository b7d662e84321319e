//! A dataset built from the window: a rights manager opens the dashboard,
//! which lists the dataset as not built yet, builds its first version as
//! Parquet shards (signing with their passphrase), and sees it verified; the
//! shards and the signed manifest are in the folder, and the dashboard then
//! shows the version. A steward, who may not sign, sees no Build button.

use std::path::Path;
use std::sync::Arc;

use anyhow::{ensure, Result};
use assay_app_e2e::{corpus_file, App};
use assay_core::{Change, Filter, ImportOptions, Library, Selection};
use serde_json::json;

use crate::library::{unlock, PASSPHRASE};
use crate::review::team;

/// The team, two of cy's photos approved, and a dataset of every photo.
fn approved_dataset(library: &Path) -> Result<()> {
    team(library)?;
    let lib = Library::open(library)?;
    let cy = Arc::new(lib.unlock("cy", PASSPHRASE.as_bytes())?);
    let folder = library.with_file_name("photos");
    std::fs::create_dir_all(&folder)?;
    for name in ["Canon_40D.jpg", "Nikon_D70.jpg"] {
        std::fs::copy(
            corpus_file(&format!("exif-py/jpg/{name}")),
            folder.join(name),
        )?;
    }
    let options = ImportOptions {
        actor: Some(Arc::clone(&cy)),
        ..ImportOptions::default()
    };
    lib.import(&[folder], &options, &mut |_| {})?;
    let all = Selection::Where(Filter::default());
    lib.edit(
        &cy,
        &all,
        &[
            Change::set("license_tag", json!("CC-BY-4.0")),
            Change::set("tax_and_payout_info", json!("acct_cy")),
            Change::set("signed_contract_id", json!("K-1")),
            Change::set("creator_name", json!("Cy T")),
        ],
    )?;
    lib.submit(&cy, &all)?;
    let rosa = lib.unlock("rosa", PASSPHRASE.as_bytes())?;
    lib.approve(&rosa, &all, None)?;
    let sam = lib.unlock("sam", PASSPHRASE.as_bytes())?;
    lib.create_dataset(&sam, "harbour", &Filter::default())?;
    Ok(())
}

#[tokio::test]
async fn a_rights_manager_builds_a_verified_version_from_the_dashboard() -> Result<()> {
    let app = App::start(approved_dataset).await?;
    let out = app.library.with_file_name("shards");

    unlock(&app, "rosa", PASSPHRASE).await?;
    app.text_until("[data-testid=acting]", |t| t.starts_with("rosa"))
        .await?;
    app.click("button[aria-label='Dashboard view']").await?;
    let row = app
        .text_until("tr[data-key='harbour']", |t| t.contains("not built yet"))
        .await?;
    ensure!(row.contains("harbour"), "{row}");
    app.click("button[aria-label='Build harbour']").await?;
    app.find("select[aria-label='Shard format']")
        .await?
        .select_by_value("parquet")
        .await?;
    app.type_into(
        "input[aria-label='Build destination']",
        &out.to_string_lossy(),
    )
    .await?;
    app.type_into("input[aria-label='Signing passphrase']", PASSPHRASE)
        .await?;
    app.click("button[aria-label='Build version']").await?;
    let verified = app
        .text_until("[data-testid=build-verification]", |t| {
            t.contains("Verified")
        })
        .await?;
    ensure!(
        verified.contains("version 1, 2 assets in 1 shards"),
        "{verified}"
    );
    app.screenshot("dataset-built").await?;
    for file in [
        "harbour-v1-00000-of-00001.parquet",
        "harbour-v1.manifest.json",
        "harbour-v1.croissant.json",
    ] {
        ensure!(out.join(file).is_file(), "{file} is missing");
    }
    // The dashboard reads the report again: the version is there.
    app.text_until("tr[data-key='harbour']", |t| t.contains("v1 · parquet"))
        .await?;
    app.close().await?;

    // A steward curates but does not sign: no Build button.
    let app = App::start(approved_dataset).await?;
    unlock(&app, "sam", PASSPHRASE).await?;
    app.text_until("[data-testid=acting]", |t| t.starts_with("sam"))
        .await?;
    app.click("button[aria-label='Dashboard view']").await?;
    app.text_until("tr[data-key='harbour']", |t| t.contains("not built yet"))
        .await?;
    let buttons = app
        .client
        .find_all(fantoccini::Locator::Css(
            "button[aria-label='Build harbour']",
        ))
        .await?;
    ensure!(buttons.is_empty(), "a steward is offered a build");
    app.close().await
}
