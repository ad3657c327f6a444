//! A manager's commands from the pages, through the same paths as the API: receipts, sales and
//! counts as product commands (`ProductCommands`, actor `user:<sub>`), minimums and refills
//! through the write tools. Each answers by going back to the page it came from (303), or with
//! a readable page saying what was wrong.

use super::layout::{self};
use super::{tool_error_page, Session};
use crate::state::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use restock_application::ports::ReplyStatus;
use restock_application::tools::ToolError;
use restock_application::{Executed, Outcome};
use restock_domain::{ProductCommand, Quantity, Sku};
use serde::Deserialize;
use serde_json::{json, Value};

const MAX_TEXT: usize = 200;

/// Every action form's fields, as text: numbers are parsed here so a bad one gets a sentence,
/// not a deserializer's message.
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    counted: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    clear: String,
    #[serde(default)]
    back: String,
}

fn bad_input(session: &Session, message: &str) -> Response {
    layout::error_page(
        StatusCode::BAD_REQUEST,
        "Check your input",
        message,
        Some(session),
    )
}

/// A whole number in `min..=1e9`, or a sentence saying what was expected.
pub fn parse_quantity(field: &str, raw: &str, min: i64) -> Result<i64, String> {
    let expected = format!("{field} must be a whole number from {min} to 1000000000");
    let n: i64 = raw.trim().parse().map_err(|_| expected.clone())?;
    if (min..=1_000_000_000).contains(&n) {
        Ok(n)
    } else {
        Err(expected)
    }
}

fn optional_text(field: &str, raw: &str) -> Result<Option<String>, String> {
    let t = raw.trim();
    if t.chars().count() > MAX_TEXT {
        return Err(format!("{field} must be at most {MAX_TEXT} characters"));
    }
    // PostgreSQL cannot store U+0000 in text: refused here, it would fail at the store.
    if t.contains('\0') {
        return Err(format!("{field} may not contain the NUL character"));
    }
    Ok((!t.is_empty()).then(|| t.to_owned()))
}

/// Back to the list or to the product page, with a fixed notice.
fn back(form: &ActionForm, sku: &Sku, done: &str) -> Response {
    let to = if form.back == "list" {
        format!("/?done={done}")
    } else {
        format!("/ui/products/{sku}?done={done}")
    };
    Redirect::to(&to).into_response()
}

/// Checks shared by every action: a manager, a valid sku, a readable form.
fn begin(
    session: &Session,
    sku: &str,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<(Sku, ActionForm), Response> {
    session.require_manager()?;
    let sku = Sku::parse(sku).map_err(|e| bad_input(session, &e.to_string()))?;
    let form = form
        .map(|f| f.0)
        .map_err(|_| bad_input(session, "The form could not be read."))?;
    Ok((sku, form))
}

/// Run a product command as the signed-in person, like `AppState::execute` does for the API.
async fn command(
    app: &AppState,
    session: &Session,
    sku: &Sku,
    command: ProductCommand,
) -> Result<(), Response> {
    let ctx = session.command_context();
    let render = |_: &Executed| (ReplyStatus::Created, Value::Null);
    match app.commands.execute(&ctx, sku, command, &render).await {
        Ok(Outcome::Executed(executed)) => {
            if !executed.recorded.is_empty() {
                app.metrics.events_appended(executed.recorded.len());
            }
            Ok(())
        }
        Ok(Outcome::Replayed(_)) => Ok(()),
        Err(e) => Err(tool_error_page(&ToolError::from(e), session)),
    }
}

pub async fn receive(
    State(app): State<AppState>,
    session: Session,
    Path(sku): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    movement(app, session, sku, form, "receive").await
}

pub async fn sell(
    State(app): State<AppState>,
    session: Session,
    Path(sku): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    movement(app, session, sku, form, "sell").await
}

async fn movement(
    app: AppState,
    session: Session,
    sku: String,
    form: Result<Form<ActionForm>, FormRejection>,
    kind: &str,
) -> Response {
    let (sku, form) = match begin(&session, &sku, form) {
        Ok(ok) => ok,
        Err(refused) => return refused,
    };
    let parsed = parse_quantity("Quantity", &form.quantity, 1).and_then(|q| {
        let reference = optional_text("Reference", &form.reference)?;
        Ok((q, reference))
    });
    let (quantity, reference) = match parsed {
        Ok(ok) => ok,
        Err(m) => return bad_input(&session, &m),
    };
    let Ok(quantity) = Quantity::positive(quantity) else {
        return bad_input(&session, "Quantity must be at least 1");
    };
    let cmd = if kind == "sell" {
        ProductCommand::Sell {
            quantity,
            reference,
        }
    } else {
        ProductCommand::Receive {
            quantity,
            reference,
        }
    };
    match command(&app, &session, &sku, cmd).await {
        Ok(()) => back(&form, &sku, kind),
        Err(refused) => refused,
    }
}

pub async fn count(
    State(app): State<AppState>,
    session: Session,
    Path(sku): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let (sku, form) = match begin(&session, &sku, form) {
        Ok(ok) => ok,
        Err(refused) => return refused,
    };
    let counted = match parse_quantity("Counted", &form.counted, 0) {
        Ok(n) => n,
        Err(m) => return bad_input(&session, &m),
    };
    let reason = match optional_text("Reason", &form.reason) {
        Ok(Some(r)) => r,
        Ok(None) => return bad_input(&session, "Say why you counted (a reason is required)."),
        Err(m) => return bad_input(&session, &m),
    };
    let Ok(counted) = Quantity::new(counted) else {
        return bad_input(&session, "Counted must be 0 or more");
    };
    match command(
        &app,
        &session,
        &sku,
        ProductCommand::Count { counted, reason },
    )
    .await
    {
        Ok(()) => back(&form, &sku, "count"),
        Err(refused) => refused,
    }
}

/// Set the minimum (a number) or clear it (the `clear` button, or an empty field): the
/// `set_min_stock` tool.
pub async fn set_min_stock(
    State(app): State<AppState>,
    session: Session,
    Path(sku): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let (sku, form) = match begin(&session, &sku, form) {
        Ok(ok) => ok,
        Err(refused) => return refused,
    };
    let quantity = if !form.clear.is_empty() || form.quantity.trim().is_empty() {
        Value::Null
    } else {
        match parse_quantity("Minimum", &form.quantity, 0) {
            Ok(n) => json!(n),
            Err(m) => return bad_input(&session, &m),
        }
    };
    let args = json!({ "sku": sku.as_str(), "quantity": quantity });
    match session.tool(&app, "set_min_stock", args).await {
        Ok(_) => back(&form, &sku, "min"),
        Err(refused) => refused,
    }
}

/// Order a refill: the `refill_stock` tool, decided by this person.
pub async fn order_refill(
    State(app): State<AppState>,
    session: Session,
    Path(sku): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let (sku, form) = match begin(&session, &sku, form) {
        Ok(ok) => ok,
        Err(refused) => return refused,
    };
    let quantity = match parse_quantity("Quantity", &form.quantity, 1) {
        Ok(n) => n,
        Err(m) => return bad_input(&session, &m),
    };
    let args = json!({ "sku": sku.as_str(), "quantity": quantity, "reason": form.reason });
    match session.tool(&app, "refill_stock", args).await {
        Ok(_) => back(&form, &sku, "refill"),
        Err(refused) => refused,
    }
}
