//! Projections never skip or double-apply an event, and a rebuild reproduces them row for row.

mod common;

use common::{Backend, TestApp};
use rand::Rng;
use reqwest::StatusCode;
use restock_infrastructure::Db;
use serde_json::{json, Value};
use sqlx::Row;
use std::time::Duration;

/// Every product's read-model row must equal the state folded from its events right now.
async fn assert_read_model_matches_the_log(app: &TestApp, token: &str, skus: &[String]) {
    app.settle().await;
    let now = common::now() + chrono::Duration::seconds(1);
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    for sku in skus {
        let read_model = app.product(token, sku).await;
        let folded = app
            .get(&format!("/v1/products/{sku}?as_of={at}"), token)
            .await;
        assert_eq!(folded.status, StatusCode::OK);
        for field in ["on_hand", "reserved", "available", "version", "min_stock"] {
            assert_eq!(read_model[field], folded.body[field], "{sku}.{field}");
        }
        let ledger = app
            .get(&format!("/v1/products/{sku}/movements?limit=500"), token)
            .await;
        let last = ledger.body["items"]
            .as_array()
            .and_then(|rows| rows.last().cloned())
            .unwrap_or(Value::Null);
        if !last.is_null() {
            assert_eq!(
                last["on_hand_after"], read_model["on_hand"],
                "{sku} ledger ends at on_hand"
            );
        }
    }
}

async fn random_concurrent_writers_leave_exact_totals(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    let skus: Vec<String> = (0..8).map(|i| format!("S{i}")).collect();
    for sku in &skus {
        app.register(&t, sku).await;
    }
    let writers = (0..16).map(|w| {
        let (app, t, skus) = (&app, &t, &skus);
        async move {
            let mut acked = 0i64;
            for i in 0..15 {
                let delay = rand::thread_rng().gen_range(0..15);
                tokio::time::sleep(Duration::from_millis(delay)).await;
                let sku = &skus[(w + i) % skus.len()];
                let r = app
                    .post(
                        &format!("/v1/products/{sku}/receipts"),
                        t,
                        json!({ "quantity": 1 }),
                    )
                    .await;
                if r.status == StatusCode::CREATED {
                    acked += 1;
                }
            }
            acked
        }
    });
    let acked: i64 = futures::future::join_all(writers).await.into_iter().sum();
    assert_eq!(acked, 16 * 15);
    assert_read_model_matches_the_log(&app, &t, &skus).await;
    let mut total = 0;
    for sku in &skus {
        total += app.product(&t, sku).await["on_hand"].as_i64().unwrap_or(0);
    }
    assert_eq!(total, acked);
}

