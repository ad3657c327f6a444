//! Refills: purchase requests opened by the agent, received against or cancelled by a manager,
//! and explained by their audit (API.md "Refills and the agent").

use crate::extract::{page_limit, Caller, Command, QueryParams};
use crate::problem::ApiError;
use crate::routes::products::{decode_cursor, encode_cursor, event_json, next_page};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use restock_application::refill_audit::{self as audit, AuditError, RefillAudit};
use restock_application::{Executed, ProductView};
use restock_domain::{ProductCommand, Quantity, RefillId, Sku, TenantId};
use restock_infrastructure::read_models::refills;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

const STATUSES: [&str; 3] = ["requested", "received", "cancelled"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

pub async fn list_refills(
    State(app): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Response, ApiError> {
    let limit = page_limit(params.limit)?;
    if let Some(s) = params.status.as_deref() {
        if !STATUSES.contains(&s) {
            return Err(ApiError::validation(
                "status must be requested, received or cancelled",
            ));
        }
    }
    let after = params.cursor.as_deref().map(decode_cursor).transpose()?;
    let tenant = caller.tenant.as_str();
    let mut tx = app.db.begin_tenant_read(tenant).await?;
    let mut items = refills::list(
        &mut tx,
        tenant,
        params.status.as_deref(),
        after.as_deref(),
        limit + 1,
    )
    .await?;
    tx.commit().await?;
    let next_cursor = next_page(&mut items, limit).map(|last| encode_cursor(&last.id));
    Ok(Json(json!({ "items": items, "next_cursor": next_cursor })).into_response())
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiveBody {
    quantity: Option<i64>,
}

/// `{ "refill", "version", "product" }`: the refill as the command left it, and the product.
fn refill_result(e: &Executed, id: RefillId, sku: &Sku, status: StatusCode) -> (StatusCode, Value) {
    let refill = e.product().refills.get(&id);
    let updated_at = e.state.updated_at.unwrap_or_else(Utc::now);
    (
        status,
        json!({
            "refill": {
                "id": id,
                "sku": sku,
                "quantity": refill.map(|r| r.quantity.get()),
                "status": refill.map(|r| r.status.as_str()),
            },
            "version": e.state.version(),
            "product": ProductView::from_state(e.product(), updated_at),
        }),
    )
}

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

pub async fn cancel(
    State(app): State<AppState>,
    Path(id): Path<String>,
    cmd: Command<crate::extract::Empty>,
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

pub async fn refill_audit(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let found =
        audit::refill_audit(app.ledger.as_ref(), app.store.as_ref(), &caller.tenant, id).await?;
    let audit = found.ok_or_else(not_found)?;
    Ok(Json(audit_json(&audit)).into_response())
}

/// The audit as API.md shows it (also printed by `restock replay`).
pub fn audit_json(a: &RefillAudit) -> Value {
    let decision = a.decision.as_ref().map(|d| {
        let x = &d.decision;
        json!({
            "decider": x.decider,
            "model": x.model,
            "tool_calls": x.tool_calls,
            "rationale": x.rationale,
            "fallback_reason": x.fallback_reason,
            "fallback_detail": x.fallback_detail,
            "prompt_sha256": x.prompt_sha256,
            "prompt_version": x.prompt_version,
            "usage": x.usage,
            "latency_ms": x.latency_ms,
            "decided_at": d.decided_at,
            "llm": x.llm,
            "context": x.context,
        })
    });
    json!({
        "refill": a.refill,
        "trigger": a.trigger.as_ref().map(event_json),
        "state_at_trigger": a.state_at_trigger,
        "threshold": a.threshold,
        "decision": decision,
        "events": a.events.iter().map(event_json).collect::<Vec<_>>(),
        "replayed_decision": a.replayed,
    })
}
