//! [`Market`]: a data folder opened, recovered and ready to serve.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;

use crate::app::App;
use crate::blobs::{BlobError, Blobs, FolderBlobs, S3Blobs};
use crate::body_schemas::BodySchemas;
use crate::config::{BlobsAt, Config};
use crate::links::LinkKey;
use crate::records::{PostgresRecords, Records, RecordsError, SqliteRecords};
use crate::routes::{self, Route};
use crate::witness::WitnessKey;
use crate::{connections, sweep, webhook_delivery};

#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    #[error(transparent)]
    Records(#[from] RecordsError),
    #[error(transparent)]
    Blobs(#[from] BlobError),
    #[error("the built-in OpenAPI document does not parse: {0}")]
    Spec(String),
    #[error("recovering interrupted uploads: {0}")]
    Recovery(String),
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Where the embedded records of a data folder live.
pub fn records_path(data: &Path) -> PathBuf {
    data.join("market.db")
}

/// Opens the embedded records of a data folder, creating the folder.
pub fn open_records(data: &Path) -> Result<SqliteRecords, MarketError> {
    std::fs::create_dir_all(data).map_err(|source| MarketError::Io {
        action: "creating",
        path: data.to_owned(),
        source,
    })?;
    Ok(SqliteRecords::open(&records_path(data))?)
}

/// A marketplace server, not yet listening.
pub struct Market {
    app: Arc<App>,
    router: Router,
    routes: Vec<Route>,
}

impl Market {
    /// The storage `config` names: the records in `config.database`, or
    /// else `market.db` in `config.data`; the blobs in `config.blobs`, or
    /// else in folders of `config.data`.
    pub fn open(config: Config) -> Result<Market, MarketError> {
        let records: Arc<dyn Records> = match &config.database {
            Some(url) => Arc::new(PostgresRecords::open(url)?),
            None => Arc::new(open_records(&config.data)?),
        };
        let blobs: Arc<dyn Blobs> = match &config.blobs {
            None => Arc::new(FolderBlobs::open(&config.data)?),
            Some(BlobsAt::Folder(dir)) => Arc::new(FolderBlobs::open(dir)?),
            // Credentials from the environment, as AWS's own tools read them.
            Some(BlobsAt::S3(location)) => Arc::new(S3Blobs::open(location, None)?),
        };
        Market::with_storage(config, records, blobs)
    }

    /// A server over any storage. Uploads a stop interrupted are
    /// reconciled before it returns.
    pub fn with_storage(
        config: Config,
        records: Arc<dyn Records>,
        blobs: Arc<dyn Blobs>,
    ) -> Result<Market, MarketError> {
        let doc = crate::spec::openapi().map_err(|e| MarketError::Spec(e.to_string()))?;
        let bodies = BodySchemas::compile(&doc).map_err(MarketError::Spec)?;
        let spec = serde_json::to_vec(&doc)
            .map_err(|e| MarketError::Spec(e.to_string()))?
            .into();
        let links = LinkKey::of(&*records)?;
        let witness = WitnessKey::of(&*records)?;
        let app = Arc::new(App::new(
            records, blobs, config, spec, bodies, links, witness,
        ));
        sweep::recover(&app).map_err(|e| MarketError::Recovery(e.message))?;
        let (router, routes) = routes::build(Arc::clone(&app));
        Ok(Market {
            app,
            router,
            routes,
        })
    }

    /// Every route mounted, with the scope it needs.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    pub fn records(&self) -> &Arc<dyn Records> {
        &self.app.records
    }

    /// Serves on `listener` until `shutdown` completes, sweeping expired
    /// uploads, releasing purchases past their hold and delivering webhooks
    /// meanwhile. Requests under way get the configured grace to finish.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let sweeper = tokio::spawn(sweep::run(Arc::clone(&self.app)));
        let deliverer = tokio::spawn(webhook_delivery::run(Arc::clone(&self.app)));
        let limits = self.app.config.connections;
        let served = connections::serve(listener, self.router, limits, shutdown).await;
        sweeper.abort();
        deliverer.abort();
        served
    }
}
