//! What the shell keeps between commands: the open library, who is acting,
//! and the cancel flags of running jobs. Nothing here decides anything.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use assay_core::{Actor, Library};

pub struct AppState {
    library: RwLock<Library>,
    actor: Mutex<Option<Arc<Actor>>>,
    jobs: Mutex<HashMap<u32, Arc<AtomicBool>>>,
}

impl AppState {
    pub fn new(library: Library) -> Self {
        AppState {
            library: RwLock::new(library),
            actor: Mutex::new(None),
            jobs: Mutex::new(HashMap::new()),
        }
    }

    /// The open library (a cheap handle; commands never hold the lock).
    pub fn library(&self) -> Library {
        self.library
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Switches libraries; whoever was acting in the old one is locked out.
    pub fn set_library(&self, library: Library) {
        *self.library.write().unwrap_or_else(PoisonError::into_inner) = library;
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
