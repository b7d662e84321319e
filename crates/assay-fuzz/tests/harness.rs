//! The harness catches what it is for: a panicking input is reported and
//! kept; an input that hangs or allocates without bound stops the process
//! (run here as a child, the test binary itself) with the input kept, and
//! the next run replays it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use assay_fuzz::memory::Counting;
use assay_fuzz::run::{self, Limits};
use assay_fuzz::targets::Target;
use sha2::{Digest, Sha256};

#[global_allocator]
static ALLOC: Counting = Counting;

/// Panics, hangs or hogs memory when an input says so.
struct Trap;

impl Target for Trap {
    fn name(&self) -> &'static str {
        "trap"
    }
    fn seeds(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        Ok(vec![b"harmless".to_vec()])
    }
    fn run(&self, input: &[u8]) {
        match input {
            b"boom" => panic!("boom"),
            b"hang" => loop {
                std::thread::sleep(Duration::from_millis(10));
            },
            b"hog" => {
                let hog = vec![1u8; 3 << 30];
                assert_eq!(hog.len(), 3 << 30);
            }
            _ => {}
        }
    }
}

const LIMITS: Limits = Limits {
    per_input: Duration::from_secs(1),
    memory: 1 << 30,
};

fn hashed(input: &[u8]) -> String {
    hex::encode(Sha256::digest(input))
}

fn fuzz(dir: &Path) -> run::Report {
    run::fuzz(&Trap, dir, Duration::from_millis(50), 1, LIMITS).unwrap()
}

#[test]
fn a_panicking_input_is_reported_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("found-earlier"), b"boom").unwrap();
    let report = fuzz(dir.path());
    assert_eq!(report.regressions, 1);
    assert_eq!(report.panics.len(), 1, "{:?}", report.panics);
    let (kept, message) = &report.panics[0];
    assert_eq!(message, "boom");
    assert_eq!(kept, &dir.path().join(hashed(b"boom")));
    assert_eq!(std::fs::read(kept).unwrap(), b"boom");
    // Harmless inputs after it ran, and the peak was measured.
    assert!(report.execs > 2);
    assert!(report.peak_memory > 0);
}

/// In the child: fuzz the regression folder named by the environment.
#[test]
#[ignore = "run by the tests below as a child process"]
fn child() {
    if let Ok(dir) = std::env::var("ASSAY_FUZZ_TRAP_DIR") {
        fuzz(Path::new(&dir));
    }
}

fn run_child(dir: &Path) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--ignored", "--nocapture"])
        .env("ASSAY_FUZZ_TRAP_DIR", dir)
        .output()
        .unwrap()
}

#[test]
fn a_hanging_input_stops_the_run_and_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("found-earlier"), b"hang").unwrap();
    let out = run_child(dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("ran longer than"), "{stderr}");
    assert_eq!(
        std::fs::read(dir.path().join(hashed(b"hang"))).unwrap(),
        b"hang"
    );
}

#[test]
fn an_input_past_the_memory_cap_stops_the_run_and_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("found-earlier"), b"hog").unwrap();
    let out = run_child(dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("memory cap"), "{stderr}");
    // The next run keeps the pending input under its hash and replays it.
    let kept = run::regressions(dir.path()).unwrap();
    assert!(kept
        .iter()
        .any(|(path, bytes)| path.ends_with(hashed(b"hog")) && bytes == b"hog"));
    assert!(!dir.path().join("pending").exists());
}
