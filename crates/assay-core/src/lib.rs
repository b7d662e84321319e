//! The core of Assay: the asset library and everything that reads or writes
//! it. It has no UI and no network code; the `assay` CLI and the desktop app
//! are thin shells over this API.
//!
//! The modules are grouped by domain, each group a folder, and the groups
//! depend on each other in one direction only, lowest first (the order
//! `tests/layers.rs` enforces):
//!
//! `formats` → `catalog` → `identity` → `provenance` → `rights` →
//! `ingest` → `exports` → `market` → `setup`
//!
//! Below them all sit the crates that need no catalog: `assay-fsio` (files
//! never half-written, hashing while streaming) and `assay-preview`.
//!
//! A group may use any group before it and none after it. The crate root
//! holds only what every group shares: the error type, the job model, and
//! [`Library::open`], which runs the migrations that need higher groups.
//!
//! - [`Library`] opens a library folder (catalog + previews).
//! - [`Library::import`] runs the ingest pipeline; [`Library::watch`] keeps
//!   folders imported; [`Library::check_fixity`] re-hashes every file.
//! - [`Library::record`] and [`Library::list`] read the catalog as
//!   [`AssetRecord`]s, the shape `schemas/asset.schema.json` describes.
//! - [`Library::claim_for_market`] and the other `market` methods keep what
//!   a marketplace sync did, so it resumes; the client does the talking.

mod catalog;
mod datasets;
mod duplicates;
mod error;
mod exports;
mod formats;
mod identity;
mod ingest;
mod job;
mod market;
mod open;
mod provenance;
mod rights;
mod setup;

/// Modules other crates name by path.
pub use formats::{canonical, file_names, media};
pub use identity::keys;
pub use ingest::untrusted;
pub use rights::{licenses, metadata};

/// Thumbnails and previews, made by their own crate (optimised even in tests).
pub use assay_preview as preview;
pub use catalog::assets::Filter;
pub use catalog::changes::CatalogChanges;
pub use catalog::grid::{GridItem, GridQuery, GridSort};
pub use catalog::library::Library;
pub use catalog::migrations::CURRENT_VERSION as CATALOG_VERSION;
pub use catalog::record::{
    AssetRecord, AudioStream, ContentCredentials, Exif, Gps, Location, LocationStatus, Media,
    Previews, Stack, StackKind, VideoStream, Workflow,
};
pub use datasets::builds::{BuildOptions, DatasetBuild, DEFAULT_SHARD_BYTES};
pub use datasets::manifest::{verify_dataset_manifest, DatasetCheck, ShardEntry};
pub use datasets::pulled;
pub use datasets::selections::{Dataset, DatasetView};
pub use datasets::shards::ShardFormat;
pub use datasets::versions::{Changes, DatasetVersion};
pub use duplicates::decisions::{KeptApart, DUPLICATE_OF, MAX_KEPT_APART};
pub use duplicates::groups::{DuplicateGroup, DuplicateMember, DEFAULT_MAX_DISTANCE, MAX_DISTANCE};
pub use error::{Error, Result};
pub use exports::audit::{AuditExport, AuditOptions};
pub use exports::audit_check::{verify_audit, AuditCheck};
pub use exports::credentials::{
    CredentialExport, CredentialFile, DeliveryCredentials, ASSAY_ASSERTION,
};
pub use exports::manifest::{verify_manifest, ManifestCheck, ManifestExport, RefusedAsset};
pub use exports::xmp_check::XmpCheck;
pub use exports::xmp_sidecar::XmpExport;
pub use identity::roles::{Action, Permissions, Role, RoleInfo};
pub use identity::users::{Actor, User};
pub use ingest::fixity::{FixityEvent, FixityOptions, FixityReport, FixityStatus, FixitySummary};
pub use ingest::import::{FileReport, FileStatus, ImportEvent, ImportOptions, ImportSummary};
pub use ingest::playback::Playback;
pub use ingest::previews::{PreviewOptions, PreviewReport, PreviewStatus, PreviewSummary};
pub use ingest::watch::{WatchEvent, WatchOptions};
pub use job::{Job, Progress, Unit};
pub use market::activity::{
    MarketActivity, MarketListing, MarketPayment, Total, MARKET_TOKENS_DIR,
};
pub use market::dataset_listings::DatasetListing;
pub use market::feed::{FeedRecorded, PaymentRecorded};
pub use market::sync::{Claimed, Market, MarketAsset, MarketManifest, UploadState, Withdrawal};
pub use provenance::checkpoint::{Checkpoint, CheckpointCheck, CHECKPOINTS_DIR};
pub use provenance::event::{Event, EventKind};
pub use provenance::signed::signature_verifies;
pub use provenance::verify::{Break, ProvenanceReport};
pub use provenance::witness::{CheckpointClaim, TreeHead, WitnessRequest};
pub use rights::contracts::Contract;
pub use rights::creators::{Creator, NewCreator};
pub use rights::edit::{Change, EditSummary, Selection};
pub use rights::fields::{
    field_problems, field_specs, FieldInput, FieldProblem, FieldSpec, PaymentField, PaymentKind,
};
pub use rights::gates::FailedGate;
pub use rights::permits::{Permits, Verdict};
pub use rights::queue::QueueItem;
pub use rights::report::{DatasetSummary, Durations, LatestVersion, Report};
pub use rights::transfer::Transfer;
pub use rights::undo::{KeptAsset, Undone, UndoneDecision};
pub use rights::workflow::Decision;
pub use setup::first_user::FirstUser;
pub use setup::sample::{SampleLibrary, SAMPLE_USERS};

/// Reads EXIF from a file's bytes, as import does; for tools and tests that
/// compare Assay's reading with another reader's.
pub fn read_exif(bytes: &[u8]) -> (Option<Exif>, Vec<String>) {
    let ext = "";
    let r = formats::exif::read(bytes, formats::media::sniff(bytes, ext));
    (r.exif, r.warnings)
}
