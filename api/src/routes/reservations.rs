//! Reservations: hold units for a customer, then confirm (stock leaves) or release them.
//! Unconfirmed reservations expire by themselves (`projections::expiry`).

use crate::extract::{Command, Empty, IdempotencyKey};
use crate::problem::codes::{
    Conflict, Forbidden, IdempotencyKeyReused, InsufficientStock, Internal, NotFound,
    ReservationExpired, Unauthorized, ValidationFailed,
};
use crate::problem::{ApiError, Problems};
use crate::routes::products::parse_sku;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Duration;
use restock_application::views::ReservationView;
use restock_application::Executed;
use restock_domain::{
    ProductCommand, ProductError, Quantity, ReservationId, ReservationStatus, Sku, TenantId,
};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

const DEFAULT_TTL_SECONDS: i64 = 900;
const MAX_TTL_SECONDS: i64 = 86_400;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReserveInput)]
pub struct ReserveBody {
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    quantity: i64,
    /// Seconds until the reservation expires by itself.
    #[schema(minimum = 1, maximum = 86_400, default = 900)]
    ttl_seconds: Option<i64>,
}

fn reservation_view(e: &Executed, id: ReservationId, sku: &Sku) -> ReservationView {
    let r = e.product().reservations.get(&id);
    ReservationView {
        id: id.0,
        sku: sku.to_string(),
        quantity: r.map(|r| r.quantity.get()),
        status: r.map(|r| r.status),
        expires_at: r.map(|r| r.expires_at),
    }
}

/// Reserve units: they leave `available` until confirmed, released or expired.
#[utoipa::path(
    post,
    path = "/products/{sku}/reservations",
    tag = "reservations",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "`[A-Za-z0-9._-]{1,64}`"), IdempotencyKey),
    request_body = ReserveBody,
    responses(
        (status = 201, description = "Reserved", body = ReservationView),
        Problems<(ValidationFailed, Unauthorized, Forbidden, NotFound, InsufficientStock, Conflict, IdempotencyKeyReused, Internal)>,
    )
)]
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
    let render = |e: &Executed| (StatusCode::CREATED, reservation_view(e, id, &sku));
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

/// Confirm: the units leave stock (on_hand and reserved both drop). Confirming a confirmed
/// reservation again answers 200 and changes nothing.
#[utoipa::path(
    post,
    path = "/reservations/{id}/confirm",
    operation_id = "confirm_reservation",
    tag = "reservations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The reservation"), IdempotencyKey),
    responses(
        (status = 200, description = "Confirmed", body = ReservationView),
        Problems<(ValidationFailed, Unauthorized, Forbidden, NotFound, Conflict, ReservationExpired, IdempotencyKeyReused, Internal)>,
    )
)]
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
    let render = |e: &Executed| (StatusCode::OK, reservation_view(e, rid, &sku));
    match app.execute(&cmd.context(), &sku, command, render).await {
        Err(e) if e.is_not_found() => {
            let view = forgotten(&app, &cmd.caller.tenant, rid, e).await?;
            match view.status {
                Some(ReservationStatus::Confirmed) => {
                    Ok((StatusCode::OK, Json(view)).into_response())
                }
                Some(ReservationStatus::Released) => Err(ProductError::ReservationReleased.into()),
                Some(ReservationStatus::Expired) => Err(ProductError::ReservationExpired.into()),
                _ => Err(closing()),
            }
        }
        answer => answer,
    }
}

/// A reservation the Product aggregate no longer remembers (it keeps the last
/// `CLOSED_RESERVATIONS_KEPT` closed ones): its last state in the reservations read model, so
/// that confirm and release answer as they did while it was remembered, recording nothing.
/// Unknown there too: the aggregate's own answer (`unknown`).
async fn forgotten(
    app: &AppState,
    tenant: &TenantId,
    id: ReservationId,
    unknown: ApiError,
) -> Result<ReservationView, ApiError> {
    app.read_models
        .reservation(tenant, id)
        .await?
        .ok_or(unknown)
}

/// The read model still shows as active a reservation the aggregate closed and forgot: it has
/// not caught up with the last closes yet; the same request succeeds once it has.
fn closing() -> ApiError {
    ApiError::conflict("the reservation was just closed; retry")
}

/// Release the units (releasing a released or expired reservation changes nothing).
#[utoipa::path(
    delete,
    path = "/reservations/{id}",
    operation_id = "release_reservation",
    tag = "reservations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The reservation"), IdempotencyKey),
    responses(
        (status = 204, description = "Released"),
        Problems<(ValidationFailed, Unauthorized, Forbidden, NotFound, Conflict, IdempotencyKeyReused, Internal)>,
    )
)]
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
    let answer = app
        .execute(&cmd.context(), &sku, command, |_| {
            (StatusCode::NO_CONTENT, ())
        })
        .await;
    match answer {
        Err(e) if e.is_not_found() => {
            let view = forgotten(&app, &cmd.caller.tenant, ReservationId(id), e).await?;
            match view.status {
                Some(ReservationStatus::Confirmed) => {
                    Err(ProductError::ReservationConfirmed.into())
                }
                Some(ReservationStatus::Released | ReservationStatus::Expired) => {
                    Ok(StatusCode::NO_CONTENT.into_response())
                }
                _ => Err(closing()),
            }
        }
        answer => answer,
    }
}
