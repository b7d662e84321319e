//! The library folder and its catalog: opening and migrating `library.db`,
//! assets and their locations, the asset record, lookups, grid pages and
//! the change probe, stacks, and files an interrupted action left to put in
//! place. Everything above reads and writes the catalog through a
//! [`library::Library`]'s connections.

pub(crate) mod assets;
pub(crate) mod changes;
pub(crate) mod fingerprints;
pub(crate) mod grid;
pub(crate) mod library;
pub(crate) mod lookup;
pub(crate) mod migrations;
pub(crate) mod pending_files;
pub(crate) mod pending_previews;
pub(crate) mod record;
pub(crate) mod stacks;
