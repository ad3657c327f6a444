//! Notifications the agent wrote for the tenant's manager (`notify_manager`).

use crate::extract::{page_limit, Caller, QueryParams};
use crate::problem::ApiError;
use crate::routes::products::{decode_cursor, encode_cursor, next_page};
use crate::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use restock_infrastructure::read_models::notifications;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    limit: Option<i64>,
    cursor: Option<String>,
}

pub async fn list_notifications(
    State(app): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Response, ApiError> {
    let limit = page_limit(params.limit)?;
    let after = params.cursor.as_deref().map(decode_cursor).transpose()?;
    let tenant = caller.tenant.as_str();
    let mut tx = app.db.begin_tenant_read(tenant).await?;
    let mut items = notifications::list(&mut tx, tenant, after.as_deref(), limit + 1).await?;
    tx.commit().await?;
    let next_cursor = next_page(&mut items, limit).map(|last| encode_cursor(&last.id));
    Ok(Json(json!({ "items": items, "next_cursor": next_cursor })).into_response())
}
