//! Thumbnails and previews. Decoding dominates ingest time, so a JPEG is
//! decoded with DCT scaling at the smallest scale that still covers the
//! preview, then resized with a SIMD resizer; the thumbnail is made from the
//! preview, never from the full image. Orientation is applied last, on the
//! small images. Dimensions are checked before any pixel is decoded, so a
//! decompression bomb costs nothing.

use std::io::{BufRead, Cursor, Seek, SeekFrom};

use fast_image_resize::{images::Image, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

mod fingerprint;
mod streamed;

use fingerprint::fingerprint;
pub use fingerprint::{bands, fingerprint_of, neighbours, Fingerprint, BANDS};
pub use streamed::decode_covering_from;

/// Longest edge of the thumbnail shown in grids.
pub const THUMBNAIL_EDGE: u32 = 256;
/// Longest edge of the preview shown in the detail view.
pub const PREVIEW_EDGE: u32 = 1600;
/// The box (in CSS pixels) a grid cell shows its thumbnail in: the cell's
/// rendition ([`render_cell`]) fits inside it.
pub const CELL_BOX: (u32, u32) = (168, 112);
/// Images claiming more pixels than this are not decoded (decompression bombs).
pub const MAX_PIXELS: u64 = 150_000_000;
/// Progressive JPEGs keep every coefficient in memory; they get a lower cap.
const MAX_PROGRESSIVE_PIXELS: u64 = 60_000_000;
/// Memory the general-purpose decoders may allocate for one image.
const MAX_DECODE_ALLOC: u64 = 512 << 20;

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("image is {width}x{height} pixels, over the {limit} pixel limit; not decoded")]
    TooLarge { width: u32, height: u32, limit: u64 },
    #[error("image data is damaged: {0}")]
    Decode(String),
    #[error("no decoder for {0}")]
    Unsupported(String),
    #[error("preview encoding failed: {0}")]
    Encode(String),
}

/// Decoded RGB pixels at reduced size, plus the image's full dimensions.
pub struct Decoded {
    /// Pixel dimensions of the stored image (before orientation).
    pub full_width: u32,
    pub full_height: u32,
    rgb: Vec<u8>,
    width: u32,
    height: u32,
}

/// The encoded JPEGs, ready to be written, and the picture's fingerprint.
pub struct Rendered {
    pub thumbnail: Vec<u8>,
    pub preview: Vec<u8>,
    pub fingerprint: Fingerprint,
}

/// Decodes `bytes` (a whole file of `media_type`) at a size that covers the preview.
pub fn decode(bytes: &[u8], media_type: &str) -> Result<Decoded, PreviewError> {
    decode_covering(bytes, media_type, PREVIEW_EDGE)
}

/// Decodes `bytes` at a size whose longest edge covers `edge` where the
/// format can scale while decoding (a JPEG, by DCT scaling down to 1/8);
/// other formats are decoded whole.
pub fn decode_covering(bytes: &[u8], media_type: &str, edge: u32) -> Result<Decoded, PreviewError> {
    match media_type {
        "image/jpeg" => decode_jpeg(bytes, edge),
        "image/png" | "image/gif" | "image/webp" | "image/bmp" | "image/tiff" => {
            decode_generic(Cursor::new(bytes))
        }
        "image/jxl" => decode_jxl(Cursor::new(bytes)),
        other => Err(PreviewError::Unsupported(other.to_owned())),
    }
}

/// Reads only the header: the image's pixel dimensions (as stored, before
/// orientation), for the formats `decode` knows; `None` for the others.
pub fn dimensions(bytes: &[u8], media_type: &str) -> Option<(u32, u32)> {
    match media_type {
        "image/jpeg" => {
            let header = turbojpeg::read_header(bytes).ok()?;
            Some((
                u32::try_from(header.width).ok()?,
                u32::try_from(header.height).ok()?,
            ))
        }
        "image/png" | "image/gif" | "image/webp" | "image/bmp" | "image/tiff" => {
            image::ImageReader::new(Cursor::new(bytes))
                .with_guessed_format()
                .ok()?
                .into_dimensions()
                .ok()
        }
        "image/jxl" => {
            let image = jxl_oxide::JxlImage::builder()
                .read(Cursor::new(bytes))
                .ok()?;
            Some((image.width(), image.height()))
        }
        _ => None,
    }
}

fn check_size(width: u32, height: u32, limit: u64) -> Result<(), PreviewError> {
    if u64::from(width) * u64::from(height) > limit {
        return Err(PreviewError::TooLarge {
            width,
            height,
            limit,
        });
    }
    Ok(())
}

