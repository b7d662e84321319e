//! `GET /v1/events?after=CURSOR&limit=N`: a publisher's own events, in
//! order. The cursor is the events table's sequence, sent as text: clients
//! treat it as opaque and only pass it back.

use assay_market_proto::events::{Event, EventPage};
use axum::extract::{RawQuery, State};
use axum::{Extension, Json};

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::page_query::{page, After};

const PAGE: u32 = 100;
const MAX_PAGE: u32 = 1000;

pub(crate) async fn list(
    State(app): State<AppState>,
    Extension(Caller(account)): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Result<Json<EventPage>, ApiError> {
    let cursor = After {
        what: "a cursor",
        parse: |text| text.parse::<i64>().ok().filter(|c| *c >= 0),
    };
    let (after, limit) = page(
        query.as_deref().unwrap_or_default(),
        Some(cursor),
        PAGE,
        MAX_PAGE,
    )?;
    let records = app
        .records(move |r| r.events(account.id, after.unwrap_or(0), limit))
        .await?;
    let events: Vec<Event> = records
        .into_iter()
        .map(|e| Event {
            event_id: e.id.to_string(),
            cursor: e.seq.to_string(),
            at: e.at,
            kind: e.kind,
        })
        .collect();
    let next_after = events
        .last()
        .map(|e| e.cursor.clone())
        .or_else(|| after.map(|a| a.to_string()));
    Ok(Json(EventPage { events, next_after }))
}
