//! Agent settings, parsed once at start-up (env `RESTOCK_LLM_*`, `RESTOCK_AGENT_*`,
//! `RESTOCK_WEBHOOK_URL`; see the CLI) and passed in by the composition root.

use secrecy::SecretString;
use std::time::Duration;

/// An OpenAI-compatible chat-completions endpoint and the guard rails around it.
/// `Debug` prints the key as `[REDACTED]` (`secrecy`), so logging a config never leaks it.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// e.g. `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1` (Ollama); requests go to
    /// `{base_url}/chat/completions`.
    pub base_url: String,
    pub api_key: Option<SecretString>,
    pub model: String,
    /// One HTTP request's timeout.
    pub request_timeout: Duration,
    /// The whole decision's LLM budget of time, the single retry included.
    pub deadline: Duration,
    /// 0 or 1: retries of a timed-out, failed-to-connect or 5xx request. Never on 429.
    pub max_retries: u8,
    /// Consecutive provider failures that open the circuit breaker.
    pub breaker_threshold: u32,
    /// How long the breaker stays open before one trial call.
    pub breaker_cooldown: Duration,
    /// LLM decisions per tenant per UTC day; the policy decides once it is spent.
    pub calls_per_day: u32,
    /// What `tool_choice` the adapter sends (`RESTOCK_LLM_TOOL_CHOICE`).
    pub tool_choice: ToolChoice,
    /// How tool results go back to the server (`RESTOCK_LLM_TOOL_RESULTS`).
    pub tool_results: ToolResults,
}

/// How strongly the request asks for a tool call. Servers differ: OpenAI and vLLM accept
/// `required`; llama.cpp's Python server refuses it with HTTP 500 (it takes `auto` or a named
/// function); Ollama ignores the field. `auto` works everywhere, and a reply without a tool call
/// is refused by the agent anyway (`no_tool_call`), so it is the default. `required` is sent
/// as asked, and the adapter falls back to `auto` for good the first time a server refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ToolChoice {
    #[default]
    Auto,
    Required,
}

impl ToolChoice {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Required => "required",
        }
    }
}

impl std::str::FromStr for ToolChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "required" => Ok(Self::Required),
            other => Err(format!(
                "RESTOCK_LLM_TOOL_CHOICE must be auto or required, got {other:?}"
            )),
        }
    }
}

/// How the results of the model's tool calls are sent back. `tool` is the OpenAI form (a `tool`
/// message per call, with its `tool_call_id`) and what OpenAI, vLLM and Ollama read. `user` folds
/// each round's results into one user message, for servers whose chat template drops `tool`
/// messages: llama-cpp-python 0.3.36's `chatml-function-calling` renders a `tool` message as an
/// empty header, so the model never saw a result (seen in tests/llm_real.rs: every answer then
/// stated figures it had not been given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ToolResults {
    #[default]
    Tool,
    User,
}

impl ToolResults {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Tool => "tool",
            Self::User => "user",
        }
    }
}

impl std::str::FromStr for ToolResults {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "tool" => Ok(Self::Tool),
            "user" => Ok(Self::User),
            other => Err(format!(
                "RESTOCK_LLM_TOOL_RESULTS must be tool or user, got {other:?}"
            )),
        }
    }
}

impl LlmConfig {
    pub fn new(base_url: String, api_key: Option<SecretString>, model: String) -> Self {
        Self {
            base_url,
            api_key,
            model,
            request_timeout: Duration::from_secs(20),
            deadline: Duration::from_secs(45),
            max_retries: 1,
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(60),
            calls_per_day: 500,
            tool_choice: ToolChoice::Auto,
            tool_results: ToolResults::Tool,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_api_key() {
        let config = LlmConfig::new(
            "http://127.0.0.1:11434/v1".into(),
            Some("sk-live-0123456789".into()),
            "m".into(),
        );
        let printed = format!("{config:?}");
        assert!(!printed.contains("sk-live-0123456789"), "{printed}");
        assert!(printed.contains("REDACTED"), "{printed}");
    }
}