/// A progressive file can carry thousands of tiny scans, each a full pass
/// over the image; libjpeg-turbo's own advice for untrusted input is a cap.
const MAX_PROGRESSIVE_SCANS: u32 = 500;

/// JPEGs go through libjpeg-turbo: its SIMD Huffman decoder is several times
/// faster than a pure-Rust one, and it scales inside the inverse DCT, so the
/// pixels it produces are already near the preview's size.
fn decode_jpeg(bytes: &[u8], edge: u32) -> Result<Decoded, PreviewError> {
    use turbojpeg::{Colorspace, Image, PixelFormat};
    let damaged = |e: turbojpeg::Error| PreviewError::Decode(e.to_string());

    let mut decompressor = turbojpeg::Decompressor::new().map_err(damaged)?;
    let header = decompressor.read_header(bytes).map_err(damaged)?;
    let too_big = |_| PreviewError::Decode("dimensions overflow".into());
    let full_width = u32::try_from(header.width).map_err(too_big)?;
    let full_height = u32::try_from(header.height).map_err(too_big)?;
    let limit = if header.is_progressive {
        MAX_PROGRESSIVE_PIXELS
    } else {
        MAX_PIXELS
    };
    check_size(full_width, full_height, limit)?;
    if header.is_progressive {
        decompressor
            .set_scan_limit(MAX_PROGRESSIVE_SCANS)
            .map_err(damaged)?;
    }
    // Lossless JPEG cannot be scaled while decoding; it is decoded whole.
    if !header.is_lossless {
        let factor = covering_scale(header.width.max(header.height), edge);
        decompressor.set_scaling_factor(factor).map_err(damaged)?;
    }
    let scaled = header.scaled(decompressor.scaling_factor());
    // TurboJPEG will not convert CMYK to RGB; that is done here.
    let cmyk = matches!(header.colorspace, Colorspace::CMYK | Colorspace::YCCK);
    let format = if cmyk {
        PixelFormat::CMYK
    } else {
        PixelFormat::RGB
    };
    let pitch = scaled.width * format.size();
    let mut image = Image {
        pixels: scratch::take(pitch * scaled.height),
        width: scaled.width,
        pitch,
        height: scaled.height,
        format,
    };
    decompressor
        .decompress(bytes, image.as_deref_mut())
        .map_err(damaged)?;
    let rgb = if cmyk {
        // Adobe's CMYK JPEGs, nearly all there are, store inverted inks.
        let rgb = image
            .pixels
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]].map(|c| (u16::from(c) * u16::from(p[3]) / 255) as u8))
            .collect();
        scratch::give(image.pixels);
        rgb
    } else {
        image.pixels
    };
    Ok(Decoded {
        full_width,
        full_height,
        rgb,
        width: u32::try_from(scaled.width).map_err(too_big)?,
        height: u32::try_from(scaled.height).map_err(too_big)?,
    })
}

/// The smallest DCT scaling (in eighths) whose result still covers `edge`.
fn covering_scale(longest: usize, edge: u32) -> turbojpeg::ScalingFactor {
    (1..8)
        .map(|eighths| turbojpeg::ScalingFactor::new(eighths, 8))
        .find(|factor| factor.scale(longest) >= edge as usize)
        .unwrap_or(turbojpeg::ScalingFactor::ONE)
}

fn decode_generic<R: BufRead + Seek>(mut source: R) -> Result<Decoded, PreviewError> {
    let damaged = |e: image::ImageError| PreviewError::Decode(e.to_string());
    // The header is read first, then the picture from the start again.
    fn reader<R: BufRead + Seek>(
        source: &mut R,
    ) -> Result<image::ImageReader<&mut R>, PreviewError> {
        source
            .seek(SeekFrom::Start(0))
            .map_err(|e| PreviewError::Decode(e.to_string()))?;
        image::ImageReader::new(source)
            .with_guessed_format()
            .map_err(|e| PreviewError::Decode(e.to_string()))
    }
    let (full_width, full_height) = reader(&mut source)?.into_dimensions().map_err(damaged)?;
    check_size(full_width, full_height, MAX_PIXELS)?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    let mut reader = reader(&mut source)?;
    reader.limits(limits);
    let image = reader.decode().map_err(damaged)?.into_rgb8();
    let (width, height) = image.dimensions();
    Ok(Decoded {
        full_width,
        full_height,
        rgb: image.into_raw(),
        width,
        height,
    })
}

