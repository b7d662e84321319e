//! Datasets for model trainers: saved selections of the catalog
//! (`selections.rs`), built into immutable, signed versions (`builds.rs`):
//! shards in the layouts training jobs read (`shards.rs`), a signed dataset
//! manifest (`manifest.rs`), its Croissant description (`croissant.rs`), and
//! what each version changed against the one before (`versions.rs`).

pub(crate) mod builds;
mod croissant;
pub(crate) mod manifest;
pub(crate) mod selections;
pub(crate) mod shards;
pub(crate) mod versions;
