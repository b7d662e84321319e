//! The rights metadata a file carries inside it: its XMP packet and its
//! IPTC IIM block. JPEG keeps them in APP1 and APP13 segments and PNG the
//! packet in an `iTXt` chunk; TIFF-based files (TIFF, DNG and most raws)
//! keep them in IFD0, which the EXIF reader has already parsed. Everything
//! is found in the bytes import already holds; nothing is read again.

use std::borrow::Cow;

use crate::formats::exif::ExifRead;
use crate::formats::iim::{self, Iim};
use crate::formats::xmp::{self, Packet};

/// What a file says about its rights inside it.
#[derive(Debug, Default)]
pub struct Embedded {
    pub xmp: Option<Packet>,
    pub iim: Option<Iim>,
}

/// Finds and parses the XMP packet and IIM block of a file held in memory;
/// a packet that cannot be parsed becomes a warning.
pub fn read(
    bytes: &[u8],
    media_type: &str,
    exif: &ExifRead,
    warnings: &mut Vec<String>,
) -> Embedded {
    let (xmp, photoshop) = match media_type {
        "image/jpeg" => jpeg(bytes),
        "image/png" => (png_xmp(bytes, warnings), None),
        _ => (None, None),
    };
    let xmp = xmp.or(exif.xmp.as_deref());
    let iim = photoshop
        .as_deref()
        .and_then(iim::in_photoshop_resources)
        .or(exif.iim.as_deref());
    Embedded {
        xmp: xmp.and_then(|packet| match xmp::parse(packet) {
            Ok(packet) => Some(packet),
            Err(e) => {
                warnings.push(format!("embedded XMP: not read: {e}"));
                None
            }
        }),
        iim: iim.map(iim::parse),
    }
}

/// The XMP packet and the Photoshop image resources of a JPEG. Resources
/// too large for one APP13 segment continue in the next ones.
fn jpeg(bytes: &[u8]) -> (Option<&[u8]>, Option<Cow<'_, [u8]>>) {
    const XMP: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
    const PHOTOSHOP: &[u8] = b"Photoshop 3.0\0";
    let (mut xmp, mut photoshop) = (None, None::<Cow<[u8]>>);
    let mut at = 2; // after SOI
                    // Metadata segments all come before the image data (SOS).
    while let Some([0xFF, marker, len1, len2]) =
        bytes.get(at..at + 4).map(|b| [b[0], b[1], b[2], b[3]])
    {
        if marker == 0xDA || marker == 0xD9 {
            break;
        }
        let len = usize::from(u16::from_be_bytes([len1, len2]));
        let Some(payload) = bytes.get(at + 4..at + 2 + len) else {
            break;
        };
        match marker {
            // Extended XMP (`http://ns.adobe.com/xmp/extension/`) holds only what
            // overflows the main packet (previews, histories), never rights fields.
            0xE1 if xmp.is_none() => xmp = payload.strip_prefix(XMP),
            0xED => {
                if let Some(part) = payload.strip_prefix(PHOTOSHOP) {
                    photoshop = Some(match photoshop {
                        None => Cow::Borrowed(part),
                        Some(earlier) => Cow::Owned([earlier.as_ref(), part].concat()),
                    });
                }
            }
            _ => {}
        }
        at += 2 + len;
    }
    (xmp, photoshop)
}

/// The XMP packet of a PNG: an `iTXt` chunk with the keyword
/// `XML:com.adobe.xmp`, which the XMP specification says is uncompressed.
fn png_xmp<'a>(bytes: &'a [u8], warnings: &mut Vec<String>) -> Option<&'a [u8]> {
    const KEYWORD: &[u8] = b"XML:com.adobe.xmp\0";
    let mut at = 8; // after the signature
    while let Some(header) = bytes.get(at..at + 8) {
        let len = usize::try_from(u32::from_be_bytes([
            header[0], header[1], header[2], header[3],
        ]))
        .ok()?;
        let data = bytes.get(at + 8..(at + 8).checked_add(len)?)?;
        if &header[4..] == b"iTXt" {
            if let Some(rest) = data.strip_prefix(KEYWORD) {
                // Compression flag and method, then language and translated keyword.
                let [compressed, _method, rest @ ..] = rest else {
                    return None;
                };
                if *compressed != 0 {
                    warnings.push("embedded XMP: compressed iTXt chunk; not read".to_owned());
                    return None;
                }
                let mut fields = rest.splitn(3, |&b| b == 0);
                let (_lang, _translated) = (fields.next(), fields.next());
                return fields.next();
            }
        }
        if &header[4..] == b"IEND" {
            break;
        }
        at += 12 + len; // length, type, data, CRC
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKET: &[u8] = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF \
        xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description \
        xmlns:dc='http://purl.org/dc/elements/1.1/' dc:format='image/png'/></rdf:RDF></x:xmpmeta>";

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, marker];
        out.extend(((payload.len() + 2) as u16).to_be_bytes());
        out.extend(payload);
        out
    }

    #[test]
    fn jpeg_segments_give_the_packet_and_joined_resources() {
        let mut file = vec![0xFF, 0xD8];
        file.extend(segment(0xE0, b"JFIF\0"));
        file.extend(segment(
            0xE1,
            &[b"http://ns.adobe.com/xap/1.0/\0".as_slice(), PACKET].concat(),
        ));
        file.extend(segment(0xED, b"Photoshop 3.0\08BIM"));
        file.extend(segment(0xED, b"Photoshop 3.0\0\x04\x04"));
        file.extend(segment(0xDA, b"\0\0"));
        file.extend(segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0late"));
        let (xmp, photoshop) = jpeg(&file);
        assert_eq!(xmp, Some(PACKET));
        assert_eq!(photoshop.as_deref(), Some(b"8BIM\x04\x04".as_slice()));
        // Cut anywhere, it never panics.
        for cut in 0..file.len() {
            let _ = jpeg(&file[..cut]);
        }
    }

    #[test]
    fn png_itxt_gives_the_packet() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut chunk = |kind: &[u8], data: &[u8]| {
            png.extend((data.len() as u32).to_be_bytes());
            png.extend(kind);
            png.extend(data);
            png.extend([0; 4]);
        };
        chunk(b"IHDR", &[0; 13]);
        chunk(
            b"iTXt",
            &[b"XML:com.adobe.xmp\0\0\0\0\0".as_slice(), PACKET].concat(),
        );
        chunk(b"IEND", b"");
        let mut warnings = Vec::new();
        assert_eq!(png_xmp(&png, &mut warnings), Some(PACKET));
        let embedded = read(&png, "image/png", &ExifRead::default(), &mut warnings);
        assert!(
            embedded.xmp.is_some() && warnings.is_empty(),
            "{warnings:?}"
        );
        for cut in 0..png.len() {
            let _ = png_xmp(&png[..cut], &mut warnings);
        }
    }
}