/// JPEG XL through jxl-oxide, a pure-Rust decoder: the first frame, its
/// colour channels as 8-bit, upright (the codestream's own orientation is
/// applied by the decoder, so the caller passes none). Its size is checked
/// from the header before any pixel is decoded.
fn decode_jxl<R: std::io::Read>(source: R) -> Result<Decoded, PreviewError> {
    let damaged = |e: Box<dyn std::error::Error + Send + Sync>| PreviewError::Decode(e.to_string());
    let image = jxl_oxide::JxlImage::builder()
        .read(source)
        .map_err(damaged)?;
    let (width, height) = (image.width(), image.height());
    check_size(width, height, MAX_PIXELS)?;
    let render = image.render_frame(0).map_err(damaged)?;
    let mut stream = render.stream_no_alpha();
    let channels = stream.channels() as usize;
    let pixels = width as usize * height as usize;
    let mut samples = vec![0u8; pixels * channels];
    stream.write_to_buffer(&mut samples);
    let rgb = match channels {
        3 => samples,
        1 => samples.iter().flat_map(|&g| [g, g, g]).collect(),
        other => {
            return Err(PreviewError::Unsupported(format!(
                "JPEG XL with {other} colour channels"
            )))
        }
    };
    Ok(Decoded {
        full_width: width,
        full_height: height,
        rgb,
        width,
        height,
    })
}

/// Makes the preview and the thumbnail from `decoded`, applying the EXIF orientation.
pub fn render(decoded: Decoded, orientation: u8) -> Result<Rendered, PreviewError> {
    let mut resizer = Resizer::new();
    let decoded = (decoded.rgb, decoded.width, decoded.height);
    let preview = fit(&mut resizer, decoded, PREVIEW_EDGE)?;
    let thumbnail = fit(&mut resizer, copy(&preview), THUMBNAIL_EDGE)?;
    let (preview, thumbnail) = (orient(preview, orientation), orient(thumbnail, orientation));
    let rendered = Rendered {
        preview: encode(&preview, 82)?,
        thumbnail: encode(&thumbnail, 80)?,
        fingerprint: fingerprint(&thumbnail)?,
    };
    scratch::give(preview.0);
    scratch::give(thumbnail.0);
    Ok(rendered)
}

/// Makes only the thumbnail from `decoded`, applying the EXIF orientation:
/// what an import shows in the grid before the preview is made.
pub fn render_thumbnail(decoded: Decoded, orientation: u8) -> Result<Vec<u8>, PreviewError> {
    let thumbnail = orient(thumbnail_pixels(decoded)?, orientation);
    let jpeg = encode(&thumbnail, 80)?;
    scratch::give(thumbnail.0);
    Ok(jpeg)
}

/// The grid cell's rendition of a thumbnail: `thumbnail` (a JPEG this crate
/// made, already upright) scaled down to fit [`CELL_BOX`]. A webview keeps
/// every picture it shows decoded at its own size, so a cell showing the
/// 256-pixel thumbnail in at most 168 x 112 pixels holds over twice the
/// pixels it paints; the rendition holds only those. A thumbnail that fits
/// already is re-encoded as it is.
pub fn render_cell(thumbnail: &[u8]) -> Result<Vec<u8>, PreviewError> {
    let decoded = decode_jpeg(thumbnail, CELL_BOX.0.max(CELL_BOX.1))?;
    // The shape is the thumbnail's own: a DCT-scaled decode rounds its edges up.
    let (width, height) = (decoded.full_width, decoded.full_height);
    let (box_width, box_height) = CELL_BOX;
    let scale =
        (f64::from(box_width) / f64::from(width)).min(f64::from(box_height) / f64::from(height));
    let (dw, dh) = if scale >= 1.0 {
        (width, height)
    } else {
        (
            ((f64::from(width) * scale).round() as u32).clamp(1, box_width),
            ((f64::from(height) * scale).round() as u32).clamp(1, box_height),
        )
    };
    let rgb = (decoded.rgb, decoded.width, decoded.height);
    let cell = if (dw, dh) == (rgb.1, rgb.2) {
        rgb
    } else {
        resize(&mut Resizer::new(), rgb, dw, dh)?
    };
    let jpeg = encode(&cell, 82)?;
    scratch::give(cell.0);
    Ok(jpeg)
}

/// The file name of the cell's rendition of the thumbnail file `name`
/// (`HEX-thumb.jpg` → `HEX-thumb-cell.jpg`); `None` for a name that is not a
/// JPEG's or is a cell rendition already. Kept beside its thumbnail, so the
/// copies of a catalog that share a thumbnail share its rendition, and the
/// orphan sweep keeps it exactly as long as its thumbnail
/// ([`thumbnail_of_cell`]).
pub fn cell_name(name: &str) -> Option<String> {
    let stem = name.strip_suffix(".jpg")?;
    (!stem.is_empty() && !stem.ends_with(CELL_SUFFIX)).then(|| format!("{stem}{CELL_SUFFIX}.jpg"))
}

