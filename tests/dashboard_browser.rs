//! The dashboard in a real browser: a server on PostgreSQL with a seeded tenant, then
//! `node --test tests/browser/dashboard.test.mjs` (Debian's chromium driven by playwright-core).
//! `scripts/test` installs chromium and the npm packages when they are missing; run alone
//! without them, this test says why and skips, except in CI (`CI=true`), where it fails.

mod common;

use chrono::Duration;
use common::{eventually, token_for, Backend, TestApp};
use reqwest::StatusCode;
use restock_application::tools::ToolCaller;
use restock_domain::{Sku, TenantId};
use restock_infrastructure::tokens::Role;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const TENANT: &str = "browser";
const BELOW: &str = "SUGAR-2";
const OTHER: &str = "FLOUR-1";
const CHROMIUM: &str = "/usr/bin/chromium";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What is missing to run the browser tests, if anything.
async fn missing_tools() -> Option<String> {
    if !Path::new(CHROMIUM).exists() {
        return Some(format!("{CHROMIUM} is missing (apt-get install chromium)"));
    }
    let node = tokio::process::Command::new("node")
        .arg("--version")
        .output()
        .await;
    if !node.map(|o| o.status.success()).unwrap_or(false) {
        return Some("node is missing (apt-get install nodejs)".into());
    }
    for package in ["playwright-core", "axe-core"] {
        if !repo()
            .join("tests/browser/node_modules")
            .join(package)
            .exists()
        {
            return Some(format!("{package} is missing (npm ci in tests/browser)"));
        }
    }
    None
}

/// `days` of demand ending yesterday, weekly-shaped, as an import CSV.
fn demand_csv(sku: &str, days: i64, base: f64) -> String {
    let today = common::now().date_naive();
    let mut csv = String::from("date,sku,quantity\n");
    for back in (1..=days).rev() {
        let date = today - Duration::days(back);
        let factor = [0.7, 0.8, 1.0, 1.0, 1.1, 1.6, 1.4][(back % 7) as usize];
        let wobble = 0.85 + 0.3 * ((back * 37 % 11) as f64 / 11.0);
        csv.push_str(&format!(
            "{date},{sku},{}\n",
            (base * factor * wobble).round() as i64
        ));
    }
    csv
}

async fn ok(r: common::Reply, what: &str) -> Value {
    assert!(r.status.is_success(), "{what}: {} {:?}", r.status, r.body);
    r.body
}

/// A tenant with a product below its forecast minimum and refilled by the agent, and others.
async fn seed(app: &TestApp, t: &str) -> String {
    for (sku, name, on_hand) in [
        (OTHER, "Flour 1 kg", 200),
        (BELOW, "Sugar 500 g", 300),
        ("SALT-3", "Sea salt <fine> & \"coarse\"", 80),
    ] {
        let body = json!({ "name": name, "lead_time_days": 7 });
        ok(
            app.put(&format!("/v1/products/{sku}"), t, body).await,
            "register",
        )
        .await;
        let body = json!({ "quantity": on_hand, "reference": "opening stock" });
        ok(
            app.post(&format!("/v1/products/{sku}/receipts"), t, body)
                .await,
            "receive",
        )
        .await;
    }
    ok(
        app.put(
            &format!("/v1/products/{OTHER}/min-stock"),
            t,
            json!({ "quantity": 20 }),
        )
        .await,
        "min",
    )
    .await;
    let imported = app.import_csv(t, demand_csv(BELOW, 120, 12.0)).await;
    assert_eq!(imported.status, StatusCode::CREATED, "{:?}", imported.body);
    app.settle().await;
    ok(
        app.post("/v1/jobs/recompute-thresholds", t, json!({}))
            .await,
        "recompute",
    )
    .await;
    eventually("the forecast minimum", || async {
        app.product(t, BELOW).await["min_stock_source"] == "forecast"
    })
    .await;
    let minimum = app.product(t, BELOW).await["min_stock"]
        .as_i64()
        .expect("a forecast minimum");
    assert!(minimum > 10 && minimum < 300, "minimum {minimum}");
    // The as-of view is asked for a whole second between the receipts and the sale.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // Sell down below the minimum: the agent decides on the crossing and orders a refill.
    let sale = json!({ "quantity": 300 - minimum + 5, "reference": "busy weekend" });
    ok(
        app.post(&format!("/v1/products/{BELOW}/sales"), t, sale)
            .await,
        "sell",
    )
    .await;
    let first_refill = || async {
        let r = app.get("/v1/refills", t).await;
        r.body["items"][0]["id"].as_str().map(str::to_owned)
    };
    eventually("the agent's refill", || async {
        first_refill().await.is_some()
    })
    .await;
    let refill = first_refill().await.expect("a refill");
    app.settle().await;
    refill
}

