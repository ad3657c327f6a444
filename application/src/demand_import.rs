//! Importing past demand (`date,sku,quantity` CSV) for the forecast.
//!
//! The file is read by [`crate::demand_csv`] (the reader `restock backtest` uses too), whole
//! and validated before anything is written, so a bad row keeps nothing of the upload.

use crate::ports::ReplyStatus;
use crate::product_commands::{CommandContext, CommandError, IdempotencyRequest, ProductCommands};
use restock_domain::{ProductCommand, Sku};

pub use crate::demand_csv::{parse_demand_csv, DemandCsvError, DemandHistory};

/// Record the parsed history: one `DemandHistoryImported` per sku (registering unknown skus).
pub async fn record_demand_history(
    commands: &ProductCommands,
    ctx: &CommandContext,
    history: DemandHistory,
) -> Result<(), CommandError> {
    let per_sku = history
        .by_sku
        .into_iter()
        .map(|(sku, days)| (sku.clone(), ProductCommand::ImportDemand { sku, days }));
    record_per_sku(commands, ctx, per_sku).await
}

/// Run one upload's command per sku (demand history, supplier prices).
///
/// An upload spans several streams, so an `Idempotency-Key` is applied per sku (`KEY/sku`): a
/// retried upload appends nothing for the skus already recorded, and a reused key with another
/// file is still refused.
pub(crate) async fn record_per_sku(
    commands: &ProductCommands,
    ctx: &CommandContext,
    per_sku: impl IntoIterator<Item = (Sku, ProductCommand)>,
) -> Result<(), CommandError> {
    let no_render = |_: &crate::Executed| (ReplyStatus::Created, serde_json::Value::Null);
    for (sku, command) in per_sku {
        let ctx = CommandContext {
            idempotency: ctx.idempotency.as_ref().map(|req| IdempotencyRequest {
                key: format!("{}/{}", req.key, sku),
                request_hash: req.request_hash.clone(),
            }),
            ..ctx.clone()
        };
        commands.execute(&ctx, &sku, command, &no_render).await?;
    }
    Ok(())
}
