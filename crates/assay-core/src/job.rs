//! How a long job (an export, say) reports how far it has come and learns
//! that it should stop. The job checks between units of work, so a cancel
//! lands at a point where nothing is half-written: an export that is told
//! to stop before it commits leaves neither its file nor its events.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::error::{Error, Result};

/// How far a job has come: `done` of `total` units (assets, for exports).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Step {
    pub done: u64,
    pub total: u64,
}

/// A job's cancel flag and progress callback; [`Job::quiet`] has neither.
pub struct Job<'a> {
    cancel: Option<&'a AtomicBool>,
    on_step: Option<&'a mut dyn FnMut(Step)>,
}

impl<'a> Job<'a> {
    /// A job that reports each step to `on_step` and stops once `cancel` is set.
    pub fn new(cancel: &'a AtomicBool, on_step: &'a mut dyn FnMut(Step)) -> Self {
        Job {
            cancel: Some(cancel),
            on_step: Some(on_step),
        }
    }

    /// A job nobody watches or cancels: the command line's.
    pub fn quiet() -> Job<'static> {
        Job {
            cancel: None,
            on_step: None,
        }
    }

    /// Reports `done` of `total`; `Err(Cancelled)` once the job was asked
    /// to stop, for the caller to return before it writes anything more.
    pub(crate) fn step(&mut self, done: usize, total: usize) -> Result<()> {
        if let Some(on_step) = self.on_step.as_mut() {
            on_step(Step {
                done: done as u64,
                total: total as u64,
            });
        }
        self.check()
    }

    /// `Err(Cancelled)` once the job was asked to stop.
    pub(crate) fn check(&self) -> Result<()> {
        match self.cancel {
            Some(cancel) if cancel.load(Ordering::Relaxed) => Err(Error::Cancelled),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_reports_its_steps_and_stops_once_cancelled() {
        let cancel = AtomicBool::new(false);
        let mut seen = Vec::new();
        {
            let mut on_step = |s: Step| seen.push((s.done, s.total));
            let mut job = Job::new(&cancel, &mut on_step);
            assert!(job.step(1, 3).is_ok());
            cancel.store(true, Ordering::Relaxed);
            assert!(matches!(job.step(2, 3), Err(Error::Cancelled)));
            assert!(matches!(job.check(), Err(Error::Cancelled)));
        }
        assert_eq!(seen, [(1, 3), (2, 3)]);
        assert!(Job::quiet().step(5, 5).is_ok());
    }
}
