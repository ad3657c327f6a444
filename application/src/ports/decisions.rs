//! The decision ledger, as the audit reads it: what the agent decided on a trigger and when.

use super::StoreError;
use crate::agent::Decision;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use restock_domain::TenantId;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct RecordedDecision {
    pub decision: Decision,
    pub decided_at: DateTime<Utc>,
}

#[async_trait]
pub trait DecisionLedger: Send + Sync + 'static {
    /// The decision recorded for this trigger event, in this tenant.
    async fn decision(
        &self,
        tenant: &TenantId,
        trigger_event_id: Uuid,
    ) -> Result<Option<RecordedDecision>, StoreError>;
}
