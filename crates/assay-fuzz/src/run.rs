//! Running a target: its regression files first, then mutants of its
//! seeds for a time budget. A panic, an input that runs past the time
//! limit, or one that allocates past the memory cap is a failure; its
//! input is kept under the target's regression folder, named by its
//! SHA-256, so it is replayed by every later run.
//!
//! Panics are caught and the run goes on. A hang or a memory blow-up
//! cannot be stopped from inside the process: the input is written first
//! (by the watchdog thread, or by the allocator into a file opened before
//! the input ran, so nothing is allocated then) and the process aborts.

use std::fs::File;
use std::io::Write as _;
use std::os::unix::fs::FileExt as _;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::memory;
use crate::mutate::{mutate, Rng};
use crate::targets::Target;

/// What counts as a failure.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// One input running longer than this is a hang.
    pub per_input: Duration,
    /// Live bytes past this (the harness's own included) are a blow-up.
    pub memory: usize,
}

/// One target's run.
#[derive(Debug)]
pub struct Report {
    pub target: &'static str,
    pub seeds: usize,
    pub regressions: usize,
    pub execs: u64,
    pub elapsed: Duration,
    /// The most bytes live at once while the target ran.
    pub peak_memory: usize,
    /// Inputs that panicked, each kept at the path given.
    pub panics: Vec<(PathBuf, String)>,
}

impl Report {
    pub fn execs_per_second(&self) -> f64 {
        self.execs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The input under test, where the allocator can write it without
/// allocating.
struct Pending {
    input: Vec<u8>,
    file: File,
    path: PathBuf,
}

static PENDING: Mutex<Option<Pending>> = Mutex::new(None);

/// Writes the input under test to its pending file, from inside the
/// allocator: no allocation happens here.
pub(crate) fn save_pending(why: &'static str) {
    let _ = std::io::stderr().write_all(b"assay-fuzz: an input went past the memory cap (");
    let _ = std::io::stderr().write_all(why.as_bytes());
    let _ = std::io::stderr().write_all(b"); it is kept as the target's pending regression\n");
    if let Ok(guard) = PENDING.try_lock() {
        if let Some(pending) = guard.as_ref() {
            let _ = pending.file.set_len(0);
            let _ = pending.file.write_all_at(&pending.input, 0);
            let _ = pending.file.sync_all();
        }
    }
}

/// The name an input is kept under: its SHA-256, in hex.
fn name_of(input: &[u8]) -> String {
    hex::encode(Sha256::digest(input))
}

/// Keeps `input` as a regression of the target whose folder is `dir`.
fn keep(dir: &Path, input: &[u8]) -> PathBuf {
    let path = dir.join(name_of(input));
    let _ = std::fs::create_dir_all(dir);
    if let Err(e) = std::fs::write(&path, input) {
        eprintln!("assay-fuzz: could not keep {}: {e}", path.display());
    }
    path
}

/// Runs one input; the panic's message when it panicked.
fn exec(target: &dyn Target, input: &[u8]) -> Option<String> {
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| target.run(input)));
    outcome.err().map(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned())
    })
}

/// An input under way: when it began, its target's regression folder, its
/// bytes.
type Running = (Instant, PathBuf, Vec<u8>);

/// The watchdog: aborts the process, keeping the input, when one input
/// runs past the limit.
struct Watch {
    current: Arc<Mutex<Option<Running>>>,
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watch {
    fn start(limit: Duration) -> Watch {
        let current: Arc<Mutex<Option<Running>>> = Arc::default();
        let done = Arc::new(AtomicBool::new(false));
        let (watched, finished) = (Arc::clone(&current), Arc::clone(&done));
        let thread = std::thread::spawn(move || {
            while !finished.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
                let Ok(guard) = watched.lock() else { return };
                if let Some((started, dir, input)) = guard.as_ref() {
                    if started.elapsed() > limit {
                        let kept = keep(dir, input);
                        eprintln!(
                            "assay-fuzz: an input ran longer than {limit:?}; kept as {}",
                            kept.display()
                        );
                        std::process::abort();
                    }
                }
            }
        });
        Watch {
            current,
            done,
            thread: Some(thread),
        }
    }

