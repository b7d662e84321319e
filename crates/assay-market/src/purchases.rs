//! Purchases with escrow. Buying a listing records, in one transaction, the
//! price held in escrow, the files it entitles the buyer to (every asset on
//! sale then) and a payout per payee of the listing's split. The buyer
//! confirming a verified download, or the end of the hold period, releases
//! escrow and sends the payouts; the publisher may refund while it is held,
//! which revokes the entitlement and cancels the payouts. No money moves
//! here: there is no payment rail, only the record of what is owed.

use std::sync::Arc;

use assay_market_proto::events::ReleaseReason;
use assay_market_proto::purchases::{EscrowState, Payout, Purchase};
use assay_market_proto::ErrorCode;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use crate::app::{App, AppState};
use crate::auth::Caller;
use crate::clock;
use crate::error::ApiError;
use crate::extract::{ListingPath, PurchasePath};
use crate::ids::{ListingId, PayoutId, PurchaseId};
use crate::listings;
use crate::records::{
    Account, Insert, NewPayout, NewPurchase, PurchaseRecord, RecordsError, Settlement,
};
use crate::split::split;

/// How often a purchase is tried again when the listing changed under it.
const ATTEMPTS: usize = 3;

/// A purchase's URL.
pub(crate) fn url(id: &PurchaseId) -> String {
    format!("/v1/purchases/{id}")
}

/// `POST /v1/listings/{id}/purchases`: buy the listing, or get the
/// buyer's live purchase of it back (200) without a second charge.
pub(crate) async fn buy(
    State(app): State<AppState>,
    Extension(Caller(buyer)): Extension<Caller>,
    ListingPath(id): ListingPath,
) -> Result<Response, ApiError> {
    for _ in 0..ATTEMPTS {
        let purchase = new_purchase(&app, &id, &buyer).await?;
        // A listing changed since it was read is read again: its price or
        // assets on sale may no longer be what the purchase was made of.
        let recorded = app
            .records(move |r| match r.create_purchase(purchase) {
                Err(RecordsError::ListingChanged(_)) => Ok(None),
                other => other.map(Some),
            })
            .await?;
        let (status, record) = match recorded {
            None => continue,
            Some(Insert::New(record)) => (StatusCode::CREATED, record),
            Some(Insert::Existing(record)) => (StatusCode::OK, record),
        };
        let location = url(&record.id);
        return Ok((status, [(header::LOCATION, location)], Json(view(record))).into_response());
    }
    Err(RecordsError::ListingChanged(id).into())
}

/// The purchase of listing `id` as it stands now, or why it cannot be bought.
async fn new_purchase(
    app: &AppState,
    id: &ListingId,
    buyer: &Account,
) -> Result<NewPurchase, ApiError> {
    let listing = listings::load(app, id).await?;
    let selling = listings::on_sale(&listing);
    // A dataset version's buyer gets its shards; anyone else the originals.
    let dataset = listing.listing.dataset.is_some();
    let missing: Vec<&str> = if dataset {
        listing
            .shards
            .iter()
            .filter(|s| s.blob.is_none())
            .map(|s| s.entry.name.as_str())
            .collect()
    } else {
        listing
            .items
            .iter()
            .filter(|i| i.withdrawn.is_none() && i.asset.blob.is_none())
            .map(|i| i.asset.entry.asset_id.as_str())
            .collect()
    };
    if selling.is_empty() || !missing.is_empty() {
        let why = if selling.is_empty() {
            "has no assets on sale".to_owned()
        } else {
            format!("has files not uploaded yet: {}", missing.join(", "))
        };
        return Err(ApiError::new(
            ErrorCode::ListingIncomplete,
            format!("listing {id} cannot be bought: it {why}"),
        ));
    }
    let terms = &listing.listing.terms;
    let split = split(terms, &selling)
        .map_err(|why| ApiError::internal(format!("listing {id}: split: {why}")))?;
    let mut payouts: Vec<NewPayout> = split
        .creators
        .iter()
        .filter(|c| c.amount_minor > 0)
        .map(|c| NewPayout {
            id: PayoutId::random(),
            creator_wallet: Some(c.creator_wallet.clone()),
            asset_ids: selling
                .iter()
                .filter(|a| a.creator_wallet == c.creator_wallet)
                .map(|a| a.asset_id.clone())
                .collect(),
            amount_minor: c.amount_minor,
        })
        .collect();
    if split.publisher_minor > 0 {
        payouts.push(NewPayout {
            id: PayoutId::random(),
            creator_wallet: None,
            asset_ids: selling.iter().map(|a| a.asset_id.clone()).collect(),
            amount_minor: split.publisher_minor,
        });
    }
    let (files, shards) = if dataset {
        let shards = listing
            .shards
            .iter()
            .filter_map(|s| Some((s.entry.name.clone(), s.blob.clone()?)))
            .collect();
        (Vec::new(), shards)
    } else {
        let files = listing
            .items
            .iter()
            .filter(|i| i.withdrawn.is_none())
            .filter_map(|i| Some((i.asset.entry.asset_id.clone(), i.asset.blob.clone()?)))
            .collect();
        (files, Vec::new())
    };
    Ok(NewPurchase {
        id: PurchaseId::random(),
        listing: id.clone(),
        buyer: buyer.id,
        listing_updated_at: listing.listing.updated_at.clone(),
        amount_minor: terms.price_minor,
        currency: terms.currency.clone(),
        hold_until_ms: clock::after(clock::now_ms(), app.config.escrow_hold),
        files,
        shards,
        payouts,
    })
}

