//! Forecast-driven minimums through HTTP and the CLI, on both stores.

mod common;

use chrono::Duration;
use common::{eventually, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// `days` of weekly-patterned demand ending yesterday, as an import CSV.
fn weekly_csv(sku: &str, days: i64, base: f64) -> String {
    let today = common::now().date_naive();
    let mut csv = String::from("date,sku,quantity\n");
    for back in (1..=days).rev() {
        let date = today - Duration::days(back);
        let factor = [0.7, 0.8, 1.0, 1.0, 1.1, 1.6, 1.4][(back % 7) as usize];
        csv.push_str(&format!(
            "{date},{sku},{}\n",
            (base * factor * noise(back)).round() as i64
        ));
    }
    csv
}

/// Deterministic noise in [0.8, 1.2): real demand is never exactly periodic.
fn noise(i: i64) -> f64 {
    let x = (i as u64)
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407)
        >> 33;
    0.8 + 0.4 * (x % 1000) as f64 / 1000.0
}

async fn import(app: &TestApp, token: &str, csv: String) {
    assert_eq!(app.import_csv(token, csv).await.status, StatusCode::CREATED);
}

async fn recompute(app: &TestApp, token: &str) -> Value {
    app.settle().await;
    let r = app
        .post("/v1/jobs/recompute-thresholds", token, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

/// The `ReorderPointRecalculated` events on a product's stream.
async fn recalculations(app: &TestApp, token: &str, sku: &str) -> Vec<Value> {
    let events = app
        .get(&format!("/v1/products/{sku}/events?limit=500"), token)
        .await;
    events.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["type"] == "ReorderPointRecalculated")
        .cloned()
        .collect()
}

async fn a_recomputed_minimum_is_an_event_only_when_it_changes(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    assert_eq!(
        app.get("/v1/products/TEA/forecast", &t).await.status,
        StatusCode::NOT_FOUND
    );
    import(&app, &t, weekly_csv("TEA", 120, 20.0)).await;

    assert_eq!(
        recompute(&app, &t).await,
        json!({ "products": 1, "changed": 1 })
    );
    let f = app.get("/v1/products/TEA/forecast", &t).await;
    assert_eq!(f.status, StatusCode::OK);
    let rop = f.body["reorder_point"].as_i64().expect("reorder point");
    // Seven days of ~21/day, plus or minus the safety stock of a 95% fill rate (negative when an
    // order of a week's demand can afford 5% of it short): near the lead-time demand.
    let ltd = f.body["lead_time_demand"]
        .as_f64()
        .expect("lead-time demand");
    let safety = f.body["safety_stock"].as_f64().expect("safety stock");
    assert!((120.0..=180.0).contains(&ltd), "lead-time demand {ltd}");
    assert!(
        (0.75 * ltd..=1.5 * ltd).contains(&(rop as f64)),
        "reorder point {rop} for {ltd}"
    );
    assert_eq!(rop as f64, (ltd + safety - 1e-9).ceil());
    assert!(f.body["forecast"].as_array().is_some_and(|d| d.len() >= 14));
    assert!(f.body["history"].as_array().is_some_and(|d| !d.is_empty()));
    let p = app.product(&t, "TEA").await;
    assert_eq!(
        (p["min_stock"].as_i64(), p["min_stock_source"].clone()),
        (Some(rop), json!("forecast"))
    );
    assert_eq!(p["below_min"], true, "nothing on hand yet");

    // Only minimum events are counted: the raised minimum is itself a crossing (nothing on hand),
    // so the agent appends a refill to the same stream at a moment this test does not control.
    let before = recalculations(&app, &t, "TEA").await;
    assert_eq!(
        recompute(&app, &t).await,
        json!({ "products": 1, "changed": 0 })
    );
    assert_eq!(
        recalculations(&app, &t, "TEA").await,
        before,
        "an unchanged minimum records nothing"
    );

    // A longer lead time raises the minimum; as_of still shows the one in force before.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let then = common::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.put(
        "/v1/products/TEA",
        &t,
        json!({ "name": "TEA", "lead_time_days": 21 }),
    )
    .await;
    assert_eq!(
        recompute(&app, &t).await,
        json!({ "products": 1, "changed": 1 })
    );
    let longer = app.product(&t, "TEA").await["min_stock"]
        .as_i64()
        .expect("min");
    assert!(
        longer > rop,
        "lead time 21 gives {longer}, lead time 7 gave {rop}"
    );
    let past = app
        .get(
            &format!("/v1/products/TEA?as_of={}", then.replace('+', "%2B")),
            &t,
        )
        .await;
    assert_eq!(past.body["min_stock"].as_i64(), Some(rop));
    let recalculated = recalculations(&app, &t, "TEA").await;
    assert_eq!(recalculated.len(), 2);
    assert!(recalculated[0]["payload"]["model"].is_string());
    // The event carries the safety stock the minimum was computed with (it may be negative).
    assert_eq!(
        recalculated[0]["payload"]["safety_stock"].as_f64(),
        Some(safety)
    );
}

