//! `supplier_prices`: a supplier's unit price per product per day, kept by the prices
//! projection; the purchase plan's input. A later price for a day replaces the earlier one.

use crate::{fetch_all, DbTx};
use chrono::NaiveDate;

/// Record prices for many days at once. Keys must be unique within a call.
pub async fn set_all(
    tx: &mut DbTx,
    rows: &[(&str, &str, NaiveDate, f64)],
) -> Result<(), sqlx::Error> {
    super::daily_rows::upsert(tx, super::daily_rows::DailyColumn::SupplierPrice, rows).await
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PriceRow {
    pub day: NaiveDate,
    pub unit_price: f64,
}

/// The product's prices from `since` on, oldest first.
pub async fn since(
    tx: &mut DbTx,
    tenant: &str,
    sku: &str,
    since: NaiveDate,
) -> Result<Vec<PriceRow>, sqlx::Error> {
    fetch_all!(
        tx,
        PriceRow,
        "SELECT day, unit_price FROM supplier_prices WHERE tenant_id = $1 AND sku = $2 \
         AND day >= $3 ORDER BY day",
        tenant,
        sku,
        since
    )
}
