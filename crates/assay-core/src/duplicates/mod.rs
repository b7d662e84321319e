//! Near-duplicates: assets whose pictures look alike though their bytes
//! differ (a resized, recompressed or lightly cropped copy, a copy turned on
//! its side, the JPEG shot beside a raw file). Each picture's perceptual
//! hash (`assay_preview::Fingerprint`) is kept per asset when its preview
//! is made (`catalog/fingerprints.rs`, which also finds one asset's
//! near-duplicates through indexed bands); `index.rs` holds a whole
//! library's hashes in memory for grouping; `groups.rs` makes groups of
//! them, each with a suggested keeper; `decisions.rs` is what a reviewer
//! does about a group (stack it, keep its assets apart, mark the copies),
//! and stacks made by hand. Stacks themselves are the catalog's
//! (`catalog/stacks.rs`); import makes those of raw pairs and bursts
//! (`ingest/stacking.rs`).

pub(crate) mod decisions;
pub(crate) mod groups;
pub(crate) mod index;
