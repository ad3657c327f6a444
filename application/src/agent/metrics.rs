//! The agent's Prometheus metrics: crossings handled, decisions by backend, fallbacks by
//! reason, tokens, and decision latency as a histogram. Kept apart from the HTTP metrics and
//! rendered next to them.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default)]
struct Inner {
    crossings: u64,
    decisions: BTreeMap<String, u64>,
    llm_calls: u64,
    fallbacks: BTreeMap<String, u64>,
    prompt_tokens: u64,
    completion_tokens: u64,
    latency_buckets: [u64; BUCKETS.len()],
    latency_count: u64,
    latency_sum: f64,
    notifications: BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
pub struct AgentMetrics {
    inner: Mutex<Inner>,
}

impl AgentMetrics {
    fn with(&self, f: impl FnOnce(&mut Inner)) {
        if let Ok(mut inner) = self.inner.lock() {
            f(&mut inner);
        }
    }

    /// A crossing taken up by this process's worker.
    pub fn crossing(&self) {
        self.with(|m| m.crossings += 1);
    }

    /// A recorded decision: `backend` is `policy` or `llm`; `asked_llm` whether an LLM was called.
    pub fn decision(
        &self,
        backend: &str,
        asked_llm: bool,
        fallback: Option<&str>,
        tokens: (u64, u64),
        seconds: f64,
    ) {
        self.with(|m| {
            *m.decisions.entry(backend.to_owned()).or_default() += 1;
            if asked_llm {
                m.llm_calls += 1;
            }
            if let Some(reason) = fallback {
                *m.fallbacks.entry(reason.to_owned()).or_default() += 1;
            }
            m.prompt_tokens += tokens.0;
            m.completion_tokens += tokens.1;
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    m.latency_buckets[i] += 1;
                }
            }
            m.latency_count += 1;
            m.latency_sum += seconds;
        });
    }

    /// A webhook delivery outcome: `delivered` or `failed`.
    pub fn notification(&self, outcome: &str) {
        self.with(|m| *m.notifications.entry(outcome.to_owned()).or_default() += 1);
    }

    pub fn render(&self, out: &mut String) {
        let Ok(m) = self.inner.lock() else { return };
        let mut line = |s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        line(
            "# HELP restock_agent_crossings_total Minimum crossings taken up by the agent worker."
                .into(),
        );
        line("# TYPE restock_agent_crossings_total counter".into());
        line(format!("restock_agent_crossings_total {}", m.crossings));
        line("# HELP restock_agent_decisions_total Decisions recorded, by the backend whose calls ran.".into());
        line("# TYPE restock_agent_decisions_total counter".into());
        for backend in ["policy", "llm"] {
            let n = m.decisions.get(backend).copied().unwrap_or(0);
            line(format!(
                "restock_agent_decisions_total{{backend=\"{backend}\"}} {n}"
            ));
        }
        line("# HELP restock_agent_llm_calls_total Decisions that called the LLM.".into());
        line("# TYPE restock_agent_llm_calls_total counter".into());
        line(format!("restock_agent_llm_calls_total {}", m.llm_calls));
        line("# HELP restock_agent_fallbacks_total Decisions that fell back to the policy, by reason.".into());
        line("# TYPE restock_agent_fallbacks_total counter".into());
        for (reason, n) in &m.fallbacks {
            line(format!(
                "restock_agent_fallbacks_total{{reason=\"{reason}\"}} {n}"
            ));
        }
        line("# HELP restock_agent_tokens_total LLM tokens spent, by kind.".into());
        line("# TYPE restock_agent_tokens_total counter".into());
        line(format!(
            "restock_agent_tokens_total{{kind=\"prompt\"}} {}",
            m.prompt_tokens
        ));
        line(format!(
            "restock_agent_tokens_total{{kind=\"completion\"}} {}",
            m.completion_tokens
        ));
        line(
            "# HELP restock_agent_decision_seconds Time to decide, LLM call and fallback included."
                .into(),
        );
        line("# TYPE restock_agent_decision_seconds histogram".into());
        for (bound, n) in BUCKETS.iter().zip(m.latency_buckets.iter()) {
            line(format!(
                "restock_agent_decision_seconds_bucket{{le=\"{bound}\"}} {n}"
            ));
        }
        line(format!(
            "restock_agent_decision_seconds_bucket{{le=\"+Inf\"}} {}",
            m.latency_count
        ));
        line(format!(
            "restock_agent_decision_seconds_sum {:.6}",
            m.latency_sum
        ));
        line(format!(
            "restock_agent_decision_seconds_count {}",
            m.latency_count
        ));
        line("# HELP restock_agent_webhook_deliveries_total Notification webhook deliveries, by outcome.".into());
        line("# TYPE restock_agent_webhook_deliveries_total counter".into());
        for (outcome, n) in &m.notifications {
            line(format!(
                "restock_agent_webhook_deliveries_total{{outcome=\"{outcome}\"}} {n}"
            ));
        }
    }
}
