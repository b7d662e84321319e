//! `GET /v1/listings/{id}/sample?limit=N`: a few assets on sale, spread
//! over the listing, with what a buyer may know before buying (title, media
//! type, size, license, capture date, preview) and nothing that names or
//! identifies a file or a person (no checksum, file name, wallet, terms).
//! Rate-limited with the previews.

use std::collections::HashMap;

use assay_market_proto::previews::{ListingSample, SampleEntry};
use axum::extract::{RawQuery, State};
use axum::{Extension, Json};

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ListingPath;
use crate::listings::{load, on_sale};
use crate::page_query::page;

const DEFAULT: u32 = 5;
const MAX: u32 = 20;

pub(crate) async fn get(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    ListingPath(id): ListingPath,
    RawQuery(query): RawQuery,
) -> Result<Json<ListingSample>, ApiError> {
    let (_, limit) = page::<()>(query.as_deref().unwrap_or_default(), None, DEFAULT, MAX)?;
    let limit = limit as usize;
    crate::rate_limit::take(&app, account.id).await?;
    let listing = load(&app, &id).await?;
    let wanted = id.clone();
    let previews: HashMap<String, _> = app
        .records(move |r| r.previews(&wanted))
        .await?
        .into_iter()
        .map(|p| (p.asset_id.clone(), p))
        .collect();
    let selling = on_sale(&listing);
    let n = selling.len();
    let take = limit.min(n);
    // Evenly spread, so a sample is not just the start of the manifest.
    let entries = (0..take)
        .filter_map(|i| selling.get(i * n / take))
        .map(|entry| SampleEntry {
            asset_id: entry.asset_id.clone(),
            title: entry.title.clone(),
            media_type: entry.media_type.clone(),
            size_bytes: entry.size_bytes,
            license_tag: entry.license_tag.clone(),
            capture_date: entry.capture_date.clone(),
            preview: previews
                .get(&entry.asset_id)
                .map(|_| crate::previews::url(&id, &entry.asset_id)),
        })
        .collect();
    Ok(Json(ListingSample {
        listing_id: id.to_string(),
        assets_on_sale: n as u64,
        entries,
    }))
}
