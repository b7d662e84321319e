//! Decoding from a stream, for a caller that must not hold a file in
//! memory to look at it: a market fingerprinting uploads of up to tens of
//! megabytes while others arrive. A JPEG goes through jpeg-decoder, which
//! reads its input as it decodes and, like libjpeg-turbo, scales inside
//! the inverse DCT (down to 1/8), so what it holds is the small picture;
//! the other formats go through the decoders [`crate::decode_covering`]
//! uses, which already read from a seekable stream. jpeg-decoder rounds
//! differently from libjpeg-turbo, so a fingerprint from here may differ
//! from the library's by a bit or two (measured in the tests): prints made
//! here are compared with prints made here.

use std::io::{self, BufRead, BufReader, Read, Seek};

use jpeg_decoder::{CodingProcess, PixelFormat};

use crate::{
    check_size, decode_generic, decode_jxl, Decoded, PreviewError, MAX_DECODE_ALLOC, MAX_PIXELS,
    MAX_PROGRESSIVE_PIXELS, MAX_PROGRESSIVE_SCANS,
};

/// Decodes the picture `reader` holds (a whole file of `media_type`) at a
/// size whose longest edge covers `edge` where the format can scale while
/// decoding, reading it as a stream.
pub fn decode_covering_from<R: BufRead + Seek>(
    reader: R,
    media_type: &str,
    edge: u32,
) -> Result<Decoded, PreviewError> {
    match media_type {
        "image/jpeg" => decode_jpeg(reader, edge),
        "image/png" | "image/gif" | "image/webp" | "image/bmp" | "image/tiff" => {
            decode_generic(reader)
        }
        "image/jxl" => decode_jxl(reader),
        other => Err(PreviewError::Unsupported(other.to_owned())),
    }
}

fn decode_jpeg<R: Read>(reader: R, edge: u32) -> Result<Decoded, PreviewError> {
    let damaged = |e: jpeg_decoder::Error| PreviewError::Decode(e.to_string());
    let mut decoder =
        jpeg_decoder::Decoder::new(BufReader::with_capacity(64 << 10, Scans::new(reader)));
    decoder.read_info().map_err(damaged)?;
    let info = decoder
        .info()
        .ok_or_else(|| PreviewError::Decode("no frame header".into()))?;
    let (full_width, full_height) = (u32::from(info.width), u32::from(info.height));
    let limit = if info.coding_process == CodingProcess::DctProgressive {
        MAX_PROGRESSIVE_PIXELS
    } else {
        MAX_PIXELS
    };
    check_size(full_width, full_height, limit)?;
    decoder.set_max_decoding_buffer_size(MAX_DECODE_ALLOC as usize);
    let edge = u16::try_from(edge).unwrap_or(u16::MAX);
    let (width, height) = decoder.scale(edge, edge).map_err(damaged)?;
    let pixels = decoder.decode().map_err(damaged)?;
    let format = decoder
        .info()
        .map_or(info.pixel_format, |scaled| scaled.pixel_format);
    let rgb = match format {
        PixelFormat::RGB24 => pixels,
        PixelFormat::L8 => pixels.iter().flat_map(|&g| [g, g, g]).collect(),
        // Big-endian samples: the high byte is the 8-bit value.
        PixelFormat::L16 => pixels
            .chunks_exact(2)
            .flat_map(|g| [g[0], g[0], g[0]])
            .collect(),
        // jpeg-decoder undoes Adobe's inverted inks: these are plain CMYK.
        PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|p| {
                [p[0], p[1], p[2]]
                    .map(|c| ((255 - u16::from(c)) * (255 - u16::from(p[3])) / 255) as u8)
            })
            .collect(),
    };
    let expected = usize::from(width) * usize::from(height) * 3;
    if rgb.len() != expected {
        return Err(PreviewError::Decode(format!(
            "{} bytes of pixels for a {width}x{height} picture",
            rgb.len()
        )));
    }
    Ok(Decoded {
        full_width,
        full_height,
        rgb,
        width: u32::from(width),
        height: u32::from(height),
    })
}

/// Counts the start-of-scan markers a JPEG stream passes and fails the
/// read past [`MAX_PROGRESSIVE_SCANS`]: each scan of a progressive file is
/// a pass over the whole picture, and thousands of tiny ones cost minutes
/// (libjpeg-turbo is given the same cap). Scans of an embedded thumbnail
/// are counted too, which only makes the cap a few scans tighter.
struct Scans<R> {
    inner: R,
    seen: u32,
    after_ff: bool,
}

impl<R> Scans<R> {
    fn new(inner: R) -> Scans<R> {
        Scans {
            inner,
            seen: 0,
            after_ff: false,
        }
    }
}

