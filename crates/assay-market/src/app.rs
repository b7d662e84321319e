//! The state every handler shares: storage, configuration, and which
//! uploads a request is writing right now.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;

use crate::blobs::Blobs;
use crate::body_schemas::BodySchemas;
use crate::config::Config;
use crate::error::ApiError;
use crate::ids::UploadId;
use crate::links::LinkKey;
use crate::records::{self, Records};
use crate::slots::Slots;
use crate::witness::WitnessKey;

pub(crate) type AppState = Arc<App>;

pub(crate) struct App {
    pub records: Arc<dyn Records>,
    pub blobs: Arc<dyn Blobs>,
    pub config: Config,
    /// The OpenAPI document as JSON, served at `/openapi.json`.
    pub spec: Bytes,
    /// The schema of each request body, from that document.
    pub bodies: BodySchemas,
    /// Signs and checks download links.
    pub links: LinkKey,
    /// Countersigns the checkpoints the market witnesses.
    pub witness: WitnessKey,
    /// Per-account limit on preview and sample requests.
    /// Upload chunks and downloads under way, per account.
    pub uploading: Slots,
    pub downloading: Slots,
    /// Turns at reading and checking a manifest (`manifests_at_once`).
    pub manifest_turns: Arc<tokio::sync::Semaphore>,
    /// Uploads a request (or the sweeper) is working on; a second request
    /// for the same upload is refused rather than interleaved.
    busy: Mutex<HashSet<UploadId>>,
}

impl App {
    pub fn new(
        records: Arc<dyn Records>,
        blobs: Arc<dyn Blobs>,
        config: Config,
        spec: Bytes,
        bodies: BodySchemas,
        links: LinkKey,
        witness: WitnessKey,
    ) -> App {
        App {
            records,
            blobs,
            spec,
            bodies,
            links,
            witness,
            uploading: Slots::new("uploads", config.uploads_at_once_per_account),
            downloading: Slots::new("downloads", config.downloads_at_once_per_account),
            manifest_turns: Arc::new(tokio::sync::Semaphore::new(config.manifests_at_once.max(1))),
            busy: Mutex::new(HashSet::new()),
            config,
        }
    }

    /// When an upload written to now expires: its time to live from now.
    pub fn upload_expiry(&self) -> i64 {
        crate::clock::after(crate::clock::now_ms(), self.config.upload_ttl)
    }

    /// Runs `f` on the records on a blocking thread.
    pub async fn records<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Records) -> records::Result<T> + Send + 'static,
    {
        let records = Arc::clone(&self.records);
        blocking(move || f(&*records).map_err(ApiError::from)).await
    }

    /// Holds `id` for one request until the guard drops; `None` when
    /// another request holds it.
    pub fn lock_upload(self: &Arc<Self>, id: &UploadId) -> Option<UploadLock> {
        let mut busy = self.busy.lock().ok()?;
        busy.insert(id.clone()).then(|| UploadLock {
            app: Arc::clone(self),
            id: id.clone(),
        })
    }
}

/// Runs blocking work (SQLite, files, hashing) off the async runtime.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("a storage task failed: {e}")))?
}

pub(crate) struct UploadLock {
    app: Arc<App>,
    id: UploadId,
}

impl Drop for UploadLock {
    fn drop(&mut self) {
        if let Ok(mut busy) = self.app.busy.lock() {
            busy.remove(&self.id);
        }
    }
}
