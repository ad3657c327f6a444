//! The chat's Prometheus metrics: turns by who answered, fallbacks to the interpreter by reason,
//! tool calls by name (the interpreter's and the LLM's), and the LLM's requests and tokens.
//! Counted by the chat service itself, so every front end (API, dashboard) is counted once.
//!
//! Label values are bounded: `interpreter`/`llm:<configured model>`, the fallback codes, and
//! tool names (a name the model made up is counted as `unknown`).

use crate::agent::Usage;
use crate::tools::ToolName;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

#[derive(Debug, Default)]
struct Inner {
    turns: BTreeMap<String, u64>,
    fallbacks: BTreeMap<String, u64>,
    tool_calls: BTreeMap<String, u64>,
    llm_requests: u64,
    prompt_tokens: u64,
    completion_tokens: u64,
}

#[derive(Debug, Default)]
pub struct ChatMetrics {
    inner: Mutex<Inner>,
}

impl ChatMetrics {
    fn with(&self, f: impl FnOnce(&mut Inner)) {
        if let Ok(mut inner) = self.inner.lock() {
            f(&mut inner);
        }
    }

    pub(crate) fn turn(&self, answered_by: &str, fallback: Option<&str>) {
        self.with(|m| {
            *m.turns.entry(answered_by.to_owned()).or_default() += 1;
            if let Some(reason) = fallback {
                *m.fallbacks.entry(reason.to_owned()).or_default() += 1;
            }
        });
    }

    pub(crate) fn tool_calls<'a>(&self, names: impl IntoIterator<Item = &'a str>) {
        self.with(|m| {
            for name in names {
                let label = ToolName::parse(name).map_or("unknown", ToolName::as_str);
                *m.tool_calls.entry(label.to_owned()).or_default() += 1;
            }
        });
    }

    pub(crate) fn llm_request(&self, usage: Option<Usage>) {
        self.with(|m| {
            m.llm_requests += 1;
            let usage = usage.unwrap_or_default();
            m.prompt_tokens += usage.prompt_tokens;
            m.completion_tokens += usage.completion_tokens;
        });
    }

    pub fn render(&self, out: &mut String) {
        let Ok(m) = self.inner.lock() else { return };
        out.push_str("# HELP restock_chat_turns_total Chat answers by who answered.\n");
        out.push_str("# TYPE restock_chat_turns_total counter\n");
        for (by, n) in &m.turns {
            let _ = writeln!(out, "restock_chat_turns_total{{answered_by=\"{by}\"}} {n}");
        }
        out.push_str(
            "# HELP restock_chat_fallbacks_total Chat answers the LLM could not give, by reason.\n",
        );
        out.push_str("# TYPE restock_chat_fallbacks_total counter\n");
        for (reason, n) in &m.fallbacks {
            let _ = writeln!(
                out,
                "restock_chat_fallbacks_total{{reason=\"{reason}\"}} {n}"
            );
        }
        out.push_str("# HELP restock_chat_tool_calls_total Tool calls made for chat answers.\n");
        out.push_str("# TYPE restock_chat_tool_calls_total counter\n");
        for (tool, n) in &m.tool_calls {
            let _ = writeln!(out, "restock_chat_tool_calls_total{{tool=\"{tool}\"}} {n}");
        }
        out.push_str("# HELP restock_chat_llm_requests_total Requests the chat sent to the LLM.\n");
        out.push_str("# TYPE restock_chat_llm_requests_total counter\n");
        let _ = writeln!(out, "restock_chat_llm_requests_total {}", m.llm_requests);
        out.push_str("# HELP restock_chat_llm_tokens_total LLM tokens the chat spent, by kind.\n");
        out.push_str("# TYPE restock_chat_llm_tokens_total counter\n");
        let _ = writeln!(
            out,
            "restock_chat_llm_tokens_total{{kind=\"prompt\"}} {}",
            m.prompt_tokens
        );
        let _ = writeln!(
            out,
            "restock_chat_llm_tokens_total{{kind=\"completion\"}} {}",
            m.completion_tokens
        );
    }
}
