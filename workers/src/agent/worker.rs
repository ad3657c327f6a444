//! The agent worker: takes the triggers the agent projection recorded and turns each into a
//! decision and its effects, exactly once.
//!
//! Per trigger: `pending` -> claim as `deciding` (committed before any backend is called) ->
//! decide -> commit the decision and `decided` (before anything runs) -> execute each tool call
//! as a command with idempotency key `agent:{trigger}:{index}` -> `done`. A crash:
//! - while `deciding`: the decision may have cost an LLM call whose answer is lost; the trigger
//!   is decided again by the policy (`fallback_reason: interrupted`), never by a second call;
//! - while `decided`: the decision is executed again; the idempotency keys (and the refill id
//!   fixed in the decision) make every command a no-op the second time.

use super::config::AgentConfig;
#[cfg(feature = "fault-injection")]
use super::config::Fault;
use chrono::{SubsecRound, Utc};
use restock_application::agent::chat::{canonical_json, sha256_hex};
use restock_application::agent::{
    Agent, AgentContext, AgentMetrics, Decision, SharedLlm, ToolCall, TriggerStatus,
};
use restock_application::ports::ReplyStatus;
use restock_application::purchase::PurchasePlans;
use restock_application::{
    CommandContext, CommandError, Executed, IdempotencyRequest, Outcome, ProductCommands,
};
use restock_domain::{ProductCommand, ProductError, RefillId, Sku, TenantId, UnitPrice};
use restock_infrastructure::read_models::decisions::{self, TriggerRow};
use restock_infrastructure::read_models::notifications::{self, NewNotification};
use restock_infrastructure::{Db, DbError};
use restock_projections::Wakeup;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

/// Triggers looked at per pass.
const BATCH: i64 = 50;
/// Attempts at executing a decision before the trigger is parked as `failed`.
const MAX_ATTEMPTS: i32 = 20;
/// How long another live worker is left to execute a decision it recorded.
const DECIDED_LEASE: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Command(#[from] CommandError),
}

pub struct AgentWorker {
    db: Db,
    commands: Arc<ProductCommands>,
    /// Bumped when this process's agent projection committed triggers.
    triggers: Wakeup,
    agent: Agent,
    metrics: Arc<AgentMetrics>,
    config: AgentConfig,
    /// This worker's identity in `claimed_by`: a claim by anyone else is another process's.
    me: String,
    /// Purchase plans for the context, when supplier prices are wired in.
    plans: Option<Arc<PurchasePlans>>,
}

impl AgentWorker {
    pub fn new(
        db: Db,
        commands: Arc<ProductCommands>,
        triggers: Wakeup,
        metrics: Arc<AgentMetrics>,
        config: AgentConfig,
        llm: Option<SharedLlm>,
    ) -> Self {
        let agent = match (llm, &config.llm) {
            (Some(llm), Some(_)) => Agent::new(Arc::new(llm.agent_backend())),
            _ => Agent::policy_only(),
        };
        Self {
            db,
            commands,
            triggers,
            agent,
            metrics,
            config,
            me: Uuid::new_v4().to_string(),
            plans: None,
        }
    }

    /// Decide with each product's purchase plan in the context, so refills carry its day
    /// (`buy_on`) and expected unit price.
    pub fn with_purchase_plans(mut self, plans: Arc<PurchasePlans>) -> Self {
        self.plans = Some(plans);
        self
    }

