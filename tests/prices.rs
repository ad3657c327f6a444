//! Supplier prices and purchase timing through HTTP, on both stores: the price import (all or
//! nothing), the purchase plan, and refills that carry it.

mod common;

use chrono::{Duration, NaiveDate};
use common::{promotion_prices_csv, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn date(v: &Value) -> NaiveDate {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a date: {v}"))
}

/// About 2 units a day for 120 days ending yesterday.
fn demand_csv(sku: &str) -> String {
    let today = common::now().date_naive();
    let mut csv = String::from("date,sku,quantity\n");
    for back in (1..=120).rev() {
        let q = [2, 1, 3, 2, 2, 3, 1][(back % 7) as usize];
        csv.push_str(&format!("{},{sku},{q}\n", today - Duration::days(back)));
    }
    csv
}

async fn bad_csv_names_the_line_and_keeps_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("acme");
    let csv = "date,sku,unit_price\n2026-01-01,A,2.5\n2026-01-01,B,3\n\n2026-01-02,A,-1\n2026-01-03,B,3\n";
    let r = app.import_prices(&t, csv).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.code(), "validation_failed");
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("line 5") && detail.contains("negative"),
        "{detail}"
    );
    app.settle().await;
    for sku in ["A", "B"] {
        let p = app.get(&format!("/v1/products/{sku}"), &t).await;
        assert_eq!(
            p.status,
            StatusCode::NOT_FOUND,
            "nothing of the upload is kept"
        );
        let plan = app
            .get(&format!("/v1/products/{sku}/purchase-plan"), &t)
            .await;
        assert_eq!(plan.status, StatusCode::NOT_FOUND);
        assert_eq!(plan.code(), "not_found");
    }
    // The same file without the bad row is taken whole.
    let good = csv.replace("2026-01-02,A,-1\n", "");
    let r = app.import_prices(&t, good).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body, json!({ "rows": 3, "skus": 2 }));
    assert_eq!(
        app.events_of_type(&t, "A", "SupplierPricesRecorded").await,
        1
    );
    assert_eq!(
        app.product(&t, "A").await["name"],
        "A",
        "registered with defaults"
    );
}

