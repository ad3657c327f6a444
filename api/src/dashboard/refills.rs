//! Refills by status, and one refill's audit (`explain_refill`): the trigger, the stock then, the
//! minimum and its source, the decision (policy or LLM, tool calls, rationale, fallback), the
//! events it caused, and the policy's decision replayed today. Managers receive or cancel.

use super::layout::{self, notice, Page};
use super::products::done_message;
use super::{text, tool_error_page, Session};
use crate::state::AppState;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use restock_application::ports::ReplyStatus;
use restock_application::tools::ToolError;
use restock_application::{Executed, Outcome};
use restock_domain::{ProductCommand, Quantity, RefillId, Sku};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

const ROWS: i64 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: Option<String>,
}

pub async fn list(
    State(app): State<AppState>,
    session: Session,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let status = query
        .ok()
        .and_then(|q| q.0.status)
        .filter(|s| !s.is_empty());
    let mut args = json!({ "limit": ROWS });
    if let Some(s) = &status {
        args["status"] = json!(s);
    }
    let found = match session.tool(&app, "list_refills", args).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let empty = Vec::new();
    let items = found["items"].as_array().unwrap_or(&empty);
    let body = html! {
        h1 { "Refills" }
        nav.filters {
            @for (value, label) in [("", "All"), ("requested", "Requested"), ("received", "Received"), ("cancelled", "Cancelled")] {
                @let current = status.as_deref().unwrap_or("") == value;
                a href={"/ui/refills" @if !value.is_empty() { "?status=" (value) }}
                    class=[current.then_some("current")] { (label) }
            }
        }
        @if items.is_empty() {
            p.muted { "No refills." }
        } @else {
            div.scroll tabindex="0" role="region" aria-label="Refills" {
            table.refills {
                thead { tr { th { "Refill" } th { "SKU" } th.num { "Quantity" } th { "Status" } th { "Decided by" } th { "Reason" } th { "Created" } } }
                tbody {
                    @for r in items {
                        @let id = text(&r["id"]);
                        tr {
                            td.mono { a href={"/ui/refills/" (id)} { (id.get(..8).unwrap_or(&id)) } }
                            td { a href={"/ui/products/" (text(&r["sku"]))} { (text(&r["sku"])) } }
                            td.num { (text(&r["quantity"])) }
                            td { span class={"status " (text(&r["status"]))} { (text(&r["status"])) } }
                            td { (text(&r["decided_by"])) }
                            td { (text(&r["reason"])) }
                            td { (text(&r["created_at"])) }
                        }
                    }
                }
            }
            }
        }
    };
    layout::respond(
        StatusCode::OK,
        layout::page("Refills", Page::Refills, Some(&session), body),
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    done: Option<String>,
}

fn parse_id(raw: &str, session: &Session) -> Result<Uuid, Response> {
    Uuid::parse_str(raw).map_err(|_| {
        layout::error_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no refill at this address.",
            Some(session),
        )
    })
}

pub async fn audit(
    State(app): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Response {
    let id = match parse_id(&id, &session) {
        Ok(id) => id,
        Err(page) => return page,
    };
    let a = match session
        .tool(&app, "explain_refill", json!({ "refill_id": id }))
        .await
    {
        Ok(v) => v,
        Err(page) => return page,
    };
    let done = query.ok().and_then(|q| q.0.done);
    let r = &a["refill"];
    let body = html! {
        h1 { "Refill " span.mono { (text(&r["id"])) } }
        @if let Some(m) = done.as_deref().and_then(done_message) { (notice("ok", m)) }
        dl.facts #refill {
            dt { "Product" } dd { a href={"/ui/products/" (text(&r["sku"]))} { (text(&r["sku"])) } }
            dt { "Quantity" } dd { (text(&r["quantity"])) }
            dt { "Status" } dd #refill-status { (text(&r["status"])) }
            dt { "Decided by" } dd { (text(&r["decided_by"])) }
            dt { "Reason" } dd { (text(&r["reason"])) }
            dt { "Created" } dd { (text(&r["created_at"])) }
            @if !r["received_at"].is_null() { dt { "Received" } dd { (text(&r["received_quantity"])) " at " (text(&r["received_at"])) } }
            @if !r["cancelled_at"].is_null() { dt { "Cancelled" } dd { (text(&r["cancelled_at"])) } }
        }
        @if session.is_manager() && r["status"] == "requested" {
            section.forms #refill-actions {
                form method="post" action={"/ui/refills/" (id) "/receive"} {
                    input type="number" name="quantity" min="1" placeholder={"received (default " (text(&r["quantity"])) ")"} aria-label="Quantity received";
                    button type="submit" { "Receive" }
                }
                form method="post" action={"/ui/refills/" (id) "/cancel"} {
                    button type="submit" { "Cancel refill" }
                }
            }
        }
        (audit_sections(&a))
    };
    layout::respond(
        StatusCode::OK,
        layout::page("Refill audit", Page::Refills, Some(&session), body),
    )
}

