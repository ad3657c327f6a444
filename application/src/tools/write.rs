//! The write tools: each is one ordinary product command, run as the caller, with the same
//! rules (and refusals) as the HTTP API. The result is what the command left.

use super::{RefillRef, ToolCaller, ToolError, ToolRequest, Tools};
use crate::ports::ReplyStatus;
use crate::product_commands::{CommandContext, Executed, Outcome};
use crate::views::RefillView;
use crate::ProductView;
use restock_domain::{
    Decider, ProductCommand, ProductEvent, RefillId, RefillStatus, Sku, UnitPrice,
};
use serde_json::{json, Value};
use uuid::Uuid;

pub(super) async fn run(
    tools: &Tools,
    caller: &ToolCaller,
    ctx: &CommandContext,
    request: &ToolRequest,
) -> Result<Value, ToolError> {
    match request {
        ToolRequest::RefillStock {
            sku,
            quantity,
            reason,
            buy_on,
        } => {
            let id = RefillId(Uuid::now_v7());
            let (buy_on, expected_unit_price) = timing(tools, caller, sku, *buy_on).await?;
            let command = ProductCommand::RequestRefill {
                refill_id: id,
                quantity: *quantity,
                reason: reason.clone(),
                decided_by: Decider::User(caller.user.clone()),
                trigger_event_id: None,
                buy_on,
                expected_unit_price,
            };
            execute(tools, ctx, sku, command, |e| refill_result(e, id, sku)).await
        }
        ToolRequest::SetMinStock { sku, quantity } => {
            let command = ProductCommand::SetMinimum {
                quantity: *quantity,
            };
            execute(tools, ctx, sku, command, product_result).await
        }
        ToolRequest::ReceiveStock {
            sku,
            quantity,
            reference,
        } => {
            let command = ProductCommand::Receive {
                quantity: *quantity,
                reference: reference.clone(),
            };
            execute(tools, ctx, sku, command, product_result).await
        }
        ToolRequest::RecordSale {
            sku,
            quantity,
            reference,
        } => {
            let command = ProductCommand::Sell {
                quantity: *quantity,
                reference: reference.clone(),
            };
            execute(tools, ctx, sku, command, product_result).await
        }
        ToolRequest::CountStock {
            sku,
            counted,
            reason,
        } => {
            let command = ProductCommand::Count {
                counted: *counted,
                reason: reason.clone(),
            };
            execute(tools, ctx, sku, command, product_result).await
        }
        ToolRequest::CancelRefill(refill) => {
            let (sku, id) = resolve_refill(tools, caller, refill).await?;
            let command = ProductCommand::CancelRefill { refill_id: id };
            execute(tools, ctx, &sku, command, |e| refill_state(e, id, &sku)).await
        }
        ToolRequest::ReceiveRefill { refill, quantity } => {
            let (sku, id) = resolve_refill(tools, caller, refill).await?;
            let command = ProductCommand::ReceiveRefill {
                refill_id: id,
                quantity: *quantity,
            };
            execute(tools, ctx, &sku, command, |e| refill_state(e, id, &sku)).await
        }
        other => Err(ToolError::Store(format!(
            "{} is not a write tool",
            other.name()
        ))),
    }
}

/// The refill and its product: by id (its stream found from the id, another tenant's is not
/// found), or the product's open refill.
pub(super) async fn resolve_refill(
    tools: &Tools,
    caller: &ToolCaller,
    refill: &RefillRef,
) -> Result<(Sku, RefillId), ToolError> {
    match refill {
        RefillRef::Id(id) => {
            let sku = crate::refill_audit::refill_sku(tools.store.as_ref(), &caller.tenant, *id)
                .await
                .map_err(|e| ToolError::Store(e.to_string()))?
                .ok_or_else(|| ToolError::NotFound(format!("no refill with id {id}")))?;
            Ok((sku, RefillId(*id)))
        }
        RefillRef::OpenOf(sku) => {
            let product = tools
                .read_models
                .product(&caller.tenant, sku)
                .await?
                .ok_or_else(|| ToolError::NotFound(format!("no product with sku {sku}")))?;
            let id = product
                .open_refill_id
                .ok_or_else(|| ToolError::NotFound(format!("{sku} has no open refill")))?;
            Ok((sku.clone(), RefillId(id)))
        }
    }
}

