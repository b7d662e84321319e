//! EXIF extraction with kamadak-exif, normalised into [`Exif`]. Reading never
//! fails outright: what could not be read becomes a warning, and whatever was
//! read survives (`continue_on_error`). BigTIFF is read through
//! `bigtiff.rs`, which rewrites its tags as a classic TIFF.

use std::collections::BTreeMap;
use std::io::Cursor;

use exif::{Context, Field, In, Reader, Tag, Value};

use super::bigtiff;

use serde::{Deserialize, Serialize};

/// Longest displayed value kept per raw tag; maker notes and blobs are cut.
const MAX_RAW_VALUE: usize = 256;

/// Normalised EXIF values, plus every tag as read for display.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Exif {
    pub make: Option<String>,
    pub model: Option<String>,
    pub lens_model: Option<String>,
    /// ISO 8601, with sub-seconds and the offset when the file has them.
    pub date_time_original: Option<String>,
    /// `+HH:MM` as recorded in OffsetTimeOriginal.
    pub offset_time_original: Option<String>,
    /// 1-8, as in the EXIF Orientation tag.
    pub orientation: Option<u8>,
    pub gps: Option<Gps>,
    /// Seconds.
    pub exposure_time: Option<f64>,
    pub f_number: Option<f64>,
    pub iso: Option<u32>,
    /// Millimetres.
    pub focal_length: Option<f64>,
    /// `"IFD:Tag"` → displayed value, for every tag read.
    pub raw: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Gps {
    /// Signed decimal degrees, north positive.
    pub latitude: Option<f64>,
    /// Signed decimal degrees, east positive.
    pub longitude: Option<f64>,
    /// Metres above sea level; negative below.
    pub altitude: Option<f64>,
}

/// What reading a file's EXIF produced.
#[derive(Debug, Default)]
pub struct ExifRead {
    pub exif: Option<Exif>,
    /// DateTimeOriginal, else DateTimeDigitized, else DateTime, as ISO 8601.
    pub capture_date: Option<String>,
    /// PixelXDimension/PixelYDimension, for formats Assay cannot decode.
    pub pixel_dimensions: Option<(u32, u32)>,
    pub software: Option<String>,
    /// The JPEG thumbnail embedded in IFD1, for formats Assay cannot decode.
    pub thumbnail: Option<Vec<u8>>,
    /// The XMP packet and IPTC IIM block TIFF-based files keep in IFD0.
    pub xmp: Option<Vec<u8>>,
    pub iim: Option<Vec<u8>>,
    pub warnings: Vec<String>,
}

/// Reads EXIF from a whole file held in memory. `media_type` selects the
/// container fallbacks for raw formats kamadak-exif does not parse itself.
pub fn read(bytes: &[u8], media_type: &str) -> ExifRead {
    let mut out = ExifRead::default();
    let mut reader = Reader::new();
    reader.continue_on_error(true);
    let reader = reader;

    let salvage = |result: Result<exif::Exif, exif::Error>, warnings: &mut Vec<String>| match result
    {
        Ok(exif) => Some(exif),
        Err(exif::Error::PartialResult(partial)) => {
            let (exif, errors) = partial.into_inner();
            for e in errors {
                warnings.push(format!("EXIF: skipped a damaged entry: {e}"));
            }
            Some(exif)
        }
        Err(e) => {
            warnings.push(format!("EXIF: unreadable: {e}"));
            None
        }
    };
    let parsed = if bigtiff::is_bigtiff(bytes) {
        match bigtiff::to_classic(bytes) {
            Ok((classic, warnings)) => {
                out.warnings.extend(warnings);
                salvage(reader.read_raw(classic), &mut out.warnings)
            }
            Err(e) => {
                out.warnings.push(format!("EXIF: unreadable: {e}"));
                None
            }
        }
    } else {
        match reader.read_from_container(&mut Cursor::new(bytes)) {
            // Containers it does not know: look for the TIFF structure inside.
            Err(exif::Error::InvalidFormat(_)) | Err(exif::Error::NotFound(_)) => {
                embedded_tiff(bytes, media_type)
                    .and_then(|tiff| salvage(reader.read_raw(tiff), &mut out.warnings))
            }
            result => salvage(result, &mut out.warnings),
        }
    };
    // CR3 keeps the Exif IFD apart from IFD0, as a TIFF of its own in CMT2.
    let extra = match media_type {
        "image/x-canon-cr3" => cr3_exif_ifd(bytes, &reader),
        _ => Vec::new(),
    };
    if let Some(exif) = parsed {
        normalise(&exif, &extra, media_type, &mut out);
    }
    out
}

