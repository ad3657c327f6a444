//! Agent backends behind one trait: the built-in policy and an LLM reached through
//! [`ChatModel`]. A backend proposes tool calls; it does not validate or execute them (the
//! decision step does both, the same way for every backend).

use super::breaker::CircuitBreaker;
use super::chat::{canonical_json, chat_request, sha256_hex, ChatModel, RawToolCall, Usage};
use super::config::LlmConfig;
use super::context::AgentContext;
use super::policy;
use async_trait::async_trait;
use restock_domain::Decider;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// What a backend proposes, before validation.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub calls: Vec<RawToolCall>,
    pub rationale: String,
    pub prompt_sha256: String,
    pub usage: Option<Usage>,
    pub model_returned: Option<String>,
}

/// A backend that could not propose anything; `code` becomes the `fallback_reason`.
#[derive(Debug, Clone)]
pub struct BackendFailure {
    pub code: String,
    pub detail: String,
    pub prompt_sha256: Option<String>,
    /// Whether a request went out (an open breaker sends nothing).
    pub called: bool,
}

#[async_trait]
pub trait AgentBackend: Send + Sync + 'static {
    /// `policy` or `llm:<model>`: what `decided_by` records when this backend's proposal runs.
    fn decider(&self) -> Decider;

    /// The model asked, for LLM backends.
    fn model(&self) -> Option<String>;

    /// Whether a call costs money (and so counts against the tenant's budget).
    fn is_metered(&self) -> bool;

    async fn propose(&self, ctx: &AgentContext) -> Result<Proposal, BackendFailure>;
}

/// The deterministic policy as a backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicyBackend;

impl PolicyBackend {
    pub fn propose_now(ctx: &AgentContext) -> Proposal {
        let decided = policy::decide(ctx);
        let calls = decided
            .calls
            .iter()
            .enumerate()
            .map(|(i, c)| RawToolCall {
                id: format!("policy-{i}"),
                name: c.name().to_owned(),
                arguments: c.arguments().to_string(),
            })
            .collect();
        Proposal {
            calls,
            rationale: decided.rationale,
            // The policy's "prompt" is its input: the hash identifies the context it decided on.
            prompt_sha256: context_sha256(ctx),
            usage: None,
            model_returned: None,
        }
    }
}

pub fn context_sha256(ctx: &AgentContext) -> String {
    let value = serde_json::to_value(ctx).unwrap_or(Value::Null);
    sha256_hex(&canonical_json(
        &json!({ "policy": super::chat::PROMPT_VERSION, "context": value }),
    ))
}

#[async_trait]
impl AgentBackend for PolicyBackend {
    fn decider(&self) -> Decider {
        Decider::Policy
    }

    fn model(&self) -> Option<String> {
        None
    }

    fn is_metered(&self) -> bool {
        false
    }

    async fn propose(&self, ctx: &AgentContext) -> Result<Proposal, BackendFailure> {
        Ok(Self::propose_now(ctx))
    }
}

/// The one LLM link of a process, shared by the agent and the chat: one client (so a server's
/// refusal of `tool_choice: "required"` is learnt once) and one circuit breaker (a sick
/// provider is sick for both). The per-tenant daily budget is shared through its store.
#[derive(Clone)]
pub struct SharedLlm {
    pub model: Arc<dyn ChatModel>,
    pub breaker: Arc<CircuitBreaker>,
    pub config: LlmConfig,
}

impl SharedLlm {
    pub fn new(model: Arc<dyn ChatModel>, config: LlmConfig) -> Self {
        Self {
            breaker: Arc::new(CircuitBreaker::new(
                config.breaker_threshold,
                config.breaker_cooldown,
            )),
            model,
            config,
        }
    }

    /// The agent's backend over this link.
    pub fn agent_backend(&self) -> LlmBackend {
        LlmBackend::new(
            self.model.clone(),
            self.breaker.clone(),
            self.config.deadline,
        )
    }
}

/// An LLM through an OpenAI-compatible chat model, behind a circuit breaker and an overall
/// deadline (the adapter adds the per-request timeout and its single retry).
pub struct LlmBackend {
    chat: Arc<dyn ChatModel>,
    breaker: Arc<CircuitBreaker>,
    deadline: Duration,
}

impl LlmBackend {
    pub fn new(chat: Arc<dyn ChatModel>, breaker: Arc<CircuitBreaker>, deadline: Duration) -> Self {
        Self {
            chat,
            breaker,
            deadline,
        }
    }
}

#[async_trait]
impl AgentBackend for LlmBackend {
    fn decider(&self) -> Decider {
        Decider::Llm(self.chat.model().to_owned())
    }

    fn model(&self) -> Option<String> {
        Some(self.chat.model().to_owned())
    }

    fn is_metered(&self) -> bool {
        true
    }

    async fn propose(&self, ctx: &AgentContext) -> Result<Proposal, BackendFailure> {
        let request = chat_request(self.chat.model(), ctx);
        let prompt_sha256 = sha256_hex(&canonical_json(&request));
        let fail = |code: String, detail: String| BackendFailure {
            code,
            detail,
            prompt_sha256: Some(prompt_sha256.clone()),
            called: true,
        };
        if !self.breaker.try_acquire() {
            return Err(BackendFailure {
                called: false,
                ..fail(
                    "circuit_open".into(),
                    "the LLM circuit breaker is open".into(),
                )
            });
        }
        let deadline = tokio::time::Instant::now() + self.deadline;
        // The adapter watches the deadline too; this outer bound holds whatever it does.
        let reply =
            match tokio::time::timeout_at(deadline, self.chat.complete(&request, deadline)).await {
                Ok(Ok(reply)) => reply,
                Ok(Err(e)) => {
                    if e.trips_breaker() {
                        self.breaker.failure();
                    } else {
                        self.breaker.neutral();
                    }
                    return Err(fail(e.code(), e.to_string()));
                }
                Err(_) => {
                    self.breaker.failure();
                    return Err(fail(
                        "timeout".into(),
                        "no reply before the overall deadline".into(),
                    ));
                }
            };
        self.breaker.success();
        Ok(Proposal {
            calls: reply.tool_calls,
            rationale: reply.content.unwrap_or_default(),
            prompt_sha256,
            usage: reply.usage,
            model_returned: reply.model,
        })
    }
}
