//! A quick look for an embedded manifest store in a file already in
//! memory, so a file without one (nearly every file a camera writes) costs
//! a walk over its headers instead of a validator's reading of the whole
//! file. Where the structure is unexpected the answer is "maybe", and the
//! validator decides.

/// Whether `bytes`, a file of `media_type`, may carry an embedded C2PA
/// manifest store: `false` only when its structure rules one out.
pub(crate) fn may_carry_store(bytes: &[u8], media_type: &str) -> bool {
    match media_type {
        "image/jpeg" => jpeg_may_carry(bytes),
        "image/png" => png_may_carry(bytes),
        _ => true,
    }
}

/// A JPEG carries its store in APP11 segments before the image data.
fn jpeg_may_carry(bytes: &[u8]) -> bool {
    const APP11: u8 = 0xEB;
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return true;
    }
    let mut at = 2;
    loop {
        let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return true; // out of step with the segments: let the validator look
        };
        match marker {
            0xFF => at += 1, // fill byte
            0x01 | 0xD0..=0xD8 => at += 2,
            APP11 => return true,
            // Start of scan or end of image: every header segment was seen.
            0xDA | 0xD9 => return false,
            _ => {
                let Some(len) = bytes.get(at + 2..at + 4) else {
                    return true;
                };
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                if len < 2 {
                    return true;
                }
                at += 2 + len;
            }
        }
    }
}

/// The manifest store a JPEG carries in APP11 segments, put back together
/// (ISO 19566-5: one JUMBF box split across packets, each repeating the
/// box's header), so it can be validated against the file without c2pa
/// parsing the whole JPEG again. `None` when there is none, more than one
/// box, or anything unexpected: the validator then reads the file itself.
pub(crate) fn jpeg_store(bytes: &[u8]) -> Option<Vec<u8>> {
    const APP11: u8 = 0xEB;
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut at = 2;
    let mut store: Option<(&[u8], Vec<u8>)> = None;
    let mut next = 1u32;
    loop {
        let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return None;
        };
        match marker {
            0xFF => {
                at += 1;
                continue;
            }
            0x01 | 0xD0..=0xD8 => {
                at += 2;
                continue;
            }
            0xDA | 0xD9 => break,
            _ => {}
        }
        let len = bytes.get(at + 2..at + 4)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let segment = bytes.get(at + 4..(at + 2 + len).max(at + 4))?;
        if marker == APP11 {
            // "JP", the box instance (En), the packet's sequence (Z), the box.
            let (ci, rest) = segment.split_at_checked(2)?;
            let (en, rest) = rest.split_at_checked(2)?;
            let (z, body) = rest.split_at_checked(4)?;
            if ci != b"JP" {
                return None;
            }
            let z = u32::from_be_bytes(z.try_into().ok()?);
            match &mut store {
                None if z == 1 => store = Some((en, body.to_vec())),
                Some((first, data)) if *first == en && z == next => {
                    // Every packet after the first repeats LBox and TBox
                    // (and XLBox when LBox is 1).
                    let lbox = u32::from_be_bytes(body.get(0..4)?.try_into().ok()?);
                    data.extend_from_slice(body.get(if lbox == 1 { 16 } else { 8 }..)?);
                }
                _ => return None,
            }
            next = z.checked_add(1)?;
        }
        at += 2 + len;
    }
    let (_, data) = store?;
    let lbox = u32::from_be_bytes(data.get(0..4)?.try_into().ok()?);
    let whole = usize::try_from(lbox).ok()? == data.len();
    (data.get(4..8)? == b"jumb" && whole).then_some(data)
}

/// A PNG carries its store in a `caBX` chunk.
fn png_may_carry(bytes: &[u8]) -> bool {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !bytes.starts_with(SIGNATURE) {
        return true;
    }
    let mut at = SIGNATURE.len();
    loop {
        let Some(header) = bytes.get(at..at + 8) else {
            return true; // cut short before IEND
        };
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        match &header[4..8] {
            b"caBX" => return true,
            b"IEND" => return false,
            _ => {}
        }
        let Some(next) = usize::try_from(len)
            .ok()
            .and_then(|len| at.checked_add(12)?.checked_add(len))
        else {
            return true;
        };
        at = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_without_a_store_rule_it_out_and_anything_odd_is_a_maybe() {
        // SOI, an APP0 of 4 bytes, then SOS.
        let plain = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0, 0, 0xFF, 0xDA];
        assert!(!may_carry_store(&plain, "image/jpeg"));
        let with_app11 = [0xFF, 0xD8, 0xFF, 0xEB, 0x00, 0x02, 0xFF, 0xDA];
        assert!(may_carry_store(&with_app11, "image/jpeg"));
        for odd in [
            &[0xFF, 0xD8, 0x00][..],
            &[0xFF, 0xD8, 0xFF, 0xE0, 0x00][..],
            b"GIF89a",
        ] {
            assert!(may_carry_store(odd, "image/jpeg"), "{odd:?}");
        }
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&[0, 0, 0, 0]);
        png.extend_from_slice(b"IEND");
        png.extend_from_slice(&[0; 4]);
        assert!(!may_carry_store(&png, "image/png"));
        assert!(may_carry_store(&png[..12], "image/png"), "cut short");
        assert!(may_carry_store(b"anything", "video/mp4"));
    }
}
