//! Products and stock: registration, movements, minimums, and the reads over them.

use crate::extract::{page_limit, Caller, Command, IdempotencyKey, QueryParams};
use crate::problem::codes::{
    Conflict, Forbidden, IdempotencyKeyReused, InsufficientStock, Internal, NotFound, Unauthorized,
    ValidationFailed,
};
use crate::problem::{ApiError, Problems};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use restock_application::ports::{PageRequest, ProductFilter, StreamId};
use restock_application::views::{CommandResult, EventView, MovementView, Page, ProductRead};
use restock_application::{load_product_as_of, Executed, ProductView};
use restock_domain::{ProductCommand, ProductDetails, ProductEvent, Quantity, Sku};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ProductInput)]
pub struct ProductBody {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    #[schema(minimum = 0, maximum = 365, default = 7)]
    lead_time_days: Option<i64>,
    /// The fill rate wanted: the share of demand served from stock.
    #[schema(minimum = 0.5, maximum = 0.999, default = 0.95)]
    service_level: Option<f64>,
    #[schema(max_length = 200)]
    unit: Option<String>,
    #[schema(max_length = 200)]
    supplier: Option<String>,
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    reorder_quantity: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MovementInput)]
pub struct MovementBody {
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    quantity: i64,
    #[schema(max_length = 200)]
    reference: Option<String>,
    /// When it happened, if not now; not in the future.
    occurred_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AdjustmentInput)]
pub struct AdjustmentBody {
    /// The physical count: sets on_hand.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    counted: i64,
    #[schema(min_length = 1, max_length = 200)]
    reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MinStockInput)]
pub struct MinStockBody {
    /// Required, but may be `null`: a number pins a manual minimum, `null` clears it.
    #[serde(deserialize_with = "restock_application::tools::request::present")]
    #[schema(required = true, minimum = 0, maximum = 1_000_000_000)]
    quantity: Option<i64>,
}

pub fn parse_sku(raw: &str) -> Result<Sku, ApiError> {
    Ok(Sku::parse(raw)?)
}

/// The product as a command left it.
pub fn product_view(e: &Executed) -> Option<ProductView> {
    let updated_at = e.state.updated_at.unwrap_or_else(Utc::now);
    ProductView::from_state(e.product(), updated_at)
}

/// `{ "version", "product" }`, the answer to a stock movement.
fn movement_result(e: &Executed) -> (StatusCode, CommandResult) {
    (
        StatusCode::CREATED,
        CommandResult {
            version: e.state.version(),
            product: product_view(e),
        },
    )
}

const MAX_TEXT: usize = 200;

fn check_text(field: &'static str, value: &Option<String>) -> Result<(), ApiError> {
    match value {
        Some(v) if v.chars().count() > MAX_TEXT => Err(ApiError::validation(format!(
            "{field} must be at most {MAX_TEXT} characters"
        ))),
        _ => Ok(()),
    }
}

/// `occurred_at` may not be in the future (a little clock skew between machines is allowed).
fn check_occurred_at(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), ApiError> {
    match at {
        Some(t) if t > now + Duration::seconds(5) => Err(ApiError::validation(
            "occurred_at must not be in the future",
        )),
        _ => Ok(()),
    }
}

/// Register a product, or update its details.
#[utoipa::path(
    put,
    path = "/products/{sku}",
    tag = "products",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "`[A-Za-z0-9._-]{1,64}`"), IdempotencyKey),
    request_body = ProductBody,
    responses(
        (status = 201, description = "Registered", body = ProductView),
        (status = 200, description = "Updated", body = ProductView),
        Problems<(ValidationFailed, Unauthorized, Forbidden, Conflict, IdempotencyKeyReused, Internal)>,
    )
)]
pub async fn put_product(
    State(app): State<AppState>,
    Path(sku): Path<String>,
    cmd: Command<ProductBody>,
) -> Result<Response, ApiError> {
    let sku = parse_sku(&sku)?;
    let b = &cmd.body;
    let details = ProductDetails::new(
        b.name.clone(),
        b.lead_time_days,
        b.service_level,
        b.unit.clone(),
        b.supplier.clone(),
        b.reorder_quantity,
    )?;
    let command = ProductCommand::Register {
        sku: sku.clone(),
        details,
    };
    app.execute(&cmd.context(), &sku, command, |e| {
        let created = matches!(
            e.events.first(),
            Some(ProductEvent::ProductRegistered { .. })
        );
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        (status, product_view(e))
    })
    .await
}

