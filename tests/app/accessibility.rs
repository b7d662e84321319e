//! The window for people who browse without a mouse or a screen: axe-core
//! finds no serious or critical violation on any main view, and the library
//! grid is worked from the keyboard alone (move, select, open) while saying
//! what each cell's badges show.

use anyhow::{ensure, Result};
use assay_app_e2e::App;

use crate::library::{unlock, PASSPHRASE};
use crate::queue::six_submitted;

const RIGHT: &str = "\u{e014}";
const DOWN: &str = "\u{e015}";
const END: &str = "\u{e010}";
const HOME: &str = "\u{e011}";
const SPACE: &str = " ";
const ENTER: &str = "\u{e007}";

/// The grid's active cell: its index and the name its content gives it.
async fn active_cell(app: &App) -> Result<(String, String)> {
    let found = app
        .client
        .execute(
            "const grid = document.querySelector('[data-testid=grid]');
             const id = grid.getAttribute('aria-activedescendant');
             const cell = id && document.getElementById(id);
             if (!cell) return null;
             // The cell's name comes from its content, less what is aria-hidden.
             const copy = cell.cloneNode(true);
             copy.querySelectorAll('[aria-hidden=true]').forEach((e) => e.remove());
             return [cell.dataset.index, copy.textContent.replace(/\\s+/g, ' ').trim()];",
            vec![],
        )
        .await?;
    serde_json::from_value::<Option<(String, String)>>(found)?
        .ok_or_else(|| anyhow::anyhow!("the grid has no active cell"))
}

async fn active_index_becomes(app: &App, index: &str) -> Result<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Ok((at, label)) = active_cell(app).await {
            if at == index {
                return Ok(label);
            }
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "the active cell never became {index}: {:?}",
            active_cell(app).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn every_main_view_passes_axe_and_the_grid_works_from_the_keyboard() -> Result<()> {
    let app = App::start(six_submitted).await?;
    unlock(&app, "rosa", PASSPHRASE).await?;
    app.text_until("[data-testid=acting]", |t| t.starts_with("rosa"))
        .await?;
    app.text_until("[data-testid=asset-count]", |t| t == "6 assets")
        .await?;
    app.find(".cell[data-asset]").await?;

    // The grid from the keyboard: focus it, walk, select, open.
    app.find("[data-testid=grid]").await?.click().await?;
    app.client
        .execute(
            "document.querySelector('[data-testid=grid]').focus()",
            vec![],
        )
        .await?;
    app.press(DOWN).await?;
    let first = active_index_becomes(&app, "0").await?;
    ensure!(
        first.contains("pending") || first.contains("quarantined"),
        "a cell's name says its state: {first}"
    );
    ensure!(first.contains("license "), "and its license: {first}");
    app.press(RIGHT).await?;
    active_index_becomes(&app, "1").await?;
    app.press(END).await?;
    active_index_becomes(&app, "5").await?;
    app.press(SPACE).await?;
    app.text_until("#cell-5", |_| true).await?;
    let selected = app
        .find("#cell-5")
        .await?
        .attr("aria-selected")
        .await?
        .unwrap_or_default();
    ensure!(selected == "true", "Space selects the active cell");
    app.press(HOME).await?;
    active_index_becomes(&app, "0").await?;
    app.press(ENTER).await?;
    // Enter opens the asset in the detail panel.
    let id = app
        .find("#cell-0")
        .await?
        .attr("data-asset")
        .await?
        .unwrap_or_default();
    app.find(&format!("[data-testid=detail][data-asset='{id}']"))
        .await?;

    // Every main view, as a rights manager with work waiting sees it.
    let mut found = Vec::new();
    for (key, view, ready) in [
        ("1", "library", ".cell[data-asset]"),
        (
            "2",
            "queue",
            "table[aria-label='Review queue'] tr[data-asset]",
        ),
        ("3", "duplicates", "main.whole"),
        ("4", "dashboard", "[data-testid=figure-assets]"),
        ("5", "market", "main.whole"),
        ("6", "settings", "main.whole"),
    ] {
        app.client
            .execute("document.activeElement?.blur()", vec![])
            .await?;
        app.press(key).await?;
        app.find(ready).await?;
        for violation in app.accessibility_violations().await? {
            found.push(format!("{view}: {violation}"));
        }
    }
    ensure!(
        found.is_empty(),
        "axe-core found serious or critical violations:\n{}",
        found.join("\n")
    );
    app.close().await
}