/// The thumbnail file name whose cell rendition is `name`, if it is one.
pub fn thumbnail_of_cell(name: &str) -> Option<String> {
    let stem = name.strip_suffix(".jpg")?.strip_suffix(CELL_SUFFIX)?;
    (!stem.is_empty()).then(|| format!("{stem}.jpg"))
}

const CELL_SUFFIX: &str = "-cell";

type Rgb = (Vec<u8>, u32, u32);

/// `decoded` scaled down to the thumbnail's size, as stored (not turned).
fn thumbnail_pixels(decoded: Decoded) -> Result<Rgb, PreviewError> {
    fit(
        &mut Resizer::new(),
        (decoded.rgb, decoded.width, decoded.height),
        THUMBNAIL_EDGE,
    )
}

fn copy((rgb, w, h): &Rgb) -> Rgb {
    let mut out = scratch::take(rgb.len());
    out.copy_from_slice(rgb);
    (out, *w, *h)
}

/// Scales the image down so its longest edge is `edge`; never scales up.
fn fit(resizer: &mut Resizer, (rgb, width, height): Rgb, edge: u32) -> Result<Rgb, PreviewError> {
    let longest = width.max(height);
    if longest <= edge {
        return Ok((rgb, width, height));
    }
    let scale = f64::from(edge) / f64::from(longest);
    let (dw, dh) = (
        ((f64::from(width) * scale).round() as u32).max(1),
        ((f64::from(height) * scale).round() as u32).max(1),
    );
    resize(resizer, (rgb, width, height), dw, dh)
}

/// Scales the image to exactly `dw` x `dh`.
fn resize(
    resizer: &mut Resizer,
    (rgb, width, height): Rgb,
    dw: u32,
    dh: u32,
) -> Result<Rgb, PreviewError> {
    let src = Image::from_vec_u8(width, height, rgb, PixelType::U8x3)
        .map_err(|e| PreviewError::Decode(e.to_string()))?;
    let dst_buffer = scratch::take(dw as usize * dh as usize * 3);
    let mut dst = Image::from_vec_u8(dw, dh, dst_buffer, PixelType::U8x3)
        .map_err(|e| PreviewError::Encode(e.to_string()))?;
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
    resizer
        .resize(&src, &mut dst, &options)
        .map_err(|e| PreviewError::Encode(e.to_string()))?;
    scratch::give(src.into_vec());
    Ok((dst.into_vec(), dw, dh))
}

/// Applies EXIF orientation `o` (1-8) so the image displays upright.
fn orient((rgb, w, h): Rgb, o: u8) -> Rgb {
    if !(2..=8).contains(&o) {
        return (rgb, w, h);
    }
    let (w, h) = (w as usize, h as usize);
    // Orientations 5-8 swap the axes.
    let (ow, oh) = if o >= 5 { (h, w) } else { (w, h) };
    let mut out = scratch::take(rgb.len());
    for y in 0..h {
        for x in 0..w {
            let (nx, ny) = match o {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (h - 1 - y, x),
                7 => (h - 1 - y, w - 1 - x),
                _ => (y, w - 1 - x), // 8
            };
            let (src, dst) = ((y * w + x) * 3, (ny * ow + nx) * 3);
            out[dst..dst + 3].copy_from_slice(&rgb[src..src + 3]);
        }
    }
    scratch::give(rgb);
    (out, ow as u32, oh as u32)
}

/// Encodes with libjpeg-turbo (SIMD colour conversion, DCT and Huffman coding),
/// then hands the pixel buffer back for the next image.
fn encode((rgb, w, h): &Rgb, quality: i32) -> Result<Vec<u8>, PreviewError> {
    let failed = |e: turbojpeg::Error| PreviewError::Encode(e.to_string());
    let mut compressor = turbojpeg::Compressor::new().map_err(failed)?;
    compressor.set_quality(quality).map_err(failed)?;
    compressor
        .set_subsamp(turbojpeg::Subsamp::Sub2x2)
        .map_err(failed)?;
    let image = turbojpeg::Image {
        pixels: rgb.as_slice(),
        width: *w as usize,
        pitch: *w as usize * 3,
        height: *h as usize,
        format: turbojpeg::PixelFormat::RGB,
    };
    compressor.compress_to_vec(image).map_err(failed)
}

/// Reusable pixel buffers, one small pool per worker thread. Each import
/// decodes megapixels per file; fresh allocations cost page faults and
/// zeroing on every file, reused ones cost neither.
mod scratch {
    use std::cell::RefCell;

    const KEEP: usize = 4;

