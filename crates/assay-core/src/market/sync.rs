//! What the library knows of the marketplaces it publishes to: the markets
//! (name, URL, the path of the file holding the token, never the token),
//! the manifests exported for each with the assets they claim and the
//! listing that offers them, each asset's resumable upload, and which
//! withdrawals and provenance events were recorded. No network code: a
//! client (`assay-market-client`) does the talking and records here what
//! happened, so an interrupted sync resumes from the catalog.
//!
//! An asset is claimed for a market by the manifest that lists it, in the
//! same transaction as the manifest's export, so two syncs at once never
//! list an asset twice; a withdrawal releases the claim.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::json;

use crate::catalog::assets::{self, now};
use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::exports::manifest::{Claim, ManifestExport, RefusedAsset};
use crate::identity::roles::Action;
use crate::identity::users::Actor;
use crate::provenance::chain;
use crate::provenance::event::{EventKind, Signer};
use crate::rights::licenses::Taxonomy;

/// A marketplace the library publishes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Market {
    pub name: String,
    /// The server's base URL, without a trailing slash.
    pub url: String,
    /// The file holding the publisher's bearer token.
    pub token_file: PathBuf,
    pub added_at: String,
}

/// What claiming the assets not yet listed on a market produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "claimed", rename_all = "snake_case")]
pub enum Claimed {
    /// A new manifest of the assets it claimed; the others are in `refused`.
    Manifest(ManifestExport),
    /// No asset to publish; the approved ones that cannot be, and why.
    Nothing { refused: Vec<RefusedAsset> },
}

/// A manifest exported for a market whose `export_to_marketplace` events
/// are not recorded yet: a sync posts, uploads and lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketManifest {
    pub manifest_id: String,
    pub manifest_hash: String,
    /// The signed document, byte for byte as first posted.
    pub bytes: Vec<u8>,
    pub listing_id: Option<String>,
    pub assets: Vec<MarketAsset>,
}

/// An asset of a market manifest and where its bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketAsset {
    pub asset_id: String,
    /// A location whose last fixity check found the bytes unchanged.
    pub path: Option<PathBuf>,
    pub size_bytes: u64,
    /// `sha256:` and hex.
    pub checksum: String,
}

/// Where an asset's upload to a market stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UploadState {
    /// The upload's URL on the server, once created.
    pub url: Option<String>,
    /// Bytes the server acknowledged.
    pub offset: u64,
    /// The server verified the whole file; it is never sent again.
    pub finished: bool,
}

/// A listed asset that must come off sale, and why: `revoked` (no longer
/// approved) or `no_train` (its license forbids AI training).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withdrawal {
    pub listing_id: String,
    pub asset_id: String,
    pub reason: &'static str,
}

/// A market's name names files too (its pasted token), so it is kept to
/// letters, digits, '-', '_' and '.'.
pub(crate) fn check_market_name(name: &str) -> Result<()> {
    if !crate::formats::file_names::is_plain_name(name) {
        return Err(Error::invalid_name("market", format!(
            "market name {name:?}: use 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'"
        )));
    }
    Ok(())
}

impl Library {
    /// Adds a marketplace under `name`. The token stays in `token_file`
    /// (read at each sync); only its absolute path is kept.
    pub fn add_market(&self, name: &str, url: &str, token_file: &Path) -> Result<Market> {
        check_market_name(name)?;
        let url = url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.contains(char::is_whitespace)
        {
            return Err(Error::invalid_value(
                "url",
                format!("market URL {url:?}: expected http:// or https:// and a host"),
            ));
        }
        let token_file = std::path::absolute(token_file).map_err(|e| Error::io(token_file, e))?;
        if !token_file.is_file() {
            return Err(Error::no_such(
                "token_file",
                format!("token file {}: no such file", token_file.display()),
            ));
        }
        let market = Market {
            name: name.to_owned(),
            url: url.to_owned(),
            token_file,
            added_at: now(),
        };
        let conn = self.connect()?;
        let added = conn.execute(
            "INSERT INTO markets (name, url, token_file, added_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO NOTHING",
            params![
                market.name,
                market.url,
                market.token_file.to_string_lossy(),
                market.added_at
            ],
        )?;
        if added == 0 {
            return Err(Error::exists(
                "market",
                format!("a market named {name:?} exists already"),
            ));
        }
        Ok(market)
    }

