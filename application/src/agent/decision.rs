//! One decision: ask the primary backend, validate what it proposes, fall back to the policy on
//! any failure, and produce the record that is committed before anything is executed.

use super::backend::{AgentBackend, PolicyBackend, Proposal};
use super::chat::{RawToolCall, Usage, PROMPT_VERSION};
use super::context::AgentContext;
use super::tools::{validate, validate_raw, validate_set, RecordedCall, Rejection, ToolCall};
use restock_domain::Decider;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

/// What the LLM was asked and answered, kept even when its answer was refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmAttempt {
    pub model: String,
    pub model_returned: Option<String>,
    pub tool_calls: Vec<RawToolCall>,
    pub content: Option<String>,
    pub error: Option<String>,
}

/// The decision ledger's record (docs/api.md audit `decision`, plus what execution needs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// `policy` or `llm:<model>`: whose calls are executed.
    pub decider: Decider,
    /// The model whose calls are executed (`None` for the policy).
    pub model: Option<String>,
    pub tool_calls: Vec<RecordedCall>,
    /// Ids of the effects each call creates (a refill, a notification), chosen now so that a
    /// re-execution after a crash creates the same ones.
    pub effect_ids: Vec<Option<Uuid>>,
    pub rationale: String,
    pub fallback_reason: Option<String>,
    pub fallback_detail: Option<String>,
    pub prompt_sha256: String,
    pub prompt_version: String,
    /// Tokens spent, including on an LLM reply that was then refused.
    pub usage: Option<Usage>,
    /// Milliseconds (with microseconds) from asking the backend to having the calls.
    pub latency_ms: f64,
    pub llm: Option<LlmAttempt>,
    /// What the decision was made on.
    pub context: AgentContext,
}

impl Decision {
    /// The validated calls, in order. They were validated before being recorded; this parses
    /// them back into their typed form (and would refuse a record tampered with since).
    pub fn calls(&self) -> Result<Vec<ToolCall>, Rejection> {
        self.tool_calls
            .iter()
            .map(|c| validate(&c.name, &c.arguments, &self.context))
            .collect()
    }

    /// `agent:policy` or `agent:llm:<model>`: the actor on the events it causes.
    pub fn actor(&self) -> String {
        format!("agent:{}", self.decider)
    }
}

/// Validate every raw call, then the set as a whole.
pub fn validate_proposal(
    calls: &[RawToolCall],
    ctx: &AgentContext,
) -> Result<Vec<ToolCall>, Rejection> {
    let calls = calls
        .iter()
        .map(|c| validate_raw(&c.name, &c.arguments, ctx))
        .collect::<Result<Vec<_>, _>>()?;
    validate_set(&calls)?;
    Ok(calls)
}

/// The policy's answer on a context, as validated calls (what the audit re-runs).
pub fn policy_calls(ctx: &AgentContext) -> (Vec<ToolCall>, String) {
    let proposal = PolicyBackend::propose_now(ctx);
    let calls = proposal
        .calls
        .iter()
        .filter_map(|c| match validate_raw(&c.name, &c.arguments, ctx) {
            Ok(call) => Some(call),
            Err(e) => {
                // A policy bug must not block a refill: the other calls still run.
                tracing::error!(error = %e, "the policy proposed an invalid call; dropped");
                None
            }
        })
        .collect();
    (calls, proposal.rationale)
}

/// Decides with a primary backend (the policy, or an LLM) and the policy as the fallback.
#[derive(Clone)]
pub struct Agent {
    primary: Arc<dyn AgentBackend>,
}

impl Agent {
    pub fn new(primary: Arc<dyn AgentBackend>) -> Self {
        Self { primary }
    }

    pub fn policy_only() -> Self {
        Self::new(Arc::new(PolicyBackend))
    }

    pub fn primary(&self) -> &Arc<dyn AgentBackend> {
        &self.primary
    }

