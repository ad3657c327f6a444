//! CSV uploads: past demand (`POST /v1/imports/demand-history`) and supplier prices (`POST
//! /v1/imports/prices`).

use crate::extract::{Command, CommandBody, IdempotencyKey};
use crate::problem::codes::{
    Conflict, Forbidden, IdempotencyKeyReused, Internal, Unauthorized, ValidationFailed,
};
use crate::problem::{ApiError, Problems};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use restock_application::demand_import::{parse_demand_csv, record_demand_history};
use restock_application::price_import::{parse_price_csv, record_prices};
use restock_application::views::ImportSummary;

/// A `text/csv` body.
pub struct Csv(String);

impl CommandBody for Csv {
    fn parse(bytes: &Bytes) -> Result<Self, ApiError> {
        String::from_utf8(bytes.to_vec())
            .map(Csv)
            .map_err(|_| ApiError::validation("the CSV must be UTF-8 text"))
    }
}

/// Import past daily demand for forecasting (it does not change on_hand). Unknown skus are
/// registered with defaults; a bad row is a 400 naming its line, and nothing of the upload is
/// kept.
#[utoipa::path(
    post,
    path = "/imports/demand-history",
    tag = "imports",
    security(("bearer" = [])),
    params(IdempotencyKey),
    request_body(
        content = String,
        content_type = "text/csv",
        description = "Header `date,sku,quantity`; `date` is `YYYY-MM-DD`."
    ),
    responses(
        (status = 201, description = "Imported", body = ImportSummary),
        Problems<(ValidationFailed, Unauthorized, Forbidden, Conflict, IdempotencyKeyReused, Internal)>,
    )
)]
pub async fn demand_history(
    State(app): State<AppState>,
    cmd: Command<Csv>,
) -> Result<(StatusCode, Json<ImportSummary>), ApiError> {
    let today = app.clock.now().date_naive();
    let history =
        parse_demand_csv(&cmd.body.0, today).map_err(|e| ApiError::validation(e.to_string()))?;
    let summary = ImportSummary {
        rows: history.rows,
        skus: history.by_sku.len(),
    };
    record_demand_history(&app.commands, &cmd.context(), history).await?;
    Ok((StatusCode::CREATED, Json(summary)))
}

/// Import supplier unit prices, as events on each product's stream (the purchase plan's
/// input). Unknown skus are registered with defaults, as demand history does; a bad row is a
/// 400 naming its line, and nothing of the upload is kept.
#[utoipa::path(
    post,
    path = "/imports/prices",
    tag = "imports",
    security(("bearer" = [])),
    params(IdempotencyKey),
    request_body(
        content = String,
        content_type = "text/csv",
        description = "Header `date,sku,unit_price`; `date` is `YYYY-MM-DD`, `unit_price` a \
            decimal number above 0, one price per sku and day."
    ),
    responses(
        (status = 201, description = "Imported", body = ImportSummary),
        Problems<(ValidationFailed, Unauthorized, Forbidden, Conflict, IdempotencyKeyReused, Internal)>,
    )
)]
pub async fn prices(
    State(app): State<AppState>,
    cmd: Command<Csv>,
) -> Result<(StatusCode, Json<ImportSummary>), ApiError> {
    let today = app.clock.now().date_naive();
    let history =
        parse_price_csv(&cmd.body.0, today).map_err(|e| ApiError::validation(e.to_string()))?;
    let summary = ImportSummary {
        rows: history.rows,
        skus: history.by_sku.len(),
    };
    record_prices(&app.commands, &cmd.context(), history).await?;
    Ok((StatusCode::CREATED, Json(summary)))
}
