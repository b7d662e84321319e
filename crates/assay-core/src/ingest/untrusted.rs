//! The parsers that read bytes from outside the library, reachable from
//! one place so the fuzz harness (`crates/assay-fuzz`) drives exactly what
//! an import, a sidecar check or a verification runs. Manifests and audit
//! packages have public verifiers of their own (`verify_manifest`,
//! `verify_audit`); the market's wire formats live in
//! `assay-market-proto`.

use std::path::Path;
use std::sync::OnceLock;

use assay_credentials::{CredentialReader, TrustAnchors};

use super::{analyze, pictures};
use crate::formats::{embedded, exif, iim, one_pass, xmp};

/// What an import learns from a file named `name` holding `bytes`: media
/// sniffing, the checksum pass with row counting and the personal-data
/// scan, EXIF (BigTIFF too), the XMP packet and IPTC IIM block, the quick
/// thumbnail, and the preview's decoding and rendering. Returns the warnings the asset would
/// carry.
pub fn analyze_file(name: &str, bytes: &[u8]) -> Vec<String> {
    let path = Path::new(name);
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match one_pass::read_from(bytes, &ext, bytes.len() as u64) {
        Ok(content) => match default_reader() {
            Ok(reader) => {
                let analysis = analyze::analyze(path, &content, 0, reader);
                let mut warnings = analysis.warnings;
                // The second phase, as `assay previews` runs it on these bytes.
                if analysis.previews_pending {
                    let bytes = content.bytes.as_deref();
                    let media = analysis.media.as_ref();
                    let made = pictures::render(path, bytes, content.media_type, media);
                    warnings.extend(made.warnings);
                }
                warnings
            }
            Err(e) => vec![e],
        },
        Err(e) => vec![e.to_string()],
    }
}

/// A reader of Content Credentials without trust anchors, made once: the
/// fuzz harness calls [`analyze_file`] millions of times.
fn default_reader() -> Result<&'static CredentialReader, String> {
    static READER: OnceLock<Result<CredentialReader, String>> = OnceLock::new();
    READER
        .get_or_init(|| CredentialReader::new(&TrustAnchors::default()).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

/// Parses an XMP packet or sidecar, as import and the sidecar check do;
/// the error says why it was refused.
pub fn parse_xmp(bytes: &[u8]) -> Result<(), String> {
    xmp::parse(bytes).map(|_| ()).map_err(|e| e.to_string())
}

/// Parses an IPTC IIM block, found inside Photoshop image resources when
/// `bytes` holds those; the creators (By-line) it names.
pub fn parse_iim(bytes: &[u8]) -> Vec<String> {
    let block = iim::in_photoshop_resources(bytes).unwrap_or(bytes);
    iim::parse(block).all(80)
}

/// Reads EXIF as import does for a file of `media_type`; the warnings.
pub fn read_exif(bytes: &[u8], media_type: &str) -> Vec<String> {
    let mut read = exif::read(bytes, media_type);
    let mut warnings = std::mem::take(&mut read.warnings);
    embedded::read(bytes, media_type, &read, &mut warnings);
    warnings
}
