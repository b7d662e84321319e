//! The events the records write into a publisher's feed, each made from
//! the record of what it reports. The same in every backend: a backend
//! only stores them, in the transaction of what they report.

use assay_market_proto::events::{EventKind, ReleaseReason};

use super::{ListingRecord, PayoutRecord, PurchaseRecord};

pub(super) fn listing_created(listing: &ListingRecord) -> EventKind {
    EventKind::ListingCreated {
        listing_id: listing.id.to_string(),
        manifest_id: listing.manifest_id.clone(),
        manifest_hash: listing.manifest_hash.clone(),
    }
}

pub(super) fn purchase(purchase: &PurchaseRecord) -> EventKind {
    EventKind::Purchase {
        purchase_id: purchase.id.to_string(),
        listing_id: purchase.listing.to_string(),
        manifest_id: purchase.manifest_id.clone(),
        asset_ids: purchase.asset_ids.clone(),
        amount_minor: purchase.amount_minor,
        currency: purchase.currency.clone(),
    }
}

pub(super) fn refunded(purchase: &PurchaseRecord) -> EventKind {
    EventKind::Refunded {
        purchase_id: purchase.id.to_string(),
        listing_id: purchase.listing.to_string(),
        amount_minor: purchase.amount_minor,
        currency: purchase.currency.clone(),
    }
}

/// `escrow_released`, then one `payout_sent` per payout.
pub(super) fn released(purchase: &PurchaseRecord, reason: ReleaseReason) -> Vec<EventKind> {
    let escrow = EventKind::EscrowReleased {
        purchase_id: purchase.id.to_string(),
        listing_id: purchase.listing.to_string(),
        amount_minor: purchase.amount_minor,
        currency: purchase.currency.clone(),
        reason,
    };
    let payouts = purchase.payouts.iter().map(|payout| EventKind::PayoutSent {
        payout_id: payout.id.to_string(),
        purchase_id: purchase.id.to_string(),
        listing_id: purchase.listing.to_string(),
        creator_wallet: payout.creator_wallet.clone(),
        asset_ids: payout.asset_ids.clone(),
        amount_minor: payout.amount_minor,
        currency: purchase.currency.clone(),
    });
    std::iter::once(escrow).chain(payouts).collect()
}

pub(super) fn payout_failed(
    purchase: &PurchaseRecord,
    payout: &PayoutRecord,
    reason: &str,
) -> EventKind {
    EventKind::PayoutFailed {
        payout_id: payout.id.to_string(),
        purchase_id: purchase.id.to_string(),
        listing_id: purchase.listing.to_string(),
        creator_wallet: payout.creator_wallet.clone(),
        asset_ids: payout.asset_ids.clone(),
        amount_minor: payout.amount_minor,
        currency: purchase.currency.clone(),
        reason: reason.to_owned(),
    }
}
