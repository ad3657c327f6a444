//! The agent with its default backend, the built-in policy, through HTTP: once per crossing,
//! refills received and cancelled, audits, rebuilds, tenant isolation, and kill -9 of the real
//! binary at each step of a decision.

mod common;

use common::{eventually, token_for, Backend, ServerProcess, TestApp};
use reqwest::StatusCode;
use restock_infrastructure::testing::fresh_database_url;
use restock_infrastructure::tokens::Role;
use restock_infrastructure::Db;
use serde_json::{json, Value};
use sqlx::Row;
use std::time::Duration;

/// Register `sku`, stock it with `on_hand` units and pin a manual minimum, without crossing.
async fn stocked(app: &TestApp, t: &str, sku: &str, on_hand: i64, minimum: i64) {
    app.register(t, sku).await;
    let r = app
        .post(
            &format!("/v1/products/{sku}/receipts"),
            t,
            json!({ "quantity": on_hand }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app
        .put(
            &format!("/v1/products/{sku}/min-stock"),
            t,
            json!({ "quantity": minimum }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

async fn sell(app: &TestApp, t: &str, sku: &str, quantity: i64) {
    let r = app
        .post(
            &format!("/v1/products/{sku}/sales"),
            t,
            json!({ "quantity": quantity }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}

async fn refills(app: &TestApp, t: &str) -> Vec<Value> {
    let r = app.get("/v1/refills?limit=500", t).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["items"].as_array().cloned().unwrap_or_default()
}

/// Wait until the tenant has `n` refills in the read model, and return them.
async fn wait_refills(app: &TestApp, t: &str, n: usize) -> Vec<Value> {
    eventually(&format!("{n} refill(s)"), || async {
        refills(app, t).await.len() >= n
    })
    .await;
    refills(app, t).await
}

/// `RefillRequested` events in the product's stream: the log, not a read model.
async fn requested_in_log(app: &TestApp, t: &str, sku: &str) -> usize {
    app.events_of_type(t, sku, "RefillRequested").await
}

/// Wait until every trigger is finished and the projections have seen every effect.
async fn agent_idle(app: &TestApp) {
    eventually("the agent worker is idle", || async {
        open_triggers(&app.server.state.db).await == 0
    })
    .await;
    app.settle().await;
}

async fn open_triggers(db: &Db) -> i64 {
    let sql = "SELECT count(*) AS n FROM agent_triggers WHERE status <> 'done'";
    match db {
        Db::Postgres(pool) => sqlx::query(sql)
            .fetch_one(pool)
            .await
            .expect("count")
            .get::<i64, _>("n"),
        Db::Sqlite { read, .. } => sqlx::query(sql)
            .fetch_one(read)
            .await
            .expect("count")
            .get::<i64, _>("n"),
    }
}

async fn execute_sql(db: &Db, sql: &str) {
    match db {
        Db::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(drop).expect("sql"),
        Db::Sqlite { write, .. } => sqlx::query(sql)
            .execute(write)
            .await
            .map(drop)
            .expect("sql"),
    }
}

async fn audit(app: &TestApp, t: &str, id: &str) -> Value {
    let r = app.get(&format!("/v1/refills/{id}/audit"), t).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

fn ms_between(earlier: &Value, later: &Value) -> i64 {
    let parse = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().expect("time")).expect("rfc3339")
    };
    (parse(later) - parse(earlier)).num_milliseconds()
}

async fn once_per_crossing_with_its_audit_and_again_after_a_receipt(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    stocked(&app, &t, "A", 100, 50).await;
    sell(&app, &t, "A", 51).await; // available 49 < 50: the crossing

    let listed = wait_refills(&app, &t, 1).await;
    let refill = &listed[0];
    let id = refill["id"].as_str().expect("id").to_owned();
    // Order up to minimum + lead-time demand (no forecast: the minimum again) = 100, minus 49.
    assert_eq!(
        (
            refill["sku"].clone(),
            refill["quantity"].clone(),
            refill["status"].clone(),
            refill["decided_by"].clone()
        ),
        (json!("A"), json!(51), json!("requested"), json!("policy"))
    );

    let a = audit(&app, &t, &id).await;
    assert_eq!(a["refill"]["id"], json!(id));
    assert_eq!(a["trigger"]["type"], "StockSold");
    assert_eq!(a["trigger"]["event_id"], refill["trigger_event_id"]);
    let state = &a["state_at_trigger"];
    assert_eq!(
        (
            state["on_hand"].clone(),
            state["available"].clone(),
            state["below_min"].clone(),
            state["open_refill_id"].clone()
        ),
        (json!(49), json!(49), json!(true), Value::Null),
        "the product as it was right after the sale"
    );
    assert_eq!(
        (
            a["threshold"]["reorder_point"].clone(),
            a["threshold"]["source"].clone(),
            a["threshold"]["model"].clone()
        ),
        (json!(50), json!("manual"), Value::Null)
    );
    assert!(
        a["threshold"]["computed_at"].is_string(),
        "when the manual minimum was set"
    );
    let d = &a["decision"];
    assert_eq!(
        (
            d["decider"].clone(),
            d["model"].clone(),
            d["fallback_reason"].clone()
        ),
        (json!("policy"), Value::Null, Value::Null)
    );
    assert_eq!(d["tool_calls"][0]["name"], "refill_stock");
    assert_eq!(d["tool_calls"][0]["arguments"]["quantity"], 51);
    assert_eq!(d["tool_calls"][0]["arguments"]["sku"], "A");
    assert_eq!(d["prompt_sha256"].as_str().map(str::len), Some(64));
    assert!(
        d["rationale"]
            .as_str()
            .is_some_and(|r| r.contains("minimum 50")),
        "{d}"
    );
    let events = a["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "RefillRequested");
    assert_eq!(
        events[0]["metadata"]["causation_id"],
        a["trigger"]["event_id"]
    );
    assert_eq!(events[0]["metadata"]["actor"], "agent:policy");
    assert_eq!(a["replayed_decision"]["matches"], json!(true));
    assert_eq!(a["replayed_decision"]["tool_calls"], d["tool_calls"]);
    let took = ms_between(&a["trigger"]["recorded_at"], &events[0]["recorded_at"]);
    assert!(
        took < 1000,
        "the refill was requested {took} ms after the crossing sale"
    );
    assert_eq!(app.product(&t, "A").await["open_refill_id"], json!(id));

    // Twenty more sales below the minimum: no second refill.
    for _ in 0..20 {
        sell(&app, &t, "A", 1).await;
    }
    agent_idle(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(refills(&app, &t).await.len(), 1);
    assert_eq!(requested_in_log(&app, &t, "A").await, 1);
    // Not even asked: the agent saw one crossing, not twenty-one events below the minimum.
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("restock_agent_crossings_total 1\n"),
        "{metrics}"
    );

    // Receive it (stock goes up past the minimum), sell down again: a new refill.
    let r = app
        .post(&format!("/v1/refills/{id}/receive"), &t, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(
        (
            r.body["refill"]["status"].clone(),
            r.body["product"]["on_hand"].clone()
        ),
        (json!("received"), json!(29 + 51))
    );
    let again = app
        .post(&format!("/v1/refills/{id}/receive"), &t, json!({}))
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "conflict"),
        "a refill is received once"
    );
    sell(&app, &t, "A", 31).await; // 80 -> 49
    let listed = wait_refills(&app, &t, 2).await;
    assert_eq!(listed.len(), 2);
    assert_ne!(listed[1]["trigger_event_id"], listed[0]["trigger_event_id"]);
    let received = app.get("/v1/refills?status=received", &t).await;
    assert_eq!(received.body["items"].as_array().map(Vec::len), Some(1));
    assert!(received.body["items"][0]["received_at"].is_string());
    assert_eq!(audit(&app, &t, &id).await["refill"]["status"], "received");

    // `restock replay` shows the product then and the audits of the refills requested by then.
    let now = (common::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_restock"))
        .args(["replay", "--tenant", "shop", "--sku", "A", "--as-of", &now])
        .args(["--database-url", &app.database_url])
        .env("RESTOCK_LOG", "warn")
        .output()
        .await
        .expect("restock replay");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let audits = printed["refill_audits"].as_array().expect("refill_audits");
    assert_eq!(audits.len(), 2);
    assert_eq!(audits[0]["refill"]["id"], json!(id));
    assert_eq!(audits[0]["decision"]["decider"], "policy");
    assert_eq!(audits[0]["replayed_decision"]["matches"], json!(true));
}

async fn counts_reservations_and_raised_minimums_cross_too(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    stocked(&app, &t, "COUNT", 10, 5).await;
    stocked(&app, &t, "RESERVE", 10, 5).await;
    stocked(&app, &t, "RAISE", 10, 5).await;
    app.post(
        "/v1/products/COUNT/adjustments",
        &t,
        json!({ "counted": 3, "reason": "shrinkage" }),
    )
    .await;
    let r = app
        .post(
            "/v1/products/RESERVE/reservations",
            &t,
            json!({ "quantity": 8 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.put(
        "/v1/products/RAISE/min-stock",
        &t,
        json!({ "quantity": 11 }),
    )
    .await;
    let listed = wait_refills(&app, &t, 3).await;
    let mut by_sku: Vec<(String, i64)> = listed
        .iter()
        .map(|r| {
            (
                r["sku"].as_str().unwrap_or_default().to_owned(),
                r["quantity"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    by_sku.sort();
    // Up to 2 x minimum, minus what is available.
    assert_eq!(
        by_sku,
        vec![
            ("COUNT".into(), 7),
            ("RAISE".into(), 12),
            ("RESERVE".into(), 8)
        ]
    );
    let triggers: Vec<Value> = {
        let mut v = Vec::new();
        for r in &listed {
            v.push(audit(&app, &t, r["id"].as_str().expect("id")).await["trigger"]["type"].clone());
        }
        v.sort_by_key(|x| x.to_string());
        v
    };
    assert_eq!(
        triggers,
        vec![
            json!("MinimumSet"),
            json!("StockCounted"),
            json!("StockReserved")
        ]
    );
}

async fn a_rebuild_neither_decides_nor_refills(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    for sku in ["A", "B"] {
        stocked(&app, &t, sku, 20, 10).await;
        sell(&app, &t, sku, 15).await;
    }
    wait_refills(&app, &t, 2).await;
    agent_idle(&app).await;
    let before = refills(&app, &t).await;
    let metrics = |app: &TestApp| {
        let url = format!("{}/metrics", app.base);
        let client = app.client.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .expect("metrics")
                .text()
                .await
                .expect("text")
        }
    };
    let crossings = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("restock_agent_crossings_total "))
            .map(str::to_owned)
    };
    let text = metrics(&app).await;
    assert_eq!(
        crossings(&text).as_deref(),
        Some("restock_agent_crossings_total 2"),
        "{text}"
    );
    assert!(
        text.contains("restock_agent_decisions_total{backend=\"policy\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("restock_agent_decision_seconds_count 2"),
        "{text}"
    );

    // History then holds a crossing whose refill is closed: replaying it as live would open a
    // new refill. The ledger would also refuse the same trigger twice; prune it (as a retention
    // job might) so that only the replay flag stands between the rebuild and a new refill.
    let id = before[0]["id"].as_str().expect("id").to_owned();
    let r = app
        .post(&format!("/v1/refills/{id}/receive"), &t, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    agent_idle(&app).await;
    let before = refills(&app, &t).await;
    execute_sql(&app.server.state.db, "DELETE FROM agent_triggers").await;
    execute_sql(&app.server.state.db, "DELETE FROM agent_decisions").await;
    for runner in app.server.state.runners.iter() {
        runner.reset().await.expect("reset");
    }
    assert!(
        refills(&app, &t).await.is_empty(),
        "the reset emptied the refills table"
    );
    app.settle().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    agent_idle(&app).await;
    assert_eq!(
        refills(&app, &t).await,
        before,
        "the rebuilt refills table equals the old one"
    );
    for sku in ["A", "B"] {
        assert_eq!(
            requested_in_log(&app, &t, sku).await,
            1,
            "{sku}: no refill from replayed history"
        );
    }
    let text = metrics(&app).await;
    assert_eq!(
        crossings(&text).as_deref(),
        Some("restock_agent_crossings_total 2"),
        "no decision during the rebuild"
    );
}

async fn tenants_see_only_their_refills_audits_and_notifications(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (a, b) = (app.manager("tenant-a"), app.manager("tenant-b"));
    stocked(&app, &a, "A", 5, 3).await;
    sell(&app, &a, "A", 5).await; // empty: a refill and a critical notification
    let id = wait_refills(&app, &a, 1).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    eventually("a's notification", || async {
        app.get("/v1/notifications", &a).await.body["items"]
            .as_array()
            .is_some_and(|i| !i.is_empty())
    })
    .await;
    let notes = app.get("/v1/notifications", &a).await.body;
    assert_eq!(
        (
            notes["items"][0]["sku"].clone(),
            notes["items"][0]["severity"].clone(),
            notes["items"][0]["kind"].clone()
        ),
        (json!("A"), json!("critical"), json!("agent"))
    );
    assert!(notes["items"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("out of stock")));
    assert!(notes["items"][0]["created_at"].is_string());

    assert_eq!(refills(&app, &b).await, Vec::<Value>::new());
    assert_eq!(
        app.get("/v1/notifications", &b).await.body["items"],
        json!([])
    );
    for path in [format!("/v1/refills/{id}/audit")] {
        let r = app.get(&path, &b).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{path}"
        );
    }
    for path in [
        format!("/v1/refills/{id}/receive"),
        format!("/v1/refills/{id}/cancel"),
    ] {
        let r = app.post(&path, &b, json!({})).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{path}"
        );
    }
    // The refill is untouched by b's attempts, and a viewer of a's tenant cannot command it.
    let viewer = token_for("tenant-a", Role::Viewer);
    let r = app
        .post(&format!("/v1/refills/{id}/cancel"), &viewer, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&format!("/v1/refills/{id}/audit"), &viewer)
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .post(
            &format!("/v1/refills/{id}/receive"),
            &a,
            json!({ "quantity": 0 }),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "validation_failed")
    );
    let r = app
        .post(&format!("/v1/refills/{id}/cancel"), &a, json!({}))
        .await;
    assert_eq!(
        (r.status, r.body["refill"]["status"].clone()),
        (StatusCode::OK, json!("cancelled"))
    );
    let r = app
        .post(&format!("/v1/refills/{id}/receive"), &a, json!({}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "a cancelled refill cannot be received"
    );
    for bad in [
        "/v1/refills/not-a-uuid/audit",
        "/v1/refills/00000000-0000-0000-0000-000000000000/audit",
    ] {
        assert_eq!(
            app.get(bad, &a).await.status,
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }
    assert_eq!(
        app.get("/v1/refills?status=lost", &a).await.status,
        StatusCode::BAD_REQUEST
    );
    // A manager's cancel while still below the minimum does not make the agent overrule it.
    agent_idle(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(requested_in_log(&app, &a, "A").await, 1);
}

/// Kill the real binary at `fault`, check the store shows the crash point, restart without the
/// fault, and require exactly one refill for the one crossing.
async fn crash_at(
    backend: Backend,
    fault: &str,
    expected_status_after_crash: &str,
    refills_before_restart: usize,
) {
    let url = fresh_database_url(backend).await.expect("database");
    let server = ServerProcess::spawn(&url, &[("RESTOCK_FAULT", fault)]).await;
    let t = token_for("shop", Role::Manager);
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, body: Value| {
        client
            .request(method, format!("{}{path}", server.base))
            .bearer_auth(&t)
            .json(&body)
            .send()
    };
    call(
        reqwest::Method::PUT,
        "/v1/products/A",
        json!({ "name": "A" }),
    )
    .await
    .expect("register");
    call(
        reqwest::Method::POST,
        "/v1/products/A/receipts",
        json!({ "quantity": 10 }),
    )
    .await
    .expect("receive");
    call(
        reqwest::Method::PUT,
        "/v1/products/A/min-stock",
        json!({ "quantity": 5 }),
    )
    .await
    .expect("min");
    let r = call(
        reqwest::Method::POST,
        "/v1/products/A/sales",
        json!({ "quantity": 6 }),
    )
    .await
    .expect("sale");
    assert_eq!(r.status(), StatusCode::CREATED);
    eventually("the fault aborts the server", || async {
        client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .is_err()
    })
    .await;
    server.kill9().await;

    // What the crash left behind, read straight from the database.
    let db = Db::connect(&url).await.expect("connect");
    let (status, decisions, requested) = {
        let q1 = "SELECT status FROM agent_triggers";
        let q2 = "SELECT count(*) AS n FROM agent_decisions";
        let q3 = "SELECT count(*) AS n FROM events WHERE event_type = 'RefillRequested'";
        match &db {
            Db::Postgres(p) => (
                sqlx::query(q1)
                    .fetch_one(p)
                    .await
                    .expect("trigger")
                    .get::<String, _>("status"),
                sqlx::query(q2)
                    .fetch_one(p)
                    .await
                    .expect("n")
                    .get::<i64, _>("n"),
                sqlx::query(q3)
                    .fetch_one(p)
                    .await
                    .expect("n")
                    .get::<i64, _>("n"),
            ),
            Db::Sqlite { read, .. } => (
                sqlx::query(q1)
                    .fetch_one(read)
                    .await
                    .expect("trigger")
                    .get::<String, _>("status"),
                sqlx::query(q2)
                    .fetch_one(read)
                    .await
                    .expect("n")
                    .get::<i64, _>("n"),
                sqlx::query(q3)
                    .fetch_one(read)
                    .await
                    .expect("n")
                    .get::<i64, _>("n"),
            ),
        }
    };
    db.close().await;
    assert_eq!(
        (status.as_str(), decisions, requested as usize),
        (expected_status_after_crash, 1, refills_before_restart),
        "state left by the crash at {fault}"
    );

    let app = TestApp::start_on(&url).await;
    let listed = wait_refills(&app, &t, 1).await;
    agent_idle(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        requested_in_log(&app, &t, "A").await,
        1,
        "exactly one refill after the restart"
    );
    assert_eq!(refills(&app, &t).await.len(), 1);
    let a = audit(&app, &t, listed[0]["id"].as_str().expect("id")).await;
    assert_eq!(
        a["decision"]["fallback_reason"],
        Value::Null,
        "the recorded decision was finished, not re-made"
    );
    assert_eq!(a["events"].as_array().map(Vec::len), Some(1));
}

async fn kill_between_decision_and_command_leaves_one_refill(backend: Backend) {
    crash_at(backend, "agent_after_decision", "decided", 0).await;
}

async fn kill_between_command_and_checkpoint_leaves_one_refill(backend: Backend) {
    crash_at(backend, "agent_after_command", "decided", 1).await;
}

/// About 2 units a day for 120 days ending yesterday.
fn slow_demand_csv(sku: &str) -> String {
    let today = common::now().date_naive();
    let mut csv = String::from("date,sku,quantity\n");
    for back in (1..=120).rev() {
        let q = [2, 1, 3, 2, 2, 3, 1][(back % 7) as usize];
        csv.push_str(&format!(
            "{},{sku},{q}\n",
            today - chrono::Duration::days(back)
        ));
    }
    csv
}

async fn a_refill_made_at_a_crossing_carries_the_purchase_plan(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    let r = app
        .put(
            "/v1/products/BEANS",
            &t,
            json!({ "name": "Beans", "lead_time_days": 2 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(
        app.import_csv(&t, slow_demand_csv("BEANS")).await.status,
        StatusCode::CREATED
    );
    let r = app
        .import_prices(
            &t,
            common::promotion_prices_csv(app.today(), "BEANS", 120, 3),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app
        .post(
            "/v1/products/BEANS/receipts",
            &t,
            json!({ "quantity": 100 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    app.settle().await;
    let r = app
        .post("/v1/jobs/recompute-thresholds", &t, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .put(
            "/v1/products/BEANS/min-stock",
            &t,
            json!({ "quantity": 50 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    sell(&app, &t, "BEANS", 51).await; // available 49 < 50: the crossing

    let refill = wait_refills(&app, &t, 1).await.remove(0);
    agent_idle(&app).await;
    // 49 units at about 2 a day last three weeks: the plan waits for the promotion in 3 days.
    let plan = app.get("/v1/products/BEANS/purchase-plan", &t).await.body;
    assert_eq!(plan["recommendation"], "wait", "{plan}");
    let promo = common::now().date_naive() + chrono::Duration::days(3);
    assert_eq!(plan["best_day"], json!(promo), "{plan}");
    assert_eq!(refill["decided_by"], "policy");
    assert_eq!(refill["buy_on"], plan["best_day"], "{refill}");
    let price = refill["expected_unit_price"].as_f64().expect("a price");
    let planned = plan["expected_unit_price"].as_f64().expect("a price");
    assert!((price - planned).abs() < 1e-9, "{price} vs {planned}");

    // The audit shows the plan the decision was made on, and the policy replays to the same.
    let audit = audit(&app, &t, refill["id"].as_str().expect("id")).await;
    let context_plan = &audit["decision"]["context"]["purchase_plan"];
    assert_eq!(context_plan["best_day"], plan["best_day"], "{audit}");
    assert_eq!(context_plan["order_by"], plan["order_by"], "{audit}");
    assert_eq!(audit["refill"]["buy_on"], plan["best_day"]);
    assert!(audit["decision"]["rationale"]
        .as_str()
        .is_some_and(|r| r.contains("Purchase plan: buy on")));
    assert_eq!(audit["replayed_decision"]["matches"], true, "{audit}");
}

on_both_stores!(
    a_refill_made_at_a_crossing_carries_the_purchase_plan,
    once_per_crossing_with_its_audit_and_again_after_a_receipt,
    counts_reservations_and_raised_minimums_cross_too,
    a_rebuild_neither_decides_nor_refills,
    tenants_see_only_their_refills_audits_and_notifications,
    kill_between_decision_and_command_leaves_one_refill,
    kill_between_command_and_checkpoint_leaves_one_refill,
);
