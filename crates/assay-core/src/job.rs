//! The one model of a long job (an import, a fixity check, a bulk edit, an
//! export, a marketplace sync or pull): it reports how far it has come as
//! done of total in a unit, and learns that it should stop.
//!
//! What "cancelled" means is the same for every job: the job stops at the
//! next boundary between two units of work, so nothing is half-written;
//! what it finished before is kept and reported. A job that keeps many
//! results (an import's files, a check's locations, XMP sidecars, a sync's
//! uploads) returns its summary with `cancelled: true`; a job whose result is
//! one indivisible thing (a bulk edit's transaction, a manifest, an audit
//! package) has finished nothing when it stops, keeps nothing, and returns
//! [`Error::Cancelled`].

use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::error::{Error, Result};

/// What a job counts its progress in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    #[default]
    Assets,
    Files,
    Bytes,
}

/// How far a job has come: `done` of `total` units. A job that discovers
/// its work as it goes (an import walking folders) raises `total` as it
/// finds more.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Progress {
    pub done: u64,
    pub total: u64,
    pub unit: Unit,
}

/// Never set: the cancel flag of a job nobody can cancel.
static NEVER: AtomicBool = AtomicBool::new(false);

/// A job's cancel flag and progress callback; [`Job::quiet`] has neither.
pub struct Job<'a> {
    cancel: &'a AtomicBool,
    on_progress: Option<&'a mut dyn FnMut(Progress)>,
}

impl<'a> Job<'a> {
    /// A job that reports its progress to `on_progress` and stops once
    /// `cancel` is set.
    pub fn new(cancel: &'a AtomicBool, on_progress: &'a mut dyn FnMut(Progress)) -> Self {
        Job {
            cancel,
            on_progress: Some(on_progress),
        }
    }

    /// A job that stops once `cancel` is set and reports to nobody.
    pub fn cancellable(cancel: &'a AtomicBool) -> Self {
        Job {
            cancel,
            on_progress: None,
        }
    }

    /// A job nobody watches or cancels: the command line's.
    pub fn quiet() -> Job<'static> {
        Job {
            cancel: &NEVER,
            on_progress: None,
        }
    }

    /// Reports `done` of `total` in `unit`.
    pub fn report(&mut self, done: u64, total: u64, unit: Unit) {
        if let Some(on_progress) = self.on_progress.as_mut() {
            on_progress(Progress { done, total, unit });
        }
    }

    /// Reports `done` of `total` assets; `Err(Cancelled)` once the job was
    /// asked to stop, for the caller to return before it writes anything more.
    pub fn step(&mut self, done: usize, total: usize) -> Result<()> {
        self.report(done as u64, total as u64, Unit::Assets);
        self.check()
    }

    /// `Err(Cancelled)` once the job was asked to stop.
    pub fn check(&self) -> Result<()> {
        match self.stopped() {
            true => Err(Error::Cancelled),
            false => Ok(()),
        }
    }

    /// Whether the job was asked to stop.
    pub fn stopped(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// The cancel flag itself, for the threads a job starts to watch.
    pub fn cancel_flag(&self) -> &'a AtomicBool {
        self.cancel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_reports_its_progress_and_stops_once_cancelled() {
        let cancel = AtomicBool::new(false);
        let mut seen = Vec::new();
        {
            let mut on_progress = |p: Progress| seen.push((p.done, p.total, p.unit));
            let mut job = Job::new(&cancel, &mut on_progress);
            assert!(job.step(1, 3).is_ok());
            job.report(10, 40, Unit::Bytes);
            cancel.store(true, Ordering::Relaxed);
            assert!(matches!(job.step(2, 3), Err(Error::Cancelled)));
            assert!(matches!(job.check(), Err(Error::Cancelled)));
            assert!(job.cancel_flag().load(Ordering::Relaxed));
        }
        assert_eq!(
            seen,
            [
                (1, 3, Unit::Assets),
                (10, 40, Unit::Bytes),
                (2, 3, Unit::Assets)
            ]
        );
        let mut quiet = Job::quiet();
        assert!(quiet.step(5, 5).is_ok());
        assert!(!quiet.stopped());
    }
}