/// Receive stock.
#[utoipa::path(
    post,
    path = "/products/{sku}/receipts",
    operation_id = "receive_stock",
    tag = "stock",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "`[A-Za-z0-9._-]{1,64}`"), IdempotencyKey),
    request_body = MovementBody,
    responses(
        (status = 201, description = "Recorded", body = CommandResult),
        Problems<(ValidationFailed, Unauthorized, Forbidden, NotFound, Conflict, IdempotencyKeyReused, Internal)>,
    )
)]
pub async fn receive(
    State(app): State<AppState>,
    Path(sku): Path<String>,
    cmd: Command<MovementBody>,
) -> Result<Response, ApiError> {
    movement(app, sku, cmd, |quantity, reference| {
        ProductCommand::Receive {
            quantity,
            reference,
        }
    })
    .await
}

/// Sell stock: `insufficient_stock` when the quantity is more than is available.
#[utoipa::path(
    post,
    path = "/products/{sku}/sales",
    tag = "stock",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "`[A-Za-z0-9._-]{1,64}`"), IdempotencyKey),
    request_body = MovementBody,
    responses(
        (status = 201, description = "Recorded", body = CommandResult),
        Problems<(ValidationFailed, Unauthorized, Forbidden, NotFound, InsufficientStock, Conflict, IdempotencyKeyReused, Internal)>,
    )
)]
pub async fn sell(
    State(app): State<AppState>,
    Path(sku): Path<String>,
    cmd: Command<MovementBody>,
) -> Result<Response, ApiError> {
    movement(app, sku, cmd, |quantity, reference| ProductCommand::Sell {
        quantity,
        reference,
    })
    .await
}

/// A receipt or a sale: the same body, checked the same way, answered `{ version, product }`.
async fn movement(
    app: AppState,
    sku: String,
    cmd: Command<MovementBody>,
    command: impl FnOnce(Quantity, Option<String>) -> ProductCommand,
) -> Result<Response, ApiError> {
    let sku = parse_sku(&sku)?;
    let quantity = Quantity::positive(cmd.body.quantity)?;
    check_text("reference", &cmd.body.reference)?;
    check_occurred_at(cmd.body.occurred_at, app.clock.now())?;
    let command = command(quantity, cmd.body.reference.clone());
    app.execute(
        &cmd.context_at(cmd.body.occurred_at),
        &sku,
        command,
        movement_result,
    )
    .await
}

/// Record a physical count: it sets on_hand.
#[utoipa::path(
    post,
    path = "/products/{sku}/adjustments",
    tag = "stock",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "`[A-Za-z0-9._-]{1,64}`"), IdempotencyKey),
    request_body = AdjustmentBody,
    responses(
        (status = 201, description = "Recorded", body = CommandResult),
        Problems<(ValidationFailed, Unauthorized, Forbidden, NotFound, Conflict, IdempotencyKeyReused, Internal)>,
    )
)]
pub async fn adjust(
    State(app): State<AppState>,
    Path(sku): Path<String>,
    cmd: Command<AdjustmentBody>,
) -> Result<Response, ApiError> {
    let sku = parse_sku(&sku)?;
    let counted = Quantity::new(cmd.body.counted)
        .map_err(|_| ApiError::validation("counted must be an integer between 0 and 1000000000"))?;
    let reason = cmd.body.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_TEXT {
        return Err(ApiError::validation("reason must be 1 to 200 characters"));
    }
    let command = ProductCommand::Count {
        counted,
        reason: reason.to_owned(),
    };
    app.execute(&cmd.context(), &sku, command, movement_result)
        .await
}

