//! A creator's first steps: unlock, import a folder of camera files (broken
//! ones too), browse the grid, open an asset.

use std::path::Path;

use anyhow::{ensure, Result};
use assay_app_e2e::{corpus_file, App};
use assay_core::{Filter, Library, Role};
use fantoccini::Locator;

pub const PASSPHRASE: &str = "correct horse battery";

/// A library with an admin and a creator, and nothing imported yet.
fn two_users(library: &Path) -> Result<()> {
    let lib = Library::open(library)?;
    lib.add_user(None, "ada", Role::Admin, PASSPHRASE.as_bytes())?;
    let ada = lib.unlock("ada", PASSPHRASE.as_bytes())?;
    lib.add_user(Some(&ada), "cy", Role::Creator, PASSPHRASE.as_bytes())?;
    Ok(())
}

/// Camera files from the corpus, a zero-byte file and a truncated JPEG.
fn photos(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for name in [
        "Canon_40D.jpg",
        "Nikon_D70.jpg",
        "Pentax_K10D.jpg",
        "Sony_HDR-HC3.jpg",
    ] {
        std::fs::copy(corpus_file(&format!("exif-py/jpg/{name}")), dir.join(name))?;
    }
    std::fs::write(dir.join("empty.jpg"), b"")?;
    let jpeg = std::fs::read(corpus_file("exif-py/jpg/Kodak_CX7530.jpg"))?;
    std::fs::write(dir.join("truncated.jpg"), &jpeg[..jpeg.len() / 3])?;
    Ok(())
}

/// Imports `dir` into `lib` as `user`, whose passphrase is [`PASSPHRASE`].
pub fn import_as(lib: &Library, user: &str, dir: &Path) -> Result<()> {
    let options = assay_core::ImportOptions {
        actor: Some(lib.unlock(user, PASSPHRASE.as_bytes())?.into()),
        ..Default::default()
    };
    lib.import(&[dir.to_owned()], &options, &mut |_| {})?;
    Ok(())
}

/// Waits (a minute at most) until the window's background thread has made
/// every preview `lib` has pending.
async fn previews_made(lib: &Library) -> Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while lib.pending_previews()? > 0 {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "{} previews still pending after a minute",
            lib.pending_previews()?
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    Ok(())
}