/// What the pages must state, from the tools themselves (the same calls chat and MCP make).
struct Expected {
    /// Units sold in the last 30 days, today included: all of them BELOW's.
    sales_last_30: i64,
    /// BELOW's days of cover and run-out day as the product page writes them.
    days_of_cover: String,
    runs_out: String,
}

async fn expectations(app: &TestApp) -> Expected {
    let caller = ToolCaller::new(TenantId::parse(TENANT).expect("tenant"), "test", false);
    let today = app.today();
    let tools = &app.server.state.tools;
    let sales = tools
        .sales_summary(&caller, None, today - Duration::days(29), today)
        .await
        .expect("a sales summary");
    let below = sales
        .products
        .iter()
        .find(|p| p.sku == BELOW)
        .expect("BELOW");
    assert!(
        below.units > 0 && below.units == sales.total_units,
        "{sales:?}"
    );
    let outlook = tools
        .stock_outlook(&caller, Some(&Sku::parse(BELOW).expect("sku")))
        .await
        .expect("an outlook")
        .items
        .remove(0);
    let cover = outlook
        .days_of_cover
        .expect("BELOW sells: it has days of cover");
    let runs_out = match (outlook.runs_out_on, outlook.projection.last()) {
        (Some(day), _) => format!("on {day}"),
        (None, Some(end)) => format!("not within the forecast horizon (to {})", end.date),
        (None, None) => panic!("BELOW has a forecast: {outlook:?}"),
    };
    Expected {
        sales_last_30: sales.total_units,
        days_of_cover: format!("{cover} days"),
        runs_out,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dashboard_works_in_a_real_browser() {
    if let Some(why) = missing_tools().await {
        common::cannot_run(&format!("browser tests: {why}"));
        return;
    }
    let app = TestApp::start(Backend::Postgres).await;
    let manager = token_for(TENANT, Role::Manager);
    let viewer = token_for(TENANT, Role::Viewer);
    let refill = seed(&app, &manager).await;
    let expected = expectations(&app).await;
    let shots = repo().join("target/screenshots");
    let output = tokio::process::Command::new("node")
        .arg("--test")
        .arg("--test-reporter=spec")
        .arg("tests/browser/dashboard.test.mjs")
        .current_dir(repo())
        .env("BASE_URL", &app.base)
        .env("MANAGER_TOKEN", &manager)
        .env("VIEWER_TOKEN", &viewer)
        .env("BELOW_SKU", BELOW)
        .env("OTHER_SKU", OTHER)
        .env("REFILL_ID", &refill)
        .env("SALES_LAST_30", expected.sales_last_30.to_string())
        .env("DAYS_OF_COVER", &expected.days_of_cover)
        .env("RUNS_OUT", &expected.runs_out)
        .env("SCREENSHOT_DIR", &shots)
        .output()
        .await
        .expect("node runs");
    println!("{}", String::from_utf8_lossy(&output.stdout));
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "the browser tests failed (output above)"
    );
    for page in [
        "login",
        "products",
        "product",
        "sales",
        "products-375",
        "product-375",
        "sales-375",
        "refill-audit",
        "notifications",
    ] {
        let file = shots.join(format!("{page}.png"));
        assert!(file.exists(), "{} was written", file.display());
    }
    app.server.shutdown().await;
}
