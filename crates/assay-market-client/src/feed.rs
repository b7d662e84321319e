//! The market's event feed, the last step of a sync: read
//! `GET /v1/events` from the library's cursor, a page at a time, and hand
//! each page to the library, which records its payments in provenance once
//! per feed event and moves the cursor.

use assay_core::Actor;
use assay_market_proto::events::EventPage;

use crate::error::Result;
use crate::progress::SyncEvent;
use crate::sync::{parse, Run};

/// Events per page.
const PAGE: u32 = 100;

impl Run<'_> {
    /// Records every payment the feed holds beyond the library's cursor,
    /// signed by `actor`.
    pub(crate) fn record_feed(&mut self, actor: &Actor) -> Result<()> {
        let mut after = self.library.market_feed_cursor(&self.market.name)?;
        loop {
            self.check_cancel()?;
            let path = match &after {
                Some(cursor) => format!("/v1/events?after={cursor}&limit={PAGE}"),
                None => format!("/v1/events?limit={PAGE}"),
            };
            let reply = self.api.send("GET", &path, &[], &[])?;
            let page: EventPage = parse(&reply, "GET", &path, &[200])?;
            if page.events.is_empty() {
                return Ok(());
            }
            // The library reads the events as JSON: which are payments and
            // what their records carry is its rule, not the client's.
            let events = page
                .events
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| crate::Error::Protocol {
                    method: "GET",
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            let next = page
                .next_after
                .clone()
                .or_else(|| page.events.last().map(|e| e.cursor.clone()));
            let recorded = self.library.record_market_feed(
                actor,
                &self.market.name,
                after.as_deref(),
                &events,
                next.as_deref(),
            )?;
            self.report.feed_events += recorded.new_events;
            for payment in recorded.payments {
                self.report.payments_recorded += payment.asset_ids.len();
                (self.progress)(&SyncEvent::Payment {
                    feed_event_id: payment.feed_event_id,
                    kind: payment.kind,
                    asset_ids: payment.asset_ids,
                });
            }
            if next == after {
                return Ok(());
            }
            after = next;
        }
    }
}
