//! MCP at `POST /mcp` (docs/api.md, "MCP"), spoken as a client would: raw JSON-RPC over HTTP in
//! both protocol generations (the 2025-11-25 handshake, and 2026-07-28 requests that carry their
//! version and capabilities in `_meta`). The figures a tool returns are compared with what the
//! HTTP API returns for the same tenant, and every write is checked in the product's event log.

mod common;

use chrono::{Duration, Utc};
use common::mcp_seed::seed;
use common::{Backend, Reply, TestApp};
use reqwest::StatusCode;
use restock_api::mcp::AllowedHosts;
use restock_infrastructure::tokens::Role;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Version {
    /// `initialize` once, then plain requests with the `MCP-Protocol-Version` header.
    Legacy,
    /// No handshake: each request names its version and capabilities (SEP-2567).
    PerRequest,
}

const LEGACY: &str = "2025-11-25";
const PER_REQUEST: &str = "2026-07-28";

/// One JSON-RPC request to `/mcp`, with the headers a client of `version` sends.
async fn rpc(
    app: &TestApp,
    token: Option<&str>,
    version: Version,
    method: &str,
    mut params: Value,
    extra: &[(&str, &str)],
) -> Reply {
    let mut headers: Vec<(&str, &str)> = vec![("accept", "application/json, text/event-stream")];
    match version {
        Version::Legacy if method != "initialize" => headers.push(("mcp-protocol-version", LEGACY)),
        Version::Legacy => {}
        Version::PerRequest => {
            headers.push(("mcp-protocol-version", PER_REQUEST));
            headers.push(("mcp-method", method));
            params["_meta"] = json!({
                "io.modelcontextprotocol/protocolVersion": PER_REQUEST,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": { "name": "restock-test", "version": "1" },
            });
        }
    }
    let name = params["name"].as_str().map(str::to_owned);
    if let (Version::PerRequest, "tools/call", Some(name)) = (version, method, name.as_deref()) {
        headers.push(("mcp-name", name));
    }
    headers.extend_from_slice(extra);
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    app.send(reqwest::Method::POST, "/mcp", token, Some(&body), &headers)
        .await
}

/// The JSON-RPC `result` of a successful exchange.
async fn result(
    app: &TestApp,
    token: &str,
    version: Version,
    method: &str,
    params: Value,
) -> Value {
    let r = rpc(app, Some(token), version, method, params, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{method}: {:?}", r.body);
    assert!(r.body["error"].is_null(), "{method}: {:?}", r.body);
    r.body["result"].clone()
}

/// A tool call's result: `Ok(json)` for a success (its text and structured content agree),
/// `Err(text)` for a result with `isError: true`.
async fn call(app: &TestApp, token: &str, tool: &str, arguments: Value) -> Result<Value, String> {
    call_in(app, token, Version::Legacy, tool, arguments).await
}

async fn call_in(
    app: &TestApp,
    token: &str,
    version: Version,
    tool: &str,
    arguments: Value,
) -> Result<Value, String> {
    let result = result(
        app,
        token,
        version,
        "tools/call",
        json!({ "name": tool, "arguments": arguments }),
    )
    .await;
    let text = result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{tool}: text content in {result}"))
        .to_owned();
    if result["isError"] == true {
        return Err(text);
    }
    let value: Value = serde_json::from_str(&text).expect("the text is the JSON answer");
    assert_eq!(result["structuredContent"], value, "{tool}");
    Ok(value)
}

async fn tool_names(app: &TestApp, token: &str, version: Version) -> Vec<String> {
    let listed = result(app, token, version, "tools/list", json!({})).await;
    listed["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_owned())
        .collect()
}

async fn ok_get(app: &TestApp, path: &str, token: &str) -> Value {
    let r = app.get(path, token).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.body);
    r.body
}

const WRITE_TOOLS: [&str; 7] = [
    "refill_stock",
    "set_min_stock",
    "receive_stock",
    "record_sale",
    "count_stock",
    "cancel_refill",
    "receive_refill",
];

const READ_TOOLS: [&str; 12] = [
    "list_products",
    "check_stock",
    "stock_history",
    "get_forecast",
    "list_refills",
    "explain_refill",
    "list_notifications",
    "purchase_plan",
    "sales_summary",
    "rank_products",
    "stock_outlook",
    "product_timeline",
];

async fn the_handshake_answers_both_protocol_versions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let token = app.manager("acme");
    let init = result(
        &app,
        &token,
        Version::Legacy,
        "initialize",
        json!({
            "protocolVersion": LEGACY,
            "capabilities": {},
            "clientInfo": { "name": "restock-test", "version": "1" },
        }),
    )
    .await;
    assert_eq!(init["protocolVersion"], LEGACY);
    assert!(init["capabilities"]["tools"].is_object(), "{init}");
    assert_eq!(init["serverInfo"]["name"], "restock");

    // 2026-07-28: no handshake, the server describes itself on request and answers each
    // request on its own (stateless: no session id is handed out).
    let discover = rpc(
        &app,
        Some(&token),
        Version::PerRequest,
        "server/discover",
        json!({}),
        &[],
    )
    .await;
    assert_eq!(discover.status, StatusCode::OK, "{:?}", discover.body);
    let versions = discover.body["result"]["supportedVersions"].to_string();
    assert!(
        versions.contains(LEGACY) && versions.contains(PER_REQUEST),
        "{versions}"
    );
    assert_eq!(
        tool_names(&app, &token, Version::PerRequest).await.len(),
        READ_TOOLS.len() + WRITE_TOOLS.len()
    );
}

