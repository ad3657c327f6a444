//! The agent's ledgers: `agent_triggers` (one row per crossing, with its progress),
//! `agent_decisions` (what was decided, committed before anything runs) and `agent_budget`
//! (LLM decisions per tenant per day).
//!
//! Every state change is a compare-and-set on the row's status and owner, so two workers (two
//! servers on one Postgres) never both decide the same trigger.

use crate::{execute, fetch_all, fetch_optional, Db, DbTx};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use restock_application::agent::{AgentContext, Decision, TriggerStatus, Usage};
use restock_application::ports::{
    DecisionLedger, LlmBudget, Position, RecordedDecision, StoreError,
};
use restock_domain::TenantId;
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

pub struct NewTrigger<'a> {
    pub tenant: &'a str,
    pub trigger_event_id: String,
    pub sku: &'a str,
    pub position: Position,
    pub context: &'a AgentContext,
    pub created_at: DateTime<Utc>,
}

/// Record a crossing; a second insert for the same trigger event does nothing.
pub async fn insert_trigger(tx: &mut DbTx, t: &NewTrigger<'_>) -> Result<bool, sqlx::Error> {
    let n = execute!(
        tx,
        "INSERT INTO agent_triggers (tenant_id, trigger_event_id, sku, trigger_tx_id, \
             trigger_position, context, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (tenant_id, trigger_event_id) DO NOTHING",
        t.tenant,
        &t.trigger_event_id,
        t.sku,
        t.position.tx_id,
        t.position.global_position,
        Json(t.context),
        TriggerStatus::Pending.as_str(),
        t.created_at,
    )?;
    Ok(n == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TriggerRow {
    pub tenant_id: String,
    pub trigger_event_id: String,
    pub sku: String,
    #[sqlx(try_from = "String")]
    pub status: TriggerStatus,
    pub claimed_by: Option<String>,
    pub claimed_at_ms: Option<i64>,
    pub attempts: i32,
    pub context: Json<AgentContext>,
}

/// Triggers not finished yet, in the order their events were committed.
pub async fn open_triggers(tx: &mut DbTx, limit: i64) -> Result<Vec<TriggerRow>, sqlx::Error> {
    fetch_all!(
        tx,
        TriggerRow,
        "SELECT tenant_id, trigger_event_id, sku, status, claimed_by, claimed_at_ms, attempts, context \
         FROM agent_triggers WHERE status IN ($1, $2, $3) \
         ORDER BY trigger_tx_id, trigger_position LIMIT $4",
        TriggerStatus::OPEN[0].as_str(),
        TriggerStatus::OPEN[1].as_str(),
        TriggerStatus::OPEN[2].as_str(),
        limit
    )
}

/// Take a trigger: `pending` -> `deciding` by `me`, or (`from` = the row's current status and
/// owner) re-own a stale `deciding`/`decided` row. True when this worker now owns it.
pub async fn claim(
    tx: &mut DbTx,
    row: &TriggerRow,
    to_status: TriggerStatus,
    me: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let n = execute!(
        tx,
        "UPDATE agent_triggers SET status = $1, claimed_by = $2, claimed_at_ms = $3 \
         WHERE tenant_id = $4 AND trigger_event_id = $5 AND status = $6 \
           AND COALESCE(claimed_by, '') = $7",
        to_status.as_str(),
        me,
        now_ms,
        &row.tenant_id,
        &row.trigger_event_id,
        row.status.as_str(),
        row.claimed_by.as_deref().unwrap_or(""),
    )?;
    Ok(n == 1)
}

/// Commit the decision and move the trigger to `decided`, only if `me` still owns it.
pub async fn record_decision(
    tx: &mut DbTx,
    tenant: &str,
    trigger_event_id: &str,
    me: &str,
    decision: &Decision,
    decided_at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let moved = execute!(
        tx,
        "UPDATE agent_triggers SET status = $1 WHERE tenant_id = $2 AND trigger_event_id = $3 \
           AND status = $4 AND claimed_by = $5",
        TriggerStatus::Decided.as_str(),
        tenant,
        trigger_event_id,
        TriggerStatus::Deciding.as_str(),
        me
    )?;
    if moved != 1 {
        return Ok(false);
    }
    let usage = decision.usage.unwrap_or_default();
    execute!(
        tx,
        "INSERT INTO agent_decisions (tenant_id, trigger_event_id, sku, decider, model, \
             fallback_reason, prompt_sha256, prompt_tokens, completion_tokens, latency_ms, \
             decision, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        tenant,
        trigger_event_id,
        decision.context.sku.as_str(),
        decision.decider.to_string(),
        &decision.model,
        &decision.fallback_reason,
        &decision.prompt_sha256,
        i64::try_from(usage.prompt_tokens).unwrap_or(i64::MAX),
        i64::try_from(usage.completion_tokens).unwrap_or(i64::MAX),
        // Whole milliseconds in the column (for queries); the record keeps the fraction.
        decision.latency_ms.round() as i64,
        Json(decision),
        decided_at,
    )?;
    Ok(true)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DecisionRow {
    pub trigger_event_id: String,
    pub decision: Json<Decision>,
    pub decided_at: DateTime<Utc>,
}

pub async fn find_decision(
    tx: &mut DbTx,
    tenant: &str,
    trigger_event_id: &str,
) -> Result<Option<DecisionRow>, sqlx::Error> {
    fetch_optional!(
        tx,
        DecisionRow,
        "SELECT trigger_event_id, decision, decided_at FROM agent_decisions \
         WHERE tenant_id = $1 AND trigger_event_id = $2",
        tenant,
        trigger_event_id
    )
}

/// Every executed effect is in the log (or the notifications table): the trigger is finished.
pub async fn mark_done(
    tx: &mut DbTx,
    tenant: &str,
    trigger_event_id: &str,
    results: &Value,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        "UPDATE agent_triggers SET status = $1, results = $2, done_at = $3 \
         WHERE tenant_id = $4 AND trigger_event_id = $5 AND status = $6",
        TriggerStatus::Done.as_str(),
        Json(results),
        at,
        tenant,
        trigger_event_id,
        TriggerStatus::Decided.as_str()
    )?;
    Ok(())
}

/// A failed attempt at executing a decision; `give_up` parks the trigger as `failed`.
pub async fn mark_error(
    tx: &mut DbTx,
    tenant: &str,
    trigger_event_id: &str,
    error: &str,
    give_up: bool,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        "UPDATE agent_triggers SET attempts = attempts + 1, last_error = $1, \
             status = CASE WHEN $2 THEN $3 ELSE status END \
         WHERE tenant_id = $4 AND trigger_event_id = $5",
        error,
        give_up,
        TriggerStatus::Failed.as_str(),
        tenant,
        trigger_event_id
    )?;
    Ok(())
}

/// Reserve one LLM decision from the tenant's daily budget, before calling. False when spent.
pub async fn reserve_call(
    tx: &mut DbTx,
    tenant: &str,
    day: &str,
    limit: u32,
) -> Result<bool, sqlx::Error> {
    if limit == 0 {
        return Ok(false);
    }
    let n = execute!(
        tx,
        "INSERT INTO agent_budget (tenant_id, day, calls) VALUES ($1, $2, 1) \
         ON CONFLICT (tenant_id, day) DO UPDATE SET calls = agent_budget.calls + 1 \
         WHERE agent_budget.calls < $3",
        tenant,
        day,
        i64::from(limit)
    )?;
    Ok(n == 1)
}

/// Add the tokens a reply reported (the budget is corrected after the call).
pub async fn add_tokens(
    tx: &mut DbTx,
    tenant: &str,
    day: &str,
    prompt: u64,
    completion: u64,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        "UPDATE agent_budget SET prompt_tokens = prompt_tokens + $1, \
             completion_tokens = completion_tokens + $2 WHERE tenant_id = $3 AND day = $4",
        i64::try_from(prompt).unwrap_or(i64::MAX),
        i64::try_from(completion).unwrap_or(i64::MAX),
        tenant,
        day
    )?;
    Ok(())
}

