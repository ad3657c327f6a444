//! Notifications the agent wrote for the tenant's manager (`notify_manager`).

use crate::extract::{page_limit, Caller, QueryParams};
use crate::problem::codes::{Internal, Unauthorized, ValidationFailed};
use crate::problem::{ApiError, Problems};
use crate::routes::products::{decode_cursor, encode_cursor, next_page};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use restock_application::ports::PageRequest;
use restock_application::views::{NotificationView, Page};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// 1-500, default 50.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// Opaque: a previous page's `next_cursor`.
    cursor: Option<String>,
}

/// Notifications the agent wrote for the manager.
#[utoipa::path(
    get,
    path = "/notifications",
    tag = "refills",
    security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "A page of notifications", body = Page<NotificationView>),
        Problems<(ValidationFailed, Unauthorized, Internal)>,
    )
)]
pub async fn list_notifications(
    State(app): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Json<Page<NotificationView>>, ApiError> {
    let limit = page_limit(params.limit)?;
    let after = params.cursor.as_deref().map(decode_cursor).transpose()?;
    let page = PageRequest {
        after,
        limit: limit + 1,
    };
    let mut items = app.read_models.notifications(&caller.tenant, &page).await?;
    let next_cursor = next_page(&mut items, limit).map(|last| encode_cursor(&last.id));
    Ok(Json(Page { items, next_cursor }))
}
