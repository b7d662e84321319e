//! What the library remembers of the marketplaces it publishes to:
//! claimed manifests, resumable uploads, listings (of asset manifests, and
//! of dataset versions: `dataset_listings.rs`), the payments a
//! market's feed reported, and the checkpoint it last witnessed. No network code: the market client talks.

pub(crate) mod activity;
pub(crate) mod dataset_listings;
pub(crate) mod feed;
pub(crate) mod sync;
pub(crate) mod witnessed;