async fn a_manual_minimum_wins_until_cleared(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    import(&app, &t, weekly_csv("TEA", 60, 10.0)).await;
    app.put("/v1/products/TEA/min-stock", &t, json!({ "quantity": 3 }))
        .await;
    recompute(&app, &t).await;
    let p = app.product(&t, "TEA").await;
    assert_eq!(
        (p["min_stock"].clone(), p["min_stock_source"].clone()),
        (json!(3), json!("manual"))
    );
    let r = app
        .put(
            "/v1/products/TEA/min-stock",
            &t,
            json!({ "quantity": null }),
        )
        .await;
    assert_eq!(r.body["min_stock_source"], "forecast");
    assert!(r.body["min_stock"].as_i64().is_some_and(|m| m > 3));
}

async fn the_scheduler_recomputes_on_its_own_and_forecasts_stay_in_their_tenant(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.forecast_interval = std::time::Duration::from_millis(300)
    })
    .await;
    let t = app.manager("shop");
    import(&app, &t, weekly_csv("TEA", 30, 5.0)).await;
    eventually("the scheduler sets a forecast minimum", || async {
        app.product(&t, "TEA").await["min_stock_source"] == json!("forecast")
    })
    .await;
    let other = app.manager("other");
    assert_eq!(
        app.get("/v1/products/TEA/forecast", &other).await.status,
        StatusCode::NOT_FOUND
    );
    let viewer = app.token("shop", restock_infrastructure::tokens::Role::Viewer);
    assert_eq!(
        app.post("/v1/jobs/recompute-thresholds", &viewer, json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/v1/products/TEA/forecast", &viewer).await.status,
        StatusCode::OK
    );
}

/// `restock backtest` on a small file prints the documented JSON object.
#[test]
fn backtest_cli_prints_the_documented_json() {
    let dir = std::env::temp_dir().join(format!("restock-backtest-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("demand.csv");
    let mut csv = String::from("date,sku,quantity\n");
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    for sku in ["a", "b"] {
        for d in 0..200 {
            let date = start + Duration::days(d);
            csv.push_str(&format!(
                "{date},{sku},{}\n",
                ((5 + (d % 7) * 2) as f64 * noise(d)).round() as i64
            ));
        }
    }
    std::fs::write(&file, csv).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_restock"))
        .args(["backtest", "--csv", &file.to_string_lossy(), "--json"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["series"], 2);
    for policy in ["forecast", "static"] {
        let p = &report["policies"][policy];
        let fill = p["fill_rate"].as_f64().expect("fill rate");
        assert!((0.0..=1.0).contains(&fill), "{policy} fill rate {fill}");
        for key in ["avg_on_hand", "orders", "stockout_days"] {
            assert!(p[key].is_number(), "{policy}.{key}");
        }
    }
    assert!(report["policies"]["forecast"]["mase"].is_number());

    std::fs::write(
        &file,
        "date,sku,quantity\n2024-01-01,a,5\n2024-01-02,a,-1\n",
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_restock"))
        .args(["backtest", "--csv", &file.to_string_lossy()])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 3"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The recompute reads demand for many products at once and only the days a forecast fits on:
/// a product with older history starts at the window's first day (a zero day where it had no
/// row), so old zero days are not lost from its series; a real row on that day is kept.
async fn demand_is_read_for_the_forecast_window_only(backend: Backend) {
    use restock_domain::{Sku, TenantId};
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    for sku in ["OLD", "EDGE", "NEW", "NONE"] {
        app.register(&t, sku).await;
    }
    let today = common::now().date_naive();
    let since = today - Duration::days(364);
    let day = |back: i64| today - Duration::days(back);
    let csv = format!(
        "date,sku,quantity\n{},OLD,5\n{},OLD,3\n{},EDGE,4\n{since},EDGE,7\n{},NEW,2\n",
        day(400),
        day(10),
        day(400),
        day(5),
    );
    import(&app, &t, csv).await;
    // Today NEW sells out: a censored day after an imported one.
    app.post("/v1/products/NEW/receipts", &t, json!({ "quantity": 1 }))
        .await;
    app.post("/v1/products/NEW/sales", &t, json!({ "quantity": 1 }))
        .await;
    app.settle().await;

    let skus: Vec<Sku> = ["OLD", "EDGE", "NEW", "NONE"]
        .iter()
        .map(|s| Sku::parse(s).expect("sku"))
        .collect();
    let tenant = TenantId::parse("shop").expect("tenant");
    let demand = app
        .server
        .state
        .thresholds
        .demand
        .demand(&tenant, &skus, since)
        .await
        .expect("demand");
    let days = |sku: &str| -> Vec<(chrono::NaiveDate, i64)> {
        demand[&Sku::parse(sku).expect("sku")]
            .iter()
            .map(|d| (d.date, d.quantity))
            .collect()
    };
    assert_eq!(days("OLD"), vec![(since, 0), (day(10), 3)]);
    assert_eq!(days("EDGE"), vec![(since, 7)]);
    assert_eq!(days("NEW"), vec![(day(5), 2), (today, 1)]);
    let censored: Vec<bool> = demand[&Sku::parse("NEW").expect("sku")]
        .iter()
        .map(|d| d.censored)
        .collect();
    assert_eq!(censored, vec![false, true], "the sold-out day is censored");
    assert!(!demand.contains_key(&Sku::parse("NONE").expect("sku")));
}

on_both_stores!(
    demand_is_read_for_the_forecast_window_only,
    a_recomputed_minimum_is_an_event_only_when_it_changes,
    a_manual_minimum_wins_until_cleared,
    the_scheduler_recomputes_on_its_own_and_forecasts_stay_in_their_tenant,
);