/// `{ "refill": { id, sku, status, quantity }, "product" }` after a refill
/// was received against or cancelled.
fn refill_state(e: &Executed, id: RefillId, sku: &Sku) -> Value {
    let refill = e.product().refills.get(&id).map(|r| {
        json!({
            "id": id.as_uuid(),
            "sku": sku.as_str(),
            "status": r.status,
            "quantity": r.quantity.get(),
        })
    });
    json!({ "refill": refill, "product": view(e) })
}

/// The day to buy on and its expected unit price: the purchase plan's day when none was given,
/// and the plan's price for the day either way (when the day is within the plan's horizon).
async fn timing(
    tools: &Tools,
    caller: &ToolCaller,
    sku: &Sku,
    given: Option<chrono::NaiveDate>,
) -> Result<(Option<chrono::NaiveDate>, Option<UnitPrice>), ToolError> {
    let now = tools.commands.clock().now();
    let Some(plan) = tools.plans.plan(&caller.tenant, sku, now).await? else {
        return Ok((given, None));
    };
    let day = given.unwrap_or(plan.plan.best_day);
    let price = plan
        .price_forecast
        .iter()
        .find(|p| p.date == day)
        .and_then(|p| UnitPrice::new(p.mean).ok());
    Ok((Some(day), price))
}

async fn execute(
    tools: &Tools,
    ctx: &CommandContext,
    sku: &Sku,
    command: ProductCommand,
    render: impl Fn(&Executed) -> Value + Send + Sync,
) -> Result<Value, ToolError> {
    let stored = |e: &Executed| (ReplyStatus::Created, render(e));
    match tools.commands.execute(ctx, sku, command, &stored).await? {
        Outcome::Executed(executed) => Ok(render(&executed)),
        Outcome::Replayed(record) => Ok(record.body),
    }
}

fn view(e: &Executed) -> Option<ProductView> {
    e.state
        .updated_at
        .and_then(|at| ProductView::from_state(e.product(), at))
}

fn product_result(e: &Executed) -> Value {
    json!(view(e))
}

/// `{ "refill": Refill, "product" }`: the refill as requested, in the API's Refill
/// shape (so `POST /v1/products/{sku}/refills` answers with it), and the product.
fn refill_result(e: &Executed, id: RefillId, sku: &Sku) -> Value {
    json!({ "refill": requested_refill(e, id, sku), "product": view(e) })
}

fn requested_refill(e: &Executed, id: RefillId, sku: &Sku) -> Option<RefillView> {
    // Rendered before the append too (the idempotency record is stored with the events), so
    // only the decided events and the state are used: `recorded_at` is the state's `updated_at`.
    let created_at = e.state.updated_at?;
    e.events.iter().find_map(|event| match event {
        ProductEvent::RefillRequested {
            refill_id,
            quantity,
            reason,
            decided_by,
            trigger_event_id,
            buy_on,
            expected_unit_price,
        } if *refill_id == id => Some(RefillView {
            id: id.as_uuid().to_string(),
            sku: sku.to_string(),
            quantity: quantity.get(),
            status: RefillStatus::Requested,
            decided_by: decided_by.clone(),
            reason: reason.clone(),
            trigger_event_id: trigger_event_id.map(|t| t.to_string()),
            received_quantity: None,
            created_at,
            received_at: None,
            cancelled_at: None,
            buy_on: *buy_on,
            expected_unit_price: expected_unit_price.map(UnitPrice::get),
        }),
        _ => None,
    })
}