    fn begin(&self, dir: &Path, input: &[u8]) {
        if let Ok(mut guard) = self.current.lock() {
            *guard = Some((Instant::now(), dir.to_owned(), input.to_vec()));
        }
    }

    fn end(&self) {
        if let Ok(mut guard) = self.current.lock() {
            *guard = None;
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Mutants every run tries, even past its budget.
pub const MIN_MUTANTS: u64 = 32;

/// Where the target's pending input lives until its run ends.
const PENDING_FILE: &str = "pending";

/// Every regression input of the target in `dir`. A pending input a
/// previous run left (it blew the memory cap) is renamed to its hash first.
pub fn regressions(dir: &Path) -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let pending = dir.join(PENDING_FILE);
    if let Ok(bytes) = std::fs::read(&pending) {
        if !bytes.is_empty() {
            keep(dir, &bytes);
        }
        std::fs::remove_file(&pending)?;
    }
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        if path.is_file() {
            let bytes = std::fs::read(&path)?;
            found.push((path, bytes));
        }
    }
    found.sort();
    Ok(found)
}

/// Replays `target`'s regressions in `dir`, then its seeds, then runs
/// mutants of them until `budget` has passed (at least [`MIN_MUTANTS`]).
/// `rng_seed` makes the mutants repeatable.
pub fn fuzz(
    target: &dyn Target,
    dir: &Path,
    budget: Duration,
    rng_seed: u64,
    limits: Limits,
) -> anyhow::Result<Report> {
    let seeds = target.seeds()?;
    anyhow::ensure!(!seeds.is_empty(), "{}: no seeds", target.name());
    let regressions = regressions(dir)?;
    std::fs::create_dir_all(dir)?;
    let pending_path = dir.join(PENDING_FILE);
    let file = File::create(&pending_path)?;
    if let Ok(mut guard) = PENDING.lock() {
        *guard = Some(Pending {
            input: Vec::new(),
            file,
            path: pending_path.clone(),
        });
    }
    memory::set_cap(limits.memory);
    memory::reset_peak();
    let watch = Watch::start(limits.per_input);
    // The default hook would print every caught panic; the report says it.
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));

    let mut report = Report {
        target: target.name(),
        seeds: seeds.len(),
        regressions: regressions.len(),
        execs: 0,
        elapsed: Duration::ZERO,
        peak_memory: 0,
        panics: Vec::new(),
    };
    let started = Instant::now();
    let run = |input: &[u8], report: &mut Report| {
        if let Ok(mut guard) = PENDING.lock() {
            if let Some(pending) = guard.as_mut() {
                pending.input.clear();
                pending.input.extend_from_slice(input);
            }
        }
        watch.begin(dir, input);
        let panicked = exec(target, input);
        watch.end();
        report.execs += 1;
        if let Some(message) = panicked {
            report.panics.push((keep(dir, input), message));
        }
    };
    for (_, input) in &regressions {
        run(input, &mut report);
    }
    for seed in &seeds {
        run(seed, &mut report);
    }
    let mut rng = Rng::new(rng_seed);
    let mut mutants = 0;
    // However slow the machine, every run tries some mutants.
    while started.elapsed() < budget || mutants < MIN_MUTANTS {
        mutants += 1;
        let seed = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, seed, other);
        run(&input, &mut report);
    }
    report.elapsed = started.elapsed();
    report.peak_memory = memory::peak();

    panic::set_hook(hook);
    drop(watch);
    memory::set_cap(0);
    if let Ok(mut guard) = PENDING.lock() {
        if let Some(pending) = guard.take() {
            let _ = std::fs::remove_file(&pending.path);
        }
    }
    Ok(report)
}
