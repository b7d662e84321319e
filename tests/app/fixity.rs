//! Checking files from the window: one photo edited behind the library's
//! back and one deleted are named in the panel and badged in the grid, and
//! the untouched one stays clean.

use std::path::Path;

use anyhow::Result;
use assay_app_e2e::{corpus_file, App};
use assay_core::{Library, Role};
use fantoccini::Locator;

use crate::library::{import_as, unlock, PASSPHRASE};

const PHOTOS: [&str; 3] = ["Canon_40D.jpg", "Nikon_D70.jpg", "Pentax_K10D.jpg"];

/// An admin and three corpus photos imported beside the library.
fn three_photos(library: &Path) -> Result<()> {
    let lib = Library::open(library)?;
    lib.add_user(None, "ada", Role::Admin, PASSPHRASE.as_bytes())?;
    let dir = library.with_file_name("photos");
    std::fs::create_dir_all(&dir)?;
    for name in PHOTOS {
        std::fs::copy(corpus_file(&format!("exif-py/jpg/{name}")), dir.join(name))?;
    }
    import_as(&lib, "ada", &dir)?;
    Ok(())
}

#[tokio::test]
async fn check_files_names_the_edited_and_the_deleted_photo_and_badges_them() -> Result<()> {
    let app = App::start(three_photos).await?;
    unlock(&app, "ada", PASSPHRASE).await?;
    app.text_until("[data-testid=asset-count]", |t| t == "3 assets")
        .await?;
    app.find(".cell[data-asset]").await?;
    assert!(
        app.client
            .find_all(Locator::Css(".cell .badge.missing"))
            .await?
            .is_empty(),
        "a badge before anything changed"
    );

    let dir = app.library.with_file_name("photos");
    let edited = dir.join(PHOTOS[0]);
    let mut bytes = std::fs::read(&edited)?;
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&edited, &bytes)?;
    let deleted = dir.join(PHOTOS[1]);
    std::fs::remove_file(&deleted)?;

    app.click("button[aria-label='Check files against their checksums']")
        .await?;
    app.find("[aria-label='File check progress'][data-finished=true]")
        .await?;
    let counts = app
        .text_until("[data-testid=file-check-counts]", |t| {
            t.starts_with("3 / 3")
        })
        .await?;
    assert!(
        counts.contains("1 intact, 1 modified, 1 missing"),
        "counts: {counts}"
    );
    let problems = app
        .text_until("ul[aria-label='File check problems']", |t| !t.is_empty())
        .await?;
    assert!(
        problems.contains(&format!("modified: {}", edited.display()))
            && problems.contains(&format!("missing: {}", deleted.display())),
        "problems listed: {problems}"
    );
    app.screenshot("check-files").await?;

    // The grid follows the catalog: the two changed assets carry the badge,
    // the untouched one does not.
    let lib = Library::open(&app.library)?;
    let untouched = dir.join(PHOTOS[2]).to_string_lossy().into_owned();
    for asset in lib.list(&Default::default())? {
        let record = lib.record(&asset.asset_id)?;
        if record.locations.iter().all(|l| l.path != untouched) {
            app.find(&format!(
                ".cell[data-asset='{}'] .badge.missing",
                asset.asset_id
            ))
            .await?;
        }
    }
    let badges = app
        .client
        .find_all(Locator::Css(".cell .badge.missing"))
        .await?;
    assert_eq!(badges.len(), 2, "badges in the grid");

    app.click("button[aria-label='Close file check panel']")
        .await?;
    app.close().await
}
