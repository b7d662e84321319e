//! The pictures an asset is shown by, made in two phases. At import, a
//! grid thumbnail from whatever costs least ([`quick_thumbnail`]), so a
//! large import is browsable at once; afterwards, in `previews.rs`, the
//! 1600-pixel preview and a full-quality thumbnail ([`render`]). Problems
//! become warnings on the asset; nothing here fails.

use std::path::Path;

use crate::catalog::record::Media;
use crate::formats::{exif, mpf, raw_preview};
use crate::preview::{self, Rendered, PREVIEW_EDGE, THUMBNAIL_EDGE};

/// The import's thumbnail, from the first of: the EXIF thumbnail, an
/// image the JPEG's MPF index lists, the JPEG itself decoded at the
/// smallest DCT scale that covers a thumbnail (1/8 for a camera's photo).
/// `None` when the file has none of these: its pictures wait for the
/// second phase, which decodes what needs decoding whole.
pub(crate) fn quick_thumbnail(
    bytes: &[u8],
    media_type: &str,
    exif_thumbnail: Option<&[u8]>,
    orientation: u8,
) -> Option<Vec<u8>> {
    let is_jpeg = media_type == "image/jpeg";
    // The MPF index is read only when the EXIF thumbnail does not do.
    let mpf = std::iter::once_with(|| match is_jpeg {
        true => mpf::images(bytes),
        false => Vec::new(),
    })
    .flat_map(|images| images.into_iter().rev());
    let sources = exif_thumbnail
        .into_iter()
        .chain(mpf)
        .chain(is_jpeg.then_some(bytes));
    sources
        .filter_map(|jpeg| preview::decode_covering(jpeg, "image/jpeg", THUMBNAIL_EDGE).ok())
        .find_map(|decoded| preview::render_thumbnail(decoded, orientation).ok())
}

/// What the second phase made of a file.
pub(crate) struct Pictures {
    pub rendered: Option<Rendered>,
    /// The pixel size a decode found, for files whose header did not say.
    pub size: Option<(u32, u32)>,
    pub warnings: Vec<String>,
}

/// Makes the preview and the thumbnail of the file at `path` of
/// `media_type`: from `bytes` for a picture (a JPEG's MPF large preview
/// when it has one, a raw file's largest embedded JPEG, HEIF through
/// libheif), or through ffmpeg for the video or audio `media` describes.
pub(crate) fn render(
    path: &Path,
    bytes: Option<&[u8]>,
    media_type: &str,
    media: Option<&Media>,
) -> Pictures {
    let mut pictures = Pictures {
        rendered: None,
        size: None,
        warnings: Vec::new(),
    };
    let warnings = &mut pictures.warnings;
    if let Some(media) = media {
        match super::av::picture(path, media_type, media) {
            Ok(Some(png)) => {
                match preview::decode(&png, "image/png").and_then(|d| preview::render(d, 1)) {
                    Ok(r) => pictures.rendered = Some(r),
                    Err(e) => warnings.push(format!("preview: ffmpeg's picture: {e}")),
                }
            }
            Ok(None) => {}
            Err(e) => warnings.push(format!("preview: {e}")),
        }
        return pictures;
    }
    let Some(bytes) = bytes else {
        return pictures;
    };
    let read = exif::read(bytes, media_type);
    // A JPEG XL decoder turns the picture by the codestream's own
    // orientation; its EXIF copy is not applied again.
    let orientation = match media_type {
        "image/jxl" => 1,
        _ => read.exif.as_ref().and_then(|e| e.orientation).unwrap_or(1),
    };
    if media_type == "image/jpeg" {
        if let Some(rendered) = mpf_preview(bytes, orientation) {
            pictures.rendered = Some(rendered);
            return pictures;
        }
    }
    match preview::decode(bytes, media_type) {
        Ok(decoded) => {
            pictures.size = Some((decoded.full_width, decoded.full_height));
            match preview::render(decoded, orientation) {
                Ok(r) => pictures.rendered = Some(r),
                Err(e) => warnings.push(format!("preview: {e}")),
            }
        }
        Err(preview::PreviewError::Unsupported(_))
            if HEIF.contains(&media_type) && path.is_file() =>
        {
            match heif_picture(path, warnings) {
                Some((picture, size)) => {
                    pictures.rendered = Some(picture);
                    pictures.size = Some(size);
                }
                None => {
                    pictures.rendered =
                        embedded_picture(bytes, read.thumbnail.as_deref(), orientation, warnings)
                }
            }
        }
        Err(preview::PreviewError::Unsupported(kind)) => {
            pictures.rendered =
                embedded_picture(bytes, read.thumbnail.as_deref(), orientation, warnings);
            if pictures.rendered.is_none() && !warnings.iter().any(|w| w.starts_with("preview:")) {
                warnings.push(format!(
                    "preview: no decoder for {kind} and no embedded JPEG"
                ));
            }
        }
        Err(e) => warnings.push(format!("preview: {e}")),
    }
    pictures
}

/// The preview from the largest image a JPEG's MPF index lists, when it
/// covers the preview's size (cameras write one of full-HD size); a smaller
/// one, or one that does not decode, leaves the photo to be decoded.
fn mpf_preview(bytes: &[u8], orientation: u8) -> Option<Rendered> {
    let large = mpf::images(bytes).into_iter().next()?;
    let (width, height) = preview::dimensions(large, "image/jpeg")?;
    if width.max(height) < PREVIEW_EDGE {
        return None;
    }
    let decoded = preview::decode(large, "image/jpeg").ok()?;
    preview::render(decoded, orientation).ok()
}

/// Raw files (and HEIF that libheif could not decode): the largest JPEG
/// the camera embedded (its preview), else the EXIF `thumbnail`, upright.
fn embedded_picture(
    bytes: &[u8],
    thumbnail: Option<&[u8]>,
    orientation: u8,
    warnings: &mut Vec<String>,
) -> Option<Rendered> {
    let largest = raw_preview::largest_jpeg(bytes);
    let thumbnail = thumbnail.filter(|t| Some(*t) != largest);
    let mut failed = None;
    for embedded in largest.into_iter().chain(thumbnail) {
        match preview::decode(embedded, "image/jpeg") {
            Ok(decoded) => {
                return match preview::render(decoded, orientation) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        warnings.push(format!("preview: {e}"));
                        None
                    }
                }
            }
            Err(e) => failed = Some(e),
        }
    }
    if let Some(e) = failed {
        warnings.push(format!("preview: embedded JPEG: {e}"));
    }
    None
}

/// The media types libheif decodes.
const HEIF: [&str; 3] = ["image/heic", "image/heif", "image/avif"];

/// A HEIF or AVIF file's picture, decoded by libheif and already upright,
/// with its size; why not, as a warning.
fn heif_picture(path: &Path, warnings: &mut Vec<String>) -> Option<(Rendered, (u32, u32))> {
    let decoded = super::heif::decode(path)
        .and_then(|jpeg| preview::decode(&jpeg, "image/jpeg").map_err(|e| e.to_string()))
        .and_then(|decoded| {
            let size = (decoded.full_width, decoded.full_height);
            preview::render(decoded, 1)
                .map(|r| (r, size))
                .map_err(|e| e.to_string())
        });
    match decoded {
        Ok(picture) => Some(picture),
        Err(e) => {
            warnings.push(format!(
                "preview: HEIF: {e}; the embedded thumbnail is used"
            ));
            None
        }
    }
}