async fn the_plan_waits_for_the_promotion_and_refills_carry_it(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("acme");
    let r = app
        .put(
            "/v1/products/COFFEE",
            &t,
            json!({ "name": "Coffee", "lead_time_days": 2 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(
        app.post(
            "/v1/products/COFFEE/receipts",
            &t,
            json!({ "quantity": 100 })
        )
        .await
        .status,
        StatusCode::CREATED
    );
    // No prices yet: 404.
    let r = app.get("/v1/products/COFFEE/purchase-plan", &t).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));

    assert_eq!(
        app.import_csv(&t, demand_csv("COFFEE")).await.status,
        StatusCode::CREATED
    );
    let r = app
        .import_prices(&t, promotion_prices_csv(app.today(), "COFFEE", 120, 3))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body, json!({ "rows": 120, "skus": 1 }));
    app.settle().await;
    let r = app
        .post("/v1/jobs/recompute-thresholds", &t, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

    let today = common::now().date_naive();
    let r = app.get("/v1/products/COFFEE/purchase-plan", &t).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let plan = r.body;
    assert_eq!(plan["sku"], "COFFEE");
    assert_eq!(plan["horizon_days"], 14);
    assert_eq!(plan["history"].as_array().map(Vec::len), Some(90));
    let forecast = plan["price_forecast"].as_array().expect("forecast");
    assert_eq!(forecast.len(), 14);
    assert_eq!(date(&forecast[0]["date"]), today);
    for d in forecast {
        let (lo, m, hi) = (d["lower"].as_f64(), d["mean"].as_f64(), d["upper"].as_f64());
        assert!(lo <= m && m <= hi, "{d}");
    }
    // 100 units at about 2 a day last well past the horizon: the promotion in 3 days wins.
    let order_by = date(&plan["order_by"]);
    assert!(order_by >= today + Duration::days(3), "{plan}");
    assert_eq!(date(&plan["best_day"]), today + Duration::days(3), "{plan}");
    assert_eq!(plan["recommendation"], "wait", "{plan}");
    let saving = plan["expected_saving_pct"].as_f64().unwrap_or_default();
    assert!(saving > 10.0 && saving < 20.0, "{plan}");
    assert!(plan["reason"]
        .as_str()
        .is_some_and(|r| r.starts_with("wait until")));

    // The same plan through the tool layer (MCP, chat).
    let caller = restock_application::tools::ToolCaller::new(
        restock_domain::TenantId::parse("acme").expect("tenant"),
        "ana",
        false,
    );
    let tool = app
        .server
        .state
        .tools
        .call(&caller, "purchase_plan", &json!({ "sku": "COFFEE" }))
        .await
        .expect("the tool answers");
    assert_eq!(tool["best_day"], plan["best_day"]);
    assert_eq!(tool["order_by"], plan["order_by"]);
    let missing = app
        .server
        .state
        .tools
        .call(&caller, "purchase_plan", &json!({ "sku": "NOPE" }))
        .await
        .expect_err("no plan");
    assert_eq!(missing.code(), "not_found");

    // The dashboard's product page shows the plan and its chart; a product without prices
    // shows none.
    let page = |sku: &'static str| {
        let (client, base, t) = (app.client.clone(), app.base.clone(), t.clone());
        async move {
            client
                .get(format!("{base}/ui/products/{sku}"))
                .header(
                    "cookie",
                    format!("{}={t}", restock_api::dashboard::SESSION_COOKIE),
                )
                .send()
                .await
                .expect("page")
                .text()
                .await
                .expect("html")
        }
    };
    let html = page("COFFEE").await;
    assert!(html.contains("id=\"purchase-plan\""), "{html}");
    assert!(html.contains("id=\"price-chart\""));
    assert!(html.contains(&format!(
        "Wait until {}",
        plan["best_day"].as_str().unwrap_or("?")
    )));
    app.register(&t, "TEA").await;
    app.settle().await;
    assert!(!page("TEA").await.contains("id=\"purchase-plan\""));

    // A person's refill without buy_on takes the plan's day and price.
    let r = app
        .post(
            "/v1/products/COFFEE/refills",
            &t,
            json!({ "quantity": 40, "reason": "stock up before the holidays" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["buy_on"], plan["best_day"], "{:?}", r.body);
    let price = r.body["expected_unit_price"].as_f64().expect("a price");
    let planned = plan["expected_unit_price"].as_f64().expect("a price");
    assert!((price - planned).abs() < 1e-9, "{price} vs {planned}");
    app.settle().await;
    let listed = app.get("/v1/refills", &t).await;
    let refill = &listed.body["items"][0];
    assert_eq!(refill["buy_on"], plan["best_day"], "{refill}");
    assert_eq!(refill["expected_unit_price"].as_f64(), Some(price));
    let events = app.get("/v1/products/COFFEE/events?limit=500", &t).await;
    let requested = events.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|e| e["type"] == "RefillRequested"))
        .cloned()
        .expect("the event");
    assert_eq!(requested["payload"]["buy_on"], plan["best_day"]);

    // A day given by the person is kept, with the plan's price for it.
    let cancel = app
        .post(
            &format!(
                "/v1/refills/{}/cancel",
                r.body["id"].as_str().unwrap_or_default()
            ),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{:?}", cancel.body);
    let tomorrow = today + Duration::days(1);
    let r = app
        .post(
            "/v1/products/COFFEE/refills",
            &t,
            json!({ "quantity": 40, "reason": "now", "buy_on": tomorrow }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(date(&r.body["buy_on"]), tomorrow);
    let tomorrow_price = forecast[1]["mean"].as_f64().expect("a price");
    let price = r.body["expected_unit_price"].as_f64().unwrap_or_default();
    assert!(
        (price - tomorrow_price).abs() < 1e-9,
        "{price} vs {tomorrow_price}"
    );
}

on_both_stores!(
    bad_csv_names_the_line_and_keeps_nothing,
    the_plan_waits_for_the_promotion_and_refills_carry_it,
);