fn audit_sections(a: &Value) -> Markup {
    let trigger = &a["trigger"];
    let state = &a["state_at_trigger"];
    let threshold = &a["threshold"];
    let decision = &a["decision"];
    let replay = &a["replayed_decision"];
    let empty = Vec::new();
    html! {
        section #audit {
            h2 { "Why it was ordered" }
            h3 { "Trigger" }
            @if trigger.is_null() {
                p.muted { "No trigger: this refill was ordered by a person." }
            } @else {
                p #trigger { (text(&trigger["type"])) " (event " (text(&trigger["version"])) ") at "
                    (text(&trigger["occurred_at"])) " by " (text(&trigger["metadata"]["actor"])) }
            }
            h3 { "Stock then" }
            @if state.is_null() { p.muted { "Not recorded." } } @else {
                p #stock-then { "On hand " (text(&state["on_hand"])) ", reserved " (text(&state["reserved"]))
                    ", available " (text(&state["available"])) "." }
            }
            h3 { "Minimum" }
            @if threshold.is_null() { p.muted { "Not recorded." } } @else {
                p #threshold { "Reorder point " (text(&threshold["reorder_point"])) ", from "
                    (text(&threshold["source"]))
                    @if !threshold["model"].is_null() { " (model " (text(&threshold["model"])) ")" }
                    @if !threshold["computed_at"].is_null() { ", computed " (text(&threshold["computed_at"])) }
                    "." }
            }
            h3 { "Decision" }
            @if decision.is_null() { p.muted { "No agent decision: ordered by a person." } } @else {
                dl.facts #decision {
                    dt { "Decider" } dd #decider { (text(&decision["decider"])) }
                    dt { "Rationale" } dd { (text(&decision["rationale"])) }
                    @if !decision["fallback_reason"].is_null() {
                        dt { "Fallback" } dd #fallback { (text(&decision["fallback_reason"]))
                            @if !decision["fallback_detail"].is_null() { ": " (text(&decision["fallback_detail"])) } }
                    }
                    dt { "Decided at" } dd { (text(&decision["decided_at"])) " (" (text(&decision["latency_ms"])) " ms)" }
                    dt { "Tool calls" } dd {
                        ul #tool-calls {
                            @for call in decision["tool_calls"].as_array().unwrap_or(&empty) {
                                li { code { (text(&call["name"])) " " (call["arguments"].to_string()) } }
                            }
                        }
                    }
                }
            }
            h3 { "Events caused" }
            ul #caused {
                @for e in a["events"].as_array().unwrap_or(&empty) {
                    li { (text(&e["type"])) " (event " (text(&e["version"])) ", " (text(&e["metadata"]["actor"])) ")" }
                }
            }
            h3 { "Replayed today" }
            @if replay.is_null() { p.muted { "Nothing to replay." } } @else {
                p #replayed {
                    @if replay["matches"].as_bool() == Some(true) { strong { "Same decision." } }
                    @else { strong { "A different decision." } }
                    " " (text(&replay["basis"]))
                }
                ul {
                    @for call in replay["tool_calls"].as_array().unwrap_or(&empty) {
                        li { code { (text(&call["name"])) " " (call["arguments"].to_string()) } }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ReceiveForm {
    #[serde(default)]
    quantity: String,
}

/// The refill's product, through `explain_refill` (which also proves it is this tenant's).
async fn refill_sku(app: &AppState, session: &Session, id: Uuid) -> Result<Sku, Response> {
    let a = session
        .tool(app, "explain_refill", json!({ "refill_id": id }))
        .await?;
    Sku::parse(&text(&a["refill"]["sku"]))
        .map_err(|e| tool_error_page(&ToolError::Store(e.to_string()), session))
}

async fn refill_command(
    app: &AppState,
    session: &Session,
    id: Uuid,
    command: ProductCommand,
    done: &str,
) -> Response {
    let sku = match refill_sku(app, session, id).await {
        Ok(sku) => sku,
        Err(page) => return page,
    };
    let render = |_: &Executed| (ReplyStatus::Created, Value::Null);
    match app
        .commands
        .execute(&session.command_context(), &sku, command, &render)
        .await
    {
        Ok(outcome) => {
            if let Outcome::Executed(e) = &outcome {
                if !e.recorded.is_empty() {
                    app.metrics.events_appended(e.recorded.len());
                }
            }
            Redirect::to(&format!("/ui/refills/{id}?done={done}")).into_response()
        }
        Err(e) => tool_error_page(&ToolError::from(e), session),
    }
}

pub async fn receive(
    State(app): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Result<Form<ReceiveForm>, FormRejection>,
) -> Response {
    if let Err(refused) = session.require_manager() {
        return refused;
    }
    let id = match parse_id(&id, &session) {
        Ok(id) => id,
        Err(page) => return page,
    };
    let raw = form.map(|f| f.0.quantity).unwrap_or_default();
    let quantity = if raw.trim().is_empty() {
        None
    } else {
        match super::actions::parse_quantity("Quantity", &raw, 1).map(Quantity::positive) {
            Ok(Ok(q)) => Some(q),
            Ok(Err(e)) => {
                return layout::error_page(
                    StatusCode::BAD_REQUEST,
                    "Check your input",
                    &e.to_string(),
                    Some(&session),
                )
            }
            Err(m) => {
                return layout::error_page(
                    StatusCode::BAD_REQUEST,
                    "Check your input",
                    &m,
                    Some(&session),
                )
            }
        }
    };
    let command = ProductCommand::ReceiveRefill {
        refill_id: RefillId(id),
        quantity,
    };
    refill_command(&app, &session, id, command, "refill-received").await
}

pub async fn cancel(
    State(app): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    if let Err(refused) = session.require_manager() {
        return refused;
    }
    let id = match parse_id(&id, &session) {
        Ok(id) => id,
        Err(page) => return page,
    };
    let command = ProductCommand::CancelRefill {
        refill_id: RefillId(id),
    };
    refill_command(&app, &session, id, command, "refill-cancelled").await
}