/// Pin a manual minimum, or `null` to hand it back to the forecast.
#[utoipa::path(
    put,
    path = "/products/{sku}/min-stock",
    tag = "stock",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "`[A-Za-z0-9._-]{1,64}`"), IdempotencyKey),
    request_body = MinStockBody,
    responses(
        (status = 200, description = "The product with its minimum", body = ProductView),
        Problems<(ValidationFailed, Unauthorized, Forbidden, NotFound, Conflict, IdempotencyKeyReused, Internal)>,
    )
)]
pub async fn set_min_stock(
    State(app): State<AppState>,
    Path(sku): Path<String>,
    cmd: Command<MinStockBody>,
) -> Result<Response, ApiError> {
    let sku = parse_sku(&sku)?;
    let quantity = cmd.body.quantity.map(Quantity::new).transpose()?;
    app.execute(
        &cmd.context(),
        &sku,
        ProductCommand::SetMinimum { quantity },
        |e| (StatusCode::OK, product_view(e)),
    )
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GetParams {
    /// RFC 3339: fold the product from its events recorded at or before this instant.
    #[param(format = DateTime)]
    as_of: Option<String>,
}

/// A product; with `?as_of=` as the system knew it then, folded from its events.
#[utoipa::path(
    get,
    path = "/products/{sku}",
    tag = "products",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "`[A-Za-z0-9._-]{1,64}`"), GetParams),
    responses(
        (status = 200, description = "The product", body = ProductRead),
        Problems<(ValidationFailed, Unauthorized, NotFound, Internal)>,
    )
)]
pub async fn get_product(
    State(app): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
    QueryParams(params): QueryParams<GetParams>,
) -> Result<Json<ProductRead>, ApiError> {
    let sku = parse_sku(&sku)?;
    if let Some(raw) = params.as_of {
        let as_of = DateTime::parse_from_rfc3339(&raw)
            .map_err(|_| ApiError::validation("as_of must be an RFC 3339 time"))?
            .with_timezone(&Utc);
        let stream = StreamId::product(&caller.tenant, &sku);
        let state = load_product_as_of(app.store.as_ref(), &stream, as_of).await?;
        let view = state
            .updated_at
            .and_then(|at| ProductView::from_state(&state.product, at))
            .ok_or_else(|| ApiError::not_found("no product with this sku at that time"))?;
        return Ok(Json(ProductRead {
            product: view,
            as_of: Some(as_of),
        }));
    }
    let view = app
        .read_models
        .product(&caller.tenant, &sku)
        .await?
        .ok_or_else(|| ApiError::not_found("no product with this sku"))?;
    Ok(Json(ProductRead {
        product: view,
        as_of: None,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only products below (`true`) or not below (`false`) their minimum.
    below_min: Option<bool>,
    /// 1-500, default 50.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// Opaque: a previous page's `next_cursor`.
    cursor: Option<String>,
}

/// The tenant's products.
#[utoipa::path(
    get,
    path = "/products",
    tag = "products",
    security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "A page of products", body = Page<ProductView>),
        Problems<(ValidationFailed, Unauthorized, Internal)>,
    )
)]
pub async fn list_products(
    State(app): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Json<Page<ProductView>>, ApiError> {
    let limit = page_limit(params.limit)?;
    let after = params.cursor.as_deref().map(decode_cursor).transpose()?;
    let filter = ProductFilter {
        below_min: params.below_min,
        text: None,
    };
    let page = PageRequest {
        after,
        limit: limit + 1,
    };
    let mut items = app
        .read_models
        .products(&caller.tenant, &filter, &page)
        .await?;
    let next_cursor = next_page(&mut items, limit).map(|last| encode_cursor(&last.sku));
    Ok(Json(Page { items, next_cursor }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// Only what came after this version of the product's stream.
    #[param(minimum = 0)]
    after_version: Option<i64>,
    /// 1-500, default 50.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// Opaque: a previous page's `next_cursor` (takes precedence over `after_version`).
    cursor: Option<String>,
}

/// The product's events, oldest first.
#[utoipa::path(
    get,
    path = "/products/{sku}/events",
    tag = "products",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "`[A-Za-z0-9._-]{1,64}`"), EventParams),
    responses(
        (status = 200, description = "A page of events", body = Page<EventView>),
        Problems<(ValidationFailed, Unauthorized, NotFound, Internal)>,
    )
)]
pub async fn product_events(
    State(app): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
    QueryParams(params): QueryParams<EventParams>,
) -> Result<Json<Page<EventView>>, ApiError> {
    let sku = parse_sku(&sku)?;
    let limit = page_limit(params.limit)?;
    let after = after_version(params.after_version, params.cursor.as_deref())?;
    let stream = StreamId::product(&caller.tenant, &sku);
    let mut events = app.store.read_stream(&stream, after, limit + 1).await?;
    if events.is_empty() && app.store.read_stream(&stream, 0, 1).await?.is_empty() {
        return Err(ApiError::not_found("no product with this sku"));
    }
    let next_cursor =
        next_page(&mut events, limit).map(|last| encode_cursor(&last.sequence.to_string()));
    let items = events.iter().map(EventView::from).collect();
    Ok(Json(Page { items, next_cursor }))
}