async fn managers_see_every_tool_and_viewers_the_read_tools(backend: Backend) {
    let app = TestApp::start(backend).await;
    let manager = app.manager("acme");
    let viewer = app.token("acme", Role::Viewer);
    for version in [Version::Legacy, Version::PerRequest] {
        let mut expected: Vec<&str> = READ_TOOLS.to_vec();
        assert_eq!(tool_names(&app, &viewer, version).await, expected);
        expected.extend(WRITE_TOOLS);
        assert_eq!(tool_names(&app, &manager, version).await, expected);
    }
    let listed = result(&app, &manager, Version::Legacy, "tools/list", json!({})).await;
    for tool in listed["tools"].as_array().expect("tools") {
        let name = tool["name"].as_str().expect("name");
        let read_only = READ_TOOLS.contains(&name);
        assert_eq!(tool["annotations"]["readOnlyHint"], read_only, "{name}");
        if !read_only {
            assert_eq!(tool["annotations"]["destructiveHint"], false, "{name}");
        }
        assert_eq!(tool["inputSchema"]["type"], "object", "{name}");
        assert!(tool["description"].as_str().is_some_and(|d| d.len() > 20));
    }
}

async fn every_read_tool_returns_the_figures_of_the_http_api(backend: Backend) {
    let app = TestApp::start(backend).await;
    let token = app.manager("acme");
    let refill_id = seed(&app, &token).await;
    let viewer = app.token("acme", Role::Viewer);

    for version in [Version::Legacy, Version::PerRequest] {
        let call = |tool: &'static str, args: Value| {
            let viewer = viewer.clone();
            let app = &app;
            async move {
                call_in(app, &viewer, version, tool, args)
                    .await
                    .unwrap_or_else(|e| panic!("{tool}: {e}"))
            }
        };
        let products = ok_get(&app, "/v1/products", &token).await;
        assert_eq!(products["items"].as_array().map(Vec::len), Some(3));
        assert_eq!(
            call("list_products", json!({})).await["items"],
            products["items"]
        );
        assert_eq!(
            call("list_products", json!({ "below_min": true })).await["items"],
            ok_get(&app, "/v1/products?below_min=true", &token).await["items"]
        );
        let milk = ok_get(&app, "/v1/products/milk", &token).await;
        assert_eq!(milk["on_hand"], 113);
        assert_eq!(call("check_stock", json!({ "sku": "milk" })).await, milk);
        assert_eq!(
            call("check_stock", json!({ "name": "whole milk" })).await,
            milk
        );

        let history = call("stock_history", json!({ "sku": "milk" })).await;
        assert_eq!(history["product"], milk);
        let movements = ok_get(&app, "/v1/products/milk/movements", &token).await;
        assert_eq!(history["movements"], movements["items"]);
        assert!(history["movements"]
            .as_array()
            .is_some_and(|m| m.len() >= 2));

        let forecast = ok_get(&app, "/v1/products/milk/forecast", &token).await;
        assert!(forecast["reorder_point"].is_number(), "{forecast}");
        assert_eq!(
            call("get_forecast", json!({ "sku": "milk" })).await,
            forecast
        );

        let refills = ok_get(&app, "/v1/refills", &token).await;
        assert_eq!(
            call("list_refills", json!({})).await["items"],
            refills["items"]
        );
        assert_eq!(
            call("list_refills", json!({ "status": "requested" })).await["items"],
            ok_get(&app, "/v1/refills?status=requested", &token).await["items"]
        );
        let audit = ok_get(&app, &format!("/v1/refills/{refill_id}/audit"), &token).await;
        assert_eq!(
            call("explain_refill", json!({ "refill_id": refill_id })).await,
            audit
        );
        let notes = ok_get(&app, "/v1/notifications", &token).await;
        assert!(notes["items"].as_array().is_some_and(|n| !n.is_empty()));
        assert_eq!(
            call("list_notifications", json!({})).await["items"],
            notes["items"]
        );
    }

    // Another tenant's token sees none of it: the tenant is the token's, never an argument.
    let other = app.manager("globex");
    let missing = call(&app, &other, "check_stock", json!({ "sku": "milk" }))
        .await
        .expect_err("another tenant's sku is unknown");
    assert!(
        missing.starts_with("not_found") && missing.contains("milk"),
        "{missing}"
    );
    let missing = call(
        &app,
        &other,
        "explain_refill",
        json!({ "refill_id": refill_id }),
    )
    .await
    .expect_err("another tenant's refill is unknown");
    assert!(missing.starts_with("not_found"), "{missing}");
    let listed = call(&app, &other, "list_products", json!({}))
        .await
        .expect("list");
    assert_eq!(listed["items"], json!([]));
    // A tenant named in the arguments is refused, not obeyed.
    let refused = call(
        &app,
        &other,
        "check_stock",
        json!({ "sku": "milk", "tenant": "acme" }),
    )
    .await
    .expect_err("no tenant argument");
    assert!(refused.starts_with("invalid_arguments"), "{refused}");
}

