//! Previews: `PUT /v1/listings/{id}/assets/{asset_id}/preview` (the
//! listing's publisher uploads a JPEG or PNG) and `GET` of the same (any
//! account with `read:manifest`, rate-limited). What is stored and served
//! is only the watermarked, downsampled rendering (`watermark.rs`), kept in
//! the blob store's previews, which no route can mistake for an original.

use assay_market_proto::previews::{PreviewInfo, PREVIEW_MEDIA_TYPE};
use assay_market_proto::ErrorCode;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use crate::app::{blocking, AppState};
use crate::auth::Caller;
use crate::clock;
use crate::error::ApiError;
use crate::extract::{announces_more_than, content_type, media_type_is, shown, ListingAssetPath};
use crate::ids::{ListingId, PreviewId};
use crate::listings::{load, own};
use crate::records::{ListingDetail, PreviewRecord, UsageHeaders};
use crate::watermark::{render, RenderError};

/// A preview's URL.
pub(crate) fn url(listing: &ListingId, asset_id: &str) -> String {
    format!("/v1/listings/{listing}/assets/{asset_id}/preview")
}

/// `PUT .../preview`: renders and stores the preview, replacing any.
pub(crate) async fn put(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    ListingAssetPath(id, asset_id): ListingAssetPath,
    request: Request,
) -> Result<Json<PreviewInfo>, ApiError> {
    image_type(request.headers())?;
    let max = app.config.max_preview_bytes;
    let too_large = || {
        ApiError::new(
            ErrorCode::PreviewTooLarge,
            format!("a preview is at most {max} bytes"),
        )
    };
    if announces_more_than(request.headers(), max) {
        return Err(too_large());
    }
    let listing = load(&app, &id).await?;
    own(&listing.listing, &account)?;
    on_sale(&listing, &asset_id)?;
    let body = axum::body::to_bytes(request.into_body(), max)
        .await
        .map_err(|_| too_large())?;
    let rendered = blocking(move || {
        render(&body).map_err(|e| match e {
            RenderError::Encode(_) => ApiError::internal(e.to_string()),
            _ => ApiError::new(ErrorCode::PreviewInvalid, e.to_string()),
        })
    })
    .await?;
    let record = PreviewRecord {
        id: PreviewId::random(),
        asset_id: asset_id.clone(),
        width: rendered.width,
        height: rendered.height,
        size_bytes: rendered.jpeg.len() as u64,
        created_at: clock::timestamp(),
    };
    let stored = record.clone();
    let listing_id = id.clone();
    let store = app.clone();
    blocking(move || {
        // Bytes first, then the record: a crash in between leaves bytes no
        // record names, which the next start sweeps.
        store.blobs.put_preview(&stored.id, &rendered.jpeg)?;
        let replaced = store.records.set_preview(&listing_id, &stored);
        let replaced = match replaced {
            Ok(replaced) => replaced,
            Err(e) => {
                store.blobs.delete_preview(&stored.id)?;
                return Err(e.into());
            }
        };
        if let Some(old) = replaced {
            store.blobs.delete_preview(&old)?;
        }
        Ok(())
    })
    .await?;
    Ok(Json(info(&id, record)))
}

/// `GET .../preview`: the watermarked JPEG.
pub(crate) async fn get(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    ListingAssetPath(id, asset_id): ListingAssetPath,
) -> Result<Response, ApiError> {
    crate::rate_limit::take(&app, account.id).await?;
    let listing = load(&app, &id).await?;
    let usage = on_sale(&listing, &asset_id)?;
    let wanted = id.clone();
    let preview = app
        .records(move |r| r.previews(&wanted))
        .await?
        .into_iter()
        .find(|p| p.asset_id == asset_id)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("asset {asset_id} of listing {id} has no preview"),
            )
        })?;
    let store = app.clone();
    let bytes = blocking(move || Ok(store.blobs.read_preview(&preview.id)?)).await?;
    let mut response = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, PREVIEW_MEDIA_TYPE),
            // Previews change when the publisher uploads another.
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        Body::from(bytes),
    )
        .into_response();
    crate::usage_headers::set(response.headers_mut(), usage.as_ref());
    Ok(response)
}

/// Only assets on sale have previews to upload or show: the asset's usage
/// headers when it is.
pub(crate) fn on_sale(
    listing: &ListingDetail,
    asset_id: &str,
) -> Result<Option<UsageHeaders>, ApiError> {
    let item = listing
        .items
        .iter()
        .find(|i| i.asset.entry.asset_id == asset_id);
    match item {
        Some(i) if i.withdrawn.is_none() => Ok(i.asset.entry.usage.clone()),
        Some(_) => Err(ApiError::new(
            ErrorCode::NotFound,
            format!(
                "asset {asset_id} was withdrawn from listing {}",
                listing.listing.id
            ),
        )),
        None => Err(ApiError::new(
            ErrorCode::NotFound,
            format!(
                "listing {} has no asset {:?}",
                listing.listing.id,
                shown(asset_id)
            ),
        )),
    }
}

fn image_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let kind = content_type(headers);
    if media_type_is(kind, &["image/jpeg", "image/png"]) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::UnsupportedMediaType,
        format!(
            "a preview is image/jpeg or image/png, not {:?}",
            shown(kind)
        ),
    ))
}

pub(crate) fn info(listing: &ListingId, preview: PreviewRecord) -> PreviewInfo {
    PreviewInfo {
        url: url(listing, &preview.asset_id),
        asset_id: preview.asset_id,
        media_type: PREVIEW_MEDIA_TYPE.to_owned(),
        width: preview.width,
        height: preview.height,
        size_bytes: preview.size_bytes,
        created_at: preview.created_at,
    }
}
