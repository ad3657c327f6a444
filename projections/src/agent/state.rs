//! `agent_products`: the agent projection's own fold of each product.

use chrono::{DateTime, Utc};
use restock_domain::{Product, ProductEvent};
use restock_infrastructure::{execute, fetch_optional, DbTx};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

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

#[derive(sqlx::FromRow)]
struct Row {
    state: Json<AgentState>,
}

pub async fn load(
    tx: &mut DbTx,
    tenant: &str,
    sku: &str,
) -> Result<Option<AgentState>, sqlx::Error> {
    let row = fetch_optional!(
        tx,
        Row,
        "SELECT state FROM agent_products WHERE tenant_id = $1 AND sku = $2",
        tenant,
        sku
    )?;
    Ok(row.map(|r| r.state.0))
}

pub async fn upsert(
    tx: &mut DbTx,
    tenant: &str,
    sku: &str,
    state: &AgentState,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        "INSERT INTO agent_products (tenant_id, sku, state) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id, sku) DO UPDATE SET state = excluded.state",
        tenant,
        sku,
        Json(state)
    )?;
    Ok(())
}
