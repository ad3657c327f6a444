//! The agent worker's settings.

use restock_application::agent::LlmConfig;
#[cfg(feature = "fault-injection")]
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// `None`: the built-in policy decides everything (the default, offline).
    pub llm: Option<LlmConfig>,
    /// Where notifications are POSTed (`RESTOCK_WEBHOOK_URL`), for every tenant.
    pub webhook_url: Option<String>,
    /// How often the worker looks for new triggers when nothing woke it.
    pub poll: Duration,
    /// A trigger another worker claimed longer ago than this is taken as abandoned by a dead
    /// process (Postgres, several servers). Must exceed the LLM deadline. On SQLite a database
    /// has one server, so any claim by another worker is a dead process's.
    pub stale_after: Duration,
    /// Test-only crash injection (`RESTOCK_FAULT`); absent from builds without the feature.
    #[cfg(feature = "fault-injection")]
    pub fault: Option<Fault>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            llm: None,
            webhook_url: None,
            poll: Duration::from_millis(100),
            stale_after: Duration::from_secs(60),
            #[cfg(feature = "fault-injection")]
            fault: None,
        }
    }
}

impl AgentConfig {
    /// The stale-claim horizon: at least the LLM deadline plus a margin.
    pub fn effective_stale_after(&self) -> Duration {
        let floor = self
            .llm
            .as_ref()
            .map(|l| l.deadline + Duration::from_secs(2))
            .unwrap_or_default();
        self.stale_after.max(floor)
    }
}

/// Where the worker aborts the process (`std::process::abort`, as hard as `kill -9`), so that
/// tests can check that a crash at each step of a decision still ends in exactly one refill.
/// A test-only hook, compiled only with the `fault-injection` feature that `scripts/test` turns
/// on: `cargo build --release` has no `RESTOCK_FAULT` and no abort in the worker.
#[cfg(feature = "fault-injection")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// After the backend answered, before the decision is committed.
    AfterLlmCall,
    /// After the decision is committed, before any command runs.
    AfterDecision,
    /// After the commands ran, before the trigger is marked done.
    AfterCommand,
}

#[cfg(feature = "fault-injection")]
impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "agent_after_llm_call" => Ok(Self::AfterLlmCall),
            "agent_after_decision" => Ok(Self::AfterDecision),
            "agent_after_command" => Ok(Self::AfterCommand),
            other => Err(format!(
                "RESTOCK_FAULT must be agent_after_llm_call, agent_after_decision or agent_after_command, got {other:?}"
            )),
        }
    }
}
