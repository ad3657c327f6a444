//! `agent_products`: the agent projection's own fold of each product.

use chrono::{DateTime, Utc};
use restock_domain::{Product, ProductEvent};
use restock_infrastructure::DbTx;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use std::collections::HashMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentState {
    pub product: Product,
    /// When the manual minimum in force was set (the audit's `threshold.computed_at`).
    pub manual_set_at: Option<DateTime<Utc>>,
}

impl AgentState {
    pub fn apply(&mut self, event: &ProductEvent, recorded_at: DateTime<Utc>) {
        self.product.apply_event(event);
        match event {
            ProductEvent::MinimumSet { .. } => self.manual_set_at = Some(recorded_at),
            ProductEvent::MinimumCleared => self.manual_set_at = None,
            _ => {}
        }
    }
}

/// The states of these products, by (tenant, sku); products never seen are absent.
pub async fn load_all(
    tx: &mut DbTx,
    keys: &[(&str, &str)],
) -> Result<HashMap<(String, String), AgentState>, sqlx::Error> {
    tx.fetch_states("agent_products", keys).await
}

/// Rows per upsert: 3 parameters each.
const ROWS_PER_UPSERT: usize = 1000;

/// Write these states, one multi-row upsert per 1000; each (tenant, sku) at most once.
pub async fn upsert_all(
    tx: &mut DbTx,
    states: &[(&str, &str, &AgentState)],
) -> Result<(), sqlx::Error> {
    macro_rules! upsert_chunk {
        ($conn:expr, $db:ty, $chunk:expr) => {{
            let mut query = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO agent_products (tenant_id, sku, state) ",
            );
            query.push_values($chunk, |mut row, (tenant, sku, state)| {
                row.push_bind(*tenant)
                    .push_bind(*sku)
                    .push_bind(Json(*state));
            });
            query.push(" ON CONFLICT (tenant_id, sku) DO UPDATE SET state = excluded.state");
            query.build().execute(&mut **$conn).await.map(drop)
        }};
    }
    for chunk in states.chunks(ROWS_PER_UPSERT) {
        match &mut *tx {
            DbTx::Postgres(conn) => upsert_chunk!(conn, sqlx::Postgres, chunk)?,
            DbTx::Sqlite(conn) => upsert_chunk!(conn, sqlx::Sqlite, chunk)?,
        }
    }
    Ok(())
}
