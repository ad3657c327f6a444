//! Operations: liveness, readiness, metrics, the OpenAPI document and its offline docs page.

use crate::problem::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::fmt::Write;

/// The OpenAPI document, written by hand next to API.md and checked against the router by tests.
pub const OPENAPI: &str = include_str!("../../openapi.json");
/// A self-contained docs page: no CDN, no fonts, nothing fetched but `/openapi.json`.
const DOCS: &str = include_str!("../../docs.html");

pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(app): State<AppState>) -> Response {
    let ready = match app.db.ping().await {
        Ok(()) => match app.db.migrations_applied().await {
            Ok(true) => Ok(()),
            Ok(false) => Err("migrations not applied".to_owned()),
            Err(e) => Err(e.to_string()),
        },
        Err(e) => Err(e.to_string()),
    };
    match ready {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "not_ready", "reason": reason })),
            )
                .into_response()
        }
    }
}

pub async fn metrics(State(app): State<AppState>) -> Result<Response, ApiError> {
    let mut out = String::new();
    app.metrics.render(&mut out);
    app.agent_metrics.render(&mut out);
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

pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

pub async fn docs() -> Html<&'static str> {
    Html(DOCS)
}