/// The fields of a CR3's CMT2 box, re-tagged as Exif-IFD tags.
fn cr3_exif_ifd(bytes: &[u8], reader: &Reader) -> Vec<Field> {
    let Some(at) = find(&bytes[..bytes.len().min(1 << 20)], b"CMT2") else {
        return Vec::new();
    };
    let Ok(cmt2) = reader.read_raw(bytes[at + 4..].to_vec()) else {
        return Vec::new();
    };
    cmt2.fields()
        .filter(|f| f.ifd_num == In::PRIMARY)
        .map(|f| Field {
            tag: Tag(Context::Exif, f.tag.number()),
            ifd_num: In::PRIMARY,
            value: f.value.clone(),
        })
        .collect()
}

/// Finds a TIFF-structured EXIF block inside containers kamadak-exif does
/// not parse (CR3, RAF, RW2, ORF, MRW, JPEG XL, ...), or returns `None`.
fn embedded_tiff(bytes: &[u8], media_type: &str) -> Option<Vec<u8>> {
    // RW2 and ORF are TIFF with their own magic number.
    if matches!(media_type, "image/x-panasonic-rw2" | "image/x-olympus-orf") {
        let mut copy = bytes.to_vec();
        if let Some(magic) = copy.get_mut(2..4) {
            magic.copy_from_slice(if bytes.starts_with(b"MM") {
                b"\0*"
            } else {
                b"*\0"
            });
        }
        return Some(copy);
    }
    // An APP1-style `Exif\0\0` header (RAF's embedded JPEG, JPEG XL's Exif box).
    const SCAN: usize = 4 << 20;
    let window = &bytes[..bytes.len().min(SCAN)];
    if let Some(at) = find(window, b"Exif\0\0") {
        let tiff = &window[at + 6..];
        if tiff.starts_with(b"II*\0") || tiff.starts_with(b"MM\0*") {
            return Some(bytes[at + 6..].to_vec());
        }
    }
    // A bare TIFF header with its first IFD at offset 8 (CR3's CMT1 box, MRW's TTW block).
    [b"II*\0\x08\0\0\0".as_slice(), b"MM\0*\0\0\0\x08"]
        .iter()
        .filter_map(|magic| find(window, magic))
        .min()
        .map(|at| bytes[at..].to_vec())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Panasonic's RW2 records ISO in its own IFD0 tag.
const PANASONIC_ISO: Tag = Tag(Context::Tiff, 0x0017);
const XML_PACKET: Tag = Tag(Context::Tiff, 700);
const IPTC_NAA: Tag = Tag(Context::Tiff, 33723);

fn normalise(exif: &exif::Exif, extra: &[Field], media_type: &str, out: &mut ExifRead) {
    let get = |tag: Tag| {
        exif.get_field(tag, In::PRIMARY)
            .or_else(|| extra.iter().find(|f| f.tag == tag))
    };
    let text = |tag: Tag| get(tag).and_then(ascii);
    let float = |tag: Tag| get(tag).and_then(|f| rational(&f.value, 0));

    let mut n = Exif {
        make: text(Tag::Make),
        model: text(Tag::Model),
        lens_model: text(Tag::LensModel),
        offset_time_original: text(Tag::OffsetTimeOriginal).filter(|o| valid_offset(o)),
        orientation: get(Tag::Orientation)
            .and_then(|f| uint(&f.value, 0))
            .and_then(|o| u8::try_from(o).ok())
            .filter(|o| (1..=8).contains(o)),
        exposure_time: float(Tag::ExposureTime).filter(|v| *v > 0.0),
        f_number: float(Tag::FNumber).filter(|v| *v > 0.0),
        iso: get(Tag::PhotographicSensitivity)
            .or_else(|| get(Tag::ISOSpeed))
            .or_else(|| {
                (media_type == "image/x-panasonic-rw2")
                    .then(|| get(PANASONIC_ISO))
                    .flatten()
            })
            .and_then(|f| uint(&f.value, 0))
            .filter(|v| *v > 0),
        focal_length: float(Tag::FocalLength).filter(|v| *v > 0.0),
        ..Exif::default()
    };

    let original = text(Tag::DateTimeOriginal);
    n.date_time_original = original.as_deref().and_then(|dt| {
        iso_datetime(
            dt,
            text(Tag::SubSecTimeOriginal).as_deref(),
            n.offset_time_original.as_deref(),
        )
    });
    if original.is_some() && n.date_time_original.is_none() {
        out.warnings.push(format!(
            "EXIF: DateTimeOriginal {:?} is not a valid date",
            original.unwrap_or_default()
        ));
    }
    out.capture_date = n.date_time_original.clone().or_else(|| {
        [
            (
                Tag::DateTimeDigitized,
                Tag::SubSecTimeDigitized,
                Tag::OffsetTimeDigitized,
            ),
            (Tag::DateTime, Tag::SubSecTime, Tag::OffsetTime),
        ]
        .into_iter()
        .find_map(|(dt, sub, off)| {
            let offset = text(off).filter(|o| valid_offset(o));
            iso_datetime(&text(dt)?, text(sub).as_deref(), offset.as_deref())
        })
    });

    n.gps = gps(exif);
    out.pixel_dimensions = match (
        get(Tag::PixelXDimension).and_then(|f| uint(&f.value, 0)),
        get(Tag::PixelYDimension).and_then(|f| uint(&f.value, 0)),
    ) {
        (Some(w), Some(h)) if w > 0 && h > 0 => Some((w, h)),
        _ => None,
    };
    out.software = text(Tag::Software);
    out.thumbnail = embedded_thumbnail(exif);
    let block = |tag: Tag| get(tag).and_then(|f| raw_bytes(&f.value, exif.little_endian()));
    out.xmp = block(XML_PACKET);
    out.iim = block(IPTC_NAA);

    for field in exif.fields() {
        n.raw.insert(raw_key(field), raw_value(field, Some(exif)));
    }
    for field in extra {
        n.raw.insert(raw_key(field), raw_value(field, None));
    }
    out.exif = Some(n);
}

/// `IFD0:Make`, `ExifIFD:FNumber`, `GPS:GPSLatitude`: exiftool's group names,
/// so the two outputs line up.
fn raw_key(field: &Field) -> String {
    let group = match field.tag.context() {
        Context::Tiff => format!("IFD{}", field.ifd_num.index()),
        Context::Exif => "ExifIFD".to_owned(),
        Context::Gps => "GPS".to_owned(),
        Context::Interop => "InteropIFD".to_owned(),
        _ => "Other".to_owned(),
    };
    format!("{group}:{}", field.tag)
}

fn raw_value(field: &Field, exif: Option<&exif::Exif>) -> String {
    if let Value::Undefined(bytes, _) | Value::Byte(bytes) = &field.value {
        if bytes.len() > MAX_RAW_VALUE / 4 {
            return format!("({} bytes of binary data)", bytes.len());
        }
    }
    let mut shown = match exif {
        Some(exif) => field.display_value().with_unit(exif).to_string(),
        None => field.display_value().with_unit(field).to_string(),
    };
    if shown.len() > MAX_RAW_VALUE {
        let mut cut = MAX_RAW_VALUE;
        while !shown.is_char_boundary(cut) {
            cut -= 1;
        }
        shown.truncate(cut);
        shown.push('…');
    }
    shown
}

fn embedded_thumbnail(exif: &exif::Exif) -> Option<Vec<u8>> {
    let uint = |tag: Tag| exif.get_field(tag, In::THUMBNAIL)?.value.get_uint(0);
    let offset = uint(Tag::JPEGInterchangeFormat)? as usize;
    let len = uint(Tag::JPEGInterchangeFormatLength)? as usize;
    let jpeg = exif.buf().get(offset..offset.checked_add(len)?)?;
    jpeg.starts_with(b"\xFF\xD8").then(|| jpeg.to_vec())
}

/// A block stored as a field's value, as the bytes in the file. Writers
/// type the IPTC tag as LONG as often as UNDEFINED.
fn raw_bytes(value: &Value, little_endian: bool) -> Option<Vec<u8>> {
    match value {
        Value::Byte(bytes) | Value::Undefined(bytes, _) => Some(bytes.clone()),
        Value::Long(longs) => Some(
            longs
                .iter()
                .flat_map(|n| {
                    if little_endian {
                        n.to_le_bytes()
                    } else {
                        n.to_be_bytes()
                    }
                })
                .collect(),
        ),
        _ => None,
    }
}

fn ascii(field: &Field) -> Option<String> {
    match &field.value {
        Value::Ascii(parts) => parts.iter().find_map(|p| {
            let s = String::from_utf8_lossy(p);
            let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
            (!s.is_empty()).then(|| s.to_owned())
        }),
        _ => None,
    }
}

/// An integer of any EXIF integer type: some cameras write SHORT fields as
/// SLONG (Sony writes Orientation so).
fn uint(value: &Value, index: usize) -> Option<u32> {
    match value {
        Value::SByte(v) => v.get(index).and_then(|&n| u32::try_from(n).ok()),
        Value::SShort(v) => v.get(index).and_then(|&n| u32::try_from(n).ok()),
        Value::SLong(v) => v.get(index).and_then(|&n| u32::try_from(n).ok()),
        other => other.get_uint(index),
    }
}

fn rational(value: &Value, index: usize) -> Option<f64> {
    let v = match value {
        Value::Rational(r) => r.get(index).filter(|r| r.denom != 0).map(|r| r.to_f64()),
        Value::SRational(r) => r.get(index).filter(|r| r.denom != 0).map(|r| r.to_f64()),
        other => uint(other, index).map(f64::from),
    }?;
    v.is_finite().then_some(v)
}

fn gps(exif: &exif::Exif) -> Option<Gps> {
    let get = |tag: Tag| exif.get_field(tag, In::PRIMARY);
    let reference = |tag: Tag| get(tag).and_then(ascii).and_then(|s| s.chars().next());
    let dms = |tag: Tag| {
        let f = get(tag)?;
        let deg = rational(&f.value, 0)?;
        let min = rational(&f.value, 1).unwrap_or(0.0);
        let sec = rational(&f.value, 2).unwrap_or(0.0);
        Some(deg + min / 60.0 + sec / 3600.0)
    };
    let signed = |value: Option<f64>, reference: Option<char>, negative: char| {
        value.map(|v| if reference == Some(negative) { -v } else { v })
    };
    let latitude = signed(dms(Tag::GPSLatitude), reference(Tag::GPSLatitudeRef), 'S')
        .filter(|v| v.abs() <= 90.0);
    let longitude = signed(dms(Tag::GPSLongitude), reference(Tag::GPSLongitudeRef), 'W')
        .filter(|v| v.abs() <= 180.0);
    let below_sea = get(Tag::GPSAltitudeRef).and_then(|f| uint(&f.value, 0)) == Some(1);
    let altitude = get(Tag::GPSAltitude)
        .and_then(|f| rational(&f.value, 0))
        .map(|a| if below_sea { -a } else { a });
    (latitude.is_some() || longitude.is_some() || altitude.is_some()).then_some(Gps {
        latitude,
        longitude,
        altitude,
    })
}

/// `2008:05:30 15:56:01` (+ sub-seconds, + `+02:00`) → `2008-05-30T15:56:01.25+02:00`.
fn iso_datetime(exif_dt: &str, subsec: Option<&str>, offset: Option<&str>) -> Option<String> {
    let b = exif_dt.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let s = std::str::from_utf8(b.get(range)?).ok()?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, mo, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (h, mi, s) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if y == 0 || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut iso = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    if let Some(sub) = subsec
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
    {
        iso.push('.');
        iso.push_str(sub);
    }
    if let Some(offset) = offset {
        iso.push_str(offset);
    }
    Some(iso)
}

fn valid_offset(o: &str) -> bool {
    let b = o.as_bytes();
    b.len() == 6
        && matches!(b[0], b'+' | b'-')
        && b[3] == b':'
        && [1, 2, 4, 5].iter().all(|&i| b[i].is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exif_dates_become_iso_8601() {
        assert_eq!(
            iso_datetime("2008:05:30 15:56:01", None, None).as_deref(),
            Some("2008-05-30T15:56:01")
        );
        assert_eq!(
            iso_datetime("2021:10:02 11:05:30", Some("25"), Some("+02:00")).as_deref(),
            Some("2021-10-02T11:05:30.25+02:00")
        );
        assert_eq!(iso_datetime("0000:00:00 00:00:00", None, None), None);
        assert_eq!(iso_datetime("    :  :     :  :  ", None, None), None);
        assert_eq!(iso_datetime("2008:05", None, None), None);
    }

    #[test]
    fn offsets_are_checked() {
        assert!(valid_offset("+09:00"));
        assert!(valid_offset("-05:30"));
        assert!(!valid_offset("   :  "));
        assert!(!valid_offset("+0900"));
    }

    #[test]
    fn garbage_is_not_exif_and_does_not_panic() {
        let r = read(b"not an image at all", "application/octet-stream");
        assert!(r.exif.is_none());
        let r = read(
            b"\xFF\xD8\xFF\xE1\x00\x10Exif\0\0II*\0\xFF\xFF",
            "image/jpeg",
        );
        assert!(r.exif.is_none() || r.warnings.iter().any(|w| w.contains("EXIF")));
    }
}
