//! Listings: a manifest's assets for sale at one price, with the revenue
//! split derived from the manifest (`split.rs`). Anyone with
//! `read:manifest` reads them; only the publisher of the manifest creates,
//! changes them or withdraws assets from them (403 for another publisher,
//! since listings are public).

use std::collections::BTreeSet;

use assay_market_proto::listings::{
    Listing, ListingChanges, ListingDataset, ListingItem, ListingPage, ListingSummary,
    ListingTerms, NewListing, Withdrawal,
};
use assay_market_proto::ErrorCode;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use crate::app::{blocking, AppState};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{shown, JsonBody, ListingPath};
use crate::ids::ListingId;
use crate::money;
use crate::near_duplicates;
use crate::page_query::{page, After};
use crate::records::{Account, AssetEntry, ListingDetail, ListingRecord, ListingRow, StoredShard};
use crate::split::split;

const PAGE: u32 = 100;
const MAX_PAGE: u32 = 1000;

/// A listing's URL.
pub(crate) fn url(id: &ListingId) -> String {
    format!("/v1/listings/{id}")
}

/// `POST /v1/listings`.
pub(crate) async fn create(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    JsonBody(new): JsonBody<NewListing>,
) -> Result<Response, ApiError> {
    check_terms(&new.terms)?;
    let manifest_id = new.manifest_id.clone();
    let manifest = app
        .records(move |r| r.manifest(account.id, &manifest_id))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("no manifest {:?} among yours", shown(&new.manifest_id)),
            )
        })?;
    let entries: Vec<&AssetEntry> = manifest.assets.iter().map(|a| &a.entry).collect();
    split(&new.terms, &entries).map_err(|why| ApiError::new(ErrorCode::SplitInvalid, why))?;
    // Pictures uploaded before the listing: none may repeat another
    // publisher's on sale (those uploaded later are checked as they finish).
    let manifest_id = new.manifest_id.clone();
    let task = app.clone();
    blocking(move || {
        for (asset_id, print) in task
            .records
            .manifest_fingerprints(account.id, &manifest_id)?
        {
            near_duplicates::refuse_if_listed(
                &task,
                account.id,
                &asset_id,
                &print,
                "nothing was listed",
            )?;
        }
        Ok(())
    })
    .await?;
    let record = crate::records::NewListing {
        id: ListingId::random(),
        account: account.id,
        manifest_id: new.manifest_id,
        terms: new.terms,
    };
    let id = app.records(move |r| r.create_listing(record)).await?.id;
    let listing = load(&app, &id).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, url(&id))],
        Json(view(listing)?),
    )
        .into_response())
}

/// `GET /v1/listings?after=ID&limit=N`.
pub(crate) async fn list(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<ListingPage>, ApiError> {
    let cursor = After {
        what: "a listing id",
        parse: ListingId::parse,
    };
    let (after, limit) = page(
        query.as_deref().unwrap_or_default(),
        Some(cursor),
        PAGE,
        MAX_PAGE,
    )?;
    let mut rows = app
        .records(move |r| r.listings(after.as_ref(), limit + 1))
        .await?;
    let next_after = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|row| row.listing.id.to_string())
    } else {
        None
    };
    Ok(Json(ListingPage {
        listings: rows.into_iter().map(summary_of_row).collect(),
        next_after,
    }))
}

/// `GET /v1/listings/{id}`.
pub(crate) async fn get(
    State(app): State<AppState>,
    ListingPath(id): ListingPath,
) -> Result<Json<Listing>, ApiError> {
    Ok(Json(view(load(&app, &id).await?)?))
}

/// `PUT /v1/listings/{id}`: new title, description, price and currency.
pub(crate) async fn update(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    ListingPath(id): ListingPath,
    JsonBody(terms): JsonBody<ListingTerms>,
) -> Result<Json<Listing>, ApiError> {
    let listing = load(&app, &id).await?;
    own(&listing.listing, &account)?;
    change(&app, listing, terms).await
}

/// `PATCH /v1/listings/{id}`: the terms given change, the others stay.
pub(crate) async fn patch(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    ListingPath(id): ListingPath,
    JsonBody(changes): JsonBody<ListingChanges>,
) -> Result<Json<Listing>, ApiError> {
    let listing = load(&app, &id).await?;
    own(&listing.listing, &account)?;
    // Merged with the terms just read: two PATCHes of different fields at
    // the same instant may each keep the other's old value (last one wins,
    // as with PUT).
    let terms = changes.apply(&listing.listing.terms);
    change(&app, listing, terms).await
}

/// Checks and writes a publisher's new terms for its own listing.
async fn change(
    app: &AppState,
    listing: ListingDetail,
    terms: ListingTerms,
) -> Result<Json<Listing>, ApiError> {
    check_terms(&terms)?;
    let id = listing.listing.id.clone();
    // The split only depends on the (fixed) manifest, the terms and the
    // withdrawals, which only ever make it easier to satisfy: checking it
    // before writing cannot race with another change.
    split(&terms, &on_sale(&listing)).map_err(|why| ApiError::new(ErrorCode::SplitInvalid, why))?;
    let changed = id.clone();
    app.records(move |r| r.update_listing(&changed, &terms))
        .await?;
    Ok(Json(view(load(app, &id).await?)?))
}

/// `POST /v1/listings/{id}/withdrawals`: takes an asset off sale for good.
pub(crate) async fn withdraw(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    ListingPath(id): ListingPath,
    JsonBody(withdrawal): JsonBody<Withdrawal>,
) -> Result<Json<Listing>, ApiError> {
    let reason = withdrawal.reason.trim().to_owned();
    if !(1..=500).contains(&reason.chars().count()) {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "reason: give 1 to 500 characters",
        ));
    }
    let listing = load(&app, &id).await?;
    own(&listing.listing, &account)?;
    let changed = id.clone();
    app.records(move |r| r.withdraw(&changed, &withdrawal.asset_id, &reason))
        .await?;
    Ok(Json(view(load(&app, &id).await?)?))
}

