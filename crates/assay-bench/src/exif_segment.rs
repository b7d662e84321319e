//! The EXIF APP1 segment of a generated file: what a camera writes (make,
//! model, capture time with its UTC offset, exposure, GPS, a thumbnail), varied by the
//! file's index so files differ as a real shoot's do.

use std::io::Cursor;

use anyhow::Context;
use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};

/// Seconds between consecutive shots.
const SHOT_INTERVAL: u64 = 37;
/// 2024-05-17 09:00:00 local time, as seconds since 1970 (local, no zone).
const FIRST_SHOT: u64 = 1_715_936_400;

/// The APP1 payload ("Exif\0\0" and a TIFF block) for shot `index`,
/// with `thumbnail` (a small JPEG) in IFD1 as cameras write it.
pub fn app1(index: u64, width: u32, height: u32, thumbnail: &[u8]) -> anyhow::Result<Vec<u8>> {
    let fields = fields(index, width, height);
    let mut writer = Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    writer.set_jpeg(thumbnail, In::THUMBNAIL);
    let mut tiff = Cursor::new(Vec::new());
    writer
        .write(&mut tiff, false)
        .with_context(|| format!("encoding the EXIF block of shot {index}"))?;
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend_from_slice(tiff.get_ref());
    Ok(segment)
}

fn field(tag: Tag, value: Value) -> Field {
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    }
}

fn ascii(tag: Tag, text: &str) -> Field {
    field(tag, Value::Ascii(vec![text.as_bytes().to_vec()]))
}

fn rational(num: u32, denom: u32) -> Rational {
    Rational { num, denom }
}

fn pick<T: Copy>(choices: &[T], index: u64) -> T {
    choices[(index % choices.len() as u64) as usize]
}

fn fields(index: u64, width: u32, height: u32) -> Vec<Field> {
    let taken = exif_datetime(FIRST_SHOT + index * SHOT_INTERVAL);
    // A walk around Lausanne: up to a minute of arc either way.
    let lat_seconds = ((index * 13) % 6000) as u32;
    let lon_seconds = ((index * 29) % 6000) as u32;
    vec![
        ascii(Tag::Make, "ASSAYBENCH"),
        ascii(Tag::Model, "SYNTH-24"),
        ascii(Tag::Software, "assay-bench"),
        field(Tag::Orientation, Value::Short(vec![1])),
        field(Tag::XResolution, Value::Rational(vec![rational(300, 1)])),
        field(Tag::YResolution, Value::Rational(vec![rational(300, 1)])),
        field(Tag::ResolutionUnit, Value::Short(vec![2])),
        ascii(Tag::DateTime, &taken),
        field(Tag::ExifVersion, Value::Undefined(b"0232".to_vec(), 0)),
        ascii(Tag::DateTimeOriginal, &taken),
        ascii(Tag::DateTimeDigitized, &taken),
        ascii(Tag::OffsetTimeOriginal, "+02:00"),
        field(
            Tag::ExposureTime,
            Value::Rational(vec![rational(1, pick(&[60, 125, 250, 500, 1000], index))]),
        ),
        field(
            Tag::FNumber,
            Value::Rational(vec![rational(pick(&[18, 28, 40, 56, 80, 110], index), 10)]),
        ),
        field(
            Tag::PhotographicSensitivity,
            Value::Short(vec![pick(&[100, 200, 400, 800, 1600, 3200], index)]),
        ),
        field(
            Tag::FocalLength,
            Value::Rational(vec![rational(pick(&[24, 35, 50, 85], index), 1)]),
        ),
        field(Tag::PixelXDimension, Value::Long(vec![width])),
        field(Tag::PixelYDimension, Value::Long(vec![height])),
        field(Tag::GPSVersionID, Value::Byte(vec![2, 3, 0, 0])),
        ascii(Tag::GPSLatitudeRef, "N"),
        field(
            Tag::GPSLatitude,
            Value::Rational(vec![
                rational(46, 1),
                rational(31, 1),
                rational(lat_seconds, 100),
            ]),
        ),
        ascii(Tag::GPSLongitudeRef, "E"),
        field(
            Tag::GPSLongitude,
            Value::Rational(vec![
                rational(6, 1),
                rational(37, 1),
                rational(lon_seconds, 100),
            ]),
        ),
    ]
}

/// "YYYY:MM:DD HH:MM:SS" for `seconds` since 1970-01-01 00:00:00.
fn exif_datetime(seconds: u64) -> String {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}:{month:02}:{day:02} {:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_shot_is_the_documented_time() {
        assert_eq!(exif_datetime(FIRST_SHOT), "2024:05:17 09:00:00");
        assert_eq!(exif_datetime(0), "1970:01:01 00:00:00");
        assert_eq!(exif_datetime(951_782_400), "2000:02:29 00:00:00");
    }

    #[test]
    fn segment_reads_back() {
        let thumbnail = [0xFF, 0xD8, 0xFF, 0xD9];
        let segment = app1(3, 6000, 4000, &thumbnail).unwrap();
        assert!(segment.starts_with(b"Exif\0\0"));
        let exif = exif::Reader::new().read_raw(segment[6..].to_vec()).unwrap();
        let iso = exif.get_field(Tag::PhotographicSensitivity, In::PRIMARY);
        assert_eq!(iso.and_then(|f| f.value.get_uint(0)), Some(800));
        let gps = exif.get_field(Tag::GPSLatitude, In::PRIMARY);
        assert!(gps.is_some());
        let length = exif.get_field(Tag::JPEGInterchangeFormatLength, In::THUMBNAIL);
        assert_eq!(length.and_then(|f| f.value.get_uint(0)), Some(4));
    }
}
