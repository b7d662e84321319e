//! The signed, hash-chained trail: events composed, sealed and appended to
//! an asset's chain, batches signed once over a Merkle root,
//! signed documents, and verification from signatures alone.

pub(crate) mod batch;
pub(crate) mod chain;
pub(crate) mod checkpoint;
pub(crate) mod event;
pub(crate) mod merkle;
pub(crate) mod signed;
pub(crate) mod verify;