    thread_local! {
        static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    }

    /// A buffer of exactly `len` bytes; its contents are unspecified.
    pub fn take(len: usize) -> Vec<u8> {
        let mut buffer = POOL
            .with(|pool| pool.borrow_mut().pop())
            .unwrap_or_default();
        buffer.resize(len, 0);
        buffer
    }

    pub fn give(buffer: Vec<u8>) {
        POOL.with(|pool| {
            let mut pool = pool.borrow_mut();
            if pool.len() < KEEP {
                pool.push(buffer);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3x2 image whose pixels are numbered 0..6 in the red channel.
    fn numbered() -> Rgb {
        ((0..6u8).flat_map(|i| [i, 0, 0]).collect(), 3, 2)
    }

    fn reds((rgb, w, h): &Rgb) -> (Vec<u8>, u32, u32) {
        (rgb.chunks(3).map(|p| p[0]).collect(), *w, *h)
    }

    #[test]
    fn orientation_matches_the_exif_definitions() {
        // 0 1 2
        // 3 4 5
        assert_eq!(reds(&orient(numbered(), 1)), (vec![0, 1, 2, 3, 4, 5], 3, 2));
        assert_eq!(reds(&orient(numbered(), 2)), (vec![2, 1, 0, 5, 4, 3], 3, 2));
        assert_eq!(reds(&orient(numbered(), 3)), (vec![5, 4, 3, 2, 1, 0], 3, 2));
        assert_eq!(reds(&orient(numbered(), 4)), (vec![3, 4, 5, 0, 1, 2], 3, 2));
        assert_eq!(reds(&orient(numbered(), 5)), (vec![0, 3, 1, 4, 2, 5], 2, 3));
        assert_eq!(reds(&orient(numbered(), 6)), (vec![3, 0, 4, 1, 5, 2], 2, 3));
        assert_eq!(reds(&orient(numbered(), 7)), (vec![5, 2, 4, 1, 3, 0], 2, 3));
        assert_eq!(reds(&orient(numbered(), 8)), (vec![2, 5, 1, 4, 0, 3], 2, 3));
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_cell_rendition_fits_the_cell_and_keeps_the_shape() {
        for (w, h, expect) in [
            (256, 171, (168, 112)), // landscape 3:2: as wide as the cell
            (171, 256, (75, 112)),  // portrait: as tall as the cell
            (256, 64, (168, 42)),   // a panorama
            (100, 50, (100, 50)),   // small already: never scaled up
        ] {
            let rgb = (0..w * h)
                .flat_map(|i| [(i % 251) as u8, 90, 200])
                .collect();
            let thumbnail = encode(&(rgb, w, h), 80).unwrap();
            let cell = render_cell(&thumbnail).unwrap();
            let header = turbojpeg::read_header(&cell).unwrap();
            assert_eq!(
                (header.width as u32, header.height as u32),
                expect,
                "{w}x{h}"
            );
        }
    }

    #[test]
    fn a_damaged_thumbnail_is_an_error_not_a_panic() {
        assert!(matches!(
            render_cell(b"not a jpeg"),
            Err(PreviewError::Decode(_))
        ));
        assert!(render_cell(&[]).is_err());
    }

    #[test]
    fn a_cell_rendition_is_named_after_its_thumbnail() {
        assert_eq!(
            cell_name("ab12-thumb.jpg").as_deref(),
            Some("ab12-thumb-cell.jpg")
        );
        assert_eq!(
            cell_name("ab12-quick.jpg").as_deref(),
            Some("ab12-quick-cell.jpg")
        );
        assert_eq!(cell_name("ab12-thumb-cell.jpg"), None);
        assert_eq!(cell_name("ab12.mp4"), None);
        assert_eq!(cell_name(".jpg"), None);
        assert_eq!(
            thumbnail_of_cell("ab12-thumb-cell.jpg").as_deref(),
            Some("ab12-thumb.jpg")
        );
        assert_eq!(thumbnail_of_cell("ab12-thumb.jpg"), None);
        assert_eq!(thumbnail_of_cell("-cell.jpg"), None);
    }

    #[test]
    fn a_claimed_giant_is_refused_before_decoding() {
        // A PNG header claiming 100000 x 100000 pixels, and no pixel data.
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0d".to_vec();
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        // An empty IDAT: the header is complete, the pixels are not there.
        png.extend_from_slice(b"\0\0\0\0IDAT");
        png.extend_from_slice(&crc32(b"IDAT").to_be_bytes());
        let err = decode(&png, "image/png").err().unwrap();
        assert!(matches!(err, PreviewError::TooLarge { .. }), "{err}");
    }
}
