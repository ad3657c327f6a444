//! Limits a client meets through HTTP: each tenant's request rate on `/v1` and `/mcp`
//! (`RESTOCK_RATE_LIMIT`), the size of a JSON body, and text the store cannot keep.

mod common;

use common::{Backend, TestApp};
use restock_api::rate_limit::RateLimit;
use serde_json::json;
use std::time::Duration;

/// A tenant past its burst gets 429 `rate_limited` with `Retry-After`, while another tenant at
/// the same moment is answered as usual, and the refused commands recorded nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tenant_over_its_rate_gets_429_while_another_gets_200() {
    let app = TestApp::start_with(Backend::Postgres, |c| {
        c.rate_limit = RateLimit::per_second(5)
    })
    .await;
    let noisy = app.manager("noisy");
    let quiet = app.manager("quiet");
    app.register(&noisy, "milk").await;
    app.register(&quiet, "milk").await;
    // Reads are eventually consistent: let the registrations reach the read model first.
    app.settle().await;

    // Twenty receipts at once: the burst (twice the rate, 10) passes, at least the rest not.
    let sends = (0..20).map(|_| {
        app.post(
            "/v1/products/milk/receipts",
            &noisy,
            json!({ "quantity": 1 }),
        )
    });
    let replies = futures::future::join_all(sends).await;
    let accepted = replies.iter().filter(|r| r.status == 201).count();
    let limited: Vec<_> = replies.iter().filter(|r| r.status == 429).collect();
    assert_eq!(accepted + limited.len(), 20, "{replies:?}");
    assert!(!limited.is_empty() && accepted <= 12, "accepted {accepted}");
    for r in &limited {
        assert_eq!(r.code(), "rate_limited");
        assert_eq!(r.content_type, "application/problem+json");
    }

    // The noisy tenant keeps going (its bucket refills one request per 200 ms, so some may
    // pass) until it is refused again; the quiet one, right then, is not touched by it.
    let mut res = None;
    for _ in 0..50 {
        let r = app
            .client
            .get(format!("{}/v1/products/milk", app.base))
            .bearer_auth(&noisy)
            .send()
            .await
            .expect("sent");
        if r.status() == 429 {
            res = Some(r);
            break;
        }
    }
    let res = res.expect("a tenant sending flat out is refused");
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("whole seconds");
    assert!((1..=2).contains(&retry_after), "Retry-After {retry_after}");
    // MCP counts against the same bucket: asked right after the refusal, before the bucket's
    // next token (200 ms); a request of the quiet tenant in between once took longer than
    // that on a loaded machine and let this one through.
    let res = app
        .client
        .post(format!("{}/mcp", app.base))
        .bearer_auth(&noisy)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 429);

    // The quiet one, right then, is not touched by the noisy one.
    let r = app.get("/v1/products/milk", &quiet).await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    // Only the accepted receipts were recorded; after Retry-After the tenant is served again.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    let product = app.product(&noisy, "milk").await;
    assert_eq!(product["on_hand"], accepted as u64);
    let r = app.get("/v1/products/milk", &noisy).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    app.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oversized_bodies_and_nul_text_are_refused_as_problems_and_change_nothing() {
    let app = TestApp::start(Backend::Postgres).await;
    let token = app.manager("acme");
    app.register(&token, "milk").await;

    // The server answers before reading all of it and closes that connection: its own client,
    // so no other request is sent on a connection being closed.
    let huge = "x".repeat(256 * 1024);
    let res = reqwest::Client::new()
        .post(format!("{}/v1/products/milk/receipts", app.base))
        .bearer_auth(&token)
        .json(&json!({ "quantity": 1, "reference": huge }))
        .send()
        .await
        .expect("sent");
    let r = common::read(res).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.code(), "validation_failed");
    assert_eq!(r.content_type, "application/problem+json");

    // PostgreSQL cannot keep U+0000: a 400 naming it, not a 500 from the store.
    let r = app
        .put("/v1/products/milk", &token, json!({ "name": "mi\u{0}lk" }))
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(r.body["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("NUL"));
    let r = app.get("/v1/products?query=mi%00lk", &token).await;
    assert_eq!(r.status, 400, "{:?}", r.body);

    assert_eq!(
        app.event_count(&token, "milk").await,
        1,
        "only the registration"
    );
    assert_eq!(app.product(&token, "milk").await["name"], "milk");
    app.server.shutdown().await;
}