/// Postgres only: a transaction that appended early but commits late must still be projected.
/// A reader that checkpointed "the highest global_position seen" would have moved past it while
/// it was open, and never delivered it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_an_event_committed_late_is_not_skipped() {
    let app = TestApp::start(Backend::Postgres).await;
    let t = app.manager("shop");
    app.register(&t, "SLOW").await;
    let skus: Vec<String> = (0..4).map(|i| format!("F{i}")).collect();
    for sku in &skus {
        app.register(&t, sku).await;
    }
    let Db::Postgres(pool) = &app.server.state.db else {
        panic!("postgres expected")
    };
    let mut slow = pool.begin().await.expect("begin");
    sqlx::query(
        "INSERT INTO events (tenant_id, aggregate_type, aggregate_id, sequence, event_type, \
         event_version, payload, metadata, event_id, recorded_at, occurred_at, correlation_id, actor) \
         VALUES ('shop', 'product', 'SLOW', 2, 'StockReceived', 1, \
                 '{\"type\":\"StockReceived\",\"quantity\":7,\"reference\":\"slow\"}', '{}', $1, $3, $3, $2, 'test')",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(uuid::Uuid::new_v4())
    // The servers' clock, not the database's: the test's calendar is not the real one.
    .bind(common::now())
    .execute(&mut *slow)
    .await
    .expect("slow insert");
    // Others commit after it, with higher global positions.
    for i in 0..40 {
        let sku = &skus[i % skus.len()];
        let r = app
            .post(
                &format!("/v1/products/{sku}/receipts"),
                &t,
                json!({ "quantity": 2 }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    // While it is open, nothing that started after it is projected: the reader waits at the
    // horizon instead of stepping over the gap.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let held = app.get("/v1/products/F0", &t).await;
    assert_eq!(
        held.body["on_hand"], 0,
        "events behind the open transaction are held back"
    );
    slow.commit().await.expect("commit");
    app.settle().await;
    let slow_product = app.product(&t, "SLOW").await;
    assert_eq!(slow_product["on_hand"], 7, "the late commit was projected");
    let mut all = skus.clone();
    all.push("SLOW".into());
    assert_read_model_matches_the_log(&app, &t, &all).await;
}

/// Postgres only: a commit in one server wakes the projections of another on the same database
/// through `NOTIFY`, sent once after the commit, and the relay does not echo it back: one command
/// gives a notification or two (coalesced announcements), not a storm between the servers.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_commit_in_one_server_wakes_the_others() {
    let a = TestApp::start(Backend::Postgres).await;
    let b = TestApp::start_on(&a.database_url).await;
    let t = a.manager("shop");
    a.register(&t, "SKU-1").await;
    a.settle().await;
    b.settle().await;
    let Db::Postgres(pool) = &a.server.state.db else {
        panic!("postgres expected")
    };
    let mut raw = sqlx::postgres::PgListener::connect_with(pool)
        .await
        .expect("listener");
    raw.listen("restock_events").await.expect("listen");
    // Let the registration's own announcement arrive before B starts watching.
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(100), raw.recv()).await {}
    let mut b_woken = b.server.state.wake.subscribe();

    let r = a
        .post("/v1/products/SKU-1/receipts", &t, json!({ "quantity": 3 }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    // B appended nothing: only A's announcement can wake it (its runners' poll is separate).
    assert!(
        b_woken.wait(Duration::from_secs(10)).await,
        "server B was not woken by server A's commit"
    );
    let mut notifications = 0;
    while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(1), raw.recv()).await {
        notifications += 1;
        assert!(notifications <= 3, "announcements echo between servers");
    }
    assert!(notifications >= 1, "A's commit was not announced");
}

/// Each read table as sorted text rows, to compare before and after a rebuild.
async fn dump(db: &Db, table: &str, order: &str) -> Vec<String> {
    match db {
        Db::Postgres(pool) => sqlx::query(&format!(
            "SELECT row_to_json(t)::text AS r FROM {table} t ORDER BY {order}"
        ))
        .fetch_all(pool)
        .await
        .expect("dump")
        .iter()
        .map(|row| row.get::<String, _>("r"))
        .collect(),
        Db::Sqlite { read, .. } => {
            let columns: Vec<String> =
                sqlx::query(&format!("SELECT name FROM pragma_table_info('{table}')"))
                    .fetch_all(read)
                    .await
                    .expect("columns")
                    .iter()
                    .map(|row| row.get::<String, _>("name"))
                    .collect();
            let concat = columns
                .iter()
                .map(|c| format!("quote({c})"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            sqlx::query(&format!(
                "SELECT {concat} AS r FROM {table} ORDER BY {order}"
            ))
            .fetch_all(read)
            .await
            .expect("dump")
            .iter()
            .map(|row| row.get::<String, _>("r"))
            .collect()
        }
    }
}

async fn a_rebuild_reproduces_every_read_table(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    for sku in ["A", "B", "C"] {
        app.register(&t, sku).await;
        app.post(
            &format!("/v1/products/{sku}/receipts"),
            &t,
            json!({ "quantity": 40 }),
        )
        .await;
        app.post(
            &format!("/v1/products/{sku}/sales"),
            &t,
            json!({ "quantity": 3, "occurred_at": "2026-01-05T10:00:00Z" }),
        )
        .await;
        app.post(
            &format!("/v1/products/{sku}/adjustments"),
            &t,
            json!({ "counted": 30, "reason": "count" }),
        )
        .await;
        app.put(
            &format!("/v1/products/{sku}/min-stock"),
            &t,
            json!({ "quantity": 5 }),
        )
        .await;
        let r = app
            .post(
                &format!("/v1/products/{sku}/reservations"),
                &t,
                json!({ "quantity": 2 }),
            )
            .await;
        let id = r.body["id"].as_str().unwrap_or_default().to_owned();
        app.post(&format!("/v1/reservations/{id}/confirm"), &t, json!({}))
            .await;
        app.post(
            &format!("/v1/products/{sku}/reservations"),
            &t,
            json!({ "quantity": 1 }),
        )
        .await;
    }
    app.settle().await;
    let db = &app.server.state.db;
    let tables = [
        ("products", "tenant_id, sku"),
        ("movements", "tenant_id, sku, version"),
        ("daily_demand", "tenant_id, sku, day"),
        ("reservations", "tenant_id, reservation_id"),
    ];
    let mut before = Vec::new();
    for (table, order) in tables {
        let rows = dump(db, table, order).await;
        assert!(!rows.is_empty(), "{table} has rows to compare");
        before.push(rows);
    }
    // A row no event explains: a rebuild that did not empty the table would keep it, and the
    // tables would then differ from `before`. (Checking for an empty table right after the
    // reset would race the live runners, which may already be re-projecting.)
    let mut tx = db.begin().await.expect("begin");
    for sql in [
        "CREATE TEMP TABLE ghost AS SELECT * FROM products LIMIT 1",
        "UPDATE ghost SET tenant_id = 'ghost-tenant'",
        "INSERT INTO products SELECT * FROM ghost",
        "DROP TABLE ghost",
    ] {
        restock_infrastructure::execute!(&mut tx, sql).expect(sql);
    }
    tx.commit().await.expect("commit");
    for runner in app.server.state.runners.iter() {
        runner.reset().await.expect("reset");
    }
    // The server's own runners keep running: a rebuild's catch-up races them for every batch
    // and must neither fail nor apply anything twice.
    app.server.state.wake.wake();
    let racers = app
        .server
        .state
        .runners
        .iter()
        .flat_map(|r| [r.clone(), r.clone()])
        .collect::<Vec<_>>();
    let rebuilt = futures::future::join_all(racers.iter().map(|r| r.catch_up())).await;
    for result in rebuilt {
        result.expect("catch-up alongside the live runner");
    }
    app.settle().await;
    for ((table, order), expected) in tables.iter().zip(before) {
        assert_eq!(
            dump(db, table, order).await,
            expected,
            "{table} differs after rebuild"
        );
    }
}

on_both_stores!(
    random_concurrent_writers_leave_exact_totals,
    a_rebuild_reproduces_every_read_table
);
