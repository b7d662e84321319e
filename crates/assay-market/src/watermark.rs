//! Turns a publisher's preview image into what buyers see: decoded with
//! limits, downsampled to at most [`PREVIEW_EDGE`] px on the long edge, a
//! visible watermark stamped into the pixels, encoded as JPEG.
//!
//! The watermark is a fixed pattern, so no font is needed and the same
//! image always gives the same preview:
//! - diagonal stripes 12 px wide every 48 px (`x + y`), each pixel blended
//!   45% toward white;
//! - a band across the middle, an eighth of the height, darkened to 40%
//!   with an 8 px checkerboard of white squares in it.
//!
//! It does not make copying impossible; it makes a preview useless as
//! training data and plainly not the original, which is all it is for.

use std::io::Cursor;

use assay_market_proto::previews::PREVIEW_EDGE;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{ImageFormat, ImageReader, Limits, Rgb, RgbImage};

/// Larger images are refused before any pixel is decoded.
const MAX_DIMENSION: u32 = 16_384;
/// The most the decoder may allocate (a 12-megapixel RGBA image is 48 MiB).
const MAX_ALLOC: u64 = 256 << 20;
const QUALITY: u8 = 82;

/// A rendered preview.
pub(crate) struct Rendered {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RenderError {
    #[error("the body is not a JPEG or PNG image")]
    NotAnImage,
    #[error("the image cannot be decoded: {0}")]
    Undecodable(String),
    #[error("the preview cannot be encoded: {0}")]
    Encode(String),
}

/// The watermarked, downsampled JPEG of a JPEG or PNG image.
pub(crate) fn render(input: &[u8]) -> Result<Rendered, RenderError> {
    let reader = ImageReader::new(Cursor::new(input))
        .with_guessed_format()
        .map_err(|e| RenderError::Undecodable(e.to_string()))?;
    // The bytes decide, not the Content-Type: only these two decoders run.
    if !matches!(reader.format(), Some(ImageFormat::Jpeg | ImageFormat::Png)) {
        return Err(RenderError::NotAnImage);
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_ALLOC);
    let mut reader = reader;
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|e| RenderError::Undecodable(e.to_string()))?;
    let (w, h) = (image.width(), image.height());
    if w == 0 || h == 0 {
        return Err(RenderError::Undecodable("the image is empty".to_owned()));
    }
    let image = if w.max(h) > PREVIEW_EDGE {
        let (nw, nh) = fit(w, h, PREVIEW_EDGE);
        image.resize_exact(nw, nh, FilterType::Triangle)
    } else {
        image
    };
    let mut rgb = image.to_rgb8();
    stamp(&mut rgb);
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, QUALITY)
        .encode_image(&rgb)
        .map_err(|e| RenderError::Encode(e.to_string()))?;
    Ok(Rendered {
        jpeg,
        width: rgb.width(),
        height: rgb.height(),
    })
}

/// `w`×`h` scaled so the long edge is `edge`, at least 1 px each way.
fn fit(w: u32, h: u32, edge: u32) -> (u32, u32) {
    let scale = |short: u32, long: u32| {
        u32::try_from(u64::from(short) * u64::from(edge) / u64::from(long))
            .unwrap_or(edge)
            .max(1)
    };
    if w >= h {
        (edge, scale(h, w))
    } else {
        (scale(w, h), edge)
    }
}

/// Draws the watermark described in the module documentation.
fn stamp(image: &mut RgbImage) {
    let height = image.height();
    let band = (height / 8).max(1);
    let top = (height - band) / 2;
    for (x, y, Rgb(pixel)) in image.enumerate_pixels_mut() {
        let in_band = (top..top + band).contains(&y);
        if in_band {
            let square = ((x / 8) + (y / 8)) % 2 == 0;
            for c in pixel.iter_mut() {
                *c = if square { 255 } else { scale(*c, 40) };
            }
        } else if (x + y) % 48 < 12 {
            for c in pixel.iter_mut() {
                *c = toward_white(*c, 45);
            }
        }
    }
}

fn scale(c: u8, percent: u16) -> u8 {
    u8::try_from(u16::from(c) * percent / 100).unwrap_or(u8::MAX)
}

fn toward_white(c: u8, percent: u16) -> u8 {
    let c = u16::from(c);
    u8::try_from(c + (255 - c) * percent / 100).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(w, h, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let mut out = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn a_large_image_is_downsampled_and_marked() {
        let rendered = render(&png(1200, 800)).unwrap();
        assert_eq!((rendered.width, rendered.height), (512, 341));
        let back = image::load_from_memory(&rendered.jpeg).unwrap().to_rgb8();
        assert_eq!(back.dimensions(), (512, 341));
        // The middle of the band holds the checkerboard's white squares.
        let mid = back.height() / 2;
        let whites = (0..back.width())
            .filter(|&x| back.get_pixel(x, mid).0.iter().all(|&c| c > 200))
            .count();
        assert!(whites > 150, "{whites}");
        // Rendering is deterministic.
        assert_eq!(render(&png(1200, 800)).unwrap().jpeg, rendered.jpeg);
    }

    #[test]
    fn a_small_image_keeps_its_size_and_non_images_are_refused() {
        let rendered = render(&png(40, 100)).unwrap();
        assert_eq!((rendered.width, rendered.height), (40, 100));
        assert!(matches!(
            render(b"GIF89a...."),
            Err(RenderError::NotAnImage)
        ));
        assert!(matches!(render(b"hello"), Err(RenderError::NotAnImage)));
        let mut truncated = png(100, 100);
        truncated.truncate(60);
        assert!(matches!(
            render(&truncated),
            Err(RenderError::Undecodable(_))
        ));
        assert_eq!(fit(4000, 1, 512), (512, 1));
    }
}