async fn writes_run_as_the_caller_once_and_never_for_viewers_or_bad_arguments(backend: Backend) {
    let app = TestApp::start(backend).await;
    let token = app.manager("acme");
    let viewer = app.token("acme", Role::Viewer);
    app.register(&token, "coffee").await;
    let before = app.event_count(&token, "coffee").await;

    // A viewer's write is refused as a tool result, and nothing is appended.
    let refused = call(
        &app,
        &viewer,
        "refill_stock",
        json!({ "sku": "coffee", "quantity": 10, "reason": "running low" }),
    )
    .await
    .expect_err("viewers cannot write");
    assert!(
        refused.starts_with("forbidden") && refused.contains("manager"),
        "{refused}"
    );

    // Bad arguments: each named in the message, none appends anything.
    for (args, needle) in [
        (
            json!({ "sku": "coffee", "quantity": 0, "reason": "x" }),
            "quantity",
        ),
        (
            json!({ "sku": "coffee", "quantity": "ten", "reason": "x" }),
            "quantity",
        ),
        (json!({ "sku": "coffee", "quantity": 10 }), "reason"),
        (
            json!({ "sku": "coffee", "quantity": 10, "reason": "x", "force": true }),
            "force",
        ),
        (
            json!({ "sku": "bad sku!", "quantity": 10, "reason": "x" }),
            "sku",
        ),
    ] {
        let err = call(&app, &token, "refill_stock", args.clone())
            .await
            .expect_err("bad arguments are refused");
        assert!(
            err.starts_with("invalid_arguments") && err.contains(needle),
            "{args}: {err}"
        );
    }
    let unknown = call(&app, &token, "delete_everything", json!({}))
        .await
        .expect_err("no such tool");
    assert!(unknown.starts_with("unknown_tool"), "{unknown}");
    assert_eq!(app.event_count(&token, "coffee").await, before);

    // A manager's write: exactly one event, recorded as the token's subject.
    let refill = call(
        &app,
        &token,
        "refill_stock",
        json!({ "sku": "coffee", "quantity": 10, "reason": "running low" }),
    )
    .await
    .expect("a manager may refill");
    assert_eq!(refill["refill"]["quantity"], 10, "{refill}");
    assert_eq!(refill["refill"]["status"], "requested", "{refill}");
    assert_eq!(refill["product"]["open_refill_id"], refill["refill"]["id"]);
    assert_eq!(app.event_count(&token, "coffee").await, before + 1);
    let events = ok_get(&app, "/v1/products/coffee/events?limit=500", &token).await;
    let last = events["items"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .expect("event");
    assert_eq!(last["type"], "RefillRequested");
    assert_eq!(last["metadata"]["actor"], "user:tester");

    // A second one is refused by the rules (one open refill per product), over either version.
    let conflict = call_in(
        &app,
        &token,
        Version::PerRequest,
        "refill_stock",
        json!({ "sku": "coffee", "quantity": 5, "reason": "again" }),
    )
    .await
    .expect_err("a refill is already open");
    assert!(conflict.starts_with("conflict"), "{conflict}");
    let unknown_sku = call(
        &app,
        &token,
        "refill_stock",
        json!({ "sku": "tea", "quantity": 5, "reason": "x" }),
    )
    .await
    .expect_err("no such product");
    assert!(unknown_sku.starts_with("not_found"), "{unknown_sku}");
    assert_eq!(app.event_count(&token, "coffee").await, before + 1);

    let pinned = call(
        &app,
        &token,
        "set_min_stock",
        json!({ "sku": "coffee", "quantity": 12 }),
    )
    .await
    .expect("a manager may set the minimum");
    assert_eq!(pinned["min_stock"], 12, "{pinned}");
    assert_eq!(app.event_count(&token, "coffee").await, before + 2);
    assert_eq!(app.product(&token, "coffee").await["min_stock"], 12);
}

async fn tokens_and_hosts_are_checked_before_anything_runs(backend: Backend) {
    let app = TestApp::start(backend).await;
    let token = app.manager("acme");
    let list = json!({});
    for bad in [None, Some("not-a-jwt")] {
        let r = rpc(&app, bad, Version::Legacy, "tools/list", list.clone(), &[]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
        assert_eq!(r.content_type, "application/problem+json");
        assert_eq!(r.code(), "unauthorized");
    }
    let expired = {
        let keys = restock_infrastructure::tokens::TokenKeys::new(common::SECRET.as_bytes())
            .expect("keys");
        let tenant = restock_domain::TenantId::parse("acme").expect("tenant");
        keys.issue(
            "tester",
            &tenant,
            Role::Manager,
            Utc::now() - Duration::hours(1),
        )
        .expect("token")
    };
    let r = rpc(
        &app,
        Some(&expired),
        Version::Legacy,
        "tools/list",
        list.clone(),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // DNS rebinding: a page on another name resolving here must not reach the tools.
    let r = rpc(
        &app,
        Some(&token),
        Version::Legacy,
        "tools/list",
        list.clone(),
        &[("host", "evil.example")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = rpc(
        &app,
        Some(&token),
        Version::Legacy,
        "tools/list",
        list.clone(),
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = rpc(
        &app,
        Some(&token),
        Version::Legacy,
        "tools/list",
        list.clone(),
        &[("origin", "http://localhost:5173")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // Only POST: a stateless server has no stream to open (GET) or session to end (DELETE).
    let r = app
        .send(
            reqwest::Method::GET,
            "/mcp",
            Some(&token),
            None,
            &[("accept", "text/event-stream")],
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);

    // Behind a proxy the public name is configured, and then the loopback name is refused.
    let proxied = TestApp::start_with(backend, |c| {
        c.mcp_allowed_hosts = AllowedHosts::parse("mcp.example.com").expect("hosts");
    })
    .await;
    let token = proxied.manager("acme");
    let r = rpc(
        &proxied,
        Some(&token),
        Version::Legacy,
        "tools/list",
        list.clone(),
        &[("host", "mcp.example.com")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = rpc(
        &proxied,
        Some(&token),
        Version::Legacy,
        "tools/list",
        list,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

on_both_stores!(
    the_handshake_answers_both_protocol_versions,
    managers_see_every_tool_and_viewers_the_read_tools,
    every_read_tool_returns_the_figures_of_the_http_api,
    writes_run_as_the_caller_once_and_never_for_viewers_or_bad_arguments,
    tokens_and_hosts_are_checked_before_anything_runs,
);
