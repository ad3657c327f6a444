//! Refills: purchase requests opened by the agent, received against or cancelled by a manager,
//! and explained by their audit (docs/api.md "Refills and the agent").

use crate::extract::{page_limit, Caller, Command, Empty, IdempotencyKey, QueryParams};
use crate::problem::codes::{
    Conflict, Forbidden, IdempotencyKeyReused, Internal, NotFound, Unauthorized, ValidationFailed,
};
use crate::problem::{ApiError, Problems};
use crate::routes::products::{decode_cursor, encode_cursor, next_page, product_view};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use restock_application::ports::PageRequest;
use restock_application::refill_audit::{self as audit, AuditError};
use restock_application::tools::ToolCaller;
use restock_application::views::{Page, RefillAuditView, RefillResult, RefillState, RefillView};
use restock_application::Executed;
use restock_domain::{ProductCommand, Quantity, RefillId, RefillStatus, Sku, TenantId};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `requested`, `received` or `cancelled`.
    status: Option<String>,
    /// 1-500, default 50.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// Opaque: a previous page's `next_cursor`.
    cursor: Option<String>,
}

/// The tenant's refills (purchase requests).
#[utoipa::path(
    get,
    path = "/refills",
    tag = "refills",
    security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "A page of refills", body = Page<RefillView>),
        Problems<(ValidationFailed, Unauthorized, Internal)>,
    )
)]
pub async fn list_refills(
    State(app): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Json<Page<RefillView>>, ApiError> {
    let limit = page_limit(params.limit)?;
    let status = params
        .status
        .as_deref()
        .map(|s| {
            RefillStatus::parse(s).ok_or_else(|| {
                ApiError::validation("status must be requested, received or cancelled")
            })
        })
        .transpose()?;
    let after = params.cursor.as_deref().map(decode_cursor).transpose()?;
    let page = PageRequest {
        after,
        limit: limit + 1,
    };
    let mut items = app
        .read_models
        .refills(&caller.tenant, status, &page)
        .await?;
    let next_cursor = next_page(&mut items, limit).map(|last| encode_cursor(&last.id));
    Ok(Json(Page { items, next_cursor }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RefillRequestInput)]
pub struct RequestBody {
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    quantity: i64,
    /// Why, in a sentence; recorded with the refill.
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
    /// The day to buy on (YYYY-MM-DD). Without it, the purchase plan's day when the product
    /// has supplier prices.
    buy_on: Option<chrono::NaiveDate>,
}

/// Request a refill by hand (`decided_by` = `user:<sub>`): the HTTP face of the `refill_stock`
/// tool, so the rules, the events and the idempotency are the tool layer's, written once.
/// With supplier prices the refill carries the purchase plan's `buy_on` (unless one is given)
/// and `expected_unit_price`.
#[utoipa::path(
    post,
    path = "/products/{sku}/refills",
    operation_id = "request_refill",
    tag = "refills",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "`[A-Za-z0-9._-]{1,64}`"), IdempotencyKey),
    request_body = RequestBody,
    responses(
        (status = 201, description = "Requested", body = RefillView),
        Problems<(ValidationFailed, Unauthorized, Forbidden, NotFound, Conflict, IdempotencyKeyReused, Internal)>,
    )
)]
pub async fn request_refill(
    State(app): State<AppState>,
    Path(sku): Path<String>,
    cmd: Command<RequestBody>,
) -> Result<Response, ApiError> {
    let reason = cmd.body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::validation("reason must be 1 to 500 characters"));
    }
    if !(1..=1_000_000_000).contains(&cmd.body.quantity) {
        return Err(ApiError::validation(
            "quantity must be an integer between 1 and 1000000000",
        ));
    }
    let arguments = serde_json::json!({
        "sku": sku,
        "quantity": cmd.body.quantity,
        "reason": reason,
        "buy_on": cmd.body.buy_on,
    });
    let caller = ToolCaller {
        correlation_id: cmd.caller.correlation_id,
        idempotency_key: cmd.idempotency.as_ref().map(|i| i.key.clone()),
        ..ToolCaller::new(cmd.caller.tenant.clone(), cmd.caller.user.clone(), true)
    };
    let result = app.tools.call(&caller, "refill_stock", &arguments).await?;
    let refill = result
        .get("refill")
        .filter(|r| r.is_object())
        .cloned()
        .ok_or_else(|| ApiError::internal("refill_stock answered without the refill"))?;
    Ok((StatusCode::CREATED, Json(refill)).into_response())
}

