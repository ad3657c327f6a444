//! Importing past demand (`date,sku,quantity` CSV) for the forecast.
//!
//! The file is read by [`crate::demand_csv`] (the reader `restock backtest` uses too), whole
//! and validated before anything is written, so a bad row keeps nothing of the upload.

use crate::ports::ReplyStatus;
use crate::product_commands::{CommandContext, CommandError, IdempotencyRequest, ProductCommands};
use restock_domain::ProductCommand;

pub use crate::demand_csv::{parse_demand_csv, DemandCsvError, DemandHistory};

/// Record the parsed history: one `DemandHistoryImported` per sku (registering unknown skus).
///
/// An upload spans several streams, so an `Idempotency-Key` is applied per sku (`KEY/sku`): a
/// retried upload appends nothing for the skus already recorded, and a reused key with another
/// file is still refused.
pub async fn record_demand_history(
    commands: &ProductCommands,
    ctx: &CommandContext,
    history: DemandHistory,
) -> Result<(), CommandError> {
    let no_render = |_: &crate::Executed| (ReplyStatus::Created, serde_json::Value::Null);
    for (sku, days) in history.by_sku {
        let per_sku = CommandContext {
            idempotency: ctx.idempotency.as_ref().map(|req| IdempotencyRequest {
                key: format!("{}/{}", req.key, sku),
                request_hash: req.request_hash.clone(),
            }),
            ..ctx.clone()
        };
        let command = ProductCommand::ImportDemand {
            sku: sku.clone(),
            days,
        };
        commands
            .execute(&per_sku, &sku, command, &no_render)
            .await?;
    }
    Ok(())
}
