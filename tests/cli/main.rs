//! End-to-end tests of the `assay` binary on temporary libraries and real
//! camera files from the test corpus (tests/corpus/files).

// A test that cannot read its own fixtures should fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod c2pa;
mod checkpoints;
mod crash;
mod dataset_market;
mod datasets;
mod dupes;
mod import;
mod previews;
mod read;
mod sample;
mod signers;
mod stacks;
mod support;
mod users;
mod verify;
mod watch;
mod witness;
mod xmp;
