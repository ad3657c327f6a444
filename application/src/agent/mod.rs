//! Agent orchestration: what the agent knows when a product crosses its minimum, the tools it
//! may call and how each call is validated, the deterministic policy, the LLM backend's guard
//! rails, and the decision record that is committed before anything is executed.
//!
//! No SQL and no HTTP here: the worker that claims triggers and runs decisions lives in
//! `projections::agent`, the HTTP client in `infrastructure::llm`.

pub mod backend;
pub mod breaker;
pub mod chat;
pub mod config;
pub mod context;
pub mod crossing;
pub mod decision;
pub mod metrics;
pub mod policy;
pub mod tools;
pub mod trigger;

pub use backend::{AgentBackend, LlmBackend, PolicyBackend, SharedLlm};
pub use breaker::CircuitBreaker;
pub use chat::{ChatError, ChatMessage, ChatModel, ChatReply, RawToolCall, Usage};
pub use config::{LlmConfig, ToolChoice, ToolResults};
pub use context::{AgentContext, Threshold, TriggerRef};
pub use decision::{Agent, Decision, ReplayedDecision};
pub use metrics::AgentMetrics;
pub use tools::{RecordedCall, Severity, ToolCall};
pub use trigger::TriggerStatus;
