//! The LLM backend against a scripted OpenAI-compatible server (an axum router on 127.0.0.1:0
//! in this process): the request's shape, a valid tool call executed, every kind of bad reply
//! falling back to the policy with its reason, the budget, the circuit breaker, a crash during
//! the call, and webhook delivery of notifications.

mod common;

use axum::http::StatusCode as AxumStatus;
use axum::routing::post;
use axum::{Json, Router};
use common::llm_stub::{LlmStub as Stub, Reply, MODEL};
use common::{eventually, token_for, Backend, ServerProcess, TestApp};
use reqwest::StatusCode;
use restock_application::agent::LlmConfig;
use restock_infrastructure::testing::fresh_database_url;
use restock_infrastructure::tokens::Role;
use restock_infrastructure::Db;
use serde_json::{json, Value};
use sqlx::Row;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn refill_call(sku: &str, quantity: i64) -> (String, String) {
    (
        "refill_stock".into(),
        json!({ "sku": sku, "quantity": quantity, "reason": "the model's reason" }).to_string(),
    )
}

async fn start(backend: Backend, stub: &Stub, configure: impl FnOnce(&mut LlmConfig)) -> TestApp {
    let mut llm = stub.config(Duration::from_millis(300), Duration::from_secs(1));
    configure(&mut llm);
    TestApp::start_with(backend, |c| c.agent.llm = Some(llm)).await
}

