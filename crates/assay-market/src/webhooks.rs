//! `POST`/`GET /v1/webhooks` and `DELETE /v1/webhooks/{id}`: a publisher's
//! webhooks. Deliveries are made by `webhook_delivery.rs`; the protocol's
//! `webhooks` module says what a receiver gets and how to check it.

use assay_market_proto::webhooks::{NewWebhook, Webhook, WebhookList};
use assay_market_proto::ErrorCode;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{shown, JsonBody, WebhookPath};
use crate::ids::WebhookId;
use crate::records::WebhookRecord;
use crate::webhook_address;

/// A publisher may register this many.
const MAX_PER_ACCOUNT: usize = 10;

pub(crate) async fn create(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    JsonBody(new): JsonBody<NewWebhook>,
) -> Result<Response, ApiError> {
    check(&new)?;
    // Resolving may wait on DNS: on a blocking thread.
    let (url, allow) = (new.url.clone(), app.config.allow_private_webhooks);
    crate::app::blocking(move || {
        webhook_address::resolve(&url, allow)
            .map(drop)
            .map_err(|why| ApiError::new(ErrorCode::WebhookInvalid, format!("url: {why}")))
    })
    .await?;
    let id = WebhookId::random();
    let record = app
        .records(move |r| {
            if r.webhooks(account.id)?.len() >= MAX_PER_ACCOUNT {
                return Ok(None);
            }
            r.add_webhook(&id, account.id, &new.url, &new.secret)
                .map(Some)
        })
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::WebhookInvalid,
                format!("a publisher has at most {MAX_PER_ACCOUNT} webhooks"),
            )
        })?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/v1/webhooks/{}", record.id))],
        Json(view(record)),
    )
        .into_response())
}

pub(crate) async fn list(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
) -> Result<Json<WebhookList>, ApiError> {
    let hooks = app.records(move |r| r.webhooks(account.id)).await?;
    Ok(Json(WebhookList {
        webhooks: hooks.into_iter().map(view).collect(),
    }))
}

/// Removes the webhook and its pending deliveries.
pub(crate) async fn delete(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    WebhookPath(id): WebhookPath,
) -> Result<StatusCode, ApiError> {
    let gone = id.clone();
    if app
        .records(move |r| r.delete_webhook(account.id, &gone))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no webhook {id} among yours"),
        ))
    }
}

fn check(new: &NewWebhook) -> Result<(), ApiError> {
    let invalid = |why: String| ApiError::new(ErrorCode::WebhookInvalid, why);
    let rest = ["https://", "http://"]
        .iter()
        .find_map(|scheme| new.url.strip_prefix(scheme))
        .ok_or_else(|| {
            invalid(format!(
                "url: {:?} is not http(s)://HOST[:PORT]/PATH",
                shown(&new.url)
            ))
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let valid_char = |c: char| c.is_ascii_alphanumeric() || ".-:[]_".contains(c);
    if host.is_empty()
        || host.contains('@')
        || !host.chars().all(valid_char)
        || new.url.len() > 2000
        || new.url.chars().any(|c| c.is_control() || c == ' ')
    {
        return Err(invalid(format!(
            "url: {:?} has no plain host, or is over 2000 characters",
            shown(&new.url)
        )));
    }
    if !(16..=256).contains(&new.secret.chars().count()) {
        return Err(invalid("secret: give 16 to 256 characters".to_owned()));
    }
    Ok(())
}

fn view(record: WebhookRecord) -> Webhook {
    Webhook {
        webhook_id: record.id.to_string(),
        url: record.url,
        created_at: record.created_at,
        pending: record.pending,
        delivered: record.delivered,
        failed: record.failed,
    }
}
