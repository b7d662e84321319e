//! The core of Assay: the asset library and everything that reads or writes
//! it. It has no UI and no network code; the `assay` CLI and the desktop app
//! are thin shells over this API.
//!
//! - [`Library`] opens a library folder (catalog + previews).
//! - [`Library::import`] runs the ingest pipeline; [`Library::watch`] keeps
//!   folders imported; [`Library::verify`] checks fixity.
//! - [`Library::record`] and [`Library::list`] read the catalog as
//!   [`AssetRecord`]s, the shape `schemas/asset.schema.json` describes.
//! - [`Library::claim_for_market`] and the other `market` methods keep what
//!   a marketplace sync did, so it resumes; the client does the talking.

mod analyze;
mod atomic;
mod audit;
mod audit_check;
mod batch;
pub mod canonical;
mod catalog;
mod changes;
mod contracts;
mod creators;
mod croissant;
mod edit;
mod embedded;
mod error;
mod exif;
mod fields;
mod gates;
mod grid;
mod iim;
mod import_marks;
mod ingest;
mod job;
pub mod keys;
mod library;
pub mod licenses;
mod manifest;
mod market;
mod market_activity;
mod market_feed;
pub mod media;
mod merkle;
pub mod metadata;
mod migrations;
mod pii;
mod provenance;
mod query;
mod queue;
mod read;
mod record;
mod report;
mod rights_in;
mod roles;
mod sample;
mod setup;
mod signed;
mod tee_hash;
mod text;
mod transfer;
mod users;
mod verify;
mod walk;
mod watch;
mod workflow;
mod xmp;
mod xmp_read;
mod xmp_verify;

/// Thumbnails and previews, made by their own crate (optimised even in tests).
pub use assay_preview as preview;
pub use audit::AuditExport;
pub use audit_check::{verify_audit, AuditCheck};
pub use catalog::Filter;
pub use changes::CatalogChanges;
pub use contracts::Contract;
pub use creators::{Creator, NewCreator};
pub use edit::{Change, EditSummary, Selection};
pub use error::{Error, Result};
pub use fields::{
    field_problems, field_specs, FieldInput, FieldProblem, FieldSpec, PaymentField, PaymentKind,
};
pub use gates::FailedGate;
pub use grid::{GridItem, GridQuery, GridSort};
pub use ingest::{FileReport, FileStatus, ImportEvent, ImportOptions, ImportSummary};
pub use job::{Job, Step};
pub use library::Library;
pub use manifest::{verify_manifest, ManifestCheck, ManifestExport, RefusedAsset};
pub use market::{Claimed, Market, MarketAsset, MarketManifest, UploadState, Withdrawal};
pub use market_activity::{MarketActivity, MarketListing, MarketPayment, Total, MARKET_TOKENS_DIR};
pub use market_feed::{FeedRecorded, PaymentRecorded};
pub use migrations::CURRENT_VERSION as CATALOG_VERSION;
pub use provenance::{Break, Event, EventKind, ProvenanceReport};
pub use queue::QueueItem;
pub use record::{AssetRecord, Exif, Gps, Location, LocationStatus, Previews, Workflow};
pub use report::{Durations, Report};
pub use roles::{Action, Permissions, Role};
pub use sample::{SampleLibrary, SAMPLE_USERS};
pub use setup::FirstUser;
pub use transfer::Transfer;
pub use users::{Actor, User};
pub use verify::{FixityReport, FixityStatus, VerifyEvent, VerifyOptions, VerifySummary};
pub use watch::{WatchEvent, WatchOptions};
pub use workflow::Decision;
pub use xmp::XmpExport;
pub use xmp_verify::XmpCheck;

/// Reads EXIF from a file's bytes, as import does; for tools and tests that
/// compare Assay's reading with another reader's.
pub fn read_exif(bytes: &[u8]) -> (Option<Exif>, Vec<String>) {
    let ext = "";
    let r = exif::read(bytes, media::sniff(bytes, ext));
    (r.exif, r.warnings)
}
