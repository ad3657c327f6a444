//! Operations: liveness, readiness, metrics, the OpenAPI document and its docs page.
//!
//! The docs page is Swagger UI, embedded in the binary at build time (`utoipa-swagger-ui` with
//! its `vendored` and `debug-embed` features): nothing is downloaded to build it or fetched by
//! the page but its own assets under `/docs/` and `/openapi.json`.

use crate::problem::codes::{Internal, NotFound};
use crate::problem::{ApiError, Problems};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Serialize;
use std::fmt::Write;
use std::sync::{Arc, LazyLock};
use utoipa::ToSchema;
use utoipa_swagger_ui::Config;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    /// Why not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Alive.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "Alive", body = Health))
)]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The store is reachable and its migrations are applied.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready", body = Readiness),
    )
)]
pub async fn readyz(State(app): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let ready = match app.db.ping().await {
        Ok(()) => match app.db.migrations_applied().await {
            Ok(true) => Ok(()),
            Ok(false) => Err("migrations not applied".to_owned()),
            Err(e) => Err(e.to_string()),
        },
        Err(e) => Err(e.to_string()),
    };
    match ready {
        Ok(()) => (
            StatusCode::OK,
            Json(Readiness {
                status: "ready",
                reason: None,
            }),
        ),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Readiness {
                    status: "not_ready",
                    reason: Some(reason),
                }),
            )
        }
    }
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Metrics", content_type = "text/plain; version=0.0.4", body = String),
        Problems<(Internal,)>,
    )
)]
pub async fn metrics(State(app): State<AppState>) -> Result<Response, ApiError> {
    let mut out = String::new();
    app.metrics.render(&mut out);
    app.agent_metrics.render(&mut out);
    app.chat.metrics().render(&mut out);
    out.push_str(
        "# HELP restock_projection_events_behind Events committed but not yet projected.\n",
    );
    out.push_str("# TYPE restock_projection_events_behind gauge\n");
    let mut seconds = String::new();
    for runner in app.runners.iter() {
        let status = runner.status().await.map_err(ApiError::internal)?;
        let _ = writeln!(
            out,
            "restock_projection_events_behind{{projection=\"{}\"}} {}",
            status.name, status.events_behind
        );
        let _ = writeln!(
            seconds,
            "restock_projection_seconds_behind{{projection=\"{}\"}} {:.3}",
            status.name, status.seconds_behind
        );
    }
    out.push_str("# HELP restock_projection_seconds_behind Age of the oldest unprojected event.\n");
    out.push_str("# TYPE restock_projection_seconds_behind gauge\n");
    out.push_str(&seconds);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}

/// The OpenAPI document, generated once from the handlers' annotations and types.
static OPENAPI: LazyLock<String> = LazyLock::new(|| {
    super::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes")
});

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        OPENAPI.as_str(),
    )
        .into_response()
}

/// Swagger UI's settings: read `/openapi.json`, and no online validator (its badge would ask
/// an outside service about the document).
static SWAGGER: LazyLock<Arc<Config<'static>>> =
    LazyLock::new(|| Arc::new(Config::from("/openapi.json").validator_url("none")));

/// Interactive documentation: redirects to `/docs/`, which the page's relative asset URLs need.
#[utoipa::path(
    get,
    path = "/docs",
    tag = "operations",
    responses((status = 303, description = "To `/docs/`", headers(("location" = String))))
)]
pub async fn docs() -> Redirect {
    Redirect::to("/docs/")
}

/// The interactive documentation page (Swagger UI; works offline).
#[utoipa::path(
    get,
    path = "/docs/",
    tag = "operations",
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        Problems<(Internal,)>,
    )
)]
pub async fn docs_index() -> Result<Response, ApiError> {
    docs_file("index.html")
}

/// One of the docs page's assets, served from the binary.
#[utoipa::path(
    get,
    path = "/docs/{file}",
    tag = "operations",
    params(("file" = String, Path, description = "e.g. `swagger-ui.css`")),
    responses(
        (status = 200, description = "The asset", content_type = "application/octet-stream", body = Vec<u8>),
        Problems<(NotFound, Internal)>,
    )
)]
pub async fn docs_asset(Path(file): Path<String>) -> Result<Response, ApiError> {
    docs_file(&file)
}

fn docs_file(file: &str) -> Result<Response, ApiError> {
    let found = utoipa_swagger_ui::serve(file, SWAGGER.clone())
        .map_err(|e| ApiError::internal(format!("docs asset {file}: {e}")))?
        .ok_or_else(|| ApiError::not_found("no such docs asset"))?;
    Ok((
        [(header::CONTENT_TYPE, found.content_type)],
        found.bytes.into_owned(),
    )
        .into_response())
}