pub async fn unlock(app: &App, user: &str, passphrase: &str) -> Result<()> {
    let form = app.find("form[aria-label='Unlock a user']").await?;
    form.find(Locator::Css("select"))
        .await?
        .select_by_value(user)
        .await?;
    form.find(Locator::Css("input[type=password]"))
        .await?
        .send_keys(passphrase)
        .await?;
    form.find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_creator_imports_a_folder_and_opens_an_asset() -> Result<()> {
    let app = App::start(two_users).await?;
    let folder = app.library.with_file_name("photos");
    photos(&folder)?;

    app.find("form[aria-label='Unlock a user']").await?;
    app.screenshot("unlock").await?;
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
    let counts = app
        .text_until("[data-testid=import-counts]", |t| t.starts_with("6 / 6"))
        .await?;

    // The window shows what the catalog holds, and the broken files are
    // there with their warnings, not lost.
    let lib = Library::open(&app.library)?;
    let total = lib.grid_count(&Filter::default(), None)?;
    assert!(total >= 5, "only {total} assets after importing: {counts}");
    app.text_until("[data-testid=asset-count]", |t| {
        t == format!("{total} assets")
    })
    .await?;
    // The zero-byte file is an asset with a warning, shown on its cell.
    app.find(".cell .badge.warn").await?;

    let thumbs = app.client.find_all(Locator::Css(".cell img")).await?;
    assert!(thumbs.len() >= 4, "{} thumbnails shown", thumbs.len());
    // The thumbnail really loaded through the assay: protocol.
    let loaded = app
        .client
        .execute(
            "return [...document.querySelectorAll('.cell img')].filter(i => i.complete && i.naturalWidth > 0).length",
            vec![],
        )
        .await?;
    assert!(
        loaded.as_u64().unwrap_or(0) >= 1,
        "no thumbnail decoded: {loaded}"
    );
    app.screenshot("library").await?;

    // The window's import left the previews to the background thread,
    // which makes them while the window is browsed.
    previews_made(&lib).await?;
    for name in ["Canon_40D.jpg", "Nikon_D70.jpg"] {
        let record = lib.record(&folder.join(name).to_string_lossy())?;
        let preview = record.previews.preview.unwrap_or_default();
        anyhow::ensure!(Path::new(&preview).is_file(), "{name}: no preview");
    }
    cells_show_their_cell_rendition(&app, &lib).await?;

    let cell = app.find(".cell[data-asset]").await?;
    let asset_id = cell.attr("data-asset").await?.unwrap_or_default();
    cell.click().await?;
    let record = lib.record(&asset_id)?;
    app.text_until("[data-testid=checksum]", |t| t == record.checksum)
        .await?;
    app.text_until("ol[aria-label='Provenance timeline']", |t| {
        t.contains("import")
    })
    .await?;
    app.screenshot("detail").await?;

    // "Show in folder" opens the folder of the location, nothing else.
    let location = &record.locations[0].path;
    app.click(&format!("button[aria-label='Show in folder: {location}']"))
        .await?;
    let folder = Path::new(location)
        .parent()
        .map(|p| p.to_string_lossy().into_owned());
    let start = std::time::Instant::now();
    while app.opened().is_empty() && start.elapsed() < std::time::Duration::from_secs(10) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(app.opened(), Vec::from_iter(folder));

    // The app's own process draws the web process's bitmaps without OpenGL:
    // no GL driver (Mesa's, and its LLVM) is loaded in it, though it is the
    // first GTK app on this X display (which makes GDK probe GL visuals),
    // while the web process, which painted the page just shown, has one.
    let processes = app.processes();
    let named = |name: &str| {
        processes
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, maps)| maps)
            .collect::<Vec<_>>()
    };
    let (own, web) = (named("assay-app"), named("WebKitWebProces"));
    ensure!(
        own.len() == 1 && web.len() == 1,
        "{} app and {} web processes",
        own.len(),
        web.len()
    );
    let drivers = |maps: &str| -> Vec<String> {
        maps.lines()
            .filter(|l| l.contains("_dri.so") || l.contains("libLLVM"))
            .filter_map(|l| l.rsplit(' ').next().map(str::to_owned))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let loaded = drivers(own[0]);
    ensure!(loaded.is_empty(), "the app's process loaded {loaded:?}");
    ensure!(
        !drivers(web[0]).is_empty(),
        "the web process paints without a driver: the check above proves nothing here"
    );
    app.close().await
}