/// `GET /v1/purchases/{id}`: for its buyer and the listing's publisher.
pub(crate) async fn get(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    PurchasePath(id): PurchasePath,
) -> Result<Json<Purchase>, ApiError> {
    let purchase = load(&app, &id).await?;
    if purchase.buyer != account.id && purchase.publisher != account.id {
        return Err(not_found(&id));
    }
    Ok(Json(view(purchase)))
}

/// `POST /v1/purchases/{id}/refund`: the publisher gives a held purchase
/// back. Refunding it again changes nothing.
pub(crate) async fn refund(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    PurchasePath(id): PurchasePath,
) -> Result<Json<Purchase>, ApiError> {
    let purchase = load(&app, &id).await?;
    if purchase.publisher != account.id {
        return Err(not_found(&id));
    }
    let settled = app
        .records(move |r| r.settle(&id, Settlement::Refund))
        .await?;
    Ok(Json(view(settled)))
}

/// `POST /v1/purchases/{id}/confirm`: the buyer says its download verified;
/// escrow is released at once. Confirming again changes nothing.
pub(crate) async fn confirm(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    PurchasePath(id): PurchasePath,
) -> Result<Json<Purchase>, ApiError> {
    let purchase = load(&app, &id).await?;
    if purchase.buyer != account.id {
        return Err(not_found(&id));
    }
    let how = Settlement::Release(ReleaseReason::Confirmed);
    let settled = app.records(move |r| r.settle(&id, how)).await?;
    Ok(Json(view(settled)))
}

/// Releases every held purchase whose hold ended; returns how many. A
/// purchase refunded meanwhile is left as it is.
pub(crate) fn release_due(app: &Arc<App>) -> Result<usize, ApiError> {
    let mut released = 0;
    for id in app.records.due_purchases(clock::now_ms())? {
        match app
            .records
            .settle(&id, Settlement::Release(ReleaseReason::HoldExpired))
        {
            Ok(_) => released += 1,
            Err(RecordsError::PurchaseSettled { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(released)
}

/// A purchase by id; 404 when there is none.
pub(crate) async fn load(app: &AppState, id: &PurchaseId) -> Result<PurchaseRecord, ApiError> {
    let wanted = id.clone();
    app.records(move |r| r.purchase(&wanted))
        .await?
        .ok_or_else(|| not_found(id))
}

/// The answer for a purchase that does not exist or is not the caller's:
/// the same, so ids of others' purchases cannot be probed.
pub(crate) fn not_found(id: &PurchaseId) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("no purchase {id} of yours"))
}

/// Refuses a purchase that was refunded.
pub(crate) fn entitled(purchase: &PurchaseRecord) -> Result<(), ApiError> {
    if purchase.state == EscrowState::Refunded {
        return Err(ApiError::new(
            ErrorCode::EntitlementRevoked,
            format!(
                "purchase {} was refunded; its files are no longer yours",
                purchase.id
            ),
        ));
    }
    Ok(())
}

fn view(p: PurchaseRecord) -> Purchase {
    let currency = p.currency.clone();
    Purchase {
        purchase_id: p.id.to_string(),
        listing_id: p.listing.to_string(),
        manifest_id: p.manifest_id,
        manifest_hash: p.manifest_hash,
        buyer: p.buyer_name,
        publisher: p.publisher_name,
        amount_minor: p.amount_minor,
        currency: p.currency,
        state: p.state,
        asset_ids: p.asset_ids,
        payouts: p
            .payouts
            .into_iter()
            .map(|o| Payout {
                payout_id: o.id.to_string(),
                creator_wallet: o.creator_wallet,
                asset_ids: o.asset_ids,
                amount_minor: o.amount_minor,
                currency: currency.clone(),
                state: o.state,
                failure: o.failure,
            })
            .collect(),
        created_at: p.created_at,
        hold_until: clock::rfc3339(p.hold_until_ms),
        settled_at: p.settled_at,
    }
}