/// The ledger as the audit reads it, within the tenant's row-level security.
pub struct SqlDecisionLedger {
    db: Db,
}

impl SqlDecisionLedger {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl DecisionLedger for SqlDecisionLedger {
    async fn decision(
        &self,
        tenant: &TenantId,
        trigger_event_id: Uuid,
    ) -> Result<Option<RecordedDecision>, StoreError> {
        let mut tx = self
            .db
            .begin_tenant_read(tenant.as_str())
            .await
            .map_err(StoreError::new)?;
        let found = find_decision(&mut tx, tenant.as_str(), &trigger_event_id.to_string())
            .await
            .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        Ok(found.map(|row| RecordedDecision {
            decision: row.decision.0,
            decided_at: row.decided_at,
        }))
    }
}

/// The `agent_budget` table as the chat reaches it: the same rows the agent worker reserves
/// from, so both spend one allowance.
pub struct SqlLlmBudget {
    db: Db,
}

impl SqlLlmBudget {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl LlmBudget for SqlLlmBudget {
    async fn reserve(&self, tenant: &TenantId, day: &str, limit: u32) -> Result<bool, StoreError> {
        let mut tx = self.db.begin().await.map_err(StoreError::new)?;
        let granted = reserve_call(&mut tx, tenant.as_str(), day, limit)
            .await
            .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        Ok(granted)
    }

    async fn add_tokens(
        &self,
        tenant: &TenantId,
        day: &str,
        usage: Usage,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await.map_err(StoreError::new)?;
        add_tokens(
            &mut tx,
            tenant.as_str(),
            day,
            usage.prompt_tokens,
            usage.completion_tokens,
        )
        .await
        .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)
    }
}
