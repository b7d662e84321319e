//! Progress for the front end, at most ten updates a second: a webview
//! repainting for every file of a 100,000-file import would fall behind.

use std::time::{Duration, Instant};

use tauri::ipc::Channel;

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
