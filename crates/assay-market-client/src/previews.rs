//! The previews a listing shows to buyers who have not bought: the
//! library's own preview of each asset (never the original), which the
//! market downsamples and watermarks again before serving it. And each
//! asset's Content Credentials, which the market delivers beside its file.

use assay_core::{Actor, MarketManifest, RefusedAsset};
use assay_market_proto::credentials::CREDENTIALS_MEDIA_TYPE;

use crate::error::{Error, Result};
use crate::sync::Run;

impl Run<'_> {
    /// `PUT /v1/listings/{id}/assets/{asset}/preview` for every asset of the
    /// manifest the library has a preview of. A re-sent preview replaces the
    /// market's copy, so an interrupted sync simply sends them again.
    pub(crate) fn send_previews(
        &mut self,
        listing_id: &str,
        manifest: &MarketManifest,
    ) -> Result<()> {
        for asset in &manifest.assets {
            self.check_cancel()?;
            let record = self.library.record(&asset.asset_id)?;
            // Files that could not be decoded have no preview; they are
            // listed all the same, with sample metadata only.
            let Some(path) = record.previews.preview else {
                continue;
            };
            let bytes = std::fs::read(&path).map_err(|source| Error::Io {
                path: path.clone().into(),
                source,
            })?;
            let url = format!(
                "/v1/listings/{listing_id}/assets/{}/preview",
                asset.asset_id
            );
            self.put(&url, "image/jpeg", &bytes)?;
            self.report.previews_sent += 1;
        }
        Ok(())
    }

    /// `PUT /v1/listings/{id}/assets/{asset}/credentials` for every asset
    /// of the manifest: a C2PA manifest store signed by `actor`, bound to
    /// the original as uploaded, which buyers get beside the file. Sent
    /// again by an interrupted sync, it replaces the market's copy. An
    /// asset that gets none (its file changed since) still sells; the
    /// report says why it has none.
    pub(crate) fn send_credentials(
        &mut self,
        actor: &Actor,
        listing_id: &str,
        manifest: &MarketManifest,
    ) -> Result<()> {
        let ids: Vec<String> = manifest.assets.iter().map(|a| a.asset_id.clone()).collect();
        for made in self.library.delivery_credentials(actor, &ids)? {
            self.check_cancel()?;
            let store = match made.store {
                Ok(store) => store,
                Err(reason) => {
                    self.report.credentials_refused.push(RefusedAsset {
                        asset_id: made.asset_id,
                        reason,
                    });
                    continue;
                }
            };
            let url = format!(
                "/v1/listings/{listing_id}/assets/{}/credentials",
                made.asset_id
            );
            self.put(&url, CREDENTIALS_MEDIA_TYPE, &store)?;
            self.report.credentials_sent += 1;
        }
        Ok(())
    }

    /// `PUT url` with `bytes` of `media_type`; anything but 200 is the
    /// market's refusal. The market replaces what was there, so a sync
    /// that stopped sends it again.
    fn put(&self, url: &str, media_type: &str, bytes: &[u8]) -> Result<()> {
        let reply = self.api.send(
            "PUT",
            url,
            &[("Content-Type", media_type.to_owned())],
            bytes,
        )?;
        if reply.status != 200 {
            return Err(Error::refused("PUT", url, reply.status, &reply.body));
        }
        Ok(())
    }
}
