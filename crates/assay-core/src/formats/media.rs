//! Media-type sniffing from a file's first bytes. The extension is never
//! trusted on its own: it only refines a family the content already proved
//! (a TIFF container that is a camera raw, a text file that is CSV).

/// How many leading bytes [`sniff`] wants to see.
pub const SNIFF_LEN: usize = 4096;

/// The IANA (or de facto `image/x-*`) media type of `head`, the first bytes
/// of a file; `ext` is the lower-case extension, used only as described above.
pub fn sniff(head: &[u8], ext: &str) -> &'static str {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);

    if at(0, b"\xFF\xD8\xFF") {
        return "image/jpeg";
    }
    if at(0, b"\x89PNG\r\n\x1a\n") {
        return "image/png";
    }
    if at(0, b"GIF87a") || at(0, b"GIF89a") {
        return "image/gif";
    }
    if at(0, b"RIFF") && at(8, b"WEBP") {
        return "image/webp";
    }
    if at(0, b"RIFF") && at(8, b"WAVE") {
        return "audio/wav";
    }
    if at(0, b"RIFF") && at(8, b"AVI ") {
        return "video/x-msvideo";
    }
    if at(0, b"II*\0") || at(0, b"MM\0*") {
        // Canon's CR2 says so at byte 8; other raws are plain TIFF inside.
        if at(8, b"CR\x02") {
            return "image/x-canon-cr2";
        }
        return tiff_family(ext);
    }
    if at(0, b"II+\0") || at(0, b"MM\0+") {
        return "image/tiff"; // BigTIFF
    }
    if at(0, b"IIRO") || at(0, b"IIRS") || at(0, b"MMOR") {
        return "image/x-olympus-orf";
    }
    if at(0, b"IIU\0") {
        return "image/x-panasonic-rw2";
    }
    if at(0, b"FUJIFILMCCD-RAW") {
        return "image/x-fuji-raf";
    }
    if at(0, b"\0MRM") {
        return "image/x-minolta-mrw";
    }
    if at(0, b"FOVb") {
        return "image/x-sigma-x3f";
    }
    if at(6, b"HEAPCCDR") {
        return "image/x-canon-crw";
    }
    if at(0, b"\xFF\x0A") || at(0, b"\0\0\0\x0CJXL \r\n\x87\n") {
        return "image/jxl";
    }
    if at(0, b"\0\0\0\x0CjP  \r\n\x87\n") {
        return "image/jp2";
    }
    if at(0, b"BM") && head.len() >= 26 {
        return "image/bmp";
    }
    if at(4, b"ftyp") {
        return iso_bmff(head);
    }
    if at(0, b"%PDF-") {
        return "application/pdf";
    }
    if at(0, b"ID3") || at(0, b"\xFF\xFB") || at(0, b"\xFF\xF3") || at(0, b"\xFF\xF2") {
        return "audio/mpeg";
    }
    if at(0, b"fLaC") {
        return "audio/flac";
    }
    if at(0, b"OggS") {
        return "audio/ogg";
    }
    if at(0, b"\x1A\x45\xDF\xA3") {
        return "video/webm";
    }
    if at(0, b"PK\x03\x04") {
        return "application/zip";
    }
    if at(0, b"8BPS") {
        return "image/vnd.adobe.photoshop";
    }
    if looks_like_text(head) {
        return text_family(head, ext);
    }
    "application/octet-stream"
}

/// True for media types whose rows the row counter (`text.rs`) counts.
pub fn is_tabular_or_text(media_type: &str) -> bool {
    matches!(
        media_type,
        "text/csv" | "text/tab-separated-values" | "application/jsonl" | "text/plain"
    )
}

fn tiff_family(ext: &str) -> &'static str {
    match ext {
        "dng" => "image/x-adobe-dng",
        "nef" | "nrw" => "image/x-nikon-nef",
        "arw" | "srf" | "sr2" => "image/x-sony-arw",
        "pef" => "image/x-pentax-pef",
        "srw" => "image/x-samsung-srw",
        "erf" => "image/x-epson-erf",
        "3fr" => "image/x-hasselblad-3fr",
        "iiq" => "image/x-phaseone-iiq",
        "mef" => "image/x-mamiya-mef",
        "dcr" | "kdc" => "image/x-kodak-dcr",
        _ => "image/tiff",
    }
}

