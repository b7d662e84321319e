//! Datasets for model trainers: saved selections of the catalog
//! (`selections.rs`), from which versioned builds are made.

pub(crate) mod selections;
