//! The write tools: each is one ordinary product command, run as the caller, with the same
//! rules (and refusals) as the HTTP API. The result is what the command left.

use super::{ToolCaller, ToolError, ToolRequest, Tools};
use crate::ports::ReplyStatus;
use crate::product_commands::{CommandContext, Executed, Outcome};
use crate::ProductView;
use restock_domain::{Decider, ProductCommand, RefillId, Sku};
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
        } => {
            let id = RefillId(Uuid::now_v7());
            let command = ProductCommand::RequestRefill {
                refill_id: id,
                quantity: *quantity,
                reason: reason.clone(),
                decided_by: Decider::User(caller.user.clone()),
                trigger_event_id: None,
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

fn refill_result(e: &Executed, id: RefillId, sku: &Sku) -> Value {
    let refill = e.product().refills.get(&id);
    json!({
        "refill": {
            "id": id.as_uuid(),
            "sku": sku,
            "quantity": refill.map(|r| r.quantity.get()),
            "status": refill.map(|r| r.status.as_str()),
        },
        "product": view(e),
    })
}
