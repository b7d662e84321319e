//! What may be sold and how: license tags and rights metadata, field
//! rules and gates, bulk edits and their undo, creators, contracts, transfers, the
//! approval workflow and its queue, and the readiness report.

pub(crate) mod contracts;
pub(crate) mod creators;
pub(crate) mod edit;
pub(crate) mod fields;
pub(crate) mod gates;
pub mod licenses;
pub mod metadata;
pub(crate) mod permits;
pub(crate) mod queue;
pub(crate) mod report;
pub(crate) mod transfer;
pub(crate) mod undo;
pub(crate) mod workflow;
