//! What a market panel shows: the listings the library made on a market
//! and the payments its feed reported (sales, releases, refunds, payouts).
//! The signed `payment` events are the record; a feed event recorded on
//! several assets is one row here. Connecting to a market with a pasted
//! token keeps the token in a file of the library's own, never in the
//! catalog.

use assay_fsio::atomic::{self, Existing};
use rusqlite::params;
use serde::Serialize;

use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::market::sync::{check_market_name, Market};

/// Where pasted market tokens are kept, one file per market.
pub const MARKET_TOKENS_DIR: &str = "market-tokens";

/// A market's listings and payments, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MarketActivity {
    pub market: Market,
    pub listings: Vec<MarketListing>,
    pub payments: Vec<MarketPayment>,
    /// Purchases, per currency.
    pub sales: Vec<Total>,
    /// Payouts sent (creators' shares and the publisher's remainder), per
    /// currency.
    pub paid_out: Vec<Total>,
}

/// A manifest sent to the market and the listing that offers it (none
/// until a sync lists it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MarketListing {
    pub listing_id: Option<String>,
    pub manifest_id: String,
    pub assets: u32,
    /// Assets taken off sale since.
    pub withdrawn: u32,
    /// When its `export_to_marketplace` events were recorded.
    pub listed_at: Option<String>,
}

/// One payment of the market's feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MarketPayment {
    pub feed_event_id: String,
    /// `purchase`, `escrow_released`, `refunded`, `payout_sent` or
    /// `payout_failed`.
    pub kind: String,
    /// When the market says it happened.
    pub at: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    /// For payouts: `creator` or `publisher`.
    pub payee: Option<String>,
    pub creator_wallet: Option<String>,
    /// Why a payout failed or a purchase was refunded.
    pub reason: Option<String>,
    /// The library's assets it was recorded on.
    pub asset_ids: Vec<String>,
}

/// A sum in a currency's minor unit, over `count` payments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Total {
    pub currency: String,
    pub minor: i64,
    pub count: u32,
}

