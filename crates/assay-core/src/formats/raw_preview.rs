//! The largest JPEG a camera raw file embeds, the preview Lightroom's
//! "Embedded & Sidecar" shows: raw formats keep it in a TIFF SubIFD
//! (DNG, NEF, ARW, CR2), a maker tag (RW2's JpgFromRaw), a header offset
//! (RAF) or a box (CR3's PRVW), each differently. Rather than know every
//! layout, every JPEG in the bytes is found by its structure: a start of
//! image, a chain of length-prefixed segments, a baseline or progressive
//! frame header (never the lossless JPEG raw data itself is stored in),
//! a start of scan, and the end of image after it. The one with the most
//! pixels wins; the caller decodes it, and falls back when that fails.

/// Start of image: `FF D8`, then the first marker's `FF`.
const SOI: [u8; 3] = [0xFF, 0xD8, 0xFF];

/// The end of image.
const EOI: [u8; 2] = [0xFF, 0xD9];

/// The largest embedded JPEG in `bytes`, by pixel area (then by size).
/// Linear in the bytes whatever they hold: the search for an end of image
/// is remembered, so starts of images that all lack one cost no more than
/// one does.
pub(crate) fn largest_jpeg(bytes: &[u8]) -> Option<&[u8]> {
    let mut best: Option<(u64, usize, &[u8])> = None;
    let mut from = 0;
    // The last search for an end of image: where it began, what it found.
    let mut searched: Option<(usize, Option<usize>)> = None;
    while let Some(found) = find(&bytes[from..], &SOI) {
        let start = from + found;
        from = start + 2;
        let Some((scan, area)) = jpeg_at(bytes, start) else {
            continue;
        };
        // The data of the scans has no FF D9 but the end of image.
        let eoi = match searched {
            Some((began, hit)) if began <= scan && hit.is_none_or(|h| scan <= h) => hit,
            _ => {
                let hit = bytes
                    .get(scan..)
                    .and_then(|rest| find(rest, &EOI))
                    .map(|i| scan + i);
                searched = Some((scan, hit));
                hit
            }
        };
        let Some(eoi) = eoi else {
            continue;
        };
        let end = eoi + EOI.len();
        let jpeg = &bytes[start..end];
        if best.is_none_or(|(a, len, _)| (area, jpeg.len()) > (a, len)) {
            best = Some((area, jpeg.len(), jpeg));
        }
    }
    best.map(|(_, _, jpeg)| jpeg)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The JPEG header starting at `start`, if one is there: where its first
/// scan's data begins, and its pixel area.
fn jpeg_at(bytes: &[u8], start: usize) -> Option<(usize, u64)> {
    let mut at = start + 2;
    let mut area = None;
    loop {
        // A marker, after any fill bytes.
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        while *bytes.get(at + 1)? == 0xFF {
            at += 1;
        }
        let marker = *bytes.get(at + 1)?;
        let length = usize::from(u16::from_be_bytes([
            *bytes.get(at + 2)?,
            *bytes.get(at + 3)?,
        ]));
        if length < 2 {
            return None;
        }
        match marker {
            // Baseline, extended and progressive Huffman frames: an image.
            0xC0..=0xC2 => {
                let height = u16::from_be_bytes([*bytes.get(at + 5)?, *bytes.get(at + 6)?]);
                let width = u16::from_be_bytes([*bytes.get(at + 7)?, *bytes.get(at + 8)?]);
                if width == 0 || height == 0 {
                    return None;
                }
                area = Some(u64::from(width) * u64::from(height));
            }
            // Lossless and arithmetic frames: raw sensor data, not a picture.
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            // The scan's data has no unescaped FF other than restart
            // markers; the end of image follows the last scan (a
            // progressive image's later scans and tables come before it).
            0xDA => return Some((at + 2 + length, area?)),
            // Markers without a length cannot come here.
            0xD0..=0xD9 | 0x01 => return None,
            _ => {}
        }
        at += 2 + length;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG of `width` x `height` pixels, encoded by the `image` crate.
    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let picture = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x * 7) as u8, (y * 5) as u8, 90])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        picture
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn the_largest_jpeg_among_raw_bytes_is_found_whole() {
        let (small, large) = (jpeg(16, 12), jpeg(64, 48));
        let mut raw = b"II*\0 raw header \xFF\xD8\xFF\x00 not a jpeg \xFF\xD8".to_vec();
        raw.extend_from_slice(&small);
        raw.extend_from_slice(&[0x12, 0xFF, 0xD9, 0x00, 0xFF]);
        raw.extend_from_slice(&large);
        raw.extend_from_slice(b"\xFF\xD8\xFF\xE0 trailing garbage");
        assert_eq!(largest_jpeg(&raw), Some(&large[..]));
        assert_eq!(largest_jpeg(&small), Some(&small[..]));
        assert_eq!(largest_jpeg(b"no jpeg here"), None);
        // Cut short: no end of image, no picture.
        assert_eq!(largest_jpeg(&large[..large.len() - 2]), None);
    }

    #[test]
    fn many_starts_without_an_end_cost_one_pass() {
        // Ten thousand image headers, none ever ended: were each to scan to
        // the end of the bytes on its own, that would be 10 GB read, and the
        // test's deadline would stop it.
        let header = jpeg(8, 8);
        let sos = header.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();
        let start = &header[..sos + 14];
        let mut bytes = Vec::new();
        for _ in 0..10_000 {
            bytes.extend_from_slice(start);
        }
        bytes.extend(std::iter::repeat_n(0x11, 1 << 20));
        assert_eq!(largest_jpeg(&bytes), None);
    }

    #[test]
    fn lossless_raw_data_is_not_a_picture() {
        let mut lossless = jpeg(64, 48);
        // Turn the frame header into a lossless one (SOF3), as raw data is.
        let sof = lossless.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        lossless[sof + 1] = 0xC3;
        assert_eq!(largest_jpeg(&lossless), None);
    }
}
