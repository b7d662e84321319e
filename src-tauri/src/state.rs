//! What the shell keeps between commands: the open library, who is acting,
//! and the cancel flags of running jobs. Nothing here decides anything.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use assay_core::{Actor, Library};

use crate::error::{AppError, AppResult};
use crate::startup::Startup;

pub struct AppState {
    /// None until a library is picked or created (first run, or the one
    /// opened last went missing).
    library: RwLock<Option<Library>>,
    actor: Mutex<Option<Arc<Actor>>>,
    jobs: Mutex<HashMap<u32, Arc<AtomicBool>>>,
    /// Why no library opened at start, and where the picker proposes one.
    start_problem: Option<AppError>,
    suggested: PathBuf,
    /// Where the library opened last is remembered; None when the platform has no such folder.
    config: Option<PathBuf>,
    /// The cancel flag of the running watched-folder thread.
    watcher: Mutex<Option<Arc<AtomicBool>>>,
}

impl AppState {
    pub fn new(start: Startup, config: Option<PathBuf>) -> Self {
        AppState {
            library: RwLock::new(start.library),
            actor: Mutex::new(None),
            jobs: Mutex::new(HashMap::new()),
            start_problem: start.problem,
            suggested: start.suggested,
            config,
            watcher: Mutex::new(None),
        }
    }

    pub fn start_problem(&self) -> Option<&AppError> {
        self.start_problem.as_ref()
    }

    pub fn suggested(&self) -> &Path {
        &self.suggested
    }

    pub fn config(&self) -> Option<&Path> {
        self.config.as_deref()
    }

    /// The open library (a cheap handle; commands never hold the lock), or
    /// the error the front end answers with the library picker.
    pub fn library(&self) -> AppResult<Library> {
        self.library
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| AppError::new("no_library", "no library is open: open or create one"))
    }

    /// Switches libraries; whoever was acting in the old one is locked out.
    pub fn set_library(&self, library: Library) {
        *self.library.write().unwrap_or_else(PoisonError::into_inner) = Some(library);
        self.set_actor(None);
    }

    pub fn actor(&self) -> Option<Arc<Actor>> {
        self.actor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn set_actor(&self, actor: Option<Arc<Actor>>) {
        *self.actor.lock().unwrap_or_else(PoisonError::into_inner) = actor;
    }

    /// Installs the new watcher's cancel flag and hands back the old one.
    pub fn swap_watcher(&self, next: Option<Arc<AtomicBool>>) -> Option<Arc<AtomicBool>> {
        std::mem::replace(
            &mut *self.watcher.lock().unwrap_or_else(PoisonError::into_inner),
            next,
        )
    }

    /// A new cancel flag for job `id`, the front end's own number for it.
    pub fn start_job(&self, id: u32) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, flag.clone());
        flag
    }

    pub fn finish_job(&self, id: u32) {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }

    /// Sets job `id`'s cancel flag; false when no such job runs.
    pub fn cancel_job(&self, id: u32) -> bool {
        let jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        match jobs.get(&id) {
            Some(flag) => {
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}