impl<R: Read> Read for Scans<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        for &byte in &buf[..read] {
            if self.after_ff && byte == 0xDA {
                self.seen += 1;
            }
            self.after_ff = byte == 0xFF;
        }
        if self.seen > MAX_PROGRESSIVE_SCANS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("more than {MAX_PROGRESSIVE_SCANS} scans"),
            ));
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode_covering, fingerprint_of, THUMBNAIL_EDGE};
    use std::io::Cursor;
    use std::path::Path;

    fn corpus() -> Vec<(std::path::PathBuf, &'static str)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/files");
        let mut found = Vec::new();
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                let media_type = match ext.to_ascii_lowercase().as_str() {
                    "jpg" | "jpeg" => "image/jpeg",
                    "png" => "image/png",
                    "webp" => "image/webp",
                    "tif" | "tiff" => "image/tiff",
                    "jxl" => "image/jxl",
                    _ => continue,
                };
                found.push((path, media_type));
            }
        }
        found.sort();
        found
    }

    fn distance(a: &crate::Fingerprint, b: &crate::Fingerprint) -> u32 {
        (a.turns[0] ^ b.turns[0]).count_ones()
    }

    /// Every picture of the corpus that the library's decoders read is read
    /// from a stream too, into a fingerprint a few bits from the library's.
    #[test]
    fn a_streamed_fingerprint_is_the_librarys_within_a_few_bits() {
        let mut compared = 0;
        let mut worst = (0, String::new());
        // Damaged files are left out: what each decoder makes of what it
        // lost is its own (libjpeg-turbo greys it).
        let intact = corpus()
            .into_iter()
            .filter(|(path, _)| !path.components().any(|c| c.as_os_str() == "invalid"));
        for (path, media_type) in intact {
            let bytes = std::fs::read(&path).unwrap();
            let Ok(whole) = decode_covering(&bytes, media_type, THUMBNAIL_EDGE) else {
                continue;
            };
            let streamed = decode_covering_from(Cursor::new(&bytes), media_type, THUMBNAIL_EDGE)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(
                (streamed.full_width, streamed.full_height),
                (whole.full_width, whole.full_height),
                "{}",
                path.display()
            );
            let d = distance(
                &fingerprint_of(whole).unwrap(),
                &fingerprint_of(streamed).unwrap(),
            );
            if d > worst.0 {
                worst = (d, path.display().to_string());
            }
            compared += 1;
        }
        assert!(compared > 100, "only {compared} pictures compared");
        // Measured: 0 bits for 120 of the 126, 2 for the others.
        assert!(worst.0 <= 2, "{} bits apart: {}", worst.0, worst.1);
    }

    /// A CMYK JPEG as Photoshop writes it (inverted inks, under Adobe's
    /// marker) comes out, both ways, as its RGB original (measured: 0 and 2
    /// bits from it), not as its negative (44 bits when the inks are read
    /// the wrong way round).
    #[test]
    fn a_cmyk_jpeg_is_not_read_as_its_negative() {
        let photo = corpus()
            .into_iter()
            .find(|(path, _)| path.ends_with("exif-org/fujifilm-dx10.jpg"))
            .unwrap();
        let rgb = turbojpeg::decompress(
            &std::fs::read(&photo.0).unwrap(),
            turbojpeg::PixelFormat::RGB,
        )
        .unwrap();
        // Naive separation: black from the brightest channel, inks from the rest.
        let cmyk: Vec<u8> = rgb
            .pixels
            .chunks_exact(3)
            .flat_map(|p| {
                let white = p.iter().copied().max().unwrap_or(0);
                let k = 255 - white;
                let ink =
                    |c: u8| 255 - (u16::from(c) * 255 / u16::from(white.max(1))).min(255) as u8;
                // Stored as Photoshop stores them: 255 for no ink.
                [255 - ink(p[0]), 255 - ink(p[1]), 255 - ink(p[2]), 255 - k]
            })
            .collect();
        let image = turbojpeg::Image {
            pixels: cmyk.as_slice(),
            width: rgb.width,
            pitch: rgb.width * 4,
            height: rgb.height,
            format: turbojpeg::PixelFormat::CMYK,
        };
        let jpeg = turbojpeg::compress(image, 95, turbojpeg::Subsamp::None).unwrap();
        let whole = decode_covering(&jpeg, "image/jpeg", THUMBNAIL_EDGE).unwrap();
        let streamed =
            decode_covering_from(Cursor::new(&jpeg[..]), "image/jpeg", THUMBNAIL_EDGE).unwrap();
        let original = fingerprint_of(
            decode_covering(
                &std::fs::read(&photo.0).unwrap(),
                "image/jpeg",
                THUMBNAIL_EDGE,
            )
            .unwrap(),
        )
        .unwrap();
        for (how, decoded) in [("whole", whole), ("streamed", streamed)] {
            let d = distance(&original, &fingerprint_of(decoded).unwrap());
            assert!(d <= 4, "{how}: {d} bits from the RGB original");
        }
    }

    /// A progressive JPEG of more scans than the cap is refused while being
    /// read, before the scans past it are decoded.
    #[test]
    fn a_jpeg_of_too_many_scans_is_refused() {
        let progressive = corpus()
            .into_iter()
            .map(|(path, _)| std::fs::read(path).unwrap())
            .find(|bytes| {
                jpeg_decoder::Decoder::new(Cursor::new(bytes))
                    .read_info()
                    .is_ok()
                    && turbojpeg::read_header(bytes).is_ok_and(|h| h.is_progressive)
            })
            .unwrap();
        // Past its own scans, more than the cap of tiny ones before the end
        // of image (a scan header for the first component, and no data).
        let end = progressive.len() - 2;
        let mut bomb = progressive[..end].to_vec();
        for _ in 0..=MAX_PROGRESSIVE_SCANS {
            bomb.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x01, 0x00]);
        }
        bomb.extend_from_slice(&[0xFF, 0xD9]);
        match decode_covering_from(Cursor::new(&bomb), "image/jpeg", THUMBNAIL_EDGE) {
            Err(PreviewError::Decode(why)) => assert!(why.contains("scans"), "{why}"),
            Err(other) => panic!("refused for another reason: {other}"),
            Ok(_) => panic!("decoded past {MAX_PROGRESSIVE_SCANS} scans"),
        }
    }
}
