//! The protocol's contract, `schemas/marketplace.openapi.yaml`, built into
//! the server and served as JSON at `GET /openapi.json`.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;

const YAML: &str = include_str!("../../../schemas/marketplace.openapi.yaml");

/// The OpenAPI document as JSON.
pub fn openapi() -> Result<serde_json::Value, serde_yaml_ng::Error> {
    serde_yaml_ng::from_str(YAML)
}

pub(crate) async fn serve(State(app): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        app.spec.clone(),
    )
        .into_response()
}
