//! The marketplace panel: connect to a market, sync with progress and
//! cancel, and read back its listings, sales and payouts. The sync itself
//! is `assay-market-client`'s, the same one `assay sync` runs.

use assay_core::{Market, MarketActivity};
use assay_market_client::{Price, SyncEvent, SyncOptions, SyncReport};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;

use crate::commands::review::acting;
use crate::error::{AppError, AppResult};
use crate::progress::run_job;
use crate::state::AppState;

impl From<assay_market_client::Error> for AppError {
    fn from(e: assay_market_client::Error) -> Self {
        AppError::new(e.code(), e.to_string())
    }
}

#[tauri::command]
#[specta::specta]
pub fn markets(state: State<'_, AppState>) -> AppResult<Vec<Market>> {
    Ok(state.library()?.markets()?)
}

/// Adds the market at `url` under `name`, keeping the pasted publisher
/// `token` in the library's own token file.
#[tauri::command]
#[specta::specta]
pub fn connect_market(
    state: State<'_, AppState>,
    name: String,
    url: String,
    token: String,
) -> AppResult<Market> {
    Ok(state.library()?.connect_market(&name, &url, &token)?)
}

#[tauri::command]
#[specta::specta]
pub fn market_activity(state: State<'_, AppState>, market: String) -> AppResult<MarketActivity> {
    Ok(state.library()?.market_activity(&market)?)
}

/// The price of listings a sync creates, in the currency's minor unit.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct ListingPrice {
    pub minor: u64,
    pub currency: String,
}

/// Where a sync stands; the last one sent has `finished` set.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
pub struct SyncProgress {
    /// Bytes of the files to upload, as the manifests posted so far say.
    pub bytes_to_send: u64,
    pub bytes_sent: u64,
    pub files_uploaded: u32,
    pub listings: u32,
    pub payments: u32,
    /// The step last heard.
    pub last: Option<SyncEvent>,
    pub finished: bool,
}

impl SyncProgress {
    fn on(&mut self, event: &SyncEvent) {
        match event {
            SyncEvent::Manifest { bytes, .. } => self.bytes_to_send += bytes,
            SyncEvent::Bytes { sent, .. } => self.bytes_sent = *sent,
            SyncEvent::Uploaded { .. } => self.files_uploaded += 1,
            SyncEvent::Listed { .. } => self.listings += 1,
            SyncEvent::Payment { .. } => self.payments += 1,
            SyncEvent::Refused { .. }
            | SyncEvent::Recorded { .. }
            | SyncEvent::Withdrawn { .. } => {}
        }
        self.last = Some(event.clone());
    }
}

/// Publishes the approved assets not yet listed on `market` and records
/// its payments, as the acting rights manager. `job` is the front end's
/// number for `cancel_job`; a cancelled sync keeps what it finished and the
/// next one resumes.
#[tauri::command]
#[specta::specta]
pub async fn sync_market(
    state: State<'_, AppState>,
    market: String,
    price: Option<ListingPrice>,
    job: u32,
    on_progress: Channel<SyncProgress>,
) -> AppResult<SyncReport> {
    let library = state.library()?;
    let actor = acting(&state)?;
    let options = SyncOptions {
        price: price.map(|p| Price {
            minor: p.minor,
            currency: p.currency,
        }),
        ..SyncOptions::default()
    };
    run_job(&state, job, on_progress, "sync", move |cancel, out| {
        let mut progress = SyncProgress::default();
        let report = assay_market_client::sync(
            &library,
            &actor,
            Some(&market),
            &options,
            &mut |event| {
                progress.on(event);
                out.send(&progress);
            },
            &cancel,
        );
        progress.finished = true;
        out.finish(&progress);
        report
    })
    .await?
    .map_err(AppError::from)
}
