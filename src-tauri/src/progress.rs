//! Every long job (import, file check, export, sync) reaches the window the
//! same way: a [`JobUpdate`] on the job's channel, carrying the core's
//! [`Progress`] (done of total, in its unit) beside what that kind of job
//! tallies, at most ten updates a second (a webview repainting for every
//! file of a 100,000-file import would fall behind) and always the last.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use assay_core::{Job, Progress};
use serde::Serialize;
use tauri::ipc::Channel;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

const EVERY: Duration = Duration::from_millis(100);

/// What the window hears of a job: the core's progress, the item in flight
/// (a file's path, while there is one), what this kind of job tallies
/// beside it (`detail`), and whether it has finished.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
pub struct JobUpdate<D> {
    pub progress: Progress,
    pub current: Option<String>,
    pub detail: D,
    pub finished: bool,
}

/// A job's updates on their way to the window, throttled.
pub struct Stream<D: Clone + Serialize> {
    update: RefCell<JobUpdate<D>>,
    channel: Channel<JobUpdate<D>>,
    last: RefCell<Option<Instant>>,
}

impl<D: Clone + Default + Serialize> Stream<D> {
    fn new(channel: Channel<JobUpdate<D>>) -> Self {
        Stream {
            update: RefCell::new(JobUpdate::default()),
            channel,
            last: RefCell::new(None),
        }
    }

    fn progress(&self, progress: Progress) {
        self.update.borrow_mut().progress = progress;
        self.send(false);
    }

    /// Changes what the window is told beside the progress (the item in
    /// flight, the tallies) and sends it, unless an update went out less
    /// than 100 ms ago.
    pub fn tell(&self, change: impl FnOnce(&mut JobUpdate<D>)) {
        change(&mut self.update.borrow_mut());
        self.send(false);
    }

    /// As [`Stream::tell`], but always sent: a change of phase the window
    /// must not miss.
    pub fn announce(&self, change: impl FnOnce(&mut JobUpdate<D>)) {
        change(&mut self.update.borrow_mut());
        self.send(true);
    }

    fn finish(&self) {
        self.announce(|update| {
            update.finished = true;
            update.current = None;
        });
    }

    fn send(&self, always: bool) {
        let now = Instant::now();
        let mut last = self.last.borrow_mut();
        if !always && last.is_some_and(|last| now - last < EVERY) {
            return;
        }
        *last = Some(now);
        // A closed window drops its channel; the job still finishes.
        let _ = self.channel.send(self.update.borrow().clone());
    }
}

/// Runs `work` off the event loop as the window's job `job`: it gets a core
/// [`Job`] (cancelled by `cancel_job`, its progress streamed on `channel`)
/// and the [`Stream`] to tell the window more; the last update, marked
/// finished, always goes out. `what` names the job in the error a panic
/// inside it becomes.
pub async fn run_job<D, T>(
    state: &AppState,
    job: u32,
    channel: Channel<JobUpdate<D>>,
    what: &str,
    work: impl FnOnce(&mut Job, &Stream<D>) -> T + Send + 'static,
) -> AppResult<T>
where
    D: Clone + Default + Serialize + Send + 'static,
    T: Send + 'static,
{
    let cancel = state.start_job(job);
    let run = tauri::async_runtime::spawn_blocking(move || {
        let stream = Stream::new(channel);
        let result = {
            let mut on_progress = |progress| stream.progress(progress);
            let mut job = Job::new(&cancel, &mut on_progress);
            work(&mut job, &stream)
        };
        stream.finish();
        result
    });
    let done = run.await;
    state.finish_job(job);
    done.map_err(|e| AppError::new("internal", format!("the {what} stopped: {e}")))
}
