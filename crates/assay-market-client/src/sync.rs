//! The publishing half of `assay sync`: register the rights manager's key,
//! claim and sign a manifest of the approved assets not yet listed, post
//! every open manifest, upload what the market lacks, list it, record the
//! `export_to_marketplace` events, withdraw what must come off sale, and
//! record the market's payments in provenance (`feed.rs`), and have the
//! market witness the library's checkpoint (`witness.rs`).
//! Every step is recorded in the library as it completes, and every
//! request is one the market takes twice without harm, so a sync that
//! stopped anywhere is finished by the next one.

use std::sync::atomic::{AtomicBool, Ordering};

use assay_core::{keys, Actor, Claimed, Job, Library, Market, MarketManifest, Unit};
use assay_market_proto::keys::{KeyChallenge, NewKey};
use assay_market_proto::listings::{ListingTerms, NewListing, Withdrawal};
use assay_market_proto::manifests::ManifestReceipt;
use assay_market_proto::ErrorCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::http::{Api, Reply, Retry};
use crate::progress::{SyncEvent, SyncReport};

/// How a sync runs.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// The bytes of one PATCH.
    pub chunk_size: usize,
    pub retry: Retry,
    /// The price of new listings; a sync that must create one fails
    /// without it.
    pub price: Option<Price>,
}

impl Default for SyncOptions {
    fn default() -> SyncOptions {
        SyncOptions {
            chunk_size: 8 << 20,
            retry: Retry::default(),
            price: None,
        }
    }
}

/// The price of a listing, in the currency's minor unit (cents for EUR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub minor: u64,
    /// ISO 4217, three capital letters.
    pub currency: String,
}

/// A sync in progress; `sent` in [`SyncEvent::Bytes`] adds the files done
/// (`report.bytes_sent`) and the one under way.
pub(crate) struct Run<'a> {
    pub library: &'a Library,
    pub market: Market,
    pub api: Api,
    pub chunk_size: usize,
    pub cancel: &'a AtomicBool,
    pub progress: &'a mut dyn FnMut(&SyncEvent),
    pub report: SyncReport,
}

/// Publishes `library`'s approved assets not yet listed to the market
/// named `market` (or the only one), as `actor`, a rights manager.
/// `progress` hears each step and `job` the bytes sent of those to send;
/// a cancelled job stops the sync between two requests (or two chunks),
/// with everything done so far recorded, and returns the report with
/// `cancelled` set.
pub fn sync(
    library: &Library,
    actor: &Actor,
    market: Option<&str>,
    options: &SyncOptions,
    job: &mut Job,
    progress: &mut dyn FnMut(&SyncEvent),
) -> Result<SyncReport> {
    let market = library.market(market)?;
    let api = Api::of_market(&market, options.retry.clone())?;
    let report = SyncReport {
        market: market.name.clone(),
        ..SyncReport::default()
    };
    let cancel = job.cancel_flag();
    let mut to_send = 0;
    let mut progress = |event: &SyncEvent| {
        match event {
            SyncEvent::Manifest { bytes, .. } => {
                to_send += bytes;
                job.report(0, to_send, Unit::Bytes);
            }
            SyncEvent::Bytes { sent, .. } => job.report(*sent, to_send, Unit::Bytes),
            _ => {}
        }
        progress(event);
    };
    let mut sync = Run {
        library,
        market,
        api,
        chunk_size: options.chunk_size.max(1),
        cancel,
        progress: &mut progress,
        report,
    };
    let outcome = (|| {
        sync.register_key(actor)?;
        match library.claim_for_market(actor, &sync.market.name)? {
            Claimed::Manifest(export) => sync.refused(export.refused),
            Claimed::Nothing { refused } => sync.refused(refused),
        }
        for manifest in library.open_market_manifests(&sync.market.name)? {
            sync.check_cancel()?;
            sync.publish(actor, manifest, options.price.as_ref())?;
        }
        sync.withdraw(actor)?;
        sync.record_feed(actor)?;
        // Last, so the checkpoint commits to everything this sync recorded.
        sync.witness(actor)
    })();
    match outcome {
        Ok(()) => Ok(sync.report),
        Err(Error::Cancelled) => Ok(SyncReport {
            cancelled: true,
            ..sync.report
        }),
        Err(e) => Err(e),
    }
}

