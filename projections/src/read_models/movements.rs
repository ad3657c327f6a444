//! `movements`: the stock ledger, one row per event that changed on_hand.

use chrono::{DateTime, Utc};
use restock_infrastructure::{fetch_all, DbTx};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Movement {
    pub version: i64,
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    pub delta_on_hand: i64,
    pub on_hand_after: i64,
    pub reference: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

/// A ledger row and the product it belongs to.
pub struct NewMovement {
    pub tenant: String,
    pub sku: String,
    pub movement: Movement,
}

/// Rows per INSERT: 8 parameters each stays far below both databases' parameter limits.
const ROWS_PER_STATEMENT: usize = 500;

/// Insert many rows with one multi-row INSERT per chunk: a rebuild writes thousands of ledger
/// rows per batch, and one round trip per row would dominate its time.
pub async fn insert_all(tx: &mut DbTx, rows: &[NewMovement]) -> Result<(), sqlx::Error> {
    macro_rules! insert_chunk {
        ($conn:expr, $db:ty, $chunk:expr) => {{
            let mut query = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO movements (tenant_id, sku, version, type, delta_on_hand, \
                 on_hand_after, reference, occurred_at) ",
            );
            query.push_values($chunk, |mut row, r: &NewMovement| {
                row.push_bind(&r.tenant)
                    .push_bind(&r.sku)
                    .push_bind(r.movement.version)
                    .push_bind(&r.movement.kind)
                    .push_bind(r.movement.delta_on_hand)
                    .push_bind(r.movement.on_hand_after)
                    .push_bind(&r.movement.reference)
                    .push_bind(r.movement.occurred_at);
            });
            query.build().execute(&mut **$conn).await?;
        }};
    }
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        match &mut *tx {
            DbTx::Postgres(conn) => insert_chunk!(conn, sqlx::Postgres, chunk),
            DbTx::Sqlite(conn) => insert_chunk!(conn, sqlx::Sqlite, chunk),
        }
    }
    Ok(())
}

/// Movements after `after_version`, oldest first.
pub async fn list(
    tx: &mut DbTx,
    tenant: &str,
    sku: &str,
    after_version: i64,
    limit: i64,
) -> Result<Vec<Movement>, sqlx::Error> {
    fetch_all!(
        tx,
        Movement,
        "SELECT version, type, delta_on_hand, on_hand_after, reference, occurred_at \
         FROM movements WHERE tenant_id = $1 AND sku = $2 AND version > $3 \
         ORDER BY version LIMIT $4",
        tenant,
        sku,
        after_version,
        limit
    )
}
