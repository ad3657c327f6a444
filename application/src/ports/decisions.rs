//! The decision ledger, as the audit reads it: what the agent decided on a trigger and when.

use super::StoreError;
use crate::agent::{Decision, Usage};
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

/// The per-tenant daily allowance of LLM calls, one counter for the agent and the chat, so that
/// a chatty day cannot spend the money the agent's decisions need without anyone noticing, and
/// the other way round.
#[async_trait]
pub trait LlmBudget: Send + Sync + 'static {
    /// Take one call from the tenant's allowance for `day` (UTC, `YYYY-MM-DD`) before calling.
    /// False when it is spent.
    async fn reserve(&self, tenant: &TenantId, day: &str, limit: u32) -> Result<bool, StoreError>;

    /// Record the tokens a reply reported.
    async fn add_tokens(
        &self,
        tenant: &TenantId,
        day: &str,
        usage: Usage,
    ) -> Result<(), StoreError>;
}
