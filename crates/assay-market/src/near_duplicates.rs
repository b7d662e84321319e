//! One picture, one seller: an asset whose picture is a near-duplicate of
//! one another publisher has on sale (a resized, recompressed or cropped
//! copy of it) is refused, naming that listing and asset. Each finished
//! upload of a picture is fingerprinted as the library fingerprints its
//! own (a pHash of the picture and its turns, `assay_preview`), from a
//! file it is spooled to rather than from memory, checked
//! against the listed pictures of other publishers, and kept; a new
//! listing checks its uploaded pictures again, since two publishers may
//! upload alike pictures before either lists. Both refusals store nothing.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, Write};

use assay_core::preview::{decode_covering_from, fingerprint_of, Fingerprint, THUMBNAIL_EDGE};
use assay_market_proto::ErrorCode;

use crate::app::App;
use crate::error::ApiError;
use crate::records::{AccountId, NearListing};

/// Bits two pictures may differ by and still be one: the library's
/// default, measured on resized and recompressed copies (BENCHMARKS.md).
const MAX_DISTANCE: u32 = assay_core::DEFAULT_MAX_DISTANCE;

/// Pictures larger than this are not fingerprinted: no camera picture
/// comes near it, and the decode of anything but a JPEG holds its pixels.
const MAX_PICTURE_BYTES: u64 = 64 << 20;

/// Whether a file of `media_type` and `len` bytes is a picture to
/// fingerprint.
pub(crate) fn is_picture(media_type: &str, len: u64) -> bool {
    media_type.starts_with("image/") && len <= MAX_PICTURE_BYTES
}

/// Copies `picture` to a file that disappears when dropped, for
/// [`fingerprint`] to read back: the upload is read once, as it is hashed,
/// and never held whole in memory.
pub(crate) fn spool(picture: &mut impl Read) -> io::Result<File> {
    let mut spool = tempfile::tempfile()?;
    let mut writer = io::BufWriter::with_capacity(1 << 20, &mut spool);
    io::copy(picture, &mut writer)?;
    writer.flush()?;
    drop(writer);
    spool.rewind()?;
    Ok(spool)
}

/// The fingerprint of the picture of `media_type` a file holds, decoded as
/// it is read; none for what the preview crate does not decode, or a
/// damaged picture.
pub(crate) fn fingerprint(picture: File, media_type: &str) -> Option<Fingerprint> {
    decode_covering_from(BufReader::new(picture), media_type, THUMBNAIL_EDGE)
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
