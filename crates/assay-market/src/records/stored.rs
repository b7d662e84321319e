//! How the records store what is not a plain column, the same in every
//! backend: ids and states as text, lists as JSON; and the error a value
//! read back that cannot be what was stored makes (the database was
//! edited behind the server's back).

use assay_market_proto::purchases::{EscrowState, PayoutState};
use assay_market_proto::tus::UploadFile;

use super::{RecordsError, Result, UploadState};
use crate::ids::{ListingId, PreviewId, PurchaseId, WebhookId};

pub(super) fn corrupt(what: String) -> RecordsError {
    RecordsError::Backend(what.into())
}

pub(super) fn to_i64(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| corrupt(format!("{n} does not fit a 64-bit signed integer")))
}

pub(super) fn to_u64(n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| corrupt(format!("a stored count is negative ({n})")))
}

pub(super) fn listing_id(id: &str) -> Result<ListingId> {
    ListingId::parse(id).ok_or_else(|| corrupt(format!("listing id {id:?} is malformed")))
}

pub(super) fn preview_id(id: &str) -> Result<PreviewId> {
    PreviewId::parse(id).ok_or_else(|| corrupt(format!("preview id {id:?} is malformed")))
}

pub(super) fn purchase_id(id: &str) -> Result<PurchaseId> {
    PurchaseId::parse(id).ok_or_else(|| corrupt(format!("purchase id {id:?} is malformed")))
}

pub(super) fn webhook_id(id: &str) -> Result<WebhookId> {
    WebhookId::parse(id).ok_or_else(|| corrupt(format!("webhook id {id:?} is malformed")))
}

pub(super) fn upload_state(text: &str) -> Result<UploadState> {
    match text {
        "open" => Ok(UploadState::Open),
        "complete" => Ok(UploadState::Complete),
        "expired" => Ok(UploadState::Expired),
        other => Err(corrupt(format!("uploads.state {other:?}"))),
    }
}

pub(super) fn escrow_state(text: &str) -> Result<EscrowState> {
    match text {
        "held" => Ok(EscrowState::Held),
        "released" => Ok(EscrowState::Released),
        "refunded" => Ok(EscrowState::Refunded),
        other => Err(corrupt(format!("purchases.state {other:?}"))),
    }
}

pub(super) fn payout_state(text: &str) -> Result<PayoutState> {
    match text {
        "pending" => Ok(PayoutState::Pending),
        "sent" => Ok(PayoutState::Sent),
        "cancelled" => Ok(PayoutState::Cancelled),
        "failed" => Ok(PayoutState::Failed),
        other => Err(corrupt(format!("payouts.state {other:?}"))),
    }
}

pub(super) fn asset_ids_json(ids: &[String]) -> Result<String> {
    serde_json::to_string(ids).map_err(|e| corrupt(format!("asset ids do not serialise: {e}")))
}

/// The table an upload's file is described in, its name column, and the
/// upload's column naming it.
pub(super) fn file_columns(file: &UploadFile) -> (&'static str, &'static str, &'static str) {
    match file {
        UploadFile::Asset(_) => ("manifest_assets", "asset_id", "asset_id"),
        UploadFile::Shard(_) => ("manifest_shards", "name", "shard"),
    }
}
