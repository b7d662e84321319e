//! The marketplace panel against the real marketplace server on a loopback
//! port: a rights manager connects with a publisher token, syncs (a price
//! the panel cannot read first), sees the listing; a buyer pulls it; the
//! next sync shows the sale and both payouts, each recorded in provenance
//! and signed by the rights manager.

use std::path::Path;
use std::sync::Arc;

use anyhow::{ensure, Context, Result};
use assay_app_e2e::{corpus_file, App};
use assay_core::{Change, Filter, ImportOptions, Job, Library, Selection};
use assay_market::{add_account, Config, Market};
use assay_market_client::{pull, PullOptions, PullTarget};
use assay_market_proto::Role;
use serde_json::json;

use crate::library::{unlock, PASSPHRASE};
use crate::review::team;

/// The marketplace server, on its own thread and runtime (a buyer's pull
/// blocks), until dropped.
struct Server {
    url: String,
    config: Config,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start() -> Result<Server> {
        let dir = tempfile::tempdir()?;
        let config = Config::new(dir.path().join("data"));
        let market = Market::open(config.clone())?;
        let (bound, bound_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else {
                    return;
                };
                let _ = bound.send(listener.local_addr());
                let _ = market
                    .serve(listener, async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        let address = bound_rx.recv().context("the market did not start")??;
        Ok(Server {
            url: format!("http://{address}"),
            config,
            _dir: dir,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    fn token(&self, name: &str, role: Role) -> Result<String> {
        let market = Market::open(self.config.clone())?;
        Ok(add_account(&**market.records(), name, role)?.1)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The team, two corpus photos imported by the creator, tagged by the
/// steward and approved by the rights manager.
fn approved(library: &Path) -> Result<()> {
    team(library)?;
    let lib = Library::open(library)?;
    let photos = library.with_file_name("photos");
    std::fs::create_dir_all(&photos)?;
    for name in ["Canon_40D.jpg", "Nikon_D70.jpg"] {
        std::fs::copy(
            corpus_file(&format!("exif-py/jpg/{name}")),
            photos.join(name),
        )?;
    }
    let cy = Arc::new(lib.unlock("cy", PASSPHRASE.as_bytes())?);
    let options = ImportOptions {
        actor: Some(cy),
        ..ImportOptions::default()
    };
    ensure!(lib.import(&[photos], &options, &mut |_| {})?.imported == 2);
    let sam = lib.unlock("sam", PASSPHRASE.as_bytes())?;
    let all = Selection::Where(Filter::default());
    lib.edit(
        &sam,
        &all,
        &[
            Change::set("license_tag", json!("CC-BY-4.0")),
            Change::set("tax_and_payout_info", json!("acct_cy")),
            Change::set("signed_contract_id", json!("K-1")),
            Change::set("creator_name", json!("Cy T")),
            Change::set("payment_terms", json!({"kind": "rev_share", "share": 0.2})),
        ],
    )?;
    lib.submit(&sam, &all)?;
    let rosa = lib.unlock("rosa", PASSPHRASE.as_bytes())?;
    lib.approve(&rosa, &all, None)?;
    Ok(())
}

#[tokio::test]
async fn a_rights_manager_connects_syncs_and_sees_the_sale_and_payouts() -> Result<()> {
    let server = Server::start()?;
    let publisher = server.token("studio", Role::Publisher)?;
    let app = App::start(approved).await?;
    let lib = Library::open(&app.library)?;

    unlock(&app, "rosa", PASSPHRASE).await?;
    app.text_until("[data-testid=acting]", |t| t.starts_with("rosa"))
        .await?;
    app.click("button[aria-label='Market view']").await?;
    app.type_into("input[aria-label='Market name']", "main")
        .await?;
    app.type_into("input[aria-label='Market URL']", &server.url)
        .await?;
    app.type_into("input[aria-label='Market token']", &publisher)
        .await?;
    app.click("button[aria-label='Connect market']").await?;
    app.find("button[aria-label='Market main'][aria-pressed=true]")
        .await?;

    // A price the panel cannot read is named, and nothing is sent.
    app.type_into("input[aria-label='Listing price']", "50,00")
        .await?;
    let problem = app
        .text_until("[data-testid=price-problem]", |t| !t.is_empty())
        .await?;
    ensure!(problem.contains("\"50,00\""), "{problem}");
    ensure!(
        !app.find("button[aria-label='Sync market']")
            .await?
            .is_enabled()
            .await?,
        "Sync is enabled with a price it cannot read"
    );
    app.type_into("input[aria-label='Listing price']", "50.00")
        .await?;
    app.click("button[aria-label='Sync market']").await?;
    app.find("[data-testid=sync-result][data-listings='1']")
        .await?;
    app.find("[data-testid=sync-progress][data-finished=true]")
        .await?;
    // The sync ends with the market witnessing the library's checkpoint.
    let events = lib.verify_provenance()?.events;
    let witnessed = app
        .text_until("[data-testid=sync-witnessed]", |t| !t.is_empty())
        .await?;
    ensure!(
        witnessed.contains(&format!("checkpoint of {events} events")),
        "{witnessed}"
    );
    let row = app.find("tr[data-assets='2']").await?;
    let listing = row.attr("data-listing").await?.unwrap_or_default();
    let recorded = lib.market_activity("main")?.listings;
    ensure!(
        recorded.len() == 1 && recorded[0].listing_id.as_deref() == Some(listing.as_str()),
        "the panel shows {listing:?}, the library holds {recorded:?}"
    );

    // A model trainer buys and pulls the listing, outside the app.
    let buyer = server.token("lab", Role::Buyer)?;
    let (url, out) = (server.url.clone(), app.library.with_file_name("trainer"));
    let trusted = vec![lib.user_public_key("rosa")?];
    let pulled_listing = listing.clone();
    let pulled = tokio::task::spawn_blocking(move || {
        pull(
            &PullTarget {
                url: &url,
                token: &buyer,
                listing_id: &pulled_listing,
                out: &out,
                trusted: &trusted,
            },
            &PullOptions {
                confirm: true,
                ..PullOptions::default()
            },
            &mut Job::quiet(),
            &mut |_| {},
        )
    })
    .await??;
    ensure!(pulled.failures.is_empty(), "{:?}", pulled.failures);

    // The next sync brings the sale and the payouts back into the library.
    app.click("button[aria-label='Sync market']").await?;
    app.find("[data-testid=sync-result][data-listings='0']")
        .await?;
    let sales = app
        .text_until("[data-testid=sales-total]", |t| t.contains("50.00 EUR"))
        .await?;
    ensure!(sales == "50.00 EUR (1)", "{sales}");
    let paid = app
        .text_until("[data-testid=paid-out-total]", |t| t.contains("EUR"))
        .await?;
    ensure!(paid == "50.00 EUR (2)", "{paid}");
    for kind in ["purchase", "escrow_released", "payout_sent"] {
        app.find(&format!("tr[data-kind={kind}]")).await?;
    }
    app.screenshot("market").await?;

    // The dashboard charts the same money per creator and month, and the
    // funnel reaches the sale: both as the core's report has them.
    let report = lib.report()?;
    ensure!(
        report.funnel.sold >= 1 && report.funnel.listed >= 1,
        "{:?}",
        report.funnel
    );
    ensure!(!report.earnings.is_empty());
    app.client
        .execute("document.activeElement?.blur()", vec![])
        .await?;
    app.press("4").await?;
    app.find("table[aria-label='Revenue and payouts'] tr[data-creator]")
        .await?;
    let shown = app
        .client
        .execute(
            "return [...document.querySelectorAll(`table[aria-label='Revenue and payouts'] tr[data-creator]`)]
               .map(tr => [tr.dataset.creator, tr.dataset.month, Number(tr.dataset.revenue), Number(tr.dataset.payouts)])",
            vec![],
        )
        .await?;
    let expected: Vec<_> = report
        .earnings
        .iter()
        .map(|e| json!([e.creator, e.month, e.revenue_minor, e.payouts_minor]))
        .collect();
    ensure!(shown == json!(expected), "{shown} against {expected:?}");
    let funnel = app
        .client
        .execute(
            "return Object.fromEntries([...document.querySelectorAll(`table[aria-label='Funnel'] tr`)]
               .map(tr => [tr.dataset.key, Number(tr.dataset.value)]))",
            vec![],
        )
        .await?;
    ensure!(funnel == json!(report.funnel), "{funnel}");
    app.screenshot("dashboard-sales").await?;

    // What the panel shows is what provenance holds, signed by rosa.
    for record in lib.list(&Filter::default())? {
        let payments: Vec<_> = lib
            .provenance(&record.asset_id)?
            .into_iter()
            .filter(|e| e.kind == "payment")
            .collect();
        ensure!(payments.len() >= 3, "{}: {payments:?}", record.asset_id);
        ensure!(payments.iter().all(|e| e.user.as_deref() == Some("rosa")));
    }
    app.close().await
}
