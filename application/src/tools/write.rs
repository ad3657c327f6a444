//! The write tools: each is one ordinary product command, run as the caller, with the same
//! rules (and refusals) as the HTTP API. The result is what the command left.

use super::{ToolCaller, ToolError, ToolRequest, Tools};
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
        other => Err(ToolError::Store(format!(
            "{} is not a write tool",
            other.name()
        ))),
    }
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
