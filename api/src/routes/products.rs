//! Products and stock: registration, movements, minimums, and the reads over them.

use crate::extract::{page_limit, Caller, Command, QueryParams};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use restock_application::ports::{RecordedEvent, StreamId};
use restock_application::{load_product_as_of, Executed, ProductView};
use restock_domain::{ProductCommand, ProductDetails, ProductEvent, Quantity, Sku};
use restock_infrastructure::read_models::{movements, products};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductBody {
    name: String,
    lead_time_days: Option<i64>,
    service_level: Option<f64>,
    unit: Option<String>,
    supplier: Option<String>,
    reorder_quantity: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovementBody {
    quantity: i64,
    reference: Option<String>,
    occurred_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentBody {
    counted: i64,
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinStockBody {
    /// Required, but may be `null`: a number pins a manual minimum, `null` clears it.
    #[serde(deserialize_with = "present")]
    quantity: Option<i64>,
}

/// Deserialize a field that must be present but may be null (serde otherwise treats a
/// missing `Option` as null).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Option::<i64>::deserialize(d)
}

pub fn parse_sku(raw: &str) -> Result<Sku, ApiError> {
    Ok(Sku::parse(raw)?)
}

fn product_json(e: &Executed) -> Value {
    let updated_at = e.state.updated_at.unwrap_or_else(Utc::now);
    json!(ProductView::from_state(e.product(), updated_at))
}

/// `{ "version", "product" }`, the answer to a stock movement.
fn movement_json(e: &Executed) -> (StatusCode, Value) {
    (
        StatusCode::CREATED,
        json!({ "version": e.state.version(), "product": product_json(e) }),
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
        (status, product_json(e))
    })
    .await
}

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
        movement_json,
    )
    .await
}

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
    app.execute(&cmd.context(), &sku, command, movement_json)
        .await
}

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
        |e| (StatusCode::OK, product_json(e)),
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetParams {
    as_of: Option<String>,
}

pub async fn get_product(
    State(app): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
    QueryParams(params): QueryParams<GetParams>,
) -> Result<Response, ApiError> {
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
        let mut body = json!(view);
        body["as_of"] = json!(as_of);
        return Ok(Json(body).into_response());
    }
    let mut tx = app.db.begin_tenant_read(caller.tenant.as_str()).await?;
    let view = products::get(&mut tx, caller.tenant.as_str(), sku.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found("no product with this sku"))?;
    tx.commit().await?;
    Ok(Json(view).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    below_min: Option<bool>,
    limit: Option<i64>,
    cursor: Option<String>,
}

pub async fn list_products(
    State(app): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Response, ApiError> {
    let limit = page_limit(params.limit)?;
    let after = params.cursor.as_deref().map(decode_cursor).transpose()?;
    let tenant = caller.tenant.as_str();
    let mut tx = app.db.begin_tenant_read(tenant).await?;
    let mut items = products::list(
        &mut tx,
        tenant,
        params.below_min,
        after.as_deref(),
        limit + 1,
    )
    .await?;
    tx.commit().await?;
    let next_cursor = next_page(&mut items, limit).map(|last| encode_cursor(&last.sku));
    Ok(Json(json!({ "items": items, "next_cursor": next_cursor })).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    after_version: Option<i64>,
    limit: Option<i64>,
    cursor: Option<String>,
}

pub async fn product_events(
    State(app): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
    QueryParams(params): QueryParams<EventParams>,
) -> Result<Response, ApiError> {
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
    let items: Vec<Value> = events.iter().map(event_json).collect();
    Ok(Json(json!({ "items": items, "next_cursor": next_cursor })).into_response())
}

pub async fn product_movements(
    State(app): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
    QueryParams(params): QueryParams<EventParams>,
) -> Result<Response, ApiError> {
    let sku = parse_sku(&sku)?;
    let limit = page_limit(params.limit)?;
    let after = after_version(params.after_version, params.cursor.as_deref())?;
    let tenant = caller.tenant.as_str();
    let mut tx = app.db.begin_tenant_read(tenant).await?;
    let known = products::get(&mut tx, tenant, sku.as_str())
        .await?
        .is_some();
    let mut items = movements::list(&mut tx, tenant, sku.as_str(), after, limit + 1).await?;
    tx.commit().await?;
    if !known {
        return Err(ApiError::not_found("no product with this sku"));
    }
    let next_cursor =
        next_page(&mut items, limit).map(|last| encode_cursor(&last.version.to_string()));
    Ok(Json(json!({ "items": items, "next_cursor": next_cursor })).into_response())
}

/// An event as the API shows it.
pub fn event_json(e: &RecordedEvent) -> Value {
    json!({
        "event_id": e.event_id,
        "version": e.sequence,
        "type": e.event_type,
        "recorded_at": e.recorded_at,
        "occurred_at": e.occurred_at,
        "payload": e.payload,
        "metadata": {
            "correlation_id": e.metadata.correlation_id,
            "causation_id": e.metadata.causation_id,
            "actor": e.metadata.actor,
        },
    })
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
