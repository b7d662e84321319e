//! Where video and audio play from: a loopback HTTP server the window's
//! media elements read in byte ranges. WebKitGTK loads no media from custom
//! URI schemes (WebKit bug 146351: its GStreamer source never reaches the
//! `assay:` handler), so media cannot go the way thumbnails do.
//!
//! It listens on 127.0.0.1 on a port the system picks, and serves only
//! `/TOKEN/ASSET_ID`, where TOKEN is 128 random bits made at start: another
//! program on the machine, or a web page guessing the port, reads nothing.
//! What plays is the core's choice (`Library::playback`: the original, or
//! its proxy rendition); `tower-http` answers the ranges, streaming the
//! file, so a long video is never read whole.

use std::sync::Arc;

use assay_core::Library;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tauri::{AppHandle, Manager};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The server's address and secret: what a media element's URL starts with.
#[derive(Clone)]
pub struct MediaServer {
    /// `http://127.0.0.1:PORT/TOKEN`
    base: String,
}

impl MediaServer {
    /// The URL asset `asset_id` plays from.
    pub fn url(&self, asset_id: &str) -> String {
        format!("{}/{asset_id}", self.base)
    }
}

struct Serving {
    token: String,
    app: AppHandle,
}

/// Binds the loopback port and serves it on the app's runtime for as long
/// as the app runs.
pub fn start(app: AppHandle) -> AppResult<MediaServer> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| AppError::new("media_server", format!("no loopback port for media: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| AppError::new("media_server", e.to_string()))?
        .port();
    let token = uuid::Uuid::new_v4().simple().to_string();
    let base = format!("http://127.0.0.1:{port}/{token}");
    let serving = Arc::new(Serving { token, app });
    let router = Router::new()
        .route("/{token}/{asset_id}", get(serve))
        .with_state(serving);
    tauri::async_runtime::spawn(async move {
        match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => {
                if let Err(e) = axum::serve(listener, router).await {
                    eprintln!("assay-app: the media server stopped: {e}");
                }
            }
            Err(e) => eprintln!("assay-app: the media server could not listen: {e}"),
        }
    });
    Ok(MediaServer { base })
}

/// `GET /TOKEN/ASSET_ID` (and `HEAD`), ranges included.
async fn serve(
    State(serving): State<Arc<Serving>>,
    Path((token, asset_id)): Path<(String, String)>,
    request: Request,
) -> Response {
    if token != serving.token {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Ok(library) = serving.app.state::<AppState>().library() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let chosen = tauri::async_runtime::spawn_blocking(move || playable(&library, &asset_id)).await;
    let Ok(Some((path, media_type))) = chosen else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match ServeFile::new(path).oneshot(request).await {
        Ok(response) => {
            let mut response = response.into_response();
            if let Ok(value) = HeaderValue::from_str(&media_type) {
                response.headers_mut().insert(header::CONTENT_TYPE, value);
            }
            response
        }
        Err(never) => match never {},
    }
}

/// The file that plays for `asset_id` and its media type, if it plays.
fn playable(library: &Library, asset_id: &str) -> Option<(std::path::PathBuf, String)> {
    library
        .playback(asset_id)
        .ok()
        .map(|p| (p.path, p.media_type))
}
