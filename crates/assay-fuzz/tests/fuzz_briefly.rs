//! A few seconds of fuzzing in `make test`: every target replays its kept
//! regression inputs, then runs mutants of its seeds for a moment. Zero
//! panics; a hang or a memory blow-up aborts the test, keeping its input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use assay_fuzz::memory::Counting;
use assay_fuzz::run::{self, Limits};

#[global_allocator]
static ALLOC: Counting = Counting;

#[test]
fn every_parser_survives_a_moment_of_mutants() {
    // The Argon2id work factor is for people, not for seeding a library.
    std::env::set_var("ASSAY_KDF_FAST", "1");
    let limits = Limits {
        // Debug builds: generous, yet far below "never returns".
        per_input: Duration::from_secs(20),
        memory: 2 << 30,
    };
    let targets = assay_fuzz::targets::all(&assay_fuzz::corpus());
    assert_eq!(targets.len(), 11);
    let mut failures = Vec::new();
    for target in &targets {
        let report = run::fuzz(
            target.as_ref(),
            &assay_fuzz::regressions(target.name()),
            Duration::from_millis(400),
            0x5EED,
            limits,
        )
        .unwrap();
        assert!(
            report.execs >= (report.regressions + report.seeds) as u64 + run::MIN_MUTANTS,
            "{}: only {} executions",
            target.name(),
            report.execs
        );
        for (path, message) in report.panics {
            failures.push(format!("{}: {message} ({})", target.name(), path.display()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
