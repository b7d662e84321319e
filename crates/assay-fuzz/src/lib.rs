//! Mutation fuzzing of every parser Assay runs on bytes from outside:
//! files (sniffing, EXIF, XMP, IPTC IIM, previews), manifests, audit
//! packages, and the market protocol's feed pages, tus headers and webhook
//! deliveries. Stable Rust, no coverage instrumentation: seeds from the
//! test corpus, AFL-style havoc mutations (`mutate.rs`), panics caught,
//! hangs and memory blow-ups stopped by a watchdog and a capped allocator
//! (`run.rs`, `memory.rs`). Every failing input is kept under
//! `tests/fuzz/regressions/TARGET/` and replayed by every later run.
//!
//! `make test` runs each target for a fraction of a second (the
//! `fuzz_briefly` test); `make fuzz` runs `assay-fuzz` for minutes.

pub mod memory;
pub mod mutate;
pub mod run;
pub mod targets;

use std::path::{Path, PathBuf};

/// The repository's root, from this crate's folder.
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where the test corpus's files are.
pub fn corpus() -> PathBuf {
    repository().join("tests/corpus/files")
}

/// Where a target's failing inputs are kept.
pub fn regressions(target: &str) -> PathBuf {
    repository().join("tests/fuzz/regressions").join(target)
}
