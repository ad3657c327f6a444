//! Operations endpoints and the OpenAPI contract.

mod common;

use common::{Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use tokio::io::AsyncBufReadExt;

async fn health_readiness_and_metrics(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    assert_eq!(app.get("/healthz", "").await.status, StatusCode::OK);
    let ready = app.get("/readyz", "").await;
    assert_eq!(
        (ready.status, ready.body["status"].clone()),
        (StatusCode::OK, json!("ready"))
    );
    app.register(&t, "A").await;
    app.settle().await;
    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for needle in [
        "restock_projection_events_behind{projection=\"stock_levels\"} 0",
        "restock_projection_seconds_behind{projection=\"reservations\"}",
        "restock_http_requests_total{method=\"PUT\",route=\"/v1/products/{sku}\",status=\"201\"} 1",
        "restock_events_appended_total 1",
    ] {
        assert!(text.contains(needle), "metrics lack {needle:?}:\n{text}");
    }
}

async fn unknown_routes_and_methods_are_problems(backend: Backend) {
    let app = TestApp::start(backend).await;
    let r = app.get("/v2/nothing", "").await;
    assert_eq!(
        (r.status, r.content_type.as_str(), r.code()),
        (
            StatusCode::NOT_FOUND,
            "application/problem+json",
            "not_found"
        )
    );
    let r = app
        .send(Method::DELETE, "/v1/products", None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.content_type, "application/problem+json");
}

/// Every operation in /openapi.json is routed: none falls through to "no such route" or 405.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_documented_operation_is_served() {
    let app = TestApp::start(Backend::Sqlite).await;
    let t = app.manager("shop");
    let doc = app.get("/openapi.json", "").await.body;
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 15, "the document lists the API");
    for (path, item) in paths {
        let concrete = path
            .replace("{sku}", "A")
            .replace("{id}", "00000000-0000-0000-0000-000000000000");
        for method in item.as_object().expect("operations").keys() {
            let method: Method = method.to_uppercase().parse().expect("method");
            let r = app
                .send(method.clone(), &concrete, Some(&t), None, &[])
                .await;
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_ne!(
                r.body["detail"], "no such route",
                "{method} {path} is documented but not routed"
            );
        }
    }
}

/// The operations (`METHOD /path`) the server's router routes, read from the router itself.
///
/// axum's `Router` has no listing API, but its `Debug` output names every registered path
/// (`node: Node { paths: {RouteId(n): "/path", ..} }`) and, per route id, the `Allow` header it
/// built from the methods routed there (`allow_header: Bytes(b"GET,HEAD,PUT")`). A route that
/// accepts any method (`any`, `route_service`, `nest_service`) is reported as `ANY /path`.
fn routed_operations(router_debug: &str) -> BTreeSet<String> {
    // Only the path router: the fallback router holds the 404 fallback, not routes.
    let path_router = router_debug
        .split(", fallback_router:")
        .next()
        .expect("path router");
    let (routes, paths) = path_router
        .split_once("node: Node { paths: {")
        .expect("axum's Router Debug names its paths (did its format change?)");
    let by_id = |text: &str| -> Vec<(u32, String)> {
        text.split("RouteId(")
            .skip(1)
            .map(|chunk| {
                let (id, rest) = chunk.split_once(')').expect("route id");
                (id.parse().expect("numeric route id"), rest.to_owned())
            })
            .collect()
    };
    let path_of: BTreeMap<u32, String> = by_id(paths)
        .into_iter()
        .map(|(id, rest)| {
            let quoted = rest.split('"').nth(1).expect("quoted path");
            (id, quoted.to_owned())
        })
        .collect();
    let mut routed = BTreeSet::new();
    for (id, endpoint) in by_id(routes) {
        let path = &path_of[&id];
        let methods = endpoint
            .split_once("allow_header: Bytes(b\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(allow, _)| allow.to_owned())
            .unwrap_or_else(|| "ANY".to_owned());
        for method in methods.split(',').filter(|m| *m != "HEAD") {
            routed.insert(format!("{method} {path}"));
        }
    }
    routed
}

/// Every routed path+method is documented in /openapi.json and every documented one is routed.
///
/// The routes come from the router the server runs (`routes::router`), enumerated from the built
/// router (see `routed_operations`), not from the list the document is made from. So a route
/// added without documentation, by `Router::route` or `OpenApiRouter::route` or a merged plain
/// router, is in `routed` and not in `documented`, and this test fails naming it. (A handler
/// without `#[utoipa::path]` cannot go through the documented list at all: `routes!` needs it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_route_is_documented_and_every_documented_operation_is_routed() {
    let app = TestApp::start(Backend::Sqlite).await;
    let router = restock_api::routes::router(app.server.state.clone());
    let mut routed = routed_operations(&format!("{router:?}"));
    // The HTML dashboard (`/`, `/login`, `/logout`, `/ui/...`: pages, forms and their assets) is
    // not part of the JSON API, so it is not in the OpenAPI document; it is set aside here by
    // exactly these paths, so any other undocumented route still fails this test.
    let dashboard = |op: &String| {
        let path = op.split_once(' ').map(|(_, p)| p).unwrap_or_default();
        matches!(path, "/" | "/login" | "/logout") || path.starts_with("/ui/")
    };
    let pages: BTreeSet<String> = routed.iter().filter(|op| dashboard(op)).cloned().collect();
    assert!(
        pages.contains("GET /") && pages.contains("POST /login"),
        "the dashboard is routed: {pages:?}"
    );
    routed.retain(|op| !dashboard(op));
    // Not REST, so not in the OpenAPI document: `/mcp` is JSON-RPC (MCP), described in
    // docs/api.md's MCP section and tested in tests/mcp.rs.
    const NOT_API: [&str; 1] = ["/mcp"];
    routed.retain(|op| {
        !NOT_API
            .iter()
            .any(|p| op.split_once(' ').is_some_and(|(_, path)| path == *p))
    });
    assert!(
        routed.len() >= 25 && routed.contains("PUT /v1/products/{sku}"),
        "the router's routes were read: {routed:?}"
    );
    let doc = app.get("/openapi.json", "").await.body;
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if [
                "get", "put", "post", "delete", "patch", "options", "head", "trace",
            ]
            .contains(&method.as_str())
            {
                documented.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routed but not documented: {undocumented:?}; documented but not routed: {unrouted:?}"
    );
}

