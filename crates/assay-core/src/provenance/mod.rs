//! The signed, hash-chained trail: events composed, sealed and appended to
//! an asset's chain, batches signed once over a Merkle root,
//! signed documents, checkpoints of the whole library and what a market
//! witnessing them checks, and verification from signatures alone.

pub(crate) mod batch;
pub(crate) mod chain;
pub(crate) mod checkpoint;
pub(crate) mod event;
pub(crate) mod merkle;
pub(crate) mod signed;
pub(crate) mod verify;
pub(crate) mod witness;
