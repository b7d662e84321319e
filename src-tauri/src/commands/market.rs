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
use crate::progress::{run_job, JobUpdate};
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

/// What a sync tallies beside its progress in bytes (sent of those to
/// send, as the manifests posted so far say): files uploaded, listings,
/// payments recorded, and the step last heard.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
pub struct SyncTally {
    pub files_uploaded: u32,
    pub listings: u32,
    pub payments: u32,
    pub last: Option<SyncEvent>,
}

impl SyncTally {
    fn on(&mut self, event: &SyncEvent) {
        match event {
            SyncEvent::Uploaded { .. } => self.files_uploaded += 1,
            SyncEvent::Listed { .. } => self.listings += 1,
            SyncEvent::Payment { .. } => self.payments += 1,
            SyncEvent::Manifest { .. }
            | SyncEvent::Bytes { .. }
            | SyncEvent::Refused { .. }
            | SyncEvent::Recorded { .. }
            | SyncEvent::Withdrawn { .. }
            | SyncEvent::Witnessed { .. } => {}
        }
        self.last = Some(event.clone());
    }
}

/// Where a sync stands.
pub type SyncProgress = JobUpdate<SyncTally>;

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
    run_job(&state, job, on_progress, "sync", move |job, stream| {
        assay_market_client::sync(
            &library,
            &actor,
            Some(&market),
            &options,
            job,
            &mut |event| stream.tell(|update| update.detail.on(event)),
        )
    })
    .await?
    .map_err(AppError::from)
}