    /// Decide on `ctx`. `forced` skips the primary backend (`interrupted`, `budget_exhausted`).
    pub async fn decide(&self, ctx: &AgentContext, forced: Option<(&str, &str)>) -> Decision {
        let started = Instant::now();
        if let Some((code, detail)) = forced {
            return fallback(ctx, code, detail, None, None, None, started);
        }
        let backend = &self.primary;
        let model = backend.model();
        match backend.propose(ctx).await {
            Ok(proposal) => {
                let attempt = model.as_ref().map(|m| attempt_of(m, &proposal, None));
                match validate_proposal(&proposal.calls, ctx) {
                    Ok(calls) => {
                        let (tool_calls, effect_ids) = plan(&calls);
                        let rationale = if proposal.rationale.trim().is_empty() {
                            // Models that answer with calls only give their reasons in them.
                            reasons_of(&calls)
                        } else {
                            proposal.rationale
                        };
                        Decision {
                            decider: backend.decider(),
                            model,
                            tool_calls,
                            effect_ids,
                            rationale,
                            fallback_reason: None,
                            fallback_detail: None,
                            prompt_sha256: proposal.prompt_sha256,
                            prompt_version: PROMPT_VERSION.to_owned(),
                            usage: proposal.usage,
                            latency_ms: elapsed_ms(started),
                            llm: attempt,
                            context: ctx.clone(),
                        }
                    }
                    Err(rejected) => fallback(
                        ctx,
                        rejected.code,
                        &rejected.detail,
                        attempt,
                        Some(proposal.prompt_sha256),
                        proposal.usage,
                        started,
                    ),
                }
            }
            Err(failure) => {
                let attempt = model.filter(|_| failure.called).map(|m| LlmAttempt {
                    model: m,
                    model_returned: None,
                    tool_calls: vec![],
                    content: None,
                    error: Some(failure.detail.clone()),
                });
                fallback(
                    ctx,
                    &failure.code,
                    &failure.detail,
                    attempt,
                    failure.prompt_sha256,
                    None,
                    started,
                )
            }
        }
    }
}

fn attempt_of(model: &str, p: &Proposal, error: Option<String>) -> LlmAttempt {
    LlmAttempt {
        model: model.to_owned(),
        model_returned: p.model_returned.clone(),
        tool_calls: p.calls.clone(),
        content: (!p.rationale.is_empty()).then(|| p.rationale.clone()),
        error,
    }
}

fn reasons_of(calls: &[ToolCall]) -> String {
    calls
        .iter()
        .filter_map(|c| match c {
            ToolCall::RefillStock {
                quantity, reason, ..
            } => Some(format!("refill {quantity}: {reason}")),
            ToolCall::NotifyManager { message, .. } => Some(format!("notify: {message}")),
            ToolCall::CheckStock { .. } => None,
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn plan(calls: &[ToolCall]) -> (Vec<RecordedCall>, Vec<Option<Uuid>>) {
    let recorded = calls.iter().map(ToolCall::record).collect();
    let ids = calls
        .iter()
        .map(|c| match c {
            ToolCall::CheckStock { .. } => None,
            ToolCall::RefillStock { .. } | ToolCall::NotifyManager { .. } => Some(Uuid::now_v7()),
        })
        .collect();
    (recorded, ids)
}

fn elapsed_ms(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1e6).round() / 1e3
}

/// The policy's decision, recording why the primary backend was not used.
fn fallback(
    ctx: &AgentContext,
    code: &str,
    detail: &str,
    llm: Option<LlmAttempt>,
    prompt_sha256: Option<String>,
    usage: Option<Usage>,
    started: Instant,
) -> Decision {
    let (calls, rationale) = policy_calls(ctx);
    let (tool_calls, effect_ids) = plan(&calls);
    let llm = llm.map(|mut a| {
        a.error.get_or_insert_with(|| detail.to_owned());
        a
    });
    Decision {
        decider: Decider::Policy,
        model: None,
        tool_calls,
        effect_ids,
        rationale,
        fallback_reason: Some(code.to_owned()),
        fallback_detail: Some(detail.to_owned()),
        // The LLM's request when one was built (what was sent), else the policy's input.
        prompt_sha256: prompt_sha256.unwrap_or_else(|| super::backend::context_sha256(ctx)),
        prompt_version: PROMPT_VERSION.to_owned(),
        usage,
        latency_ms: elapsed_ms(started),
        llm,
        context: ctx.clone(),
    }
}

/// The audit's `replayed_decision`: the policy re-run now on the recorded context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReplayedDecision {
    pub tool_calls: Vec<RecordedCall>,
    /// Same tool names and arguments as recorded.
    pub matches: bool,
    /// What was compared, in words (an LLM decision is compared to what the policy would do).
    pub basis: String,
}

pub fn replay(decision: &Decision) -> ReplayedDecision {
    let (calls, _) = policy_calls(&decision.context);
    let tool_calls: Vec<RecordedCall> = calls.iter().map(ToolCall::record).collect();
    let matches = tool_calls == decision.tool_calls;
    let basis = if decision.decider.is_policy() {
        "the policy re-run on the recorded context; matches means the recorded decision is reproduced exactly".to_owned()
    } else {
        format!(
            "the decision was made by {}; this is what the policy would do on the same context, \
             and matches says whether the model agreed with it",
            decision.decider
        )
    };
    ReplayedDecision {
        tool_calls,
        matches,
        basis,
    }
}
