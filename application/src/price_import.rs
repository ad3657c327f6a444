//! Importing supplier prices (`date,sku,unit_price` CSV): the demand import's rules and
//! pattern. The file is read by [`crate::price_csv`] (the reader `restock backtest-prices`
//! uses too), whole and validated before anything is written, so a bad row keeps nothing of
//! the upload; unknown skus are registered with default details, as demand history does.

use crate::demand_import::record_per_sku;
use crate::product_commands::{CommandContext, CommandError, ProductCommands};
use restock_domain::ProductCommand;

pub use crate::price_csv::{parse_price_csv, PriceCsvError, PriceHistory};

/// Record the parsed prices: one `SupplierPricesRecorded` per sku (registering unknown skus),
/// with the demand import's per-sku idempotency keys.
pub async fn record_prices(
    commands: &ProductCommands,
    ctx: &CommandContext,
    history: PriceHistory,
) -> Result<(), CommandError> {
    let per_sku = history
        .by_sku
        .into_iter()
        .map(|(sku, prices)| (sku.clone(), ProductCommand::RecordPrices { sku, prices }));
    record_per_sku(commands, ctx, per_sku).await
}
