//! The second phase of imports, in the background: while a library is
//! open, one thread makes the previews its imports left (the window's own
//! imports defer them, so a large one is browsable at once). The marks live
//! in the catalog, so it resumes after a restart; each picture reaches the
//! window through `live`, as any commit does. One worker, so a core stays
//! free for browsing and review.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use assay_core::{Job, PreviewOptions};
use tauri::{AppHandle, Manager};

use crate::state::AppState;

/// How often an idle thread asks whether there is work.
const EVERY: Duration = Duration::from_secs(2);
/// How long it waits after a run that could reach none of its files
/// (a disconnected disk), before trying them again.
const UNAVAILABLE_WAIT: Duration = Duration::from_secs(60);

/// Starts the thread; it lives as long as the app.
pub fn start(app: AppHandle) {
    std::thread::spawn(move || loop {
        std::thread::sleep(EVERY);
        let Ok(library) = app.state::<AppState>().library() else {
            continue;
        };
        // A catalog that cannot be read now is asked again next time.
        if !library.pending_previews().is_ok_and(|n| n > 0) {
            continue;
        }
        let cancel = AtomicBool::new(false);
        let mut job = Job::cancellable(&cancel);
        let options = PreviewOptions { jobs: 1 };
        let run = library.make_previews(&options, &mut job, &mut |_| {
            // Another library opened: this one's previews wait for it.
            let current = app.state::<AppState>().library();
            if !current.is_ok_and(|c| c.root() == library.root()) {
                cancel.store(true, Ordering::Relaxed);
            }
        });
        if run.is_ok_and(|s| s.made + s.not_made == 0 && s.unavailable > 0) {
            std::thread::sleep(UNAVAILABLE_WAIT);
        }
    });
}