/// ISO base media (HEIF, AVIF, CR3, MP4, QuickTime) by major and compatible brands.
fn iso_bmff(head: &[u8]) -> &'static str {
    let size = head
        .get(0..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .unwrap_or(0)
        .clamp(16, head.len().max(16));
    let brands: Vec<&[u8]> = head
        .get(8..size.min(head.len()))
        .unwrap_or_default()
        .chunks_exact(4)
        .collect();
    let has = |b: &[u8]| brands.contains(&b);
    if has(b"crx ") {
        "image/x-canon-cr3"
    } else if has(b"avif") || has(b"avis") {
        "image/avif"
    } else if has(b"heic") || has(b"heix") || has(b"heim") || has(b"heis") {
        "image/heic"
    } else if has(b"mif1") || has(b"msf1") {
        "image/heif"
    } else if has(b"qt  ") {
        "video/quicktime"
    } else if has(b"M4A ") {
        "audio/mp4"
    } else {
        "video/mp4"
    }
}

/// Text: valid UTF-8 (allowing a character cut at the end of `head`) and no
/// control bytes other than whitespace.
fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > head.len(),
    };
    valid
        && !head
            .iter()
            .any(|&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0C))
}

fn text_family(head: &[u8], ext: &str) -> &'static str {
    let text = String::from_utf8_lossy(head);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let trimmed = first.trim_start_matches('\u{feff}').trim();
    if trimmed.starts_with('{') && (ext == "jsonl" || ext == "ndjson" || jsonl_like(&text)) {
        return "application/jsonl";
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return "application/json";
    }
    if trimmed.starts_with("<?xml") || trimmed.starts_with('<') {
        return "application/xml";
    }
    match ext {
        "csv" => "text/csv",
        "tsv" | "tab" => "text/tab-separated-values",
        _ => "text/plain",
    }
}

/// Two or more complete lines, each a JSON object.
fn jsonl_like(text: &str) -> bool {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let complete: Vec<&str> = lines.by_ref().take(2).collect();
    complete.len() == 2
        && complete
            .iter()
            .all(|l| l.trim_start().starts_with('{') && l.trim_end().ends_with('}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_wins_over_the_extension() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE1\0\0", "png"), "image/jpeg");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....", "jpg"), "image/png");
        assert_eq!(
            sniff(b"II*\0\x08\0\0\0CR\x02\0", "tif"),
            "image/x-canon-cr2"
        );
        assert_eq!(sniff(b"II*\0\x08\0\0\0", "dng"), "image/x-adobe-dng");
        assert_eq!(sniff(b"II*\0\x08\0\0\0", "jpg"), "image/tiff");
    }

    #[test]
    fn iso_bmff_brands() {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(sniff(heic, "jpg"), "image/heic");
        let cr3 = b"\0\0\0\x18ftypcrx \0\0\0\x01crx isom";
        assert_eq!(sniff(cr3, ""), "image/x-canon-cr3");
        let mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2";
        assert_eq!(sniff(mp4, "mov"), "video/mp4");
    }

    #[test]
    fn text_families() {
        assert_eq!(sniff(b"a,b\n1,2\n", "csv"), "text/csv");
        assert_eq!(sniff(b"a,b\n1,2\n", "txt"), "text/plain");
        assert_eq!(sniff(b"{\"a\":1}\n{\"a\":2}\n", "txt"), "application/jsonl");
        assert_eq!(sniff(b"{\"a\": [1, 2]}", "json"), "application/json");
        assert_eq!(
            sniff(b"\0\x01\x02binary", "csv"),
            "application/octet-stream"
        );
        assert_eq!(sniff(b"", "csv"), "application/octet-stream");
    }
}
