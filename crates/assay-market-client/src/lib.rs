//! The library's side of an Assay marketplace: [`sync`] publishes the
//! approved assets not yet listed, over the protocol `assay-market-proto`
//! describes, and records each step in the library (`assay_core`'s market
//! methods), so an interrupted sync resumes where it stopped.
//!
//! Blocking HTTP (ureq), retries with exponential backoff on connection
//! errors and 5xx answers; a 4xx is an [`Error::Refused`] naming the
//! market's error code. Progress goes to a callback; a cancel flag stops it.
//! [`Listings`] reads and edits (reprices) a publisher's listings.

mod error;
mod http;
mod listings;
mod progress;
mod sync;
mod upload;

pub use error::{Error, Result};
pub use http::Retry;
pub use listings::Listings;
pub use progress::{SyncEvent, SyncReport};
pub use sync::{sync, Price, SyncOptions};
