//! The tool layer against a real store: what chat, MCP and the dashboard will show must be what
//! the HTTP API shows, scoped to the caller's tenant, and a write tool must be exactly one
//! ordinary command by the caller, refused for viewers and by the same rules as the API.

mod common;

use common::{Backend, TestApp};
use restock_application::tools::{ToolCaller, ToolError};
use restock_domain::TenantId;
use serde_json::{json, Value};

fn caller(tenant: &str, user: &str, may_write: bool) -> ToolCaller {
    ToolCaller::new(TenantId::parse(tenant).expect("tenant"), user, may_write)
}

async fn call(
    app: &TestApp,
    who: &ToolCaller,
    name: &str,
    args: Value,
) -> Result<Value, ToolError> {
    app.server.state.tools.call(who, name, &args).await
}

/// Two products in "shop" (one below its minimum) and one in "other".
async fn seed(app: &TestApp) {
    let shop = app.manager("shop");
    for (sku, name) in [("MILK-1L", "Whole milk 1L"), ("MUG-RED", "Red mug")] {
        let r = app
            .put(
                &format!("/v1/products/{sku}"),
                &shop,
                json!({ "name": name }),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let r = app
        .post(
            "/v1/products/MILK-1L/receipts",
            &shop,
            json!({ "quantity": 12 }),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = app
        .post(
            "/v1/products/MILK-1L/sales",
            &shop,
            json!({ "quantity": 5 }),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = app
        .put(
            "/v1/products/MUG-RED/min-stock",
            &shop,
            json!({ "quantity": 3 }),
        )
        .await;
    assert_eq!(r.status, 200);
    let other = app.manager("other");
    let r = app
        .put(
            "/v1/products/SECRET",
            &other,
            json!({ "name": "Other shop's milk" }),
        )
        .await;
    assert_eq!(r.status, 201);
    app.settle().await;
}

async fn read_tools_show_what_the_api_shows(backend: Backend) {
    let app = TestApp::start(backend).await;
    seed(&app).await;
    let token = app.manager("shop");
    let viewer = caller("shop", "vera", false);

    let listed = call(&app, &viewer, "list_products", json!({}))
        .await
        .expect("list");
    let http = app.get("/v1/products", &token).await;
    assert_eq!(listed["items"], http.body["items"]);

    let below = call(&app, &viewer, "list_products", json!({ "below_min": true }))
        .await
        .expect("below");
    let skus: Vec<&str> = below["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["sku"].as_str())
        .collect();
    assert_eq!(
        skus,
        ["MUG-RED"],
        "the mug has 0 available against a minimum of 3"
    );

    // By sku, and by part of the name in any case: the same figures as GET /v1/products/{sku}.
    let milk = app.product(&token, "MILK-1L").await;
    let by_sku = call(&app, &viewer, "check_stock", json!({ "sku": "MILK-1L" }))
        .await
        .expect("by sku");
    assert_eq!(by_sku, milk);
    assert_eq!(by_sku["available"], 7);
    let by_name = call(
        &app,
        &viewer,
        "check_stock",
        json!({ "name": "whole MILK" }),
    )
    .await
    .expect("by name");
    assert_eq!(by_name, milk);

    let history = call(&app, &viewer, "stock_history", json!({ "sku": "MILK-1L" }))
        .await
        .expect("history");
    let movements = app.get("/v1/products/MILK-1L/movements", &token).await;
    assert_eq!(history["movements"], movements.body["items"]);
    assert_eq!(history["product"]["on_hand"], 7);

    // As of a moment before the sale: the product as the system knew it then.
    let events = app.get("/v1/products/MILK-1L/events", &token).await;
    let receipt_at = events.body["items"][1]["recorded_at"]
        .as_str()
        .expect("time");
    let then = call(
        &app,
        &viewer,
        "stock_history",
        json!({ "sku": "MILK-1L", "as_of": receipt_at }),
    )
    .await
    .expect("as of");
    assert_eq!(then["product"]["on_hand"], 12);
    assert_eq!(then["movements"].as_array().map(Vec::len), Some(1));

    let refills = call(&app, &viewer, "list_refills", json!({}))
        .await
        .expect("refills");
    let http = app.get("/v1/refills", &token).await;
    assert_eq!(refills["items"], http.body["items"]);
    let notes = call(&app, &viewer, "list_notifications", json!({}))
        .await
        .expect("notes");
    let http = app.get("/v1/notifications", &token).await;
    assert_eq!(notes["items"], http.body["items"]);
}

async fn another_tenants_products_are_unknown(backend: Backend) {
    let app = TestApp::start(backend).await;
    seed(&app).await;
    let shop = caller("shop", "ana", true);
    for (tool, args) in [
        ("check_stock", json!({ "sku": "SECRET" })),
        ("check_stock", json!({ "name": "other shop" })),
        ("stock_history", json!({ "sku": "SECRET" })),
        ("get_forecast", json!({ "sku": "SECRET" })),
        ("set_min_stock", json!({ "sku": "SECRET", "quantity": 1 })),
        (
            "refill_stock",
            json!({ "sku": "SECRET", "quantity": 1, "reason": "steal" }),
        ),
    ] {
        let err = call(&app, &shop, tool, args).await.expect_err(tool);
        assert_eq!(err.code(), "not_found", "{tool}: {err}");
    }
    let listed = call(&app, &shop, "list_products", json!({ "query": "milk" }))
        .await
        .expect("list");
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    assert_eq!(app.event_count(&app.manager("other"), "SECRET").await, 1);
}

async fn a_write_tool_is_one_command_by_its_caller(backend: Backend) {
    let app = TestApp::start(backend).await;
    seed(&app).await;
    let token = app.manager("shop");
    // MUG-RED's minimum already made the agent open a refill: order milk, which has none.
    let before = app.event_count(&token, "MILK-1L").await;

    // A viewer is refused and nothing is written.
    let viewer = caller("shop", "vera", false);
    let args = json!({ "sku": "MILK-1L", "quantity": 10, "reason": "weekend coming" });
    let refused = call(&app, &viewer, "refill_stock", args.clone()).await;
    assert_eq!(refused.map_err(|e| e.code()), Err("forbidden"));
    // Bad arguments change nothing either.
    let bad = call(
        &app,
        &caller("shop", "ana", true),
        "refill_stock",
        json!({ "sku": "MILK-1L", "quantity": 0, "reason": "x" }),
    )
    .await;
    assert_eq!(bad.map_err(|e| e.code()), Err("invalid_arguments"));
    assert_eq!(app.event_count(&token, "MILK-1L").await, before);

    // A manager's call is one RefillRequested by that user.
    let mut ana = caller("shop", "ana", true);
    ana.idempotency_key = Some("chat-action-1".into());
    let done = call(&app, &ana, "refill_stock", args.clone())
        .await
        .expect("refill");
    assert_eq!(done["refill"]["quantity"], 10);
    assert_eq!(done["refill"]["status"], "requested");
    // The same key again: the first result, nothing appended.
    let again = call(&app, &ana, "refill_stock", args.clone())
        .await
        .expect("replay");
    assert_eq!(again, done);
    assert_eq!(app.event_count(&token, "MILK-1L").await, before + 1);
    let events = app
        .get("/v1/products/MILK-1L/events?limit=500", &token)
        .await;
    let last = events.body["items"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .expect("event");
    assert_eq!(last["type"], "RefillRequested");
    assert_eq!(last["metadata"]["actor"], "user:ana");
    assert_eq!(last["payload"]["decided_by"], "user:ana");

    // The rules of the API hold: a second open refill is refused, and writes nothing.
    let second = call(&app, &caller("shop", "ana", true), "refill_stock", args).await;
    assert_eq!(second.map_err(|e| e.code()), Err("conflict"));
    assert_eq!(app.event_count(&token, "MILK-1L").await, before + 1);

    // The key belongs to that refill: another request under it is refused, not run.
    let reused = call(
        &app,
        &ana,
        "set_min_stock",
        json!({ "sku": "MILK-1L", "quantity": 9 }),
    )
    .await;
    assert_eq!(reused.map_err(|e| e.code()), Err("idempotency_key_reused"));

    // set_min_stock pins, then null hands the minimum back to the forecast.
    let pinned = call(
        &app,
        &caller("shop", "ana", true),
        "set_min_stock",
        json!({ "sku": "MILK-1L", "quantity": 9 }),
    )
    .await
    .expect("pin");
    assert_eq!(pinned["min_stock"], 9);
    assert_eq!(pinned["min_stock_source"], "manual");
    let cleared = call(
        &app,
        &caller("shop", "ana", true),
        "set_min_stock",
        json!({ "sku": "MILK-1L", "quantity": null }),
    )
    .await
    .expect("clear");
    assert_eq!(cleared["min_stock_source"], "none");
    let refill_id = done["refill"]["id"].as_str().expect("id").to_owned();
    let audit = call(
        &app,
        &viewer,
        "explain_refill",
        json!({ "refill_id": refill_id }),
    )
    .await
    .expect("audit");
    assert_eq!(audit["refill"]["decided_by"], "user:ana");
    let http = app
        .get(&format!("/v1/refills/{refill_id}/audit"), &token)
        .await;
    assert_eq!(audit, http.body);
}

/// MUG sold 3 a day and TEA 1 a day over the ten days before today (imported), MUG 2 more
/// today (a sale); JAM never sold. A manager pinned MUG's minimum.
async fn seed_sales(app: &TestApp) -> chrono::NaiveDate {
    let t = app.manager("shop");
    for (sku, name) in [("MUG", "Mug"), ("TEA", "Green tea"), ("JAM", "Jam")] {
        let r = app
            .put(&format!("/v1/products/{sku}"), &t, json!({ "name": name }))
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let today = app.today();
    let mut csv = String::from("date,sku,quantity\n");
    for back in 1..=10 {
        let day = today - chrono::Duration::days(back);
        csv.push_str(&format!("{day},MUG,3\n{day},TEA,1\n"));
    }
    let r = app.import_csv(&t, csv).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = app
        .post("/v1/products/MUG/receipts", &t, json!({ "quantity": 40 }))
        .await;
    assert_eq!(r.status, 201);
    let r = app
        .post("/v1/products/MUG/sales", &t, json!({ "quantity": 2 }))
        .await;
    assert_eq!(r.status, 201);
    let r = app
        .put("/v1/products/MUG/min-stock", &t, json!({ "quantity": 5 }))
        .await;
    assert_eq!(r.status, 200);
    app.settle().await;
    today
}

async fn the_questions_tools_sum_rank_project_and_tell_who(backend: Backend) {
    let app = TestApp::start(backend).await;
    let today = seed_sales(&app).await;
    let viewer = caller("shop", "vera", false);
    let day = |back: i64| (today - chrono::Duration::days(back)).to_string();

    let week = call(
        &app,
        &viewer,
        "sales_summary",
        json!({ "from": day(7), "to": day(1) }),
    )
    .await
    .expect("sales_summary");
    let units = |v: &Value, sku: &str| {
        v["products"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["sku"] == sku))
            .map(|p| {
                (
                    p["units"].clone(),
                    p["days"].clone(),
                    p["daily_average"].clone(),
                )
            })
    };
    assert_eq!(units(&week, "MUG"), Some((json!(21), json!(7), json!(3.0))));
    assert_eq!(units(&week, "TEA"), Some((json!(7), json!(7), json!(1.0))));
    assert_eq!(units(&week, "JAM"), Some((json!(0), json!(7), json!(0.0))));
    assert_eq!(week["total_units"], 28);
    let with_today = call(
        &app,
        &viewer,
        "sales_summary",
        json!({ "sku": "MUG", "from": day(1), "to": day(0) }),
    )
    .await
    .expect("one product");
    assert_eq!(
        with_today["total_units"], 5,
        "an imported day and today's sale: {with_today}"
    );
    assert_eq!(with_today["products"].as_array().map(Vec::len), Some(1));

    let top = call(
        &app,
        &viewer,
        "rank_products",
        json!({ "metric": "units_sold", "order": "top", "limit": 2 }),
    )
    .await
    .expect("rank");
    let skus = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["sku"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(skus(&top), ["MUG", "TEA"]);
    assert_eq!(
        top["items"][0]["value"], 32.0,
        "the last 30 days by default: {top}"
    );
    assert_eq!(top["to"], day(0));
    let bottom = call(
        &app,
        &viewer,
        "rank_products",
        json!({ "metric": "units_sold", "order": "bottom", "from": day(3), "to": day(1) }),
    )
    .await
    .expect("rank");
    assert_eq!(skus(&bottom), ["JAM", "TEA", "MUG"]);

    let timeline = call(&app, &viewer, "product_timeline", json!({ "sku": "MUG" }))
        .await
        .expect("timeline");
    let first = &timeline["items"][0];
    assert_eq!(first["type"], "MinimumSet", "newest first: {timeline}");
    assert_eq!(first["actor"], "user:tester");
    assert_eq!(first["summary"], "minimum set to 5 by user:tester");

    // A forecast, then the stock going forward on it.
    let r = app
        .post(
            "/v1/jobs/recompute-thresholds",
            &app.manager("shop"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    app.settle().await;
    let outlook = call(&app, &viewer, "stock_outlook", json!({ "sku": "MUG" }))
        .await
        .expect("outlook");
    let mug = &outlook["items"][0];
    let forecast = call(&app, &viewer, "get_forecast", json!({ "sku": "MUG" }))
        .await
        .expect("forecast");
    let means: Vec<(String, f64)> = forecast["forecast"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["date"].as_str().is_some_and(|d| d >= day(0).as_str()))
        .filter_map(|p| Some((p["date"].as_str()?.to_owned(), p["mean"].as_f64()?.max(0.0))))
        .collect();
    assert!(!means.is_empty(), "{forecast}");
    let available = mug["available"].as_f64().expect("available");
    assert_eq!(available, 38.0);
    // The run-out day is the first whose cumulative forecast demand passes what is available.
    let mut left = available;
    let expected = means.iter().find_map(|(date, mean)| {
        left -= mean;
        (left < 0.0).then(|| date.clone())
    });
    assert_eq!(
        mug["runs_out_on"].as_str().map(str::to_owned),
        expected,
        "{mug}"
    );
    let daily = mug["daily_forecast"].as_f64().expect("a daily forecast");
    assert!(daily > 1.0 && daily < 5.0, "about 3 a day: {mug}");
    assert_eq!(
        mug["days_of_cover"],
        json!(((available / daily) * 10.0).round() / 10.0)
    );

    // Bad input is a clear refusal, another tenant's sku is unknown.
    for (name, args, code) in [
        (
            "sales_summary",
            json!({ "from": day(1), "to": day(3) }),
            "invalid_arguments",
        ),
        (
            "sales_summary",
            json!({ "from": day(800), "to": day(0) }),
            "invalid_arguments",
        ),
        (
            "sales_summary",
            json!({ "from": "yesterday", "to": day(0) }),
            "invalid_arguments",
        ),
        (
            "rank_products",
            json!({ "metric": "profit", "order": "top" }),
            "invalid_arguments",
        ),
        (
            "rank_products",
            json!({ "metric": "units_sold", "order": "top", "limit": 0 }),
            "invalid_arguments",
        ),
        ("stock_outlook", json!({ "sku": "SECRET" }), "not_found"),
        ("product_timeline", json!({ "sku": "SECRET" }), "not_found"),
    ] {
        let e = call(&app, &viewer, name, args.clone())
            .await
            .expect_err("refused");
        assert_eq!(e.code(), code, "{name} {args}: {e}");
    }
}

on_both_stores!(
    the_questions_tools_sum_rank_project_and_tell_who,
    read_tools_show_what_the_api_shows,
    another_tenants_products_are_unknown,
    a_write_tool_is_one_command_by_its_caller,
);
