//! One bulk upsert for the per-product, per-day tables filled from CSV imports (imported demand,
//! supplier prices): an upload of years of history for thousands of products is millions of
//! rows, written as multi-row statements in chunks.

use crate::DbTx;
use chrono::NaiveDate;
use sqlx::{Postgres, Sqlite};

/// Rows per statement: 4 parameters each, far below both databases' limits.
const ROWS_PER_STATEMENT: usize = 1000;

/// The value column written, with its table. An enum, so no caller can put SQL in a name.
#[derive(Debug, Clone, Copy)]
pub(crate) enum DailyColumn {
    ImportedDemand,
    SupplierPrice,
}

impl DailyColumn {
    const fn table_and_column(self) -> (&'static str, &'static str) {
        match self {
            Self::ImportedDemand => ("daily_demand", "imported"),
            Self::SupplierPrice => ("supplier_prices", "unit_price"),
        }
    }
}

/// `(tenant, sku, day, value)` rows, upserted on `(tenant_id, sku, day)`. Keys must be unique
/// within a call (a statement cannot update one row twice).
pub(crate) async fn upsert<V>(
    tx: &mut DbTx,
    column: DailyColumn,
    rows: &[(&str, &str, NaiveDate, V)],
) -> Result<(), sqlx::Error>
where
    V: Copy
        + Send
        + Sync
        + 'static
        + for<'q> sqlx::Encode<'q, Postgres>
        + sqlx::Type<Postgres>
        + for<'q> sqlx::Encode<'q, Sqlite>
        + sqlx::Type<Sqlite>,
{
    let (table, value) = column.table_and_column();
    macro_rules! upsert_chunk {
        ($conn:expr, $db:ty, $chunk:expr) => {{
            let mut query = sqlx::QueryBuilder::<$db>::new(format!(
                "INSERT INTO {table} (tenant_id, sku, day, {value}) "
            ));
            query.push_values($chunk, |mut row, r: &(&str, &str, NaiveDate, V)| {
                row.push_bind(r.0)
                    .push_bind(r.1)
                    .push_bind(r.2)
                    .push_bind(r.3);
            });
            query.push(format!(
                " ON CONFLICT (tenant_id, sku, day) DO UPDATE SET {value} = excluded.{value}"
            ));
            query.build().execute(&mut **$conn).await?;
        }};
    }
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        match &mut *tx {
            DbTx::Postgres(conn) => upsert_chunk!(conn, Postgres, chunk),
            DbTx::Sqlite(conn) => upsert_chunk!(conn, Sqlite, chunk),
        }
    }
    Ok(())
}
