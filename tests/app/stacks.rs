//! A steward browses stacks and decides about near-duplicates: a raw file
//! and its JPEG are one cell that opens into both, and a photo with its
//! resized copy waits in the Duplicates view until it is stacked.

use std::path::Path;
use std::process::Command;

use anyhow::{ensure, Result};
use assay_app_e2e::{corpus_file, App};
use assay_core::{Library, Role};

use crate::library::{import_as, unlock, PASSPHRASE};

/// A steward's library holding a raw file beside its JPEG, and a photo
/// beside a copy of it at a fifth of the size.
fn stacked_library(library: &Path) -> Result<()> {
    let lib = Library::open(library)?;
    lib.add_user(None, "ada", Role::Admin, PASSPHRASE.as_bytes())?;
    let ada = lib.unlock("ada", PASSPHRASE.as_bytes())?;
    lib.add_user(Some(&ada), "sam", Role::Steward, PASSPHRASE.as_bytes())?;
    let photos = library.with_file_name("photos");
    std::fs::create_dir_all(&photos)?;
    let raw = photos.join("DSC_0100.DNG");
    std::fs::copy(
        corpus_file(
            "exif-py/raw/nikon_z_9_high_efficiency_compressed_dx_cropped_max_overexposed.dng",
        ),
        &raw,
    )?;
    let preview = Command::new("exiftool")
        .args(["-b", "-PreviewImage"])
        .arg(&raw)
        .output()?;
    ensure!(preview.status.success() && !preview.stdout.is_empty());
    std::fs::write(photos.join("DSC_0100.JPG"), &preview.stdout)?;
    let original = photos.join("original.jpg");
    std::fs::copy(corpus_file("exif-py/jpg/gps/DSCN0010.jpg"), &original)?;
    let resized = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&original)
        .args(["-vf", "scale=iw/5:-1"])
        .arg(photos.join("small.jpg"))
        .output()?;
    ensure!(resized.status.success(), "ffmpeg: {resized:?}");
    import_as(&lib, "sam", &photos)
}

/// Double-clicks the grid cell showing a stack's count.
async fn open_stack(app: &App) -> Result<()> {
    app.find("[data-testid=stack-count]").await?;
    app.client
        .execute(
            "document.querySelector('[data-testid=stack-count]').closest('[role=gridcell]')
                .dispatchEvent(new MouseEvent('dblclick', { bubbles: true }))",
            vec![],
        )
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_stack_is_one_cell_that_opens_and_near_duplicates_wait_to_be_decided() -> Result<()> {
    let app = App::start(stacked_library).await?;
    unlock(&app, "sam", PASSPHRASE).await?;
    app.text_until("[data-testid=acting]", |t| t.starts_with("sam"))
        .await?;

    // Four assets, three cells: the raw file and its JPEG are one.
    app.text_until("[data-testid=asset-count]", |t| t == "3 assets")
        .await?;
    let count = app
        .text_until("[data-testid=stack-count]", |t| t.contains('2'))
        .await?;
    assert!(count.ends_with("▣ 2"), "{count}");
    open_stack(&app).await?;
    app.text_until("[data-testid=stack-bar]", |t| {
        t.starts_with("A stack of 2 assets")
    })
    .await?;
    app.text_until("[data-testid=asset-count]", |t| t == "2 assets")
        .await?;
    // Shown once its thumbnails are in (they load lazily).
    for _ in 0..100 {
        let loaded = app
            .client
            .execute(
                "return [...document.querySelectorAll('.cell img')]
                    .every(i => i.complete && i.naturalWidth > 0)",
                vec![],
            )
            .await?;
        if loaded.as_bool() == Some(true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.screenshot("stack-open").await?;
    app.click("button[aria-label='Close the stack']").await?;
    app.text_until("[data-testid=asset-count]", |t| t == "3 assets")
        .await?;

    // The photo and its copy wait in the Duplicates view, the photo kept.
    app.click("button[aria-label='Duplicates view']").await?;
    let group = app.find("article[aria-label='Group of 2']").await?;
    let keeper = group.attr("data-keeper").await?.unwrap_or_default();
    let kept = Library::open(&app.library)?.record(&keeper)?;
    assert!(kept.locations[0].path.ends_with("original.jpg"), "{kept:?}");
    app.screenshot("duplicates").await?;
    app.click("button[aria-label='Stack under the keeper']")
        .await?;
    app.find("[data-testid=no-duplicates]").await?;

    // Stacked, the library shows two cells: two stacks of two.
    app.click("button[aria-label='Library view']").await?;
    app.text_until("[data-testid=asset-count]", |t| t == "2 assets")
        .await?;
    let stack = Library::open(&app.library)?.record(&keeper)?.stack;
    assert_eq!(stack.map(|s| s.members.len()), Some(2));
    app.close().await
}