impl Run<'_> {
    pub(crate) fn check_cancel(&self) -> Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        Ok(())
    }

    fn refused(&mut self, refused: Vec<assay_core::RefusedAsset>) {
        if !refused.is_empty() {
            (self.progress)(&SyncEvent::Refused {
                refused: refused.clone(),
            });
            self.report.refused.extend(refused);
        }
    }

    /// `POST /v1/keys` with the signer's public key and proof of holding
    /// it (its signature over the market's challenge); registering it again
    /// changes nothing.
    pub(crate) fn register_key(&self, actor: &Actor) -> Result<()> {
        let key = self.library.user_public_key(actor.name())?;
        let challenge: KeyChallenge =
            self.post_json("/v1/keys/challenge", &serde_json::json!({}), &[200])?;
        let body = NewKey {
            public_key: keys::public_key_pem(&key),
            signature: actor.prove_possession(&challenge.challenge),
            challenge: challenge.challenge,
        };
        self.post_json::<serde_json::Value>("/v1/keys", &body, &[200, 201])?;
        Ok(())
    }

    /// Posts one open manifest, uploads its missing files, lists it and
    /// records the events.
    fn publish(
        &mut self,
        actor: &Actor,
        manifest: MarketManifest,
        price: Option<&Price>,
    ) -> Result<()> {
        let path = "/v1/manifests";
        let reply = self.api.send(
            "POST",
            path,
            &[("Content-Type", "application/json".to_owned())],
            &manifest.bytes,
        )?;
        let receipt: ManifestReceipt = parse(&reply, "POST", path, &[200, 201])?;
        let present = |asset_id: &str| {
            receipt
                .assets
                .iter()
                .any(|a| a.asset_id == asset_id && a.uploaded)
        };
        let missing: Vec<_> = manifest
            .assets
            .iter()
            .filter(|a| !present(&a.asset_id))
            .collect();
        self.report.manifests += 1;
        (self.progress)(&SyncEvent::Manifest {
            manifest_id: manifest.manifest_id.clone(),
            assets: manifest.assets.len(),
            files: missing.len(),
            bytes: missing.iter().map(|a| a.size_bytes).sum(),
        });
        for asset in &manifest.assets {
            self.check_cancel()?;
            if present(&asset.asset_id) {
                // Known finished, so a later sync never re-sends it.
                let done = assay_core::UploadState {
                    url: None,
                    offset: asset.size_bytes,
                    finished: true,
                };
                self.library
                    .record_market_upload(&self.market.name, &asset.asset_id, &done)?;
                self.report.files_present += 1;
                continue;
            }
            let sent = self.upload(&manifest.manifest_id, asset)?;
            self.report.bytes_sent += sent;
            self.report.files_uploaded += 1;
            (self.progress)(&SyncEvent::Uploaded {
                asset_id: asset.asset_id.clone(),
            });
        }
        let listing_id = match &manifest.listing_id {
            Some(id) => id.clone(),
            None => self.list(&manifest, price)?,
        };
        self.send_previews(&listing_id, &manifest)?;
        self.send_credentials(actor, &listing_id, &manifest)?;
        let assets = self.library.record_marketplace_export(
            actor,
            &self.market.name,
            &manifest.manifest_id,
        )?;
        self.report.assets_recorded += assets;
        (self.progress)(&SyncEvent::Recorded {
            manifest_id: manifest.manifest_id,
            listing_id,
            assets,
        });
        Ok(())
    }

    /// `POST /v1/listings`; a listing the manifest has already (created by
    /// an interrupted sync, or one running beside this one) is adopted.
    fn list(&mut self, manifest: &MarketManifest, price: Option<&Price>) -> Result<String> {
        let price = price.ok_or_else(|| Error::NoTerms(manifest.manifest_id.clone()))?;
        let body = NewListing {
            manifest_id: manifest.manifest_id.clone(),
            terms: ListingTerms {
                title: format!("{} training assets", manifest.assets.len()),
                description: format!(
                    "Approved assets with signed rights and provenance; manifest {} ({}).",
                    manifest.manifest_id, manifest.manifest_hash
                ),
                price_minor: price.minor,
                currency: price.currency.clone(),
            },
        };
        let (listing_id, created) = self.create_listing(&body)?;
        self.library.record_market_listing(
            &self.market.name,
            &manifest.manifest_id,
            &listing_id,
        )?;
        if created {
            self.report.listings_created += 1;
        }
        (self.progress)(&SyncEvent::Listed {
            manifest_id: manifest.manifest_id.clone(),
            listing_id: listing_id.clone(),
            created,
        });
        Ok(listing_id)
    }

    /// `POST /v1/listings`: the listing's id, and whether this request
    /// created it (else the manifest was listed before, and that listing
    /// is adopted).
    pub(crate) fn create_listing(&self, body: &NewListing) -> Result<(String, bool)> {
        let path = "/v1/listings";
        let reply = self.send_json("POST", path, body)?;
        match (reply.status, code_of(&reply)) {
            (201, _) => {
                let listing: assay_market_proto::listings::Listing =
                    parse(&reply, "POST", path, &[201])?;
                Ok((listing.summary.listing_id, true))
            }
            (409, Some(ErrorCode::ListingExists)) => {
                let location = reply.header("Location").unwrap_or_default();
                let id = location.rsplit('/').next().unwrap_or_default();
                if id.is_empty() {
                    return Err(Error::Protocol {
                        method: "POST",
                        path: path.to_owned(),
                        message: "listing_exists without Location".to_owned(),
                    });
                }
                Ok((id.to_owned(), false))
            }
            (status, _) => Err(Error::refused("POST", path, status, &reply.body)),
        }
    }

    /// Takes off sale every listed asset no longer approved or whose
    /// license now forbids AI training, each with a signed
    /// `marketplace_withdrawal` event.
    fn withdraw(&mut self, actor: &Actor) -> Result<()> {
        for withdrawal in self.library.market_withdrawals(&self.market.name)? {
            self.check_cancel()?;
            let path = format!("/v1/listings/{}/withdrawals", withdrawal.listing_id);
            let body = Withdrawal {
                asset_id: withdrawal.asset_id.clone(),
                reason: withdrawal.reason.to_owned(),
            };
            self.post_json::<serde_json::Value>(&path, &body, &[200, 201])?;
            // Another sync may have recorded it meanwhile: counted once.
            if !self
                .library
                .record_market_withdrawal(actor, &self.market.name, &withdrawal)?
            {
                continue;
            }
            self.report.withdrawn += 1;
            (self.progress)(&SyncEvent::Withdrawn {
                listing_id: withdrawal.listing_id,
                asset_id: withdrawal.asset_id,
                reason: withdrawal.reason.to_owned(),
            });
        }
        Ok(())
    }

    pub(crate) fn send_json(
        &self,
        method: &'static str,
        path: &str,
        body: &impl Serialize,
    ) -> Result<Reply> {
        let bytes = serde_json::to_vec(body).map_err(|e| Error::Protocol {
            method,
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        self.api.send(
            method,
            path,
            &[("Content-Type", "application/json".to_owned())],
            &bytes,
        )
    }

    fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
        ok: &[u16],
    ) -> Result<T> {
        let reply = self.send_json("POST", path, body)?;
        parse(&reply, "POST", path, ok)
    }
}

/// The body of an answer whose status is one of `ok`; any other is the
/// market's refusal.
pub(crate) fn parse<T: DeserializeOwned>(
    reply: &Reply,
    method: &'static str,
    path: &str,
    ok: &[u16],
) -> Result<T> {
    if !ok.contains(&reply.status) {
        return Err(Error::refused(method, path, reply.status, &reply.body));
    }
    serde_json::from_slice(&reply.body).map_err(|e| Error::Protocol {
        method,
        path: path.to_owned(),
        message: format!("{}: {e}", reply.status),
    })
}

pub(crate) fn code_of(reply: &Reply) -> Option<ErrorCode> {
    serde_json::from_slice::<assay_market_proto::ErrorBody>(&reply.body)
        .ok()?
        .error_code()
}
