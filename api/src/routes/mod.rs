//! The HTTP surface (docs/api.md): one router, one module per resource.
//!
//! The router and the OpenAPI document are built from one list, [`api`]: each entry is a handler
//! annotated with `#[utoipa::path]`, and `routes!` takes both the axum route (path and methods)
//! and the documented operation from that annotation. A handler without the annotation cannot
//! be listed, and nothing is routed except through the list (`tests/ops.rs` checks the built
//! router against the document both ways).

pub mod conversations;
pub mod forecasts;
pub mod imports;
pub mod notifications;
pub mod ops;
pub mod products;
pub mod refills;
pub mod reservations;

use crate::metrics;
use crate::problem::{codes, ApiError, ErrorCode, Problem, Problems};
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::Router;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Bodies larger than this are refused before they are read (CSV imports have their own limit).
const JSON_BODY_LIMIT: usize = 64 * 1024;
const CSV_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// The document's fixed parts; its paths and their schemas come from [`api`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Restock",
        version = "1.0.0",
        description = "Event-sourced, multi-tenant inventory engine. The contract is API.md; this \
            document is generated from the server's own handlers and types.\n\n\
            Errors are `application/problem+json` with a stable `code`; each operation lists the \
            codes it can answer. A routed path called with another method answers 405 \
            `method_not_allowed`, an unknown path 404 `not_found`, and a handler that panics \
            500 `internal`."
    ),
    components(schemas(Problem, ErrorCode)),
    modifiers(&BearerAuth),
    tags(
        (name = "products", description = "Products and their reads"),
        (name = "stock", description = "Stock movements and minimums (manager)"),
        (name = "reservations", description = "Hold units, then confirm or release them"),
        (name = "forecasts", description = "Forecasts and the minimums computed from them"),
        (name = "imports", description = "CSV uploads"),
        (name = "refills", description = "Refills, their audits, and the agent's notifications"),
        (name = "conversations", description = "Questions about the stock in plain language, and changes proposed in chat"),
        (name = "operations", description = "Health, metrics, this document and its docs page"),
    )
)]
struct ApiDoc;

/// `Authorization: Bearer <JWT>` (HS256), referred to as `bearer` by the operations that need it.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every route of the server, each with its documentation: the one list the router and the
/// OpenAPI document are both built from. One `routes!` per path (`routes!` routes every handler
/// it is given on every path among them).
pub fn api() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .routes(routes!(products::list_products))
        .routes(routes!(products::get_product, products::put_product))
        .routes(routes!(products::receive))
        .routes(routes!(products::sell))
        .routes(routes!(products::adjust))
        .routes(routes!(products::set_min_stock))
        .routes(routes!(products::product_events))
        .routes(routes!(products::product_movements))
        .routes(routes!(reservations::reserve))
        .routes(routes!(forecasts::get_forecast))
        .routes(routes!(forecasts::recompute_thresholds))
        .routes(routes!(forecasts::purchase_plan))
        .routes(routes!(reservations::release))
        .routes(routes!(reservations::confirm))
        .routes(routes!(refills::list_refills))
        .routes(routes!(refills::request_refill))
        .routes(routes!(refills::refill_audit))
        .routes(routes!(refills::receive))
        .routes(routes!(refills::cancel))
        .routes(routes!(notifications::list_notifications))
        .routes(routes!(conversations::create, conversations::list))
        .routes(routes!(conversations::get))
        .routes(routes!(conversations::post_message))
        .routes(routes!(conversations::confirm))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT));
    let imports = OpenApiRouter::new()
        .routes(routes!(imports::demand_history))
        .routes(routes!(imports::prices))
        .layer(DefaultBodyLimit::max(CSV_BODY_LIMIT));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/v1", v1.merge(imports))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .routes(routes!(ops::openapi_json))
        .routes(routes!(ops::docs))
        .routes(routes!(ops::docs_index))
        .routes(routes!(ops::docs_asset))
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api().into_openapi();
    // What every `/v1` operation can answer whatever its handler does: the tenant's rate
    // (`Caller` checks it with the token) and the request timeout ([`with_timeout`]).
    let answered_by_all = Problems::<(codes::RateLimited, codes::Timeout)>::responses();
    for (path, item) in doc.paths.paths.iter_mut() {
        if !path.starts_with("/v1/") {
            continue;
        }
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            operation
                .responses
                .responses
                .extend(answered_by_all.clone());
        }
    }
    doc
}