    /// Every market, by name.
    pub fn markets(&self) -> Result<Vec<Market>> {
        let conn = self.connect()?;
        let mut stmt =
            conn.prepare("SELECT name, url, token_file, added_at FROM markets ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(Market {
                name: r.get(0)?,
                url: r.get(1)?,
                token_file: PathBuf::from(r.get::<_, String>(2)?),
                added_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The market named `name`, or the only one when no name is given.
    pub fn market(&self, name: Option<&str>) -> Result<Market> {
        let mut markets = self.markets()?;
        match name {
            Some(name) => markets
                .into_iter()
                .find(|m| m.name == name)
                .ok_or_else(|| Error::NotFound(format!("market {name}"))),
            None if markets.len() == 1 => Ok(markets.remove(0)),
            None if markets.is_empty() => Err(Error::no_such(
                "market",
                "no market yet; add one with `assay market add NAME URL --token-file F`",
            )),
            None => Err(Error::required(
                "market",
                format!("{} markets; name one with --market", markets.len()),
            )),
        }
    }

    /// Exports a signed manifest, signed by `actor`, of the approved assets
    /// not yet listed on `market`, and claims them for it, in one
    /// transaction. Approved assets whose license forbids AI training are
    /// refused here, since the market would refuse the whole manifest.
    pub fn claim_for_market(&self, actor: &Actor, market: &str) -> Result<Claimed> {
        actor.may(Action::Export)?;
        let market_row = self.market_row(market)?;
        let taxonomy = self.taxonomy()?;
        let forbidden = RefCell::new(Vec::new());
        let keep = |conn: &Connection, rows: Vec<i64>| -> Result<Vec<i64>> {
            let selected: HashSet<i64> = rows.into_iter().collect();
            let mut stmt = conn.prepare(
                "SELECT a.id, a.asset_id, json_extract(a.rights, '$.license_tag') FROM assets a
                 WHERE a.workflow_state = 'approved' AND NOT EXISTS (
                     SELECT 1 FROM market_items i
                     WHERE i.market = ?1 AND i.asset = a.id AND i.withdrawn_at IS NULL)
                 ORDER BY a.id",
            )?;
            let mut cursor = stmt.query([market_row])?;
            let mut kept = Vec::new();
            while let Some(r) = cursor.next()? {
                let row: i64 = r.get(0)?;
                if !selected.contains(&row) {
                    continue;
                }
                let tag: Option<String> = r.get(2)?;
                if forbids_training(&taxonomy, tag.as_deref()) {
                    forbidden.borrow_mut().push(RefusedAsset {
                        asset_id: r.get(1)?,
                        reason: format!("its license {tag:?} does not allow AI training"),
                    });
                } else {
                    kept.push(row);
                }
            }
            Ok(kept)
        };
        let record = |conn: &Connection,
                      doc: &crate::exports::manifest::Document,
                      listed: &[(i64, String)]|
         -> Result<()> {
            conn.execute(
                "INSERT INTO market_manifests (market, manifest_id, manifest_hash, bytes, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![market_row, doc.id, doc.hash, doc.bytes, now()],
            )?;
            let manifest = conn.last_insert_rowid();
            let mut insert = conn.prepare(
                "INSERT INTO market_items (manifest, market, asset) VALUES (?1, ?2, ?3)",
            )?;
            for (row, _) in listed {
                insert.execute(params![manifest, market_row, row])?;
            }
            Ok(())
        };
        let claim = Claim {
            out: None,
            keep: &keep,
            record: &record,
        };
        let exported = self.export_manifest_claimed(actor, claim)?;
        let forbidden = forbidden.into_inner();
        Ok(match exported {
            Ok(mut export) => {
                export.refused.extend(forbidden);
                Claimed::Manifest(export)
            }
            Err(mut refused) => {
                refused.extend(forbidden);
                Claimed::Nothing { refused }
            }
        })
    }

    /// The manifests of `market` whose `export_to_marketplace` events are
    /// not recorded yet, oldest first, each with its assets not withdrawn.
    pub fn open_market_manifests(&self, market: &str) -> Result<Vec<MarketManifest>> {
        let market_row = self.market_row(market)?;
        let conn = self.connect()?;
        let mut stmt = conn.prepare(
            "SELECT id, manifest_id, manifest_hash, bytes, listing_id FROM market_manifests
             WHERE market = ?1 AND recorded_at IS NULL ORDER BY id",
        )?;
        let heads = stmt
            .query_map([market_row], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    MarketManifest {
                        manifest_id: r.get(1)?,
                        manifest_hash: r.get(2)?,
                        bytes: r.get(3)?,
                        listing_id: r.get(4)?,
                        assets: Vec::new(),
                    },
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut assets = conn.prepare(
            "SELECT a.asset_id, a.size_bytes, a.checksum,
                    (SELECT l.path FROM locations l WHERE l.asset = a.id AND l.status = 'present'
                     ORDER BY l.id LIMIT 1)
             FROM market_items i JOIN assets a ON a.id = i.asset
             WHERE i.manifest = ?1 AND i.withdrawn_at IS NULL ORDER BY a.id",
        )?;
        let mut open = Vec::with_capacity(heads.len());
        for (row, mut manifest) in heads {
            manifest.assets = assets
                .query_map([row], |r| {
                    Ok(MarketAsset {
                        asset_id: r.get(0)?,
                        size_bytes: r.get::<_, i64>(1)?.max(0) as u64,
                        checksum: r.get(2)?,
                        path: r
                            .get::<_, Option<Vec<u8>>>(3)?
                            .map(|p| assets::path_from_bytes(&p)),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            open.push(manifest);
        }
        Ok(open)
    }

    /// Where the upload of `asset_id` to `market` stands, if one began.
    pub fn market_upload(&self, market: &str, asset_id: &str) -> Result<Option<UploadState>> {
        let market_row = self.market_row(market)?;
        let conn = self.connect()?;
        Ok(conn
            .query_row(
                "SELECT u.url, u.offset, u.finished FROM market_uploads u
                 JOIN assets a ON a.id = u.asset WHERE u.market = ?1 AND a.asset_id = ?2",
                params![market_row, asset_id],
                |r| {
                    Ok(UploadState {
                        url: r.get(0)?,
                        offset: r.get::<_, i64>(1)?.max(0) as u64,
                        finished: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Records where the upload of `asset_id` to `market` stands; called
    /// after every acknowledged chunk, so a restart resumes from here.
    pub fn record_market_upload(
        &self,
        market: &str,
        asset_id: &str,
        state: &UploadState,
    ) -> Result<()> {
        let market_row = self.market_row(market)?;
        let conn = self.connect()?;
        let changed = conn.execute(
            "INSERT INTO market_uploads (market, asset, url, offset, size_bytes, checksum, finished, updated_at)
             SELECT ?1, a.id, ?3, ?4, a.size_bytes, a.checksum, ?5, ?6 FROM assets a WHERE a.asset_id = ?2
             ON CONFLICT (market, asset) DO UPDATE SET
                 url = excluded.url, offset = excluded.offset,
                 finished = excluded.finished, updated_at = excluded.updated_at",
            params![
                market_row,
                asset_id,
                state.url,
                i64::try_from(state.offset).unwrap_or(i64::MAX),
                state.finished,
                now()
            ],
        )?;
        if changed == 0 {
            return Err(Error::NotFound(asset_id.to_owned()));
        }
        Ok(())
    }

    /// Records the listing that offers `manifest_id` on `market`.
    pub fn record_market_listing(
        &self,
        market: &str,
        manifest_id: &str,
        listing_id: &str,
    ) -> Result<()> {
        let market_row = self.market_row(market)?;
        let conn = self.connect()?;
        let changed = conn.execute(
            "UPDATE market_manifests SET listing_id = ?3 WHERE market = ?1 AND manifest_id = ?2",
            params![market_row, manifest_id, listing_id],
        )?;
        if changed == 0 {
            return Err(Error::NotFound(format!("manifest {manifest_id}")));
        }
        Ok(())
    }

    /// Records an `export_to_marketplace` event (market, URL, listing id,
    /// manifest id and hash), signed by `actor`, on every asset of the
    /// listed manifest still on sale, once: a second call records nothing
    /// and answers 0.
    pub fn record_marketplace_export(
        &self,
        actor: &Actor,
        market: &str,
        manifest_id: &str,
    ) -> Result<usize> {
        actor.may(Action::Export)?;
        let market = self.market(Some(market))?;
        let market_row = self.market_row(&market.name)?;
        let mut conn = self.connect()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let head: Option<(i64, String, Option<String>, Option<String>)> = tx
            .query_row(
                "SELECT id, manifest_hash, listing_id, recorded_at FROM market_manifests
                 WHERE market = ?1 AND manifest_id = ?2",
                params![market_row, manifest_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((row, manifest_hash, listing_id, recorded_at)) = head else {
            return Err(Error::NotFound(format!("manifest {manifest_id}")));
        };
        if recorded_at.is_some() {
            return Ok(0);
        }
        let Some(listing_id) = listing_id else {
            return Err(Error::refused(
                "listed-first",
                format!(
                    "manifest {manifest_id} has no listing on {} yet",
                    market.name
                ),
            ));
        };
        let items: Vec<(i64, String)> = tx
            .prepare(
                "SELECT a.id, a.asset_id FROM market_items i JOIN assets a ON a.id = i.asset
                 WHERE i.manifest = ?1 AND i.withdrawn_at IS NULL ORDER BY a.id",
            )?
            .query_map([row], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let data = json!({
            "market": market.name,
            "market_url": market.url,
            "listing_id": listing_id,
            "manifest_id": manifest_id,
            "manifest_hash": manifest_hash,
        });
        chain::append_all(
            &tx,
            &items,
            EventKind::ExportToMarketplace,
            &data,
            &Signer::User(actor),
        )?;
        tx.execute(
            "UPDATE market_manifests SET recorded_at = ?2 WHERE id = ?1",
            params![row, now()],
        )?;
        tx.commit()?;
        Ok(items.len())
    }

    /// Listed assets of `market` that must come off sale: no longer
    /// approved, or licensed so that AI training is not allowed.
    pub fn market_withdrawals(&self, market: &str) -> Result<Vec<Withdrawal>> {
        let market_row = self.market_row(market)?;
        let taxonomy = self.taxonomy()?;
        let conn = self.connect()?;
        let mut stmt = conn.prepare(
            "SELECT m.listing_id, a.asset_id, a.workflow_state,
                    json_extract(a.rights, '$.license_tag')
             FROM market_items i
             JOIN market_manifests m ON m.id = i.manifest
             JOIN assets a ON a.id = i.asset
             WHERE i.market = ?1 AND i.withdrawn_at IS NULL AND m.listing_id IS NOT NULL
             ORDER BY m.id, a.id",
        )?;
        let mut cursor = stmt.query([market_row])?;
        let mut out = Vec::new();
        while let Some(r) = cursor.next()? {
            let state: String = r.get(2)?;
            let tag: Option<String> = r.get(3)?;
            let reason = if forbids_training(&taxonomy, tag.as_deref()) {
                "no_train"
            } else if state != "approved" {
                "revoked"
            } else {
                continue;
            };
            out.push(Withdrawal {
                listing_id: r.get(0)?,
                asset_id: r.get(1)?,
                reason,
            });
        }
        Ok(out)
    }

    /// Records that the market took `withdrawal`'s asset off sale, with a
    /// `marketplace_withdrawal` event (market, URL, listing id, reason)
    /// signed by `actor`, once: a withdrawal already recorded answers
    /// false. The asset is free to be listed again once it qualifies.
    pub fn record_market_withdrawal(
        &self,
        actor: &Actor,
        market: &str,
        withdrawal: &Withdrawal,
    ) -> Result<bool> {
        actor.may(Action::Export)?;
        let market = self.market(Some(market))?;
        let market_row = self.market_row(&market.name)?;
        let mut conn = self.connect()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let asset: Option<i64> = tx
            .query_row(
                "SELECT id FROM assets WHERE asset_id = ?1",
                [&withdrawal.asset_id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(asset) = asset else {
            return Err(Error::NotFound(withdrawal.asset_id.clone()));
        };
        let changed = tx.execute(
            "UPDATE market_items SET withdrawn_at = ?4, withdrawn_reason = ?5
             WHERE market = ?1 AND withdrawn_at IS NULL AND asset = ?3
               AND manifest = (SELECT id FROM market_manifests WHERE market = ?1 AND listing_id = ?2)",
            params![
                market_row,
                withdrawal.listing_id,
                asset,
                now(),
                withdrawal.reason
            ],
        )?;
        if changed == 0 {
            return Ok(false);
        }
        let data = json!({
            "market": market.name,
            "market_url": market.url,
            "listing_id": withdrawal.listing_id,
            "reason": withdrawal.reason,
        });
        chain::append(
            &tx,
            asset,
            &withdrawal.asset_id,
            EventKind::MarketplaceWithdrawal,
            data,
            &Signer::User(actor),
        )?;
        tx.commit()?;
        Ok(true)
    }

    fn market_row(&self, name: &str) -> Result<i64> {
        market_row_in(&self.connect()?, name)
    }
}

/// The catalog row of market `name`, read on `conn` (inside the caller's
/// transaction, where it has one).
pub(crate) fn market_row_in(conn: &Connection, name: &str) -> Result<i64> {
    conn.query_row("SELECT id FROM markets WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .optional()?
    .ok_or_else(|| Error::NotFound(format!("market {name}")))
}

/// Whether a license tag keeps an asset out of training data: NO-TRAIN, a
/// tag whose rights do not allow it, or a tag the taxonomy does not know.
fn forbids_training(taxonomy: &Taxonomy, tag: Option<&str>) -> bool {
    tag.and_then(|t| taxonomy.get(t))
        .is_none_or(|license| !license.ai_training_allowed || license.tag == "NO-TRAIN")
}