/// Stock `sku` (10 units, minimum 5) and sell 6: one crossing at available 4. The policy would
/// order 6; the refill bound is 4 x (5 + 5) = 40.
async fn cross(app: &TestApp, t: &str, sku: &str) {
    app.register(t, sku).await;
    app.post(
        &format!("/v1/products/{sku}/receipts"),
        t,
        json!({ "quantity": 10 }),
    )
    .await;
    app.put(
        &format!("/v1/products/{sku}/min-stock"),
        t,
        json!({ "quantity": 5 }),
    )
    .await;
    let r = app
        .post(
            &format!("/v1/products/{sku}/sales"),
            t,
            json!({ "quantity": 6 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

/// The refill opened for `sku`, once there is one, and its audit.
async fn refill_of(app: &TestApp, t: &str, sku: &str) -> (Value, Value) {
    let find = || async {
        let r = app.get("/v1/refills?limit=500", t).await;
        r.body["items"]
            .as_array()
            .and_then(|items| items.iter().find(|r| r["sku"] == sku).cloned())
    };
    eventually(&format!("a refill for {sku}"), || async {
        find().await.is_some()
    })
    .await;
    let refill = find().await.expect("refill");
    let audit = app
        .get(
            &format!("/v1/refills/{}/audit", refill["id"].as_str().expect("id")),
            t,
        )
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{:?}", audit.body);
    (refill, audit.body)
}

async fn a_valid_tool_call_is_executed_and_the_request_speaks_openai(backend: Backend) {
    let stub = Stub::start().await;
    stub.set(Reply::Calls(vec![refill_call("A", 7)]));
    let app = start(backend, &stub, |_| {}).await;
    let t = app.manager("shop");
    cross(&app, &t, "A").await;
    let (refill, audit) = refill_of(&app, &t, "A").await;
    assert_eq!(
        (refill["decided_by"].clone(), refill["quantity"].clone()),
        (json!(format!("llm:{MODEL}")), json!(7))
    );

    let seen = stub.last_request();
    let (auth, request) = (seen.authorization, seen.body);
    assert_eq!(auth.as_deref(), Some("Bearer test-key"));
    assert_eq!(request["model"], MODEL);
    // `auto` by default: every server accepts it (llama.cpp's refuses `required`).
    assert_eq!(request["tool_choice"], "auto");
    assert_eq!(request["messages"][0]["role"], "system");
    assert!(
        request["messages"][1]["content"]
            .as_str()
            .is_some_and(|c| c.contains("\"available\":4")),
        "{request}"
    );
    let tools = request["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert_eq!(names, vec!["check_stock", "refill_stock", "notify_manager"]);
    for tool in tools {
        assert_eq!(tool["type"], "function");
        assert!(tool["function"]["description"].is_string());
        let params = &tool["function"]["parameters"];
        assert_eq!(
            (
                params["type"].clone(),
                params["additionalProperties"].clone()
            ),
            (json!("object"), json!(false)),
            "{tool}"
        );
        assert!(
            params["required"].is_array() && params["properties"].is_object(),
            "{tool}"
        );
    }
    assert_eq!(
        tools[1]["function"]["parameters"]["properties"]["quantity"]["maximum"],
        40
    );
    assert_eq!(
        tools[2]["function"]["parameters"]["properties"]["severity"]["enum"],
        json!(["info", "warning", "critical"])
    );

    let d = &audit["decision"];
    assert_eq!(
        (
            d["decider"].clone(),
            d["model"].clone(),
            d["fallback_reason"].clone()
        ),
        (json!(format!("llm:{MODEL}")), json!(MODEL), Value::Null)
    );
    assert_eq!(
        d["tool_calls"],
        json!([{ "name": "refill_stock", "arguments": { "sku": "A", "quantity": 7, "reason": "the model's reason" } }])
    );
    assert_eq!(
        d["usage"],
        json!({ "prompt_tokens": 321, "completion_tokens": 17 })
    );
    assert_eq!(d["llm"]["model_returned"], format!("{MODEL}-2026"));
    assert_eq!(d["prompt_sha256"].as_str().map(str::len), Some(64));
    assert_eq!(
        audit["events"][0]["metadata"]["actor"],
        format!("agent:llm:{MODEL}")
    );
    // The policy would have ordered 6: the audit says the model did not agree with it.
    assert_eq!(audit["replayed_decision"]["matches"], json!(false));
    assert_eq!(
        audit["replayed_decision"]["tool_calls"][0]["arguments"]["quantity"],
        6
    );
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("m")
        .text()
        .await
        .expect("t");
    for needle in [
        "restock_agent_llm_calls_total 1",
        "restock_agent_decisions_total{backend=\"llm\"} 1",
        "restock_agent_tokens_total{kind=\"prompt\"} 321",
    ] {
        assert!(metrics.contains(needle), "{needle} missing:\n{metrics}");
    }

    // A rebuild replays the crossing without asking the model again.
    for runner in app.server.state.runners.iter() {
        runner.reset().await.expect("reset");
    }
    app.settle().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stub.calls(), 1, "no LLM call during or after the rebuild");
    assert_eq!(
        app.get("/v1/refills", &t).await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

async fn every_bad_reply_falls_back_to_the_policy_with_its_reason(backend: Backend) {
    let stub = Stub::start().await;
    let app = start(backend, &stub, |_| {}).await;
    let t = app.manager("shop");
    let cases: Vec<(&str, Reply, &str, usize)> = vec![
        (
            "MALFORMED",
            Reply::Calls(vec![(
                "refill_stock".into(),
                "{\"sku\": \"MALFORMED\", \"quantity\": ".into(),
            )]),
            "invalid_arguments",
            1,
        ),
        (
            "UNKNOWN",
            Reply::Calls(vec![("delete_all_stock".into(), "{}".into())]),
            "unknown_tool",
            1,
        ),
        (
            "BOUNDS",
            Reply::Calls(vec![refill_call("BOUNDS", 1_000_000)]),
            "out_of_bounds",
            1,
        ),
        (
            "FOREIGN",
            Reply::Calls(vec![refill_call("SOMEONE-ELSES", 5)]),
            "wrong_sku",
            1,
        ),
        (
            "EXTRA",
            Reply::Calls(vec![(
                "refill_stock".into(),
                json!({ "sku": "EXTRA", "quantity": 5, "reason": "r", "supplier": "x" })
                    .to_string(),
            )]),
            "invalid_arguments",
            1,
        ),
        (
            "TEXT",
            Reply::Text("I would order seven units.".into()),
            "no_tool_call",
            1,
        ),
        ("LIMITED", Reply::Status(429), "http_429", 1), // a rate limit is not retried
        ("BROKEN", Reply::Status(500), "http_500", 2),  // one retry, no more
        (
            "SLOW",
            Reply::Late(
                Duration::from_secs(3),
                Box::new(Reply::Calls(vec![refill_call("SLOW", 7)])),
            ),
            "timeout",
            2,
        ),
    ];
    for (sku, mode, reason, requests) in cases {
        stub.set(mode);
        let before = stub.calls();
        cross(&app, &t, sku).await;
        let (refill, audit) = refill_of(&app, &t, sku).await;
        let d = &audit["decision"];
        assert_eq!(
            (d["decider"].clone(), d["fallback_reason"].clone()),
            (json!("policy"), json!(reason)),
            "{sku}: {d}"
        );
        assert_eq!(
            (refill["decided_by"].clone(), refill["quantity"].clone()),
            (json!("policy"), json!(6)),
            "{sku}"
        );
        assert_eq!(d["llm"]["model"], MODEL, "{sku}: the attempt is recorded");
        assert!(d["fallback_detail"].is_string(), "{sku}");
        assert_eq!(audit["replayed_decision"]["matches"], json!(true), "{sku}");
        assert_eq!(stub.calls() - before, requests, "{sku}: requests sent");
        if reason == "invalid_arguments" || reason == "out_of_bounds" {
            assert!(
                !d["llm"]["tool_calls"]
                    .as_array()
                    .expect("raw calls")
                    .is_empty(),
                "{sku}: the refused calls are kept"
            );
            assert_eq!(
                d["usage"]["prompt_tokens"], 321,
                "{sku}: tokens spent on a refused reply still count"
            );
        }
    }
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("m")
        .text()
        .await
        .expect("t");
    for needle in [
        "restock_agent_fallbacks_total{reason=\"http_429\"} 1",
        "restock_agent_fallbacks_total{reason=\"timeout\"} 1",
        "restock_agent_fallbacks_total{reason=\"invalid_arguments\"} 2",
    ] {
        assert!(metrics.contains(needle), "{needle} missing:\n{metrics}");
    }
}

async fn the_budget_stops_calls_when_spent(backend: Backend) {
    let stub = Stub::start().await;
    let app = start(backend, &stub, |l| l.calls_per_day = 2).await;
    let t = app.manager("shop");
    for (i, sku) in ["B1", "B2", "B3"].iter().enumerate() {
        stub.set(Reply::Calls(vec![refill_call(sku, 7)]));
        cross(&app, &t, sku).await;
        let (refill, audit) = refill_of(&app, &t, sku).await;
        if i < 2 {
            assert_eq!(refill["decided_by"], format!("llm:{MODEL}"), "{sku}");
        } else {
            assert_eq!(
                (
                    refill["decided_by"].clone(),
                    audit["decision"]["fallback_reason"].clone()
                ),
                (json!("policy"), json!("budget_exhausted")),
                "{sku}"
            );
        }
    }
    assert_eq!(stub.calls(), 2, "no call once the budget is spent");
    // Another tenant has its own budget.
    let other = app.manager("other");
    stub.set(Reply::Calls(vec![refill_call("B1", 7)]));
    cross(&app, &other, "B1").await;
    assert_eq!(
        refill_of(&app, &other, "B1").await.0["decided_by"],
        format!("llm:{MODEL}")
    );
}

async fn the_circuit_breaker_opens_after_consecutive_failures(backend: Backend) {
    let stub = Stub::start().await;
    stub.set(Reply::Status(503));
    let app = start(backend, &stub, |l| {
        l.breaker_threshold = 2;
        l.max_retries = 0;
    })
    .await;
    let t = app.manager("shop");
    for (sku, reason) in [
        ("C1", "http_503"),
        ("C2", "http_503"),
        ("C3", "circuit_open"),
    ] {
        cross(&app, &t, sku).await;
        let (_, audit) = refill_of(&app, &t, sku).await;
        assert_eq!(audit["decision"]["fallback_reason"], reason, "{sku}");
    }
    assert_eq!(stub.calls(), 2, "the open breaker sends nothing");
}

/// kill -9 right after the model answered, before the decision was recorded: after the restart
/// the trigger is decided by the policy, and the model is not asked a second time.
async fn a_crash_during_the_llm_call_never_calls_twice(backend: Backend) {
    let stub = Stub::start().await;
    stub.set(Reply::Calls(vec![refill_call("A", 7)]));
    let url = fresh_database_url(backend).await.expect("database");
    let server = ServerProcess::spawn(
        &url,
        &[
            ("RESTOCK_LLM_BASE_URL", &stub.base),
            ("RESTOCK_LLM_MODEL", MODEL),
            ("RESTOCK_LLM_API_KEY", "test-key"),
            ("RESTOCK_FAULT", "agent_after_llm_call"),
        ],
    )
    .await;
    let t = token_for("shop", Role::Manager);
    let client = reqwest::Client::new();
    for (method, path, body) in [
        (
            reqwest::Method::PUT,
            "/v1/products/A",
            json!({ "name": "A" }),
        ),
        (
            reqwest::Method::POST,
            "/v1/products/A/receipts",
            json!({ "quantity": 10 }),
        ),
        (
            reqwest::Method::PUT,
            "/v1/products/A/min-stock",
            json!({ "quantity": 5 }),
        ),
        (
            reqwest::Method::POST,
            "/v1/products/A/sales",
            json!({ "quantity": 6 }),
        ),
    ] {
        let r = client
            .request(method, format!("{}{path}", server.base))
            .bearer_auth(&t)
            .json(&body)
            .send()
            .await
            .expect("sent");
        assert!(r.status().is_success());
    }
    eventually("the fault aborts the server", || async {
        client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .is_err()
    })
    .await;
    server.kill9().await;
    assert_eq!(stub.calls(), 1);
    let db = Db::connect(&url).await.expect("connect");
    let sql = "SELECT status FROM agent_triggers";
    let status: String = match &db {
        Db::Postgres(p) => sqlx::query(sql)
            .fetch_one(p)
            .await
            .expect("row")
            .get("status"),
        Db::Sqlite { read, .. } => sqlx::query(sql)
            .fetch_one(read)
            .await
            .expect("row")
            .get("status"),
    };
    db.close().await;
    assert_eq!(status, "deciding", "claimed, answered, not recorded");

    let app = TestApp::start_configured(&url, |c| {
        c.agent.llm = Some(stub.config(Duration::from_millis(300), Duration::from_secs(1)));
        c.agent.stale_after = Duration::from_secs(1);
    })
    .await;
    let (refill, audit) = refill_of(&app, &t, "A").await;
    assert_eq!(
        (
            refill["decided_by"].clone(),
            audit["decision"]["fallback_reason"].clone()
        ),
        (json!("policy"), json!("interrupted"))
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        stub.calls(),
        1,
        "the model is never asked twice for one trigger"
    );
    let requested = app.events_of_type(&t, "A", "RefillRequested").await;
    assert_eq!(requested, 1);
}

/// notify_manager reaches the webhook, retried after a failure, without holding anything up.
async fn notifications_are_delivered_to_the_webhook_with_retries(backend: Backend) {
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let attempts = Arc::new(Mutex::new(0u32));
    let hook = {
        let (received, attempts) = (received.clone(), attempts.clone());
        Router::new().route(
            "/hook",
            post(move |Json(body): Json<Value>| {
                let (received, attempts) = (received.clone(), attempts.clone());
                async move {
                    let n = {
                        let mut a = attempts.lock().expect("attempts");
                        *a += 1;
                        *a
                    };
                    if n == 1 {
                        return AxumStatus::SERVICE_UNAVAILABLE;
                    }
                    received.lock().expect("received").push(body);
                    AxumStatus::NO_CONTENT
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, hook).await;
    });
    let app = TestApp::start_with(backend, |c| c.agent.webhook_url = Some(url)).await;
    let t = app.manager("shop");
    app.register(&t, "E").await;
    app.post("/v1/products/E/receipts", &t, json!({ "quantity": 3 }))
        .await;
    app.put("/v1/products/E/min-stock", &t, json!({ "quantity": 2 }))
        .await;
    app.post("/v1/products/E/sales", &t, json!({ "quantity": 3 }))
        .await; // out of stock
    eventually("the webhook got the notification", || async {
        !received.lock().expect("r").is_empty()
    })
    .await;
    let body = received.lock().expect("r")[0].clone();
    assert_eq!(
        (
            body["tenant"].clone(),
            body["sku"].clone(),
            body["severity"].clone()
        ),
        (json!("shop"), json!("E"), json!("critical"))
    );
    eventually("the row says delivered", || async {
        app.get("/v1/notifications", &t).await.body["items"][0]["delivery"] == "delivered"
    })
    .await;
    let listed = app.get("/v1/notifications", &t).await.body;
    assert_eq!(
        (
            listed["items"][0]["attempts"].clone(),
            listed["items"][0]["id"].clone()
        ),
        (json!(2), body["id"].clone())
    );
}

/// `RESTOCK_LLM_TOOL_CHOICE=required` against a server that refuses it: the same decision is
/// asked again with `auto` (no fallback to the policy, nothing recorded as a failure), and the
/// server is not sent `required` again.
async fn a_refused_required_tool_choice_is_asked_again_with_auto(backend: Backend) {
    let stub = Stub::start().await;
    stub.set(Reply::RefuseRequired(vec![refill_call("A", 7)]));
    let app = start(backend, &stub, |llm| {
        llm.tool_choice = restock_application::agent::ToolChoice::Required
    })
    .await;
    let t = app.manager("shop");
    cross(&app, &t, "A").await;
    let (refill, audit) = refill_of(&app, &t, "A").await;
    assert_eq!(refill["decided_by"], format!("llm:{MODEL}"), "{audit}");
    assert_eq!(audit["decision"]["fallback_reason"], Value::Null);
    let choices: Vec<Value> = (0..stub.calls())
        .map(|i| stub.request(i)["tool_choice"].clone())
        .collect();
    assert_eq!(choices, [json!("required"), json!("auto")]);
    cross(&app, &t, "B").await;
    refill_of(&app, &t, "B").await;
    assert_eq!(stub.last_request().body["tool_choice"], "auto");
    assert_eq!(stub.calls(), 3, "required is not tried again");
}

on_both_stores!(
    a_refused_required_tool_choice_is_asked_again_with_auto,
    a_valid_tool_call_is_executed_and_the_request_speaks_openai,
    every_bad_reply_falls_back_to_the_policy_with_its_reason,
    the_budget_stops_calls_when_spent,
    the_circuit_breaker_opens_after_consecutive_failures,
    a_crash_during_the_llm_call_never_calls_twice,
    notifications_are_delivered_to_the_webhook_with_retries,
);
