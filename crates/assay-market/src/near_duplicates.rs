//! One picture, one seller: an asset whose picture is a near-duplicate of
//! one another publisher has on sale (a resized, recompressed or cropped
//! copy of it) is refused, naming that listing and asset. Each finished
//! upload of a picture is fingerprinted as the library fingerprints its
//! own (a pHash of the picture and its turns, `assay_preview`), checked
//! against the listed pictures of other publishers, and kept; a new
//! listing checks its uploaded pictures again, since two publishers may
//! upload alike pictures before either lists. Both refusals store nothing.

use assay_core::preview::{decode_covering, fingerprint_of, Fingerprint, THUMBNAIL_EDGE};
use assay_market_proto::ErrorCode;

use crate::app::App;
use crate::error::ApiError;
use crate::records::{AccountId, NearListing};

/// Bits two pictures may differ by and still be one: the library's
/// default, measured on resized and recompressed copies (BENCHMARKS.md).
const MAX_DISTANCE: u32 = assay_core::DEFAULT_MAX_DISTANCE;

/// Pictures larger than this are not fingerprinted: the decode holds the
/// file in memory, and no camera picture comes near it.
const MAX_PICTURE_BYTES: u64 = 64 << 20;

/// Whether a file of `media_type` and `len` bytes is a picture to
/// fingerprint.
pub(crate) fn is_picture(media_type: &str, len: u64) -> bool {
    media_type.starts_with("image/") && len <= MAX_PICTURE_BYTES
}

/// The fingerprint of a picture's `bytes` of `media_type`; none for what
/// the preview crate does not decode, or a damaged picture.
pub(crate) fn fingerprint(bytes: &[u8], media_type: &str) -> Option<Fingerprint> {
    decode_covering(bytes, media_type, THUMBNAIL_EDGE)
        .and_then(fingerprint_of)
        .ok()
}

/// Refuses `asset_id` of `account` when `print` is a near-duplicate of a
/// picture another publisher has on sale.
pub(crate) fn refuse_if_listed(
    app: &App,
    account: AccountId,
    asset_id: &str,
    print: &Fingerprint,
    what: &str,
) -> Result<(), ApiError> {
    match app.records.near_listed(account, print, MAX_DISTANCE)? {
        None => Ok(()),
        Some(NearListing {
            listing,
            asset_id: theirs,
            distance,
        }) => Err(ApiError::new(
            ErrorCode::NearDuplicate,
            format!(
                "asset {asset_id} is a near-duplicate of asset {theirs} of listing {listing}, which another publisher has on sale ({distance} of 64 bits apart); {what}"
            ),
        )
        .with_header("Location", format!("/v1/listings/{listing}"))),
    }
}
