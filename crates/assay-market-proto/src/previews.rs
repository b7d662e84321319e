//! Previews and samples: what a buyer may see of a listing before buying.
//! `PUT`/`GET /v1/listings/{listing_id}/assets/{asset_id}/preview` and
//! `GET /v1/listings/{listing_id}/sample`.
//!
//! The publisher uploads a JPEG or PNG per asset; the server downsamples it
//! to at most [`PREVIEW_EDGE`] pixels on its long edge, stamps a visible
//! watermark into the pixels and serves only that (as JPEG), never the
//! upload and never the original file.

use serde::{Deserialize, Serialize};

/// The longest edge of a served preview, in pixels.
pub const PREVIEW_EDGE: u32 = 512;

/// The media type of every served preview.
pub const PREVIEW_MEDIA_TYPE: &str = "image/jpeg";

/// The answer of `PUT .../preview`: the preview as it will be served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewInfo {
    pub asset_id: String,
    /// Where it is served (`GET`).
    pub url: String,
    pub media_type: String,
    pub width: u32,
    pub height: u32,
    pub size_bytes: u64,
    pub created_at: String,
}

/// `GET /v1/listings/{listing_id}/sample`: a few assets on sale, described
/// by what is not sensitive (no checksum, file name, wallet or terms).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingSample {
    pub listing_id: String,
    /// Assets on sale in all; the sample is a few of them.
    pub assets_on_sale: u64,
    pub entries: Vec<SampleEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleEntry {
    pub asset_id: String,
    pub title: Option<String>,
    pub media_type: String,
    pub size_bytes: u64,
    pub license_tag: String,
    /// As the manifest gives it, when it does.
    pub capture_date: Option<String>,
    /// The watermarked preview's URL, when the publisher uploaded one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
}
