//! Crash safety: kill -9 the real binary in the middle of work, restart it, lose nothing.

mod common;

use common::{eventually, Backend, ServerProcess, TestApp};
use reqwest::StatusCode;
use restock_infrastructure::testing::fresh_database_url;
use restock_infrastructure::tokens::Role;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const SKUS: [&str; 4] = ["K0", "K1", "K2", "K3"];

async fn kill_during_a_write_load_loses_no_acknowledged_command(backend: Backend) {
    let url = fresh_database_url(backend).await.expect("database");
    let server = ServerProcess::spawn(&url, &[]).await;
    // An in-process app on the same database gives tokens and read helpers after the restart.
    let client = reqwest::Client::new();
    let token = common::token_for("shop", Role::Manager);
    for sku in SKUS {
        let r = client
            .put(format!("{}/v1/products/{sku}", server.base))
            .bearer_auth(&token)
            .json(&json!({ "name": sku }))
            .send()
            .await
            .expect("register");
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let acked: Arc<Vec<AtomicI64>> = Arc::new(SKUS.iter().map(|_| AtomicI64::new(0)).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for w in 0..8 {
        let (client, token, base, acked, stop) = (
            client.clone(),
            token.clone(),
            server.base.clone(),
            acked.clone(),
            stop.clone(),
        );
        load.push(tokio::spawn(async move {
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let k = (w + i) % SKUS.len();
                i += 1;
                let sent = client
                    .post(format!("{base}/v1/products/{}/receipts", SKUS[k]))
                    .bearer_auth(&token)
                    .json(&json!({ "quantity": 1 }))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == StatusCode::CREATED => {
                        acked[k].fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(_) => {}
                    Err(_) => break, // the server is gone
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill9().await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        let _ = task.await;
    }
    let total_acked: i64 = acked.iter().map(|a| a.load(Ordering::SeqCst)).sum();
    assert!(
        total_acked > 20,
        "the load was running when the server died ({total_acked} acked)"
    );

    let app = TestApp::start_on(&url).await;
    app.settle().await;
    let now = (common::now() + chrono::Duration::seconds(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for (k, sku) in SKUS.iter().enumerate() {
        let stored = app
            .get(&format!("/v1/products/{sku}?as_of={now}"), &token)
            .await;
        let read_model = app.product(&token, sku).await;
        let acked = acked[k].load(Ordering::SeqCst);
        let in_store = stored.body["on_hand"].as_i64().unwrap_or(-1);
        // Requests in flight at the kill may or may not have committed; acknowledged ones must have.
        assert!(
            in_store >= acked,
            "{sku}: {acked} acknowledged but {in_store} in the store"
        );
        assert!(
            in_store <= acked + 8,
            "{sku}: more in the store than was ever sent"
        );
        assert_eq!(
            read_model["on_hand"], in_store,
            "{sku}: read model equals the log"
        );
        assert_eq!(read_model["version"], stored.body["version"]);
    }
}

async fn reservations_pending_at_a_crash_still_expire_on_time(backend: Backend) {
    let url = fresh_database_url(backend).await.expect("database");
    let server = ServerProcess::spawn(&url, &[]).await;
    let app_token = common::token_for("shop", Role::Manager);
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, path: String, body: serde_json::Value| {
        let (client, token, base) = (client.clone(), app_token.clone(), server.base.clone());
        async move {
            client
                .request(method, format!("{base}{path}"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("sent")
        }
    };
    call(
        reqwest::Method::PUT,
        "/v1/products/R".into(),
        json!({ "name": "R" }),
    )
    .await;
    call(
        reqwest::Method::POST,
        "/v1/products/R/receipts".into(),
        json!({ "quantity": 10 }),
    )
    .await;
    for _ in 0..3 {
        let r = call(
            reqwest::Method::POST,
            "/v1/products/R/reservations".into(),
            json!({ "quantity": 2, "ttl_seconds": 3 }),
        )
        .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    server.kill9().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(3);

    let app = TestApp::start_on(&url).await;
    eventually("reservations expire after the restart", || async {
        app.product(&app_token, "R").await["available"] == json!(10)
    })
    .await;
    let late = std::time::Instant::now().saturating_duration_since(deadline);
    assert!(
        late < Duration::from_secs(4),
        "expired {late:?} after the deadline"
    );
    let expired = app
        .events_of_type(&app_token, "R", "ReservationExpired")
        .await;
    assert_eq!(expired, 3);
}

on_both_stores!(
    kill_during_a_write_load_loses_no_acknowledged_command,
    reservations_pending_at_a_crash_still_expire_on_time,
);