/// `/docs` is Swagger UI served from the binary: the page and every asset it references come
/// from this server, by relative URLs, and it reads this server's `/openapi.json`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_docs_page_needs_nothing_from_the_internet() {
    let app = TestApp::start(Backend::Sqlite).await;
    let res = app
        .client
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .expect("docs");
    assert_eq!(res.status(), StatusCode::OK);
    let page_url = res.url().clone();
    assert_eq!(page_url.path(), "/docs/", "assets are relative to /docs/");
    let html = res.text().await.expect("html");
    for external in ["http://", "https://", "//cdn"] {
        assert!(!html.contains(external), "docs reference {external}");
    }
    // Every `src="..."` and `href="..."` of the page: relative, and served by this server.
    let mut assets = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for chunk in html.split(attr).skip(1) {
            let url = chunk.split('"').next().expect("quoted url");
            assert!(!url.starts_with("//"), "protocol-relative asset {url}");
            assets.push(url.to_owned());
        }
    }
    assert!(
        assets.iter().any(|a| a.ends_with("swagger-ui-bundle.js"))
            && assets.iter().any(|a| a.ends_with("swagger-ui.css")),
        "the page loads Swagger UI: {assets:?}"
    );
    let mut initializer = String::new();
    for asset in &assets {
        let url = page_url.join(asset).expect("asset url");
        assert_eq!(url.host_str(), page_url.host_str(), "{asset} is local");
        let res = app.client.get(url.clone()).send().await.expect("asset");
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        let body = res.bytes().await.expect("asset body");
        assert!(!body.is_empty(), "{url} is empty");
        if asset.ends_with("swagger-initializer.js") {
            initializer = String::from_utf8(body.to_vec()).expect("utf-8");
        }
    }
    assert!(
        initializer.contains("\"/openapi.json\""),
        "the page reads this server's document:\n{initializer}"
    );
    assert!(
        !initializer.contains("http://") && !initializer.contains("https://"),
        "the page asks no outside service (no online validator):\n{initializer}"
    );
}

on_both_stores!(
    health_readiness_and_metrics,
    unknown_routes_and_methods_are_problems
);

/// Postgres: the read tables themselves refuse other tenants' rows to the server's tenant role,
/// even for a query with no tenant filter.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn row_level_security_hides_other_tenants_rows() {
    let app = TestApp::start(Backend::Postgres).await;
    for tenant in ["a", "b"] {
        let t = app.manager(tenant);
        app.register(&t, "X").await;
        app.post("/v1/products/X/receipts", &t, json!({ "quantity": 2 }))
            .await;
        app.post("/v1/products/X/sales", &t, json!({ "quantity": 1 }))
            .await;
        app.post("/v1/products/X/reservations", &t, json!({ "quantity": 1 }))
            .await;
    }
    app.settle().await;
    for table in [
        "products",
        "movements",
        "daily_demand",
        "reservations",
        "events",
        "stream_aliases",
    ] {
        let mut tx = app
            .server
            .state
            .db
            .begin_tenant_read("a")
            .await
            .expect("tenant tx");
        let restock_infrastructure::DbTx::Postgres(pg) = &mut tx else {
            panic!("postgres")
        };
        let tenants: Vec<String> =
            sqlx::query_scalar(&format!("SELECT DISTINCT tenant_id FROM {table}"))
                .fetch_all(&mut **pg)
                .await
                .expect("select");
        assert_eq!(tenants, vec!["a".to_owned()], "{table}");
    }
}

/// SIGTERM lets the server finish and exit cleanly; the CLI reports projection status.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_shuts_down_cleanly_and_the_cli_reports_projections() {
    let url = restock_infrastructure::testing::fresh_database_url(Backend::Sqlite)
        .await
        .expect("db");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_restock"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &url])
        .env("RESTOCK_JWT_SECRET", common::SECRET)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // SIGTERM before the server has installed its handler would simply kill it (a fixed sleep
    // was not always long enough on a loaded machine): wait for it to say it is listening.
    let logs = child.stderr.take().expect("stderr");
    let mut lines = tokio::io::BufReader::new(logs).lines();
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("read the logs") {
            if line.contains("restock listening") {
                return;
            }
        }
        panic!("the server exited before listening");
    })
    .await
    .expect("listening within 30 s");
    // Keep draining, so the server never blocks on a full pipe while shutting down.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let pid = child.id().expect("pid").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .expect("exits within 10 s")
        .expect("status");
    assert!(status.success(), "exit status {status:?}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_restock"))
        .args(["projections", "status", "--json", "--database-url", &url])
        .output()
        .expect("status");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let statuses: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let names: Vec<&str> = statuses
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        names.contains(&"stock_levels") && names.contains(&"reservations"),
        "{names:?}"
    );

    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_restock"))
        .args(["serve", "--database-url", &url])
        .env("RESTOCK_BIND", "localhost")
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("RESTOCK_BIND"),
        "a bad value names its variable"
    );
}
