//! Forecasts and minimums: the latest forecast of a product, recomputing a tenant's minimums,
//! and the purchase plan from supplier prices.

use crate::extract::{Caller, Command, Empty, IdempotencyKey};
use crate::problem::codes::{Forbidden, Internal, NotFound, Unauthorized, ValidationFailed};
use crate::problem::{ApiError, Problems};
use crate::routes::products::parse_sku;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use restock_application::ports::StoredForecast;
use restock_application::thresholds::RecomputeSummary;
use restock_application::views::PurchasePlanView;

/// The latest forecast of the product and the reorder point computed from it.
#[utoipa::path(
    get,
    path = "/products/{sku}/forecast",
    tag = "forecasts",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "`[A-Za-z0-9._-]{1,64}`")),
    responses(
        (status = 200, description = "The forecast", body = StoredForecast),
        Problems<(ValidationFailed, Unauthorized, NotFound, Internal)>,
    )
)]
pub async fn get_forecast(
    State(app): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
) -> Result<Json<StoredForecast>, ApiError> {
    let sku = parse_sku(&sku)?;
    let forecast = app
        .thresholds
        .forecasts
        .get(&caller.tenant, &sku)
        .await?
        .ok_or_else(|| ApiError::not_found("no forecast has been computed for this sku"))?;
    Ok(Json(forecast))
}

/// Recompute the caller's minimums now (the scheduler also runs it every
/// `RESTOCK_FORECAST_INTERVAL`).
#[utoipa::path(
    post,
    path = "/jobs/recompute-thresholds",
    tag = "forecasts",
    security(("bearer" = [])),
    params(IdempotencyKey),
    responses(
        (status = 200, description = "Recomputed", body = RecomputeSummary),
        Problems<(ValidationFailed, Unauthorized, Forbidden, Internal)>,
    )
)]
pub async fn recompute_thresholds(
    State(app): State<AppState>,
    cmd: Command<Empty>,
) -> Result<Json<RecomputeSummary>, ApiError> {
    let summary = app
        .thresholds
        .recompute_tenant(&cmd.caller.tenant)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(summary))
}

/// When to buy: the supplier price history, a 14-day price forecast with intervals, the last
/// day an order still arrives before available stock falls short (`order_by`, from the demand
/// forecast and the lead time), the cheapest expected day up to it (`best_day`), and buy now or
/// wait with the reason. Computed on read, on the current available stock.
#[utoipa::path(
    get,
    path = "/products/{sku}/purchase-plan",
    tag = "forecasts",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "`[A-Za-z0-9._-]{1,64}`")),
    responses(
        (status = 200, description = "The purchase plan", body = PurchasePlanView),
        Problems<(ValidationFailed, Unauthorized, NotFound, Internal)>,
    )
)]
pub async fn purchase_plan(
    State(app): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
) -> Result<Json<PurchasePlanView>, ApiError> {
    let sku = parse_sku(&sku)?;
    let plan = app
        .plans
        .plan(&caller.tenant, &sku, app.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("no supplier prices for this sku"))?;
    Ok(Json(plan))
}
