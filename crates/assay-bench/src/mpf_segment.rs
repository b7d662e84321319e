//! The Multi-Picture Format index (CIPA DC-007) of a generated file that
//! carries a large preview after its main image, as most cameras write it:
//! an APP2 segment `MPF\0` whose TIFF-structured index lists the file
//! itself and the preview by size and offset. The offsets are known only
//! once the main image is encoded, so the segment is written with zeros
//! and [`complete`] fills them in.

use anyhow::{bail, Context};

/// Individual image attributes: a representative baseline primary image
/// with dependants, and a dependent "large thumbnail (full-HD equivalent)".
const PRIMARY: u32 = 0x8000_0000 | 0x2000_0000 | 0x03_0000;
const LARGE_THUMBNAIL: u32 = 0x4000_0000 | 0x01_0002;

/// Where the two 16-byte image entries start, from the TIFF header.
const ENTRIES_AT: u32 = 8 + 2 + 3 * 12 + 4;

/// The APP2 payload, with both entries' sizes and offsets zero.
pub fn app2() -> Vec<u8> {
    let mut tiff = b"MM\0\x2A".to_vec();
    tiff.extend(8u32.to_be_bytes());
    tiff.extend(3u16.to_be_bytes());
    // MPFVersion "0100", NumberOfImages 2, MPEntry (2 x 16 bytes).
    for (tag, kind, count, value) in [
        (0xB000u16, 7u16, 4u32, u32::from_be_bytes(*b"0100")),
        (0xB001, 4, 1, 2),
        (0xB002, 7, 32, ENTRIES_AT),
    ] {
        tiff.extend(tag.to_be_bytes());
        tiff.extend(kind.to_be_bytes());
        tiff.extend(count.to_be_bytes());
        tiff.extend(value.to_be_bytes());
    }
    tiff.extend(0u32.to_be_bytes());
    // Each: attribute, size and offset (filled in later), the entry
    // numbers (from 1) of up to two dependent images.
    for (attribute, dependent) in [(PRIMARY, 2u16), (LARGE_THUMBNAIL, 0)] {
        tiff.extend(attribute.to_be_bytes());
        tiff.extend([0; 8]);
        tiff.extend(dependent.to_be_bytes());
        tiff.extend([0; 2]);
    }
    let mut payload = b"MPF\0".to_vec();
    payload.extend(tiff);
    payload
}

/// Fills in the index of `main` (a JPEG holding [`app2`]'s segment) and
/// appends `preview` after it.
pub fn complete(main: &mut Vec<u8>, preview: &[u8]) -> anyhow::Result<()> {
    let at = main
        .windows(4)
        .position(|w| w == b"MPF\0")
        .context("the encoded file has no MPF segment")?;
    let header = at + 4;
    let (Ok(main_len), Ok(preview_len), Ok(preview_at)) = (
        u32::try_from(main.len()),
        u32::try_from(preview.len()),
        u32::try_from(main.len() - header),
    ) else {
        bail!("the file is too large for an MPF index");
    };
    let entries = header + ENTRIES_AT as usize;
    for (i, (size, offset)) in [(main_len, 0), (preview_len, preview_at)]
        .into_iter()
        .enumerate()
    {
        let entry = entries + i * 16;
        main[entry + 4..entry + 8].copy_from_slice(&size.to_be_bytes());
        main[entry + 8..entry + 12].copy_from_slice(&offset.to_be_bytes());
    }
    main.extend_from_slice(preview);
    Ok(())
}