/// A listing with its assets; 404 when there is none.
pub(crate) async fn load(app: &AppState, id: &ListingId) -> Result<ListingDetail, ApiError> {
    let wanted = id.clone();
    app.records(move |r| r.listing(&wanted))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no listing {id}")))
}

pub(crate) fn own(listing: &ListingRecord, account: &Account) -> Result<(), ApiError> {
    if listing.account == account.id {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::NotOwner,
        format!(
            "listing {} belongs to publisher {}, not {}",
            listing.id, listing.publisher, account.name
        ),
    ))
}

fn check_terms(terms: &ListingTerms) -> Result<(), ApiError> {
    let invalid = |why: String| ApiError::new(ErrorCode::ListingInvalid, why);
    let title = terms.title.trim();
    if title.is_empty() || terms.title.chars().count() > 200 {
        return Err(invalid("title: give 1 to 200 characters".to_owned()));
    }
    if terms.description.chars().count() > 10_000 {
        return Err(invalid("description: at most 10,000 characters".to_owned()));
    }
    if i64::try_from(terms.price_minor).is_err() {
        return Err(invalid(format!(
            "price_minor: at most {} minor units",
            i64::MAX
        )));
    }
    if !money::is_currency(&terms.currency) {
        return Err(invalid(format!(
            "currency: {:?} is not an ISO 4217 code of three capital letters",
            shown(&terms.currency)
        )));
    }
    Ok(())
}

/// The entries of the assets not withdrawn.
pub(crate) fn on_sale(listing: &ListingDetail) -> Vec<&AssetEntry> {
    listing
        .items
        .iter()
        .filter(|i| i.withdrawn.is_none())
        .map(|i| &i.asset.entry)
        .collect()
}

/// What a page of listings counts of one.
struct Counts {
    assets: u64,
    withdrawn: u64,
    uploaded: u64,
    shards: u64,
    shards_uploaded: u64,
}

fn summary(listing: ListingRecord, counts: Counts, license_tags: Vec<String>) -> ListingSummary {
    let Counts {
        assets,
        withdrawn,
        uploaded,
        shards,
        shards_uploaded,
    } = counts;
    let selling = assets - withdrawn.min(assets);
    let complete = match listing.dataset {
        Some(_) => shards > 0 && shards_uploaded == shards,
        None => selling > 0 && uploaded == selling,
    };
    let dataset = listing.dataset.map(|d| ListingDataset {
        dataset_id: d.dataset_id,
        name: d.name,
        version: d.version,
        format: d.format,
        delta: d.delta,
        parent_listing_id: listing.parent_listing.as_ref().map(ToString::to_string),
        shards,
        shards_uploaded,
    });
    ListingSummary {
        listing_id: listing.id.to_string(),
        publisher: listing.publisher,
        manifest_id: listing.manifest_id,
        manifest_hash: listing.manifest_hash,
        terms: listing.terms,
        license_tags,
        assets,
        withdrawn,
        uploaded,
        complete,
        created_at: listing.created_at,
        updated_at: listing.updated_at,
        dataset,
    }
}

fn summary_of_row(row: ListingRow) -> ListingSummary {
    let counts = Counts {
        assets: row.assets,
        withdrawn: row.withdrawn,
        uploaded: row.uploaded,
        shards: row.shards,
        shards_uploaded: row.shards_uploaded,
    };
    summary(row.listing, counts, row.license_tags)
}

/// The full wire form of a listing, its split computed from its assets.
fn view(detail: ListingDetail) -> Result<Listing, ApiError> {
    let selling = on_sale(&detail);
    let split = split(&detail.listing.terms, &selling).map_err(|why| {
        ApiError::internal(format!("listing {}: split: {why}", detail.listing.id))
    })?;
    let tags: BTreeSet<&str> = selling.iter().map(|a| a.license_tag.as_str()).collect();
    let license_tags = tags.into_iter().map(str::to_owned).collect();
    let withdrawn = detail
        .items
        .iter()
        .filter(|i| i.withdrawn.is_some())
        .count() as u64;
    let uploaded = detail
        .items
        .iter()
        .filter(|i| i.withdrawn.is_none() && i.asset.blob.is_some())
        .count() as u64;
    let counts = Counts {
        assets: detail.items.len() as u64,
        withdrawn,
        uploaded,
        shards: detail.shards.len() as u64,
        shards_uploaded: detail.shards.iter().filter(|s| s.blob.is_some()).count() as u64,
    };
    let shards = detail
        .shards
        .into_iter()
        .map(StoredShard::into_wire)
        .collect();
    let items = detail
        .items
        .into_iter()
        .map(|i| ListingItem {
            uploaded: i.asset.blob.is_some(),
            asset_id: i.asset.entry.asset_id,
            title: i.asset.entry.title,
            file_name: i.asset.entry.file_name,
            media_type: i.asset.entry.media_type,
            size_bytes: i.asset.entry.size_bytes,
            checksum: i.asset.entry.checksum,
            license_tag: i.asset.entry.license_tag,
            creator_wallet: i.asset.entry.creator_wallet,
            withdrawn: i.withdrawn,
        })
        .collect();
    Ok(Listing {
        summary: summary(detail.listing, counts, license_tags),
        split,
        items,
        shards,
        later_versions: detail.later_versions,
    })
}
