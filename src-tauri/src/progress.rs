//! Progress for the front end, at most ten updates a second: a webview
//! repainting for every file of a 100,000-file import would fall behind.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tauri::ipc::Channel;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

const EVERY: Duration = Duration::from_millis(100);

pub struct Throttled<T: Clone + serde::Serialize> {
    channel: Channel<T>,
    last: Option<Instant>,
}

impl<T: Clone + serde::Serialize> Throttled<T> {
    pub fn new(channel: Channel<T>) -> Self {
        Throttled {
            channel,
            last: None,
        }
    }

    /// Sends `value` unless an update went out less than 100 ms ago.
    pub fn send(&mut self, value: &T) {
        let now = Instant::now();
        if self.last.is_some_and(|last| now - last < EVERY) {
            return;
        }
        self.last = Some(now);
        // A closed window drops its channel; the job still finishes.
        let _ = self.channel.send(value.clone());
    }

    /// Always sends: the last state must reach the window.
    pub fn finish(&mut self, value: &T) {
        let _ = self.channel.send(value.clone());
    }
}

/// Runs `work` off the event loop as the window's job `job`: it gets the
/// job's cancel flag (set by `cancel_job`) and the throttled `channel`,
/// and sends its last progress with [`Throttled::finish`]. `what` names the
/// job in the error a panic inside it becomes.
pub async fn run_job<P, T>(
    state: &AppState,
    job: u32,
    channel: Channel<P>,
    what: &str,
    work: impl FnOnce(Arc<AtomicBool>, &mut Throttled<P>) -> T + Send + 'static,
) -> AppResult<T>
where
    P: Clone + serde::Serialize + Send + 'static,
    T: Send + 'static,
{
    let cancel = state.start_job(job);
    let run =
        tauri::async_runtime::spawn_blocking(move || work(cancel, &mut Throttled::new(channel)));
    let done = run.await;
    state.finish_job(job);
    done.map_err(|e| AppError::new("internal", format!("the {what} stopped: {e}")))
}