impl Library {
    /// Adds a market whose publisher token was pasted rather than kept in
    /// a file: the token goes to `market-tokens/NAME.token` in the library
    /// (readable by its owner alone), which [`Library::add_market`] then
    /// records. A token file of an earlier attempt that never made it to
    /// the catalog is overwritten.
    pub fn connect_market(&self, name: &str, url: &str, token: &str) -> Result<Market> {
        let token = token.trim();
        if token.is_empty() || token.contains(char::is_whitespace) {
            return Err(Error::invalid_value(
                "token",
                "market token: paste the publisher token the market issued (one word)",
            ));
        }
        if self.markets()?.iter().any(|m| m.name == name) {
            return Err(Error::exists(
                "market",
                format!("a market named {name:?} exists already"),
            ));
        }
        check_market_name(name)?;
        let dir = self.root().join(MARKET_TOKENS_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let file = dir.join(format!("{name}.token"));
        atomic::write_secret(&file, format!("{token}\n").as_bytes(), Existing::Replace)
            .map_err(|e| Error::io(&file, e))?;
        self.add_market(name, url, &file)
    }

    /// `market`'s listings and payments as the library recorded them.
    pub fn market_activity(&self, market: &str) -> Result<MarketActivity> {
        let market = self.market(Some(market))?;
        let conn = self.connect()?;
        let mut stmt = conn.prepare(
            "SELECT mm.listing_id, mm.manifest_id, mm.recorded_at,
                    count(mi.asset), count(mi.withdrawn_at)
             FROM market_manifests mm
             JOIN markets m ON m.id = mm.market
             LEFT JOIN market_items mi ON mi.manifest = mm.id
             WHERE m.name = ?1
             GROUP BY mm.id
             ORDER BY mm.id DESC",
        )?;
        let listings = stmt
            .query_map([&market.name], |r| {
                Ok(MarketListing {
                    listing_id: r.get(0)?,
                    manifest_id: r.get(1)?,
                    listed_at: r.get(2)?,
                    assets: r.get(3)?,
                    withdrawn: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;

        // Walks the payment events through their partial index (migration
        // 10), not the whole chain.
        let mut stmt = conn.prepare(
            "SELECT json_extract(e.body, '$.data.feed_event_id'),
                    json_extract(e.body, '$.data.feed_event'),
                    json_extract(e.body, '$.data.market_at'),
                    json_extract(e.body, '$.data.amount_minor'),
                    json_extract(e.body, '$.data.currency'),
                    json_extract(e.body, '$.data.payee'),
                    json_extract(e.body, '$.data.creator_wallet'),
                    json_extract(e.body, '$.data.reason'),
                    a.asset_id
             FROM events e JOIN assets a ON a.id = e.asset
             WHERE e.kind = 'payment' AND json_extract(e.body, '$.data.market') = ?1
             ORDER BY e.id DESC",
        )?;
        let mut payments: Vec<MarketPayment> = Vec::new();
        let mut rows = stmt.query(params![market.name])?;
        while let Some(r) = rows.next()? {
            let feed_event_id: Option<String> = r.get(0)?;
            let asset_id: String = r.get(8)?;
            let Some(feed_event_id) = feed_event_id else {
                continue;
            };
            // One feed event's events are written together, so they are
            // adjacent in this order.
            if let Some(last) = payments.last_mut() {
                if last.feed_event_id == feed_event_id {
                    last.asset_ids.push(asset_id);
                    continue;
                }
            }
            payments.push(MarketPayment {
                feed_event_id,
                kind: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                at: r.get(2)?,
                amount_minor: r.get(3)?,
                currency: r.get(4)?,
                payee: r.get(5)?,
                creator_wallet: r.get(6)?,
                reason: r.get(7)?,
                asset_ids: vec![asset_id],
            });
        }
        for payment in &mut payments {
            payment.asset_ids.reverse();
        }
        let sales = totals(&payments, "purchase");
        let paid_out = totals(&payments, "payout_sent");
        Ok(MarketActivity {
            market,
            listings,
            payments,
            sales,
            paid_out,
        })
    }
}

/// The sums of the payments of `kind`, per currency, by currency.
fn totals(payments: &[MarketPayment], kind: &str) -> Vec<Total> {
    let mut totals: Vec<Total> = Vec::new();
    for p in payments.iter().filter(|p| p.kind == kind) {
        let (Some(currency), Some(minor)) = (&p.currency, p.amount_minor) else {
            continue;
        };
        match totals.iter_mut().find(|t| &t.currency == currency) {
            Some(total) => {
                total.minor += minor;
                total.count += 1;
            }
            None => totals.push(Total {
                currency: currency.clone(),
                minor,
                count: 1,
            }),
        }
    }
    totals.sort_by(|a, b| a.currency.cmp(&b.currency));
    totals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_token_is_kept_in_a_private_file_and_a_bad_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(dir.path().join("library")).unwrap();
        let tokens = library.root().join(MARKET_TOKENS_DIR);

        for (name, url, token, problem) in [
            ("main", "http://127.0.0.1:9", "  ", "market token"),
            ("main", "http://127.0.0.1:9", "two words", "market token"),
            ("../up", "http://127.0.0.1:9", "tok", "market name"),
            (".hidden", "http://127.0.0.1:9", "tok", "market name"),
        ] {
            let err = library.connect_market(name, url, token).unwrap_err();
            assert!(err.to_string().contains(problem), "{name}: {err}");
        }
        assert!(!tokens.exists(), "a refused market left a token behind");

        let market = library
            .connect_market("main", "http://127.0.0.1:9/", " tok_123\n")
            .unwrap();
        assert_eq!(market.url, "http://127.0.0.1:9");
        assert_eq!(market.token_file, tokens.join("main.token"));
        assert_eq!(
            std::fs::read_to_string(&market.token_file).unwrap(),
            "tok_123\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&market.token_file)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // The catalog never holds the token.
        for db in ["library.db", "library.db-wal"] {
            let bytes = std::fs::read(library.root().join(db)).unwrap_or_default();
            assert!(!bytes.windows(7).any(|w| w == b"tok_123"), "{db}");
        }

        let again = library.connect_market("main", "http://127.0.0.1:9", "other");
        assert!(again.unwrap_err().to_string().contains("exists already"));
        assert_eq!(
            std::fs::read_to_string(&market.token_file).unwrap(),
            "tok_123\n",
            "a second connect under the same name replaced the token"
        );

        let activity = library.market_activity("main").unwrap();
        assert!(activity.listings.is_empty() && activity.payments.is_empty());
        assert!(library.market_activity("other").is_err());
    }
}
