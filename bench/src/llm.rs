//! `--only llm`: what one agent decision costs against a real OpenAI-compatible server (issue
//! 18): wall time per decision, the tokens the server reports, and how many replies were valid
//! tool calls, next to the built-in policy deciding the same contexts in the same run.
//!
//! ```sh
//! python -m llama_cpp.server --model SmolLM2-135M-Instruct.Q4_1.gguf --model_alias smollm2 \
//!     --chat_format chatml-function-calling --port 8011 &
//! cargo run --release -p restock-bench -- --only llm --llm-base-url http://127.0.0.1:8011/v1 \
//!     --llm-model smollm2 [--decisions 20]
//! ```

use chrono::Utc;
use restock_application::agent::decision::validate_proposal;
use restock_application::agent::{
    AgentBackend, AgentContext, CircuitBreaker, LlmBackend, LlmConfig, PolicyBackend, Threshold,
    TriggerRef,
};
use restock_domain::Sku;
use restock_infrastructure::llm::OpenAiClient;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// A product that just fell below its minimum; `i` varies the figures a little.
fn context(i: usize) -> anyhow::Result<AgentContext> {
    let available = 2 + (i % 5) as i64;
    Ok(AgentContext {
        tenant: "bench".into(),
        sku: Sku::parse(&format!("MILK-{i}"))?,
        name: format!("Whole milk 1L ({i})"),
        on_hand: available + 1,
        reserved: 1,
        available,
        threshold: Threshold {
            reorder_point: 12,
            source: "manual".into(),
            model: None,
            computed_at: Some(Utc::now()),
        },
        forecast: None,
        lead_time_days: 3,
        reorder_quantity: Some(6),
        unit: Some("bottle".into()),
        supplier: None,
        version: 10,
        trigger: TriggerRef {
            event_id: Uuid::now_v7(),
            event_type: "StockSold".into(),
            sequence: 10,
            recorded_at: Utc::now(),
        },
        purchase_plan: None,
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub async fn llm(base: &str, model: &str, decisions: usize) -> anyhow::Result<()> {
    let config = LlmConfig {
        request_timeout: Duration::from_secs(120),
        deadline: Duration::from_secs(150),
        max_retries: 0,
        ..LlmConfig::new(base.to_owned(), None, model.to_owned())
    };
    let chat = Arc::new(OpenAiClient::new(config)?);
    let backend = LlmBackend::new(
        chat,
        Arc::new(CircuitBreaker::new(u32::MAX, Duration::from_secs(1))),
        Duration::from_secs(150),
    );
    let (mut llm_times, mut policy_times) = (Vec::new(), Vec::new());
    let (mut prompt, mut completion, mut valid, mut failed) = (0u64, 0u64, 0usize, Vec::new());
    for i in 0..decisions {
        let ctx = context(i)?;
        let started = Instant::now();
        let proposed = backend.propose(&ctx).await;
        llm_times.push(started.elapsed());
        match proposed {
            Ok(p) => {
                let usage = p.usage.unwrap_or_default();
                prompt += usage.prompt_tokens;
                completion += usage.completion_tokens;
                if validate_proposal(&p.calls, &ctx).is_ok() {
                    valid += 1;
                }
            }
            Err(f) => failed.push(f.code),
        }
        let started = Instant::now();
        let _ = PolicyBackend::propose_now(&ctx);
        policy_times.push(started.elapsed());
    }
    llm_times.sort();
    policy_times.sort();
    let n = decisions.max(1) as u64;
    println!("\n[L] agent decisions against {base} (model {model}), {decisions} in a row");
    println!(
        "    LLM:    p50 {:.0} ms, p99 {:.0} ms; mean tokens {} prompt + {} completion; \
         valid tool calls {valid}/{decisions}; failures {failed:?}",
        percentile(&llm_times, 0.5).as_secs_f64() * 1e3,
        percentile(&llm_times, 0.99).as_secs_f64() * 1e3,
        prompt / n,
        completion / n,
    );
    println!(
        "    policy: p50 {:.1} us, p99 {:.1} us (same contexts, same run)",
        percentile(&policy_times, 0.5).as_secs_f64() * 1e6,
        percentile(&policy_times, 0.99).as_secs_f64() * 1e6,
    );
    Ok(())
}
