//! Products and stock through HTTP, on both stores.

mod common;

use common::{Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn register_receive_sell_count(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    let r = app
        .put(
            "/v1/products/TEA-1",
            &t,
            json!({ "name": "Green tea", "lead_time_days": 3, "service_level": 0.9 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["lead_time_days"], 3);
    assert_eq!(r.body["min_stock_source"], "none");

    let r = app
        .post(
            "/v1/products/TEA-1/receipts",
            &t,
            json!({ "quantity": 10, "reference": "PO-1" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["version"], 2);
    assert_eq!(r.body["product"]["on_hand"], 10);

    let r = app
        .post("/v1/products/TEA-1/sales", &t, json!({ "quantity": 4 }))
        .await;
    assert_eq!(
        (r.status, r.body["product"]["available"].clone()),
        (StatusCode::CREATED, json!(6))
    );

    let r = app
        .post(
            "/v1/products/TEA-1/adjustments",
            &t,
            json!({ "counted": 5, "reason": "cycle count" }),
        )
        .await;
    assert_eq!(
        (r.status, r.body["product"]["on_hand"].clone()),
        (StatusCode::CREATED, json!(5))
    );

    // Updating details answers 200, not 201.
    let r = app
        .put(
            "/v1/products/TEA-1",
            &t,
            json!({ "name": "Green tea 100g" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    let p = app.product(&t, "TEA-1").await;
    assert_eq!(
        (
            p["on_hand"].clone(),
            p["name"].clone(),
            p["version"].clone()
        ),
        (json!(5), json!("Green tea 100g"), json!(5))
    );

    let m = app.get("/v1/products/TEA-1/movements", &t).await;
    let ledger: Vec<(i64, i64)> = m.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|row| {
            (
                row["delta_on_hand"].as_i64().unwrap_or(0),
                row["on_hand_after"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(ledger, vec![(10, 10), (-4, 6), (-1, 5)]);
}

async fn a_sale_above_available_is_refused_and_records_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    app.register(&t, "A").await;
    app.post("/v1/products/A/receipts", &t, json!({ "quantity": 3 }))
        .await;
    let before = app.event_count(&t, "A").await;
    let r = app
        .post("/v1/products/A/sales", &t, json!({ "quantity": 4 }))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "insufficient_stock");
    assert_eq!(r.content_type, "application/problem+json");
    assert_eq!(app.event_count(&t, "A").await, before);
    assert_eq!(app.product(&t, "A").await["on_hand"], 3);
}

async fn movements_on_unknown_products_are_404(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    let r = app
        .post("/v1/products/NOPE/receipts", &t, json!({ "quantity": 3 }))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = app.get("/v1/products/NOPE", &t).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get("/v1/products/NOPE/events", &t).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn an_idempotency_key_replays_the_first_answer(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    app.register(&t, "A").await;
    let body = json!({ "quantity": 2, "reference": "till-7" });
    let send = |b: serde_json::Value, key: &'static str| {
        let (app, t) = (&app, &t);
        async move {
            app.send(
                Method::POST,
                "/v1/products/A/receipts",
                Some(t),
                Some(&b),
                &[("Idempotency-Key", key)],
            )
            .await
        }
    };
    let first = send(body.clone(), "k-1").await;
    let second = send(body.clone(), "k-1").await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!((second.status, &second.body), (first.status, &first.body));
    assert_eq!(
        app.event_count(&t, "A").await,
        2,
        "registration + one receipt"
    );

    let reused = send(json!({ "quantity": 3 }), "k-1").await;
    assert_eq!(
        (reused.status, reused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
    );
    assert_eq!(app.event_count(&t, "A").await, 2);

    // Keys are per tenant: another tenant may use the same key for its own product.
    let other = app.manager("other-shop");
    app.register(&other, "A").await;
    let r = app
        .send(
            Method::POST,
            "/v1/products/A/receipts",
            Some(&other),
            Some(&body),
            &[("Idempotency-Key", "k-1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(app.product(&other, "A").await["on_hand"], 2);

    let bad = app
        .send(
            Method::POST,
            "/v1/products/A/receipts",
            Some(&t),
            Some(&body),
            &[("Idempotency-Key", "")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

async fn concurrent_retries_with_one_key_append_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    app.register(&t, "A").await;
    let body = json!({ "quantity": 1 });
    let replies = futures::future::join_all((0..12).map(|_| {
        let (app, t, body) = (&app, &t, &body);
        async move {
            app.send(
                Method::POST,
                "/v1/products/A/receipts",
                Some(t),
                Some(body),
                &[("Idempotency-Key", "same")],
            )
            .await
        }
    }))
    .await;
    for r in &replies {
        assert_eq!((r.status, &r.body), (replies[0].status, &replies[0].body));
    }
    assert_eq!(app.product(&t, "A").await["on_hand"], 1);
}

async fn bad_input_is_refused_with_problem_json_and_writes_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    app.register(&t, "A").await;
    let long_sku = "x".repeat(65);
    let cases: Vec<(Method, String, Option<&str>)> = vec![
        (
            Method::POST,
            "/v1/products/A/receipts".into(),
            Some("{\"quantity\": "),
        ),
        (
            Method::POST,
            "/v1/products/A/receipts".into(),
            Some("{\"quantity\": \"5\"}"),
        ),
        (
            Method::POST,
            "/v1/products/A/receipts".into(),
            Some("{\"quantity\": 1.5}"),
        ),
        (
            Method::POST,
            "/v1/products/A/receipts".into(),
            Some("{\"quantity\": 0}"),
        ),
        (
            Method::POST,
            "/v1/products/A/receipts".into(),
            Some("{\"quantity\": 1000000001}"),
        ),
        (
            Method::POST,
            "/v1/products/A/receipts".into(),
            Some("{\"quantity\": -1}"),
        ),
        (
            Method::POST,
            "/v1/products/A/receipts".into(),
            Some("{\"quantity\": 1, \"colour\": \"red\"}"),
        ),
        (
            Method::POST,
            "/v1/products/A/receipts".into(),
            Some("{\"quantity\": 1, \"occurred_at\": \"2999-01-01T00:00:00Z\"}"),
        ),
        (
            Method::POST,
            "/v1/products/A/receipts".into(),
            Some("{\"quantity\": 1, \"occurred_at\": \"yesterday\"}"),
        ),
        (Method::POST, "/v1/products/A/sales".into(), Some("[]")),
        (
            Method::POST,
            "/v1/products/A/adjustments".into(),
            Some("{\"counted\": 1}"),
        ),
        (
            Method::POST,
            "/v1/products/A/adjustments".into(),
            Some("{\"counted\": 1, \"reason\": \"\"}"),
        ),
        (Method::PUT, "/v1/products/A/min-stock".into(), Some("{}")),
        (
            Method::PUT,
            "/v1/products/A/min-stock".into(),
            Some("{\"quantity\": -2}"),
        ),
        (
            Method::PUT,
            "/v1/products/A".into(),
            Some("{\"name\": \"\"}"),
        ),
        (
            Method::PUT,
            "/v1/products/A".into(),
            Some("{\"name\": \"n\", \"service_level\": 1.2}"),
        ),
        (
            Method::PUT,
            "/v1/products/A".into(),
            Some("{\"name\": \"n\", \"lead_time_days\": 366}"),
        ),
        (
            Method::PUT,
            format!("/v1/products/{long_sku}"),
            Some("{\"name\": \"n\"}"),
        ),
        (
            Method::PUT,
            "/v1/products/a%20b".into(),
            Some("{\"name\": \"n\"}"),
        ),
        (Method::GET, "/v1/products?limit=0".into(), None),
        (Method::GET, "/v1/products?limit=501".into(), None),
        (Method::GET, "/v1/products?below_min=maybe".into(), None),
        (Method::GET, "/v1/products/A?as_of=not-a-time".into(), None),
    ];
    for (method, path, body) in cases {
        let mut req = app
            .client
            .request(method.clone(), format!("{}{}", app.base, path))
            .bearer_auth(&t);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_owned());
        }
        let r = common::read(req.send().await.expect("sent")).await;
        assert!(
            r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path} {body:?} -> {} {:?}",
            r.status,
            r.body
        );
        assert_eq!(
            r.content_type, "application/problem+json",
            "{method} {path}"
        );
        assert_eq!(r.code(), "validation_failed", "{method} {path} {body:?}");
        assert!(r.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    assert_eq!(app.event_count(&t, "A").await, 1, "only the registration");
    app.settle().await;
    let listed = app.get("/v1/products", &t).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
}

async fn manual_minimum_drives_below_min_and_the_list_filter(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    for sku in ["A", "B", "C"] {
        app.register(&t, sku).await;
        app.post(
            &format!("/v1/products/{sku}/receipts"),
            &t,
            json!({ "quantity": 10 }),
        )
        .await;
    }
    let r = app
        .put("/v1/products/B/min-stock", &t, json!({ "quantity": 11 }))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (
            r.body["min_stock"].clone(),
            r.body["min_stock_source"].clone(),
            r.body["below_min"].clone()
        ),
        (json!(11), json!("manual"), json!(true))
    );
    app.settle().await;
    let below = app.get("/v1/products?below_min=true", &t).await;
    let skus: Vec<&str> = below.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["sku"].as_str())
        .collect();
    assert_eq!(skus, vec!["B"]);
    let r = app
        .put("/v1/products/B/min-stock", &t, json!({ "quantity": null }))
        .await;
    assert_eq!(
        (
            r.body["min_stock"].clone(),
            r.body["min_stock_source"].clone()
        ),
        (json!(null), json!("none"))
    );
}

async fn lists_page_with_an_opaque_cursor(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    for i in 0..7 {
        app.register(&t, &format!("P{i:02}")).await;
    }
    app.settle().await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/products?limit=3&cursor={c}"),
            None => "/v1/products?limit=3".to_owned(),
        };
        let page = app.get(&path, &t).await;
        assert_eq!(page.status, StatusCode::OK);
        for p in page.body["items"].as_array().expect("items") {
            seen.push(p["sku"].as_str().unwrap_or_default().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).map(|i| format!("P{i:02}")).collect();
    assert_eq!(seen, expected);
}

async fn as_of_returns_what_the_system_knew_then(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    app.register(&t, "A").await;
    app.post("/v1/products/A/receipts", &t, json!({ "quantity": 10 }))
        .await;
    app.put("/v1/products/A/min-stock", &t, json!({ "quantity": 4 }))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let then = common::now();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    app.post("/v1/products/A/sales", &t, json!({ "quantity": 7 }))
        .await;
    app.put("/v1/products/A/min-stock", &t, json!({ "quantity": 2 }))
        .await;

    let at = then.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let past = app
        .get(
            &format!("/v1/products/A?as_of={}", at.replace('+', "%2B")),
            &t,
        )
        .await;
    assert_eq!(past.status, StatusCode::OK, "{:?}", past.body);
    assert_eq!(
        (
            past.body["on_hand"].clone(),
            past.body["min_stock"].clone(),
            past.body["version"].clone()
        ),
        (json!(10), json!(4), json!(3))
    );
    assert!(past.body["as_of"].is_string());
    let now = app.product(&t, "A").await;
    assert_eq!(
        (now["on_hand"].clone(), now["min_stock"].clone()),
        (json!(3), json!(2))
    );
    let before_it_existed = app
        .get("/v1/products/A?as_of=2000-01-01T00:00:00Z", &t)
        .await;
    assert_eq!(before_it_existed.status, StatusCode::NOT_FOUND);
}

async fn demand_history_import_is_all_or_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    let post_csv = |csv: &'static str| app.import_csv(&t, csv);
    let bad = post_csv("date,sku,quantity\n2025-01-01,A,1\n2025-01-02,B,x\n").await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "validation_failed")
    );
    assert!(
        bad.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("line 3"),
        "{:?}",
        bad.body
    );
    app.settle().await;
    assert_eq!(app.get("/v1/products", &t).await.body["items"], json!([]));

    let ok = post_csv("date,sku,quantity\n2025-01-01,A,1\n2025-01-02,A,4\n2025-01-02,B,2\n").await;
    assert_eq!(ok.status, StatusCode::CREATED);
    assert_eq!(ok.body, json!({ "rows": 3, "skus": 2 }));
    // Imported demand does not touch on_hand; unknown skus are registered with defaults.
    let a = app.product(&t, "A").await;
    assert_eq!(
        (
            a["on_hand"].clone(),
            a["name"].clone(),
            a["lead_time_days"].clone()
        ),
        (json!(0), json!("A"), json!(7))
    );
}

on_both_stores!(
    register_receive_sell_count,
    a_sale_above_available_is_refused_and_records_nothing,
    movements_on_unknown_products_are_404,
    an_idempotency_key_replays_the_first_answer,
    concurrent_retries_with_one_key_append_once,
    bad_input_is_refused_with_problem_json_and_writes_nothing,
    manual_minimum_drives_below_min_and_the_list_filter,
    lists_page_with_an_opaque_cursor,
    as_of_returns_what_the_system_knew_then,
    demand_history_import_is_all_or_nothing,
);
