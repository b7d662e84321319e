//! Both sides of an Assay marketplace, over the protocol
//! `assay-market-proto` describes. [`sync`] publishes a library's approved
//! assets not yet listed and records each step in the library
//! (`assay_core`'s market methods), so an interrupted sync resumes where it
//! stopped; it also records the market's payments in provenance, and ends
//! by having the market witness the library's checkpoint ([`witnessed`]
//! reads back what it witnessed). [`pull`]
//! buys a listing and fetches it for a trainer, keeping only files that
//! verify against the signed manifest; [`verify_pulled`] checks them again.
//!
//! Blocking HTTP (ureq), retries with exponential backoff on connection
//! errors and 5xx answers; a 4xx is an [`Error::Refused`] naming the
//! market's error code. Progress goes to a callback; a cancel flag stops it.
//! [`Listings`] reads and edits (reprices) a publisher's listings.
//! [`publish_dataset`] lists a built dataset version, its shards uploaded.

mod dataset_publish;
mod dataset_pull;
mod error;
mod feed;
mod http;
mod listings;
mod previews;
mod progress;
mod pull;
mod sync;
mod upload;
mod witness;

pub use dataset_publish::{
    publish_dataset, PublishEvent, PublishReport, PublishTarget, PublishedVersion,
};
pub use dataset_pull::verify_pulled_dataset;
pub use error::{Error, Result};
pub use http::Retry;
pub use listings::Listings;
pub use progress::{SyncEvent, SyncReport};
pub use pull::{
    pull, verify_pulled, PullCheck, PullEvent, PullFormat, PullOptions, PullReport, PullTarget,
    MANIFEST_FILE, MARKET_KEYS_FILE, PURCHASE_FILE, WITNESSED_FILE,
};
pub use sync::{sync, Price, SyncOptions};
pub use witness::{witnessed, WitnessedCheckpoint};
