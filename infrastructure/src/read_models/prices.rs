//! `supplier_prices`: a supplier's unit price per product per day, kept by the prices
//! projection; the purchase plan's input. A later price for a day replaces the earlier one.

use crate::{fetch_all, DbTx};
use chrono::NaiveDate;

/// Rows per statement: 4 parameters each, far below both databases' limits.
const ROWS_PER_STATEMENT: usize = 1000;

/// Record prices for many days at once, one multi-row upsert per chunk. Keys must be unique
/// within a call (a statement cannot update one row twice).
pub async fn set_all(
    tx: &mut DbTx,
    rows: &[(&str, &str, NaiveDate, f64)],
) -> Result<(), sqlx::Error> {
    macro_rules! upsert_chunk {
        ($conn:expr, $db:ty, $chunk:expr) => {{
            let mut query = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO supplier_prices (tenant_id, sku, day, unit_price) ",
            );
            query.push_values($chunk, |mut row, r: &(&str, &str, NaiveDate, f64)| {
                row.push_bind(r.0)
                    .push_bind(r.1)
                    .push_bind(r.2)
                    .push_bind(r.3);
            });
            query.push(
                " ON CONFLICT (tenant_id, sku, day) DO UPDATE SET unit_price = excluded.unit_price",
            );
            query.build().execute(&mut **$conn).await?;
        }};
    }
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        match &mut *tx {
            DbTx::Postgres(conn) => upsert_chunk!(conn, sqlx::Postgres, chunk),
            DbTx::Sqlite(conn) => upsert_chunk!(conn, sqlx::Sqlite, chunk),
        }
    }
    Ok(())
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
