//! What the library remembers of the marketplaces it publishes to:
//! claimed manifests, resumable uploads, listings, the payments a
//! market's feed reported, and the checkpoint it last witnessed. No network code: the market client talks.

pub(crate) mod activity;
pub(crate) mod feed;
pub(crate) mod sync;
pub(crate) mod witnessed;
