//! Synchronous calls into an async client. The market's storage seams
//! ([`crate::Blobs`], [`crate::Records`]) are synchronous: the server calls
//! them on tokio's blocking threads, the CLI and the tests from plain
//! threads. A store whose client is async (S3's) owns a [`Bridge`]: a small
//! runtime of its own that runs each call while the calling thread waits.
//! Its connections live on that runtime, whichever thread asks.

use std::future::Future;
use std::sync::mpsc;

use tokio::runtime::{Builder, Runtime};

/// Worker threads of a bridge's runtime: they only wait on the network.
const WORKERS: usize = 2;

pub(crate) struct Bridge {
    // Always `Some` until dropped; an `Option` so `Drop` can take it.
    runtime: Option<Runtime>,
}

/// The bridge's runtime stopped before the call finished (the process is
/// shutting down).
#[derive(Debug, thiserror::Error)]
#[error("{0}: the call's runtime stopped before it finished")]
pub(crate) struct Stopped(pub &'static str);

impl Bridge {
    /// A runtime whose threads are named `name`.
    pub(crate) fn new(name: &str) -> std::io::Result<Bridge> {
        let runtime = Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .thread_name(name)
            .enable_all()
            .build()?;
        Ok(Bridge {
            runtime: Some(runtime),
        })
    }

    /// Runs `call` on the bridge's runtime and waits for its output. Safe
    /// from any thread but an async worker, which it would block.
    pub(crate) fn run<F>(&self, what: &'static str, call: F) -> Result<F::Output, Stopped>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let runtime = self.runtime.as_ref().ok_or(Stopped(what))?;
        let (done, output) = mpsc::sync_channel(1);
        runtime.spawn(async move {
            // The caller waits on the other end; it cannot have gone.
            let _ = done.send(call.await);
        });
        output.recv().map_err(|_| Stopped(what))
    }
}

impl Drop for Bridge {
    /// Without waiting: a store may be dropped on an async thread, where
    /// waiting for a runtime to stop is forbidden (tokio panics).
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_run_from_a_plain_thread_and_from_a_blocking_one() {
        let bridge = std::sync::Arc::new(Bridge::new("bridge-test").unwrap());
        assert_eq!(bridge.run("adding", async { 2 + 2 }).unwrap(), 4);
        let outer = Runtime::new().unwrap();
        let inner = std::sync::Arc::clone(&bridge);
        let answer = outer
            .block_on(outer.spawn_blocking(move || {
                inner.run("sleeping", async {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    "slept"
                })
            }))
            .unwrap()
            .unwrap();
        assert_eq!(answer, "slept");
        // Dropped inside an async context without panicking.
        outer.block_on(async move { drop(bridge) });
    }
}
