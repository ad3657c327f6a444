//! The HTTP surface (API.md): one router, one module per resource.

pub mod forecasts;
pub mod imports;
pub mod notifications;
pub mod ops;
pub mod products;
pub mod refills;
pub mod reservations;

use crate::metrics;
use crate::problem::ApiError;
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

/// Bodies larger than this are refused before they are read (CSV imports have their own limit).
const JSON_BODY_LIMIT: usize = 64 * 1024;
const CSV_BODY_LIMIT: usize = 64 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/products", get(products::list_products))
        .route(
            "/products/{sku}",
            get(products::get_product).put(products::put_product),
        )
        .route("/products/{sku}/receipts", post(products::receive))
        .route("/products/{sku}/sales", post(products::sell))
        .route("/products/{sku}/adjustments", post(products::adjust))
        .route("/products/{sku}/min-stock", put(products::set_min_stock))
        .route("/products/{sku}/events", get(products::product_events))
        .route(
            "/products/{sku}/movements",
            get(products::product_movements),
        )
        .route("/products/{sku}/reservations", post(reservations::reserve))
        .route("/products/{sku}/forecast", get(forecasts::get_forecast))
        .route(
            "/jobs/recompute-thresholds",
            post(forecasts::recompute_thresholds),
        )
        .route("/reservations/{id}", delete(reservations::release))
        .route("/reservations/{id}/confirm", post(reservations::confirm))
        .route("/refills", get(refills::list_refills))
        .route("/refills/{id}/audit", get(refills::refill_audit))
        .route("/refills/{id}/receive", post(refills::receive))
        .route("/refills/{id}/cancel", post(refills::cancel))
        .route("/notifications", get(notifications::list_notifications))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT));
    let imports = Router::new()
        .route("/imports/demand-history", post(imports::demand_history))
        .layer(DefaultBodyLimit::max(CSV_BODY_LIMIT));
    Router::new()
        .nest("/v1", v1.merge(imports))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .route("/docs", get(ops::docs))
        .fallback(|| async { ApiError::not_found("no such route").into_response() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed().into_response() })
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("handler panicked").into_response()
        }))
        .with_state(state)
}