/// Answer 503 `timeout` when a request takes longer than `limit`. Dropping the handler's future
/// rolls back a transaction still open; one already committed stays, and the client's retry
/// with the same `Idempotency-Key` returns its first answer.
pub fn with_timeout(app: Router, limit: Duration) -> Router {
    app.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| async move {
            match tokio::time::timeout(limit, next.run(request)).await {
                Ok(response) => response,
                Err(_) => ApiError::timeout(limit).into_response(),
            }
        },
    ))
}

pub fn router(state: AppState) -> Router {
    let (routes, _) = api().split_for_parts();
    // MCP speaks JSON-RPC, not REST: it is outside the OpenAPI document (docs/api.md has its
    // section).
    let routes = routes.merge(crate::mcp::routes(&state));
    routes
        // The HTML dashboard: not part of the JSON API or its document (tests/ops.rs).
        .merge(crate::dashboard::router())
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

#[cfg(test)]
mod tests {
    use super::openapi;
    use crate::problem::ErrorCode;
    use serde_json::Value;
    use std::collections::BTreeSet;

    fn document() -> Value {
        serde_json::to_value(openapi()).expect("the document is JSON")
    }

    /// Every error `code` the document lists is one the server can emit: a variant of
    /// `ErrorCode`, which every `ApiError` is made from, under the status that code is answered
    /// with. Every `/v1` operation lists `rate_limited` with 429 and `timeout` with 503.
    #[test]
    fn documented_error_codes_are_the_ones_the_server_emits() {
        let doc = document();
        let emitted: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();

        // The Problem schema's `code` is exactly the enum.
        let schema_codes: BTreeSet<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .expect("ErrorCode enum")
            .iter()
            .map(|c| c.as_str().expect("string code"))
            .collect();
        assert_eq!(schema_codes, emitted);
        assert_eq!(
            doc["components"]["schemas"]["Problem"]["properties"]["code"]["$ref"],
            "#/components/schemas/ErrorCode"
        );

        let mut listed = 0;
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                let Some(responses) = op["responses"].as_object() else {
                    continue;
                };
                for (status, response) in responses {
                    let Some(problem) = response["content"].get("application/problem+json") else {
                        assert!(
                            status.starts_with('2') || status.starts_with('3') || status == "503",
                            "{method} {path} {status} is an error without a problem body"
                        );
                        continue;
                    };
                    let narrowed = &problem["schema"]["allOf"];
                    assert_eq!(narrowed[0]["$ref"], "#/components/schemas/Problem");
                    let codes = narrowed[1]["properties"]["code"]["enum"]
                        .as_array()
                        .unwrap_or_else(|| panic!("{method} {path} {status} lists its codes"));
                    assert!(!codes.is_empty());
                    for code in codes {
                        let code = code.as_str().expect("string code");
                        let known = ErrorCode::ALL
                            .iter()
                            .find(|c| c.as_str() == code)
                            .unwrap_or_else(|| {
                                panic!("{method} {path} lists `{code}`, which nothing emits")
                            });
                        assert_eq!(
                            known.status().as_str(),
                            status,
                            "{method} {path}: `{code}` is answered with another status"
                        );
                        listed += 1;
                    }
                }
            }
        }
        assert!(listed > 50, "operations list their codes ({listed})");
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                let listed = |status: &str| {
                    op["responses"][status]["content"]["application/problem+json"]["schema"]
                        ["allOf"][1]["properties"]["code"]["enum"]
                        .clone()
                };
                let expected = |code: &str| {
                    if path.starts_with("/v1/") {
                        serde_json::json!([code])
                    } else {
                        Value::Null
                    }
                };
                assert_eq!(listed("429"), expected("rate_limited"), "{method} {path}");
                assert_eq!(listed("503"), expected("timeout"), "{method} {path}");
            }
        }
    }

    /// Every operation but the public operations endpoints requires the bearer token, and says so;
    /// operation ids are unique (OpenAPI requires it; client generators name methods by them).
    #[test]
    fn v1_operations_require_the_bearer_token() {
        let doc = document();
        let mut ids = BTreeSet::new();
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                let id = op["operationId"].as_str().expect("operationId");
                assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
                let secured = op["security"] == serde_json::json!([{ "bearer": [] }]);
                assert_eq!(
                    secured,
                    path.starts_with("/v1/"),
                    "{method} {path}: security {}",
                    op["security"]
                );
                let codes = op["responses"].to_string();
                assert_eq!(
                    codes.contains("unauthorized"),
                    path.starts_with("/v1/"),
                    "{method} {path}: 401 listed exactly where a token is required"
                );
            }
        }
    }
}