/// A refill row as the API shows it.
fn not_found() -> ApiError {
    ApiError::not_found("no refill with this id")
}

fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| not_found())
}

impl From<AuditError> for ApiError {
    fn from(e: AuditError) -> Self {
        ApiError::internal(e)
    }
}

/// The product a refill belongs to, within the caller's tenant: written with the refill's
/// event, so it resolves as soon as the refill exists; another tenant's refill is 404.
async fn refill_sku(app: &AppState, tenant: &TenantId, id: Uuid) -> Result<Sku, ApiError> {
    audit::refill_sku(app.store.as_ref(), tenant, id)
        .await?
        .ok_or_else(not_found)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RefillReceiveInput)]
pub struct ReceiveBody {
    /// Units received; default: the quantity requested.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    quantity: Option<i64>,
}

/// `{ "refill", "version", "product" }`: the refill as the command left it, and the product.
fn refill_result(
    e: &Executed,
    id: RefillId,
    sku: &Sku,
    status: StatusCode,
) -> (StatusCode, RefillResult) {
    let refill = e.product().refills.get(&id);
    (
        status,
        RefillResult {
            refill: RefillState {
                id: id.as_uuid(),
                sku: sku.to_string(),
                quantity: refill.map(|r| r.quantity.get()),
                status: refill.map(|r| r.status.as_str()),
            },
            version: e.state.version(),
            product: product_view(e),
        },
    )
}

/// Receive stock against the refill.
#[utoipa::path(
    post,
    path = "/refills/{id}/receive",
    operation_id = "receive_refill",
    tag = "refills",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The refill"), IdempotencyKey),
    request_body = ReceiveBody,
    responses(
        (status = 201, description = "Received", body = RefillResult),
        Problems<(ValidationFailed, Unauthorized, Forbidden, NotFound, Conflict, IdempotencyKeyReused, Internal)>,
    )
)]
pub async fn receive(
    State(app): State<AppState>,
    Path(id): Path<String>,
    cmd: Command<ReceiveBody>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let quantity = cmd
        .body
        .quantity
        .map(Quantity::positive)
        .transpose()
        .map_err(|_| {
            ApiError::validation("quantity must be an integer between 1 and 1000000000")
        })?;
    let sku = refill_sku(&app, &cmd.caller.tenant, id).await?;
    let rid = RefillId(id);
    let command = ProductCommand::ReceiveRefill {
        refill_id: rid,
        quantity,
    };
    app.execute(&cmd.context(), &sku, command, |e| {
        refill_result(e, rid, &sku, StatusCode::CREATED)
    })
    .await
}

/// Cancel the refill (cancelling a cancelled refill changes nothing).
#[utoipa::path(
    post,
    path = "/refills/{id}/cancel",
    operation_id = "cancel_refill",
    tag = "refills",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The refill"), IdempotencyKey),
    responses(
        (status = 200, description = "Cancelled", body = RefillResult),
        Problems<(ValidationFailed, Unauthorized, Forbidden, NotFound, Conflict, IdempotencyKeyReused, Internal)>,
    )
)]
pub async fn cancel(
    State(app): State<AppState>,
    Path(id): Path<String>,
    cmd: Command<Empty>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let sku = refill_sku(&app, &cmd.caller.tenant, id).await?;
    let rid = RefillId(id);
    app.execute(
        &cmd.context(),
        &sku,
        ProductCommand::CancelRefill { refill_id: rid },
        |e| refill_result(e, rid, &sku, StatusCode::OK),
    )
    .await
}

/// Why this refill: its trigger, the state then, the threshold, the decision, the events it
/// caused, and the policy re-run now.
#[utoipa::path(
    get,
    path = "/refills/{id}/audit",
    tag = "refills",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The refill")),
    responses(
        (status = 200, description = "The audit", body = RefillAuditView),
        Problems<(Unauthorized, NotFound, Internal)>,
    )
)]
pub async fn refill_audit(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RefillAuditView>, ApiError> {
    let id = parse_id(&id)?;
    let found =
        audit::refill_audit(app.ledger.as_ref(), app.store.as_ref(), &caller.tenant, id).await?;
    let audit = found.ok_or_else(not_found)?;
    Ok(Json(audit.view()))
}