/// Every thumbnail in the grid is the cell-size rendition of the thumbnail
/// the catalog names, made by the shell beside it on first request and
/// decoded no larger than the cell's 168 x 112 box (the detail view keeps
/// the 1600-pixel preview).
async fn cells_show_their_cell_rendition(app: &App, lib: &Library) -> Result<()> {
    const SHOWN: &str = "
        return [...document.querySelectorAll('.cell img')].map(i =>
            [i.currentSrc, i.complete ? i.naturalWidth : 0, i.naturalHeight]);";
    let started = std::time::Instant::now();
    // The grid follows the catalog a moment later: a quick thumbnail the
    // background previews replaced may still be on screen.
    let (shown, renditions) = loop {
        let shown: Vec<(String, u64, u64)> =
            serde_json::from_value(app.client.execute(SHOWN, vec![]).await?)?;
        let renditions: Vec<String> = lib
            .list(&Filter::default())?
            .into_iter()
            .filter_map(|record| record.previews.thumbnail)
            .map(|thumbnail| thumbnail.replace(".jpg", "-cell.jpg"))
            .collect();
        let current = |src: &str| {
            let relative = src.trim_start_matches("assay://localhost/");
            renditions.iter().any(|r| r.ends_with(relative))
        };
        if shown.len() >= 4 && shown.iter().all(|(src, w, _)| *w > 0 && current(src)) {
            break (shown, renditions);
        }
        anyhow::ensure!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the grid shows {shown:?}; the catalog's cell renditions are {renditions:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    for (src, width, height) in &shown {
        assert!(*width <= 168 && *height <= 112, "{src}: {width}x{height}");
        let relative = src.trim_start_matches("assay://localhost/");
        anyhow::ensure!(
            app.library.join(relative).is_file(),
            "{relative} was not kept beside its thumbnail ({renditions:?})"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_wrong_passphrase_is_refused_and_said_so() -> Result<()> {
    let app = App::start(two_users).await?;
    unlock(&app, "cy", "not the passphrase").await?;
    let alert = app.text_until("[role=alert]", |t| !t.is_empty()).await?;
    assert!(alert.to_lowercase().contains("passphrase"), "{alert}");
    assert!(app
        .client
        .find(Locator::Css("[data-testid=acting]"))
        .await
        .is_err());
    app.close().await
}

#[tokio::test]
async fn the_keyboard_switches_views_finds_search_and_lists_every_shortcut() -> Result<()> {
    const ESCAPE: &str = "\u{e00c}";
    let app = App::start(two_users).await?;
    app.find("form[aria-label='Unlock a user']").await?;

    app.press("?").await?;
    let help = app
        .text_until("[role=dialog][aria-label='Keyboard shortcuts']", |t| {
            t.contains("Approve the current asset")
        })
        .await?;
    assert!(help.contains("Search the library"), "{help}");
    app.screenshot("shortcuts").await?;
    app.press(ESCAPE).await?;
    for _ in 0..50 {
        if app
            .client
            .find_all(Locator::Css("[role=dialog]"))
            .await?
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        app.client
            .find_all(Locator::Css("[role=dialog]"))
            .await?
            .is_empty(),
        "Escape left the shortcuts open"
    );

    // The digits follow the top bar's order.
    app.press("4").await?;
    app.find("button[aria-label='Dashboard view'][aria-pressed=true]")
        .await?;
    app.press("2").await?;
    app.find("button[aria-label='Queue view'][aria-pressed=true]")
        .await?;
    // / goes back to the library with the search field focused: what is typed next searches.
    app.press("/").await?;
    app.find("button[aria-label='Library view'][aria-pressed=true]")
        .await?;
    app.press("2").await?;
    let typed = app
        .client
        .execute(
            "return document.querySelector('input[type=search]').value",
            vec![],
        )
        .await?;
    assert_eq!(
        typed.as_str(),
        Some("2"),
        "the search field did not get the key"
    );
    app.find("button[aria-label='Library view'][aria-pressed=true]")
        .await?;
    app.close().await
}

/// `two_users`, three photos imported by cy, and SQL copies of them up to 1,000 assets (five pages of the grid).
fn a_thousand(library: &Path) -> Result<()> {
    two_users(library)?;
    let lib = Library::open(library)?;
    let dir = library.with_file_name("photos");
    photos(&dir)?;
    import_as(&lib, "cy", &dir)?;
    assay_bench::grow_catalog(&lib.db_path(), 1000)?;
    Ok(())
}

#[tokio::test]
async fn a_range_or_ctrl_a_over_pages_never_scrolled_past_is_edited_whole() -> Result<()> {
    let app = App::start(a_thousand).await?;
    unlock(&app, "cy", PASSPHRASE).await?;
    app.text_until("[data-testid=asset-count]", |t| t == "1000 assets")
        .await?;
    // The first cell, then shift-click the last: the pages between were never on screen.
    app.click(".cell[data-asset]").await?;
    app.client
        .execute(
            "const s = document.querySelector('.scroller'); s.scrollTop = s.scrollHeight;",
            vec![],
        )
        .await?;
    let last = app.find(".cell[data-index='999'][data-asset]").await?;
    app.client
        .execute(
            "arguments[0].dispatchEvent(new MouseEvent('click', { bubbles: true, shiftKey: true }));",
            vec![serde_json::to_value(&last)?],
        )
        .await?;
    app.text_until("section[aria-label='Actions on the selection'] h3", |t| {
        t.eq_ignore_ascii_case("1000 selected")
    })
    .await?;
    app.find("select[aria-label='License tag']")
        .await?
        .select_by_value("CC-BY-4.0")
        .await?;
    app.click("button[aria-label='Apply to selection']").await?;
    let status = app
        .text_until("[data-testid=action-status]", |t| t.contains("Changed"))
        .await?;
    assert!(status.contains("Changed 1000 of 1000"), "{status}");
    let lib = Library::open(&app.library)?;
    let tagged = lib.grid_count(
        &Filter {
            license_tag: Some("CC-BY-4.0".into()),
            ..Filter::default()
        },
        None,
    )?;
    assert_eq!(tagged, 1000);

    // One cell, then Ctrl-A: every asset the filters show, read and ready.
    app.click(".cell[data-index='999'][data-asset]").await?;
    app.text_until("section[aria-label='Actions on the selection'] h3", |t| {
        t.eq_ignore_ascii_case("1 selected")
    })
    .await?;
    app.press("\u{e009}a\u{e000}").await?;
    app.text_until("section[aria-label='Actions on the selection'] h3", |t| {
        t.eq_ignore_ascii_case("1000 selected")
    })
    .await?;
    app.close().await
}

#[tokio::test]
async fn an_administrator_is_offered_only_what_the_core_allows() -> Result<()> {
    let app = App::start(|library| {
        two_users(library)?;
        let lib = Library::open(library)?;
        let dir = library.with_file_name("photos");
        photos(&dir)?;
        import_as(&lib, "cy", &dir)
    })
    .await?;
    unlock(&app, "ada", PASSPHRASE).await?;
    app.find("[data-testid=acting]").await?;
    app.click(".cell[data-asset]").await?;
    app.text_until("section[aria-label='Actions on the selection'] h3", |t| {
        t.eq_ignore_ascii_case("1 selected")
    })
    .await?;
    // The role table gives an administrator users and profiles, not edits
    // or decisions: the window once offered edit and submit, which the core
    // then refused.
    for control in [
        "Apply to selection",
        "Submit for review",
        "Approve selection",
    ] {
        let found = app
            .client
            .find_all(Locator::Css(&format!("button[aria-label='{control}']")))
            .await?;
        assert!(found.is_empty(), "{control} is offered to an administrator");
    }
    app.click("button[aria-label='Settings view']").await?;
    app.find("input[aria-label='New user name']").await?;
    app.close().await
}

/// A library whose import deferred its previews (`--defer-previews`, or a
/// window closed before they were made): the window makes them in the
/// background, and the grid shows the new thumbnails without a reload.
#[tokio::test]
async fn previews_a_deferred_import_left_are_made_in_the_background() -> Result<()> {
    let app = App::start(|library| {
        two_users(library)?;
        let folder = library.with_file_name("photos");
        photos(&folder)?;
        let lib = Library::open(library)?;
        let options = assay_core::ImportOptions {
            actor: Some(lib.unlock("cy", PASSPHRASE.as_bytes())?.into()),
            defer_previews: true,
            ..Default::default()
        };
        lib.import(&[folder], &options, &mut |_| {})?;
        // The five with content; the zero-byte file has nothing to picture.
        let pending = lib.pending_previews()?;
        anyhow::ensure!(pending == 5, "{pending} previews pending after the import");
        Ok(())
    })
    .await?;
    let lib = Library::open(&app.library)?;
    previews_made(&lib).await?;
    let folder = app.library.with_file_name("photos");
    let record = lib.record(&folder.join("Canon_40D.jpg").to_string_lossy())?;
    let thumbnail = record.previews.thumbnail.unwrap_or_default();
    anyhow::ensure!(thumbnail.ends_with("-thumb.jpg"), "{thumbnail}");
    // The grid, told of the commit, shows the thumbnail the background made
    // (its cell-size rendition, named after it).
    let name = Path::new(&thumbnail)
        .file_name()
        .map(|n| n.to_string_lossy().replace(".jpg", "-cell.jpg"))
        .unwrap_or_default();
    app.find(&format!(".cell img[src$='{name}']")).await?;
    Ok(())
}
