//! Datasets for model trainers: saved selections of the catalog
//! (`selections.rs`), built into immutable, signed versions (`builds.rs`):
//! shards in the layouts training jobs read (`shards.rs`), a signed dataset
//! manifest (`manifest.rs`), its Croissant description (`croissant.rs`), and
//! what each version changed against the one before (`versions.rs`); and
//! the trainer's side, with no library: pulled shards read back, a delta's
//! tombstones applied, a pulled folder checked (`pulled.rs`).

pub(crate) mod builds;
mod croissant;
pub(crate) mod manifest;
pub mod pulled;
pub(crate) mod selections;
pub(crate) mod shards;
pub(crate) mod versions;
