//! The canonical asset record, as described by `schemas/asset.schema.json`.

use serde::{Deserialize, Serialize};

pub use crate::catalog::stacks::{Stack, StackKind};
pub use crate::formats::av::{AudioStream, Media, VideoStream};
pub use crate::formats::exif::{Exif, Gps};
pub use assay_credentials::ContentCredentials;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AssetRecord {
    pub asset_id: String,
    /// `sha256:` followed by 64 lowercase hex digits.
    pub checksum: String,
    pub size_bytes: u64,
    /// Sniffed from the content, not the file name.
    pub media_type: String,
    /// Absolute paths where the bytes were seen, with their state.
    pub locations: Vec<Location>,
    pub title: Option<String>,
    /// ISO 8601; carries the offset when the file records one.
    pub capture_date: Option<String>,
    /// Where `capture_date` came from: `exif`, `container` (a video's or
    /// audio file's), or `file_mtime` as a fallback.
    pub capture_date_source: Option<String>,
    /// Device make and model, or the source application.
    pub original_source: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Data rows of a CSV/JSONL file, or lines of a text file.
    pub row_count: Option<u64>,
    pub exif: Option<Exif>,
    /// The C2PA manifest store the file arrived with, as validated at
    /// import; none when it carried none.
    pub content_credentials: Option<ContentCredentials>,
    /// A video's or audio file's duration, streams, recording time and
    /// place, as its container says; none for other files.
    pub media: Option<Media>,
    pub previews: Previews,
    /// The stack the asset is shown in (a raw file and its JPEG, a burst,
    /// stacked near-duplicates); none when it is in none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<Stack>,
    pub warnings: Vec<String>,
    pub imported_at: String,
    /// The editable rights metadata (`$defs/rights` of the schema) that is set.
    #[serde(flatten)]
    pub rights: serde_json::Map<String, serde_json::Value>,
    #[serde(flatten)]
    pub workflow: Workflow,
}

/// Where an asset stands in review, and who touched it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Workflow {
    /// draft, pending, approved, rejected or quarantined.
    pub workflow_state: String,
    /// The seed's three-valued view: approved, rejected, or pending for every other state.
    pub marketplace_approved: String,
    pub provenance_hash: Option<String>,
    pub uploaded_by: Option<String>,
    pub last_edited_by: Option<String>,
}

impl Workflow {
    pub(crate) fn new(
        workflow_state: String,
        provenance_hash: Option<String>,
        uploaded_by: Option<String>,
        last_edited_by: Option<String>,
    ) -> Self {
        let marketplace_approved = match workflow_state.as_str() {
            "approved" | "rejected" => workflow_state.clone(),
            _ => "pending".to_owned(),
        };
        Workflow {
            workflow_state,
            marketplace_approved,
            provenance_hash,
            uploaded_by,
            last_edited_by,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Location {
    pub path: String,
    pub status: LocationStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum LocationStatus {
    Present,
    Missing,
    Modified,
}

impl LocationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LocationStatus::Present => "present",
            LocationStatus::Missing => "missing",
            LocationStatus::Modified => "modified",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "missing" => LocationStatus::Missing,
            "modified" => LocationStatus::Modified,
            _ => LocationStatus::Present,
        }
    }
}

/// Paths of the generated previews; absent for files that could not be decoded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Previews {
    /// Until the preview is made, the import's quick thumbnail (from the
    /// file's EXIF or MPF image, or a 1/8-scale decode), if it had one.
    pub thumbnail: Option<String>,
    pub preview: Option<String>,
    /// The preview is still to be made: `assay previews`, or the app in the
    /// background, makes it.
    #[serde(default)]
    pub pending: bool,
}