/// The stock ledger: one row per event that changed on_hand, oldest first.
#[utoipa::path(
    get,
    path = "/products/{sku}/movements",
    tag = "products",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "`[A-Za-z0-9._-]{1,64}`"), EventParams),
    responses(
        (status = 200, description = "A page of ledger rows", body = Page<MovementView>),
        Problems<(ValidationFailed, Unauthorized, NotFound, Internal)>,
    )
)]
pub async fn product_movements(
    State(app): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
    QueryParams(params): QueryParams<EventParams>,
) -> Result<Json<Page<MovementView>>, ApiError> {
    let sku = parse_sku(&sku)?;
    let limit = page_limit(params.limit)?;
    let after = after_version(params.after_version, params.cursor.as_deref())?;
    if app
        .read_models
        .product(&caller.tenant, &sku)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("no product with this sku"));
    }
    let mut items = app
        .read_models
        .movements(&caller.tenant, &sku, after, limit + 1)
        .await?;
    let next_cursor =
        next_page(&mut items, limit).map(|last| encode_cursor(&last.version.to_string()));
    Ok(Json(Page { items, next_cursor }))
}

/// Trim a `limit + 1` page to `limit` and return the last item kept when there is more.
pub fn next_page<T: Clone>(items: &mut Vec<T>, limit: i64) -> Option<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if items.len() > limit {
        items.truncate(limit);
        items.last().cloned()
    } else {
        None
    }
}

fn after_version(after_version: Option<i64>, cursor: Option<&str>) -> Result<i64, ApiError> {
    let from_cursor = cursor
        .map(|c| {
            decode_cursor(c)?
                .parse::<i64>()
                .map_err(|_| ApiError::validation("cursor is not valid"))
        })
        .transpose()?;
    match from_cursor.or(after_version) {
        Some(v) if v < 0 => Err(ApiError::validation("after_version must be >= 0")),
        Some(v) => Ok(v),
        None => Ok(0),
    }
}

/// Cursors are opaque to clients: hex of the position they continue after.
pub fn encode_cursor(raw: &str) -> String {
    hex::encode(raw.as_bytes())
}

pub fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    hex::decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::validation("cursor is not valid"))
}
