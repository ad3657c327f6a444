//! Reservations: hold units for a customer, then confirm (stock leaves) or release them.
//! Unconfirmed reservations expire by themselves (`projections::expiry`).

use crate::extract::{Command, Empty};
use crate::problem::ApiError;
use crate::routes::products::parse_sku;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Duration;
use restock_application::Executed;
use restock_domain::{ProductCommand, Quantity, ReservationId, Sku, TenantId};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

const DEFAULT_TTL_SECONDS: i64 = 900;
const MAX_TTL_SECONDS: i64 = 86_400;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReserveBody {
    quantity: i64,
    ttl_seconds: Option<i64>,
}

fn reservation_json(e: &Executed, id: ReservationId, sku: &Sku) -> Value {
    let r = e.product().reservations.get(&id);
    json!({
        "id": id,
        "sku": sku,
        "quantity": r.map(|r| r.quantity.get()),
        "status": r.map(|r| r.status),
        "expires_at": r.map(|r| r.expires_at),
    })
}

pub async fn reserve(
    State(app): State<AppState>,
    Path(sku): Path<String>,
    cmd: Command<ReserveBody>,
) -> Result<Response, ApiError> {
    let sku = parse_sku(&sku)?;
    let quantity = Quantity::positive(cmd.body.quantity)?;
    let ttl = match cmd.body.ttl_seconds {
        None => DEFAULT_TTL_SECONDS,
        Some(s) if (1..=MAX_TTL_SECONDS).contains(&s) => s,
        Some(_) => {
            return Err(ApiError::validation(
                "ttl_seconds must be between 1 and 86400",
            ))
        }
    };
    let id = ReservationId(Uuid::now_v7());
    let expires_at = app.clock.now() + Duration::seconds(ttl);
    let command = ProductCommand::Reserve {
        reservation_id: id,
        quantity,
        expires_at,
    };
    let render = |e: &Executed| (StatusCode::CREATED, reservation_json(e, id, &sku));
    app.execute(&cmd.context(), &sku, command, render).await
}

/// The product a reservation belongs to, within the caller's tenant (another tenant's is 404).
async fn reservation_sku(app: &AppState, tenant: &TenantId, id: Uuid) -> Result<Sku, ApiError> {
    let sku = app
        .store
        .resolve_alias(tenant, "reservation", id)
        .await?
        .ok_or_else(|| ApiError::not_found("no reservation with this id"))?;
    Sku::parse(&sku).map_err(ApiError::internal)
}

fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("no reservation with this id"))
}

pub async fn confirm(
    State(app): State<AppState>,
    Path(id): Path<String>,
    cmd: Command<Empty>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let sku = reservation_sku(&app, &cmd.caller.tenant, id).await?;
    let rid = ReservationId(id);
    let command = ProductCommand::ConfirmReservation {
        reservation_id: rid,
        now: app.clock.now(),
    };
    let render = |e: &Executed| (StatusCode::OK, reservation_json(e, rid, &sku));
    app.execute(&cmd.context(), &sku, command, render).await
}

pub async fn release(
    State(app): State<AppState>,
    Path(id): Path<String>,
    cmd: Command<Empty>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let sku = reservation_sku(&app, &cmd.caller.tenant, id).await?;
    let command = ProductCommand::ReleaseReservation {
        reservation_id: ReservationId(id),
    };
    app.execute(&cmd.context(), &sku, command, |_| {
        (StatusCode::NO_CONTENT, Value::Null)
    })
    .await
}
