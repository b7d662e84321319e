//! Dataset versions listed on a market: once a version's listing exists,
//! each asset it sells gets a signed `export_to_marketplace` event naming
//! the market, the listing, the dataset and the version (with the dataset
//! manifest's id and hash), as a sync records for a manifest of assets.
//! Recorded once per market and version, in the events' transaction, so a
//! publish run again records nothing twice.

use rusqlite::{params, OptionalExtension};
use serde_json::json;

use crate::catalog::assets::now;
use crate::catalog::library::Library;
use crate::datasets::selections;
use crate::error::{Error, Result};
use crate::identity::roles::Action;
use crate::identity::users::Actor;
use crate::provenance::chain;
use crate::provenance::event::{EventKind, Signer};

/// A dataset version's listing on a market, as the market answered.
#[derive(Debug, Clone, Copy)]
pub struct DatasetListing<'a> {
    pub market: &'a str,
    pub dataset: &'a str,
    pub version: u32,
    pub manifest_id: &'a str,
    pub listing_id: &'a str,
    /// The assets the listing sells: those the version's shards hold.
    pub asset_ids: &'a [String],
}

impl Library {
    /// Records `listed` as signed `export_to_marketplace` events, by
    /// `actor` (a rights manager), on each asset it sells; returns how many,
    /// 0 when this version's listing on that market was recorded before.
    /// An asset that is not a member of the version is refused: the market
    /// is not believed about what the library built.
    pub fn record_dataset_listing(&self, actor: &Actor, listed: &DatasetListing) -> Result<usize> {
        actor.may(Action::Export)?;
        let market = self.market(Some(listed.market))?;
        let mut conn = self.connect()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let market_row = super::sync::market_row_in(&tx, &market.name)?;
        let (dataset_row, dataset) = selections::find(&tx, listed.dataset)?;
        let (version_row, manifest_hash): (i64, String) = tx
            .query_row(
                "SELECT id, manifest_hash FROM dataset_versions WHERE dataset = ?1 AND version = ?2",
                params![dataset_row, listed.version],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| {
                Error::no_such(
                    "dataset version",
                    format!("dataset {} has no version {}", dataset.name, listed.version),
                )
            })?;
        let inserted = tx.execute(
            "INSERT INTO market_dataset_listings (market, version, listing_id, manifest_id, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (market, version) DO NOTHING",
            params![
                market_row,
                version_row,
                listed.listing_id,
                listed.manifest_id,
                now()
            ],
        )?;
        if inserted == 0 {
            return Ok(0);
        }
        let mut items = Vec::with_capacity(listed.asset_ids.len());
        {
            let mut member = tx.prepare(
                "SELECT a.id FROM dataset_members m JOIN assets a ON a.asset_id = m.asset_id
                 WHERE m.version = ?1 AND m.asset_id = ?2",
            )?;
            for id in listed.asset_ids {
                let row: i64 = member
                    .query_row(params![version_row, id], |r| r.get(0))
                    .optional()?
                    .ok_or_else(|| {
                        Error::refused(
                            "member",
                            format!(
                                "the market lists asset {id} in version {} of dataset {}, which does not hold it",
                                listed.version, dataset.name
                            ),
                        )
                    })?;
                items.push((row, id.clone()));
            }
        }
        items.sort_unstable();
        let data = json!({
            "market": market.name,
            "market_url": market.url,
            "listing_id": listed.listing_id,
            "manifest_id": listed.manifest_id,
            "manifest_hash": manifest_hash,
            "dataset": dataset.name,
            "dataset_id": dataset.dataset_id,
            "version": listed.version,
        });
        chain::append_all(
            &tx,
            &items,
            EventKind::ExportToMarketplace,
            &data,
            &Signer::User(actor),
        )?;
        tx.commit()?;
        Ok(items.len())
    }
}
