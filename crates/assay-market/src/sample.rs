//! `GET /v1/listings/{id}/sample?limit=N`: a few assets on sale, spread
//! over the listing, with what a buyer may know before buying (title, media
//! type, size, license, capture date, preview) and nothing that names or
//! identifies a file or a person (no checksum, file name, wallet, terms).
//! Rate-limited with the previews.

use std::collections::HashMap;

use assay_market_proto::previews::{ListingSample, SampleEntry};
use assay_market_proto::ErrorCode;
use axum::extract::{RawQuery, State};
use axum::{Extension, Json};

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{shown, ListingPath};
use crate::listings::{load, on_sale};

const DEFAULT: usize = 5;
const MAX: usize = 20;

pub(crate) async fn get(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    ListingPath(id): ListingPath,
    RawQuery(query): RawQuery,
) -> Result<Json<ListingSample>, ApiError> {
    let limit = limit(query.as_deref().unwrap_or_default())?;
    app.rate.take(account.id)?;
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

fn limit(query: &str) -> Result<usize, ApiError> {
    let bad = |why: String| ApiError::new(ErrorCode::InvalidRequest, why);
    let mut limit = DEFAULT;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=').unwrap_or((pair, "")) {
            ("limit", n) => {
                limit = n
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX).contains(n))
                    .ok_or_else(|| bad(format!("limit: give 1 to {MAX}")))?;
            }
            (other, _) => return Err(bad(format!("unknown query parameter {:?}", shown(other)))),
        }
    }
    Ok(limit)
}
