//! Everything Assay learns from a file's bytes at import, apart from its
//! checksum: EXIF, capture date, dimensions, a quick thumbnail and the
//! rights metadata it embeds (the previews come after, `pictures.rs`). Problems become warnings on the asset; nothing here fails an
//! import.

use std::path::Path;

use assay_credentials::{CredentialReader, CredentialState};

use crate::catalog::record::{ContentCredentials, Exif, Media};
use crate::formats::embedded::{self, Embedded};
use crate::formats::exif;
use crate::formats::one_pass::Content;
use crate::preview;

use super::pictures;

pub struct Analysis {
    pub title: Option<String>,
    pub exif: Option<Exif>,
    pub content_credentials: Option<ContentCredentials>,
    /// A video's or audio file's container description.
    pub media: Option<Media>,
    pub capture_date: Option<String>,
    pub capture_date_source: Option<&'static str>,
    pub original_source: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The grid's thumbnail until the previews are made.
    pub quick_thumbnail: Option<Vec<u8>>,
    /// Whether the second phase has a preview to make.
    pub previews_pending: bool,
    /// The XMP packet and IPTC IIM block inside the file.
    pub embedded: Embedded,
    pub warnings: Vec<String>,
}

/// Analyses `content`, read from `path`; `mtime_ns` dates files without EXIF dates.
/// `credentials` reads the Content Credentials, against the library's
/// trust anchors.
pub fn analyze(
    path: &Path,
    content: &Content,
    mtime_ns: i64,
    credentials: &CredentialReader,
) -> Analysis {
    let mut warnings = Vec::new();
    if content.size == 0 {
        warnings.push("file is empty (0 bytes)".to_owned());
    }
    if path.to_str().is_none() {
        warnings.push("file name is not valid UTF-8; shown with replacement characters".to_owned());
    }
    let is_image = content.media_type.starts_with("image/");
    if is_image && content.bytes.is_none() {
        warnings.push(format!(
            "image is larger than {} MiB: metadata and previews were not read",
            crate::formats::one_pass::IN_MEMORY_LIMIT >> 20
        ));
    }

    let mut read = match (&content.bytes, is_image) {
        (Some(bytes), true) => exif::read(bytes, content.media_type),
        _ => exif::ExifRead::default(),
    };
    warnings.append(&mut read.warnings);
    let embedded = match (&content.bytes, is_image) {
        (Some(bytes), true) => embedded::read(bytes, content.media_type, &read, &mut warnings),
        _ => Embedded::default(),
    };

    let content_credentials = read_credentials(credentials, path, content, &mut warnings);

    let mut dims = None;
    let mut media = None;
    let mut quick_thumbnail = None;
    let is_av = ["video/", "audio/"]
        .iter()
        .any(|kind| content.media_type.starts_with(kind));
    if is_av {
        let (described, mut problems) = super::av::describe(path);
        warnings.append(&mut problems);
        dims = described
            .as_ref()
            .and_then(|m| m.video.as_ref())
            .and_then(|v| v.width.zip(v.height));
        media = described;
    } else if let (Some(bytes), true) = (&content.bytes, is_image) {
        dims = preview::dimensions(bytes, content.media_type);
        let orientation = read.exif.as_ref().and_then(|e| e.orientation).unwrap_or(1);
        quick_thumbnail = pictures::quick_thumbnail(
            bytes,
            content.media_type,
            read.thumbnail.as_deref(),
            orientation,
        );
    }
    // What the second phase has to picture: every image held in memory,
    // and every video or audio file ffprobe could describe.
    let previews_pending = media.is_some() || (is_image && content.bytes.is_some());
    let (width, height) = dims.or(read.pixel_dimensions).unzip();

    let exif_date = read.capture_date.take();
    let recorded = media.as_ref().and_then(|m| m.creation_time.clone());
    let (capture_date, capture_date_source) = match (exif_date, recorded) {
        (Some(date), _) => (Some(date), Some("exif")),
        (None, Some(date)) => (Some(date), Some("container")),
        (None, None) => (file_time(mtime_ns), Some("file_mtime")),
    };
    let original_source = read
        .exif
        .as_ref()
        .and_then(|e| device(e.make.as_deref(), e.model.as_deref()))
        .or(read.software.take());
    let title = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty());

    Analysis {
        title,
        exif: read.exif,
        content_credentials,
        media,
        capture_date,
        capture_date_source,
        original_source,
        width,
        height,
        quick_thumbnail,
        previews_pending,
        embedded,
        warnings,
    }
}

/// `Canon` + `Canon EOS 40D` → `Canon EOS 40D`; `NIKON CORPORATION` + `NIKON D70` stays as both.
fn device(make: Option<&str>, model: Option<&str>) -> Option<String> {
    match (make, model) {
        (Some(make), Some(model)) if model.to_lowercase().starts_with(&make.to_lowercase()) => {
            Some(model.to_owned())
        }
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (make, model) => make.or(model).map(str::to_owned),
    }
}

/// A file time as ISO 8601 in UTC.
pub(crate) fn file_time(mtime_ns: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(mtime_ns)).ok()?;
    let t = t.replace_nanosecond(0).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// The Content Credentials the file carries, read from the bytes in memory
/// or, for media kept out of memory that C2PA covers, from the file. A
/// store that does not validate is kept (with its failures) and warned of.
fn read_credentials(
    reader: &CredentialReader,
    path: &Path,
    content: &Content,
    warnings: &mut Vec<String>,
) -> Option<ContentCredentials> {
    let media_type = content.media_type;
    let read = || -> Result<Option<ContentCredentials>, String> {
        match &content.bytes {
            Some(bytes) => reader
                .read_bytes(bytes, media_type)
                .map_err(|e| e.to_string()),
            None if ["video/", "audio/", "application/pdf"]
                .iter()
                .any(|p| media_type.starts_with(p)) =>
            {
                let file = std::fs::File::open(path)
                    .map_err(|e| format!("Content Credentials: could not reopen the file: {e}"))?;
                reader.read(file, media_type).map_err(|e| e.to_string())
            }
            None => Ok(None),
        }
    };
    match read() {
        Ok(Some(found)) => {
            if found.state == CredentialState::Invalid {
                warnings.push(format!(
                    "Content Credentials do not validate: {}",
                    found.failures.join(", ")
                ));
            }
            Some(found)
        }
        Ok(None) => None,
        Err(e) => {
            warnings.push(e);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_do_not_repeat_the_make() {
        assert_eq!(
            device(Some("Canon"), Some("Canon EOS 40D")).unwrap(),
            "Canon EOS 40D"
        );
        assert_eq!(
            device(Some("NIKON CORPORATION"), Some("NIKON D70")).unwrap(),
            "NIKON CORPORATION NIKON D70"
        );
        assert_eq!(device(None, Some("X100")).unwrap(), "X100");
        assert_eq!(device(None, None), None);
    }

    #[test]
    fn file_times_are_rfc3339_utc() {
        assert_eq!(
            file_time(1_700_000_000_123_000_000).unwrap(),
            "2023-11-14T22:13:20Z"
        );
    }
}
