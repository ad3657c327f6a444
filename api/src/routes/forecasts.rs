//! Forecasts and minimums: the latest forecast of a product, and recomputing a tenant's minimums.

use crate::extract::{Caller, Command, Empty};
use crate::problem::ApiError;
use crate::routes::products::parse_sku;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

pub async fn get_forecast(
    State(app): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
) -> Result<Response, ApiError> {
    let sku = parse_sku(&sku)?;
    let forecast = app
        .thresholds
        .forecasts
        .get(&caller.tenant, &sku)
        .await?
        .ok_or_else(|| ApiError::not_found("no forecast has been computed for this sku"))?;
    Ok(Json(forecast).into_response())
}

pub async fn recompute_thresholds(
    State(app): State<AppState>,
    cmd: Command<Empty>,
) -> Result<Response, ApiError> {
    let summary = app
        .thresholds
        .recompute_tenant(&cmd.caller.tenant)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(summary).into_response())
}
