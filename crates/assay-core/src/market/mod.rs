//! What the library remembers of the marketplaces it publishes to:
//! claimed manifests, resumable uploads, listings, and the payments a
//! market's feed reported. No network code: the market client talks.

pub(crate) mod activity;
pub(crate) mod feed;
pub(crate) mod sync;
