//! `POST /v1/imports/demand-history`: past demand as CSV.

use crate::extract::{Command, CommandBody};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use restock_application::demand_import::{parse_demand_csv, record_demand_history};
use serde_json::json;

/// A `text/csv` body.
pub struct Csv(String);

impl CommandBody for Csv {
    fn parse(bytes: &Bytes) -> Result<Self, ApiError> {
        String::from_utf8(bytes.to_vec())
            .map(Csv)
            .map_err(|_| ApiError::validation("the CSV must be UTF-8 text"))
    }
}

pub async fn demand_history(
    State(app): State<AppState>,
    cmd: Command<Csv>,
) -> Result<Response, ApiError> {
    let today = app.clock.now().date_naive();
    let history =
        parse_demand_csv(&cmd.body.0, today).map_err(|e| ApiError::validation(e.to_string()))?;
    let (rows, skus) = (history.rows, history.by_sku.len());
    record_demand_history(&app.commands, &cmd.context(), history).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "rows": rows, "skus": skus })),
    )
        .into_response())
}
