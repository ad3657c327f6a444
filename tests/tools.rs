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

on_both_stores!(
    read_tools_show_what_the_api_shows,
    another_tenants_products_are_unknown,
    a_write_tool_is_one_command_by_its_caller,
);