    /// The context the decision is made on: the recorded crossing plus the purchase plan for
    /// the stock as it stood at the trigger. A plan that cannot be read leaves it out (and is
    /// logged): timing is an improvement on a refill, never a reason to hold one up.
    async fn context_with_plan(&self, row: &TriggerRow) -> AgentContext {
        let mut ctx = row.context.0.clone();
        let (Some(plans), None) = (&self.plans, &ctx.purchase_plan) else {
            return ctx;
        };
        let Ok(tenant) = TenantId::parse(&row.tenant_id) else {
            return ctx;
        };
        let lead = u16::try_from(ctx.lead_time_days).unwrap_or(u16::MAX);
        match plans
            .plan_for(&tenant, &ctx.sku, ctx.available, lead, self.now())
            .await
        {
            Ok(plan) => ctx.purchase_plan = plan.map(|p| p.plan),
            Err(e) => {
                tracing::warn!(sku = %ctx.sku, error = %e, "purchase plan unavailable; deciding without it")
            }
        }
        ctx
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut triggers = self.triggers.subscribe();
        loop {
            if *shutdown.borrow() {
                return;
            }
            // A trigger cut short by shutdown is finished by the next start (see module docs).
            let pass = tokio::select! {
                r = self.tick() => r,
                _ = shutdown.changed() => return,
            };
            let pause = match pass {
                Ok(0) => self.config.poll,
                Ok(_) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "agent worker pass failed; retrying");
                    Duration::from_secs(1)
                }
            };
            // Woken when this process's agent projection committed triggers; the poll finds
            // those recorded by another process, or left behind by a crash.
            tokio::select! {
                _ = triggers.wait(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// One pass over the open triggers. Returns how many it moved forward.
    pub async fn tick(&self) -> Result<usize, WorkerError> {
        let mut tx = self.db.begin_read().await?;
        let rows = decisions::open_triggers(&mut tx, BATCH).await?;
        tx.commit().await?;
        let (mut progressed, mut first_error) = (0, None);
        for row in rows {
            let trigger = row.trigger_event_id.clone();
            match self.step(row).await {
                Ok(true) => progressed += 1,
                Ok(false) => {}
                // One trigger's trouble must not hold up the others; it is retried next pass.
                Err(e) => {
                    tracing::warn!(%trigger, error = %e, "agent trigger not finished; will retry");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if progressed == 0 => Err(e),
            _ => Ok(progressed),
        }
    }

    /// The application's clock (virtual in tests), microsecond precision like the store's.
    fn now(&self) -> chrono::DateTime<Utc> {
        self.commands.clock().now().trunc_subsecs(6)
    }

    fn owns(&self, row: &TriggerRow) -> bool {
        row.claimed_by.as_deref() == Some(self.me.as_str())
    }

    /// Whether another worker's claim looks abandoned. A `deciding` claim may be an LLM call in
    /// flight, so it is only abandoned after the LLM deadline (taking it over early would ask
    /// twice). Executing a `decided` trigger twice is harmless (idempotency keys), so that claim
    /// expires quickly.
    fn is_stale(&self, row: &TriggerRow, now_ms: i64) -> bool {
        if self.owns(row) {
            return false;
        }
        if self.db.backend() == restock_infrastructure::Backend::Sqlite {
            return true;
        }
        let horizon = if row.status == TriggerStatus::Deciding {
            self.config.effective_stale_after()
        } else {
            DECIDED_LEASE
        };
        let horizon = i64::try_from(horizon.as_millis()).unwrap_or(i64::MAX);
        row.claimed_at_ms
            .is_none_or(|at| at < now_ms.saturating_sub(horizon))
    }

    async fn claim(&self, row: &TriggerRow, to: TriggerStatus) -> Result<bool, WorkerError> {
        let mut tx = self.db.begin().await?;
        let won =
            decisions::claim(&mut tx, row, to, &self.me, Utc::now().timestamp_millis()).await?;
        tx.commit().await?;
        Ok(won)
    }

    async fn step(&self, row: TriggerRow) -> Result<bool, WorkerError> {
        let now_ms = Utc::now().timestamp_millis();
        match row.status {
            TriggerStatus::Pending => {
                if !self.claim(&row, TriggerStatus::Deciding).await? {
                    return Ok(false);
                }
                self.metrics.crossing();
                self.decide_and_execute(&row, None).await?;
                Ok(true)
            }
            // Ours (an earlier pass failed after claiming it: this worker is sequential, so
            // nothing of ours is in flight now) or a dead process's.
            TriggerStatus::Deciding if self.owns(&row) || self.is_stale(&row, now_ms) => {
                if !self.claim(&row, TriggerStatus::Deciding).await? {
                    return Ok(false);
                }
                tracing::warn!(trigger = %row.trigger_event_id, "a decision was interrupted; the policy decides it");
                let forced = (
                    "interrupted",
                    "deciding this trigger stopped before a decision was recorded (crash or error); \
                     the LLM is never asked twice",
                );
                self.decide_and_execute(&row, Some(forced)).await?;
                Ok(true)
            }
            TriggerStatus::Decided if self.owns(&row) || self.is_stale(&row, now_ms) => {
                if !self.owns(&row) && !self.claim(&row, TriggerStatus::Decided).await? {
                    return Ok(false);
                }
                let mut tx = self.db.begin_read().await?;
                let found =
                    decisions::find_decision(&mut tx, &row.tenant_id, &row.trigger_event_id)
                        .await?;
                tx.commit().await?;
                match found {
                    Some(d) => self.execute(&row, &d.decision.0).await?,
                    None => {
                        self.fail(&row, "decided but no decision recorded", true)
                            .await?
                    }
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn decide_and_execute(
        &self,
        row: &TriggerRow,
        forced: Option<(&str, &str)>,
    ) -> Result<(), WorkerError> {
        let ctx = &self.context_with_plan(row).await;
        let day = self.now().format("%Y-%m-%d").to_string();
        let mut forced = forced;
        if forced.is_none() && self.agent.primary().is_metered() {
            let limit = self
                .config
                .llm
                .as_ref()
                .map(|l| l.calls_per_day)
                .unwrap_or(0);
            let mut tx = self.db.begin().await?;
            let granted = decisions::reserve_call(&mut tx, &row.tenant_id, &day, limit).await?;
            tx.commit().await?;
            if !granted {
                forced = Some((
                    "budget_exhausted",
                    "the tenant's LLM decisions for today are spent",
                ));
            }
        }
        let decision = self.agent.decide(ctx, forced).await;
        #[cfg(feature = "fault-injection")]
        if self.config.fault == Some(Fault::AfterLlmCall) {
            fault("after the backend answered, before the decision is recorded");
        }
        let mut tx = self.db.begin().await?;
        let recorded = decisions::record_decision(
            &mut tx,
            &row.tenant_id,
            &row.trigger_event_id,
            &self.me,
            &decision,
            self.now(),
        )
        .await?;
        if let (true, Some(usage)) = (recorded, decision.usage) {
            decisions::add_tokens(
                &mut tx,
                &row.tenant_id,
                &day,
                usage.prompt_tokens,
                usage.completion_tokens,
            )
            .await?;
        }
        tx.commit().await?;
        if !recorded {
            // Another worker took the trigger over meanwhile; its decision stands.
            return Ok(());
        }
        let usage = decision.usage.unwrap_or_default();
        let backend = if decision.decider.is_policy() {
            "policy"
        } else {
            "llm"
        };
        self.metrics.decision(
            backend,
            decision.llm.is_some(),
            decision.fallback_reason.as_deref(),
            (usage.prompt_tokens, usage.completion_tokens),
            decision.latency_ms / 1000.0,
        );
        tracing::info!(
            tenant = %row.tenant_id, sku = %row.sku, decider = %decision.decider,
            fallback = ?decision.fallback_reason, calls = decision.tool_calls.len(),
            "agent decision recorded"
        );
        #[cfg(feature = "fault-injection")]
        if self.config.fault == Some(Fault::AfterDecision) {
            fault("after the decision was recorded, before its commands ran");
        }
        self.execute(row, &decision).await
    }

    /// Run the recorded decision's calls; safe to repeat.
    async fn execute(&self, row: &TriggerRow, decision: &Decision) -> Result<(), WorkerError> {
        let (Ok(tenant), Ok(trigger)) = (
            TenantId::parse(&row.tenant_id),
            Uuid::parse_str(&row.trigger_event_id),
        ) else {
            return self
                .fail(row, "unreadable tenant or trigger id", true)
                .await;
        };
        let calls = match decision.calls() {
            Ok(calls) => calls,
            Err(e) => {
                return self
                    .fail(row, &format!("recorded call does not validate: {e}"), true)
                    .await
            }
        };
        let mut results = Vec::with_capacity(calls.len());
        for (index, call) in calls.iter().enumerate() {
            let effect = decision.effect_ids.get(index).copied().flatten();
            let Some(effect) =
                effect.or(matches!(call, ToolCall::CheckStock { .. }).then(Uuid::nil))
            else {
                return self
                    .fail(row, "recorded decision lacks an effect id", true)
                    .await;
            };
            let outcome = match call {
                ToolCall::CheckStock { .. } => json!({ "status": "read" }),
                ToolCall::RefillStock { .. } => {
                    match self
                        .request_refill(&tenant, trigger, index, call, decision, effect)
                        .await
                    {
                        Ok(outcome) => outcome,
                        Err(e) => {
                            let give_up = row.attempts + 1 >= MAX_ATTEMPTS;
                            self.fail(row, &e.to_string(), give_up).await?;
                            return Err(e);
                        }
                    }
                }
                ToolCall::NotifyManager {
                    sku,
                    message,
                    severity,
                } => {
                    let id = effect.to_string();
                    let mut tx = self.db.begin().await?;
                    notifications::insert(
                        &mut tx,
                        &NewNotification {
                            tenant: tenant.as_str(),
                            id: &id,
                            kind: "agent",
                            sku: sku.as_ref().map(Sku::as_str),
                            severity: severity.as_str(),
                            message,
                            trigger_event_id: Some(trigger.to_string()),
                            created_at: self.now(),
                            deliver: self.config.webhook_url.is_some(),
                        },
                    )
                    .await?;
                    tx.commit().await?;
                    json!({ "status": "notified", "notification_id": id })
                }
            };
            results.push(json!({ "index": index, "name": call.name(), "outcome": outcome }));
        }
        #[cfg(feature = "fault-injection")]
        if self.config.fault == Some(Fault::AfterCommand) {
            fault("after the commands ran, before the trigger is marked done");
        }
        let mut tx = self.db.begin().await?;
        decisions::mark_done(
            &mut tx,
            tenant.as_str(),
            &row.trigger_event_id,
            &Value::Array(results),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn request_refill(
        &self,
        tenant: &TenantId,
        trigger: Uuid,
        index: usize,
        call: &ToolCall,
        decision: &Decision,
        effect: Uuid,
    ) -> Result<Value, WorkerError> {
        let ToolCall::RefillStock {
            sku,
            quantity,
            reason,
        } = call
        else {
            return Ok(Value::Null);
        };
        let refill_id = RefillId(effect);
        let key = format!("agent:{trigger}:{index}");
        let request_hash = sha256_hex(&canonical_json(&json!({
            "call": call.record(), "refill_id": refill_id, "key": key,
        })));
        let ctx = CommandContext {
            tenant: tenant.clone(),
            actor: decision.actor(),
            // One flow per crossing: every event the decision causes shares the trigger's id.
            correlation_id: trigger,
            causation_id: Some(trigger),
            occurred_at: None,
            idempotency: Some(IdempotencyRequest { key, request_hash }),
        };
        // The plan recorded with the decision, so a re-execution after a crash buys on the
        // same day at the same expected price.
        let plan = decision.context.purchase_plan.as_ref();
        let command = ProductCommand::RequestRefill {
            refill_id,
            quantity: *quantity,
            reason: reason.clone(),
            decided_by: decision.decider.clone(),
            trigger_event_id: Some(trigger),
            buy_on: plan.map(|p| p.best_day),
            expected_unit_price: plan.and_then(|p| UnitPrice::new(p.expected_unit_price).ok()),
        };
        let render = |_: &Executed| (ReplyStatus::Created, json!({ "refill_id": refill_id }));
        match self.commands.execute(&ctx, sku, command, &render).await {
            Ok(Outcome::Executed(_)) => {
                Ok(json!({ "status": "requested", "refill_id": refill_id }))
            }
            Ok(Outcome::Replayed(_)) => {
                Ok(json!({ "status": "requested", "refill_id": refill_id, "replayed": true }))
            }
            // The world moved on since the trigger (a refill was opened meanwhile): nothing to
            // do, and nothing to retry.
            Err(CommandError::Rejected(e @ ProductError::RefillAlreadyOpen))
            | Err(CommandError::Rejected(e @ ProductError::NotRegistered)) => {
                Ok(json!({ "status": "skipped", "detail": e.to_string() }))
            }
            // This trigger's call already ran under another decision (its ledger rows were
            // pruned and the trigger seen again): the key did its job, nothing runs twice.
            Err(CommandError::IdempotencyKeyReused) => Ok(json!({
                "status": "skipped",
                "detail": "this trigger's call already ran under an earlier decision",
            })),
            Err(e) => Err(e.into()),
        }
    }

    async fn fail(&self, row: &TriggerRow, error: &str, give_up: bool) -> Result<(), WorkerError> {
        tracing::error!(trigger = %row.trigger_event_id, error, give_up, "agent trigger failed");
        let mut tx = self.db.begin().await?;
        decisions::mark_error(
            &mut tx,
            &row.tenant_id,
            &row.trigger_event_id,
            error,
            give_up,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(feature = "fault-injection")]
fn fault(at: &str) -> ! {
    eprintln!("RESTOCK_FAULT: aborting {at}");
    std::process::abort()
}
