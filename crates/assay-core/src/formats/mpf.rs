//! The Multi-Picture Format (CIPA DC-007) index most cameras write into
//! their JPEGs: an APP2 segment starting `MPF\0`, holding a TIFF-structured
//! index whose `MPEntry` (tag 0xB002) lists each image in the file by size
//! and offset. The first entry is the photo itself; the others follow its
//! end of image, usually a "large thumbnail" of full-HD size, which makes a
//! 1600-pixel preview without decoding the 24 megapixels before it.
//!
//! Offsets count from the index's TIFF header (just after `MPF\0`); every
//! one is checked against the file before any byte is sliced.

/// The `MPEntry` tag: 16 bytes per image.
const MP_ENTRY: u16 = 0xB002;
const ENTRY_LEN: usize = 16;
/// More than a camera ever writes; an index claiming more is not trusted.
const MAX_IMAGES: usize = 64;

/// The images after the first that the file's MPF index lists and that are
/// really there (whole, starting with a JPEG start of image), largest
/// first. Empty for a file without an index or with a damaged one.
pub(crate) fn images(jpeg: &[u8]) -> Vec<&[u8]> {
    let Some(header) = index_start(jpeg) else {
        return Vec::new();
    };
    let mut found: Vec<&[u8]> = entries(&jpeg[header..])
        .into_iter()
        .flatten()
        .skip(1)
        .filter_map(|(size, offset)| {
            let start = header.checked_add(offset)?;
            let image = jpeg.get(start..start.checked_add(size)?)?;
            image.starts_with(&[0xFF, 0xD8]).then_some(image)
        })
        .collect();
    found.sort_by_key(|image| std::cmp::Reverse(image.len()));
    found
}

/// Where the MPF index's TIFF header starts: just after `MPF\0` in the
/// first APP2 segment that holds one, among the segments before the scan.
fn index_start(jpeg: &[u8]) -> Option<usize> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut at = 2;
    loop {
        let marker = *jpeg.get(at + 1)?;
        if *jpeg.get(at)? != 0xFF {
            return None;
        }
        // Start of scan or end of image: the header segments are over.
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([*jpeg.get(at + 2)?, *jpeg.get(at + 3)?]));
        let body = jpeg.get(at + 4..(at + 2).checked_add(len)?)?;
        if marker == 0xE2 && body.starts_with(b"MPF\0") {
            return Some(at + 4 + 4);
        }
        at += 2 + len;
    }
}

/// The (size, offset) of every image the index at the start of `tiff`
/// lists; `None` when it is damaged.
fn entries(tiff: &[u8]) -> Option<Vec<(usize, usize)>> {
    let big_endian = match tiff.get(..4)? {
        b"MM\0\x2A" => true,
        b"II\x2A\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = [*tiff.get(at)?, *tiff.get(at + 1)?];
        Some(if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<usize> {
        let b: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        let n = if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        };
        usize::try_from(n).ok()
    };
    let ifd = u32_at(4)?;
    let count = usize::from(u16_at(ifd)?);
    let (count_of_bytes, data) = (0..count).find_map(|i| {
        let entry = ifd + 2 + i * 12;
        (u16_at(entry)? == MP_ENTRY).then(|| Some((u32_at(entry + 4)?, u32_at(entry + 8)?)))?
    })?;
    let images = count_of_bytes / ENTRY_LEN;
    if images > MAX_IMAGES {
        return None;
    }
    (0..images)
        .map(|i| {
            let entry = data.checked_add(i * ENTRY_LEN)?;
            Some((u32_at(entry + 4)?, u32_at(entry + 8)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG-shaped file: SOI, an APP2 MPF index listing the file itself
    /// and `preview`, a stand-in scan and EOI, then `preview`.
    fn with_preview(preview: &[u8], big_endian: bool) -> Vec<u8> {
        let w16 = |n: u16| {
            if big_endian {
                n.to_be_bytes()
            } else {
                n.to_le_bytes()
            }
        };
        let w32 = |n: u32| {
            if big_endian {
                n.to_be_bytes()
            } else {
                n.to_le_bytes()
            }
        };
        let mut tiff: Vec<u8> = if big_endian {
            b"MM\0\x2A".to_vec()
        } else {
            b"II\x2A\0".to_vec()
        };
        tiff.extend(w32(8));
        tiff.extend(w16(1));
        tiff.extend(w16(MP_ENTRY));
        tiff.extend(w16(7));
        tiff.extend(w32(32));
        tiff.extend(w32(8 + 2 + 12 + 4));
        tiff.extend(w32(0));
        // SOI, APP2 marker and length, `MPF\0`: the TIFF header's place.
        let header_at = 2 + 4 + 4;
        // The index (its two entries still to come) and a stand-in scan.
        let main_len = header_at + tiff.len() + 2 * ENTRY_LEN + 6;
        let preview_at = (main_len - header_at) as u32;
        for (size, start) in [(main_len as u32, 0), (preview.len() as u32, preview_at)] {
            tiff.extend(w32(0));
            tiff.extend(w32(size));
            tiff.extend(w32(start));
            tiff.extend([0; 4]);
        }
        let mut file = vec![0xFF, 0xD8, 0xFF, 0xE2];
        file.extend(((2 + 4 + tiff.len()) as u16).to_be_bytes());
        file.extend(b"MPF\0");
        file.extend(&tiff);
        file.extend([0xFF, 0xDA, 0, 2, 0xFF, 0xD9]);
        assert_eq!(file.len(), main_len);
        file.extend(preview);
        file
    }

    #[test]
    fn finds_the_listed_preview_in_either_byte_order() {
        let preview = [0xFF, 0xD8, 1, 2, 3, 0xFF, 0xD9];
        for big_endian in [true, false] {
            let file = with_preview(&preview, big_endian);
            assert_eq!(images(&file), vec![&preview[..]]);
        }
    }

    #[test]
    fn an_entry_past_the_end_or_not_a_jpeg_is_ignored() {
        let preview = [0xFF, 0xD8, 1, 2, 3, 0xFF, 0xD9];
        let file = with_preview(&preview, true);
        assert!(images(&file[..file.len() - 1]).is_empty());
        let mut not_jpeg = file.clone();
        let last = not_jpeg.len() - preview.len();
        not_jpeg[last] = 0;
        assert!(images(&not_jpeg).is_empty());
        assert!(images(b"\xFF\xD8\xFF\xE2\xFF\xFF").is_empty());
        assert!(images(b"").is_empty());
    }
}
