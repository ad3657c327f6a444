//! `restock serve --demo`, the README's first command, as a new user runs it: the binary in an
//! empty folder with no configuration (the embedded SQLite default under ./restock-data), read
//! through the token it prints. Every page of the product has something to show, and starting
//! it again on the same folder seeds nothing twice.

use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// A `serve --demo` process and what it printed: its address and the manager token.
struct Demo {
    _child: tokio::process::Child,
    base: String,
    token: String,
}

impl Demo {
    async fn start(dir: &Path) -> Self {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_restock"))
            .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
            .current_dir(dir)
            // What a new user has: none of the test suite's settings.
            .env_remove("DATABASE_URL")
            .env_remove("RESTOCK_JWT_SECRET")
            .env("RESTOCK_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn restock serve --demo");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let (base, token) = tokio::time::timeout(Duration::from_secs(120), async {
            let (mut base, mut token) = (None, None);
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("Restock demo is running at ") {
                    base = Some(url.trim().to_owned());
                } else if line.starts_with("ey") && line.matches('.').count() == 2 {
                    token = Some(line.trim().to_owned());
                }
                if let (Some(b), Some(t)) = (&base, &token) {
                    return (b.clone(), t.clone());
                }
            }
            panic!("serve --demo exited before printing its address and token");
        })
        .await
        .expect("the demo is seeded and listening within 120 s");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            _child: child,
            base,
            token,
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn serve_demo_seeds_a_tenant_every_page_can_show_and_seeds_it_once() {
    let dir = std::env::temp_dir().join(format!("restock-demo-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a folder of its own");
    let demo = Demo::start(&dir).await;
    assert!(
        dir.join("restock-data/restock.db").exists(),
        "the embedded store is the default"
    );

    let (status, products) = demo.get("/v1/products").await;
    assert_eq!(status, StatusCode::OK, "{products}");
    let items = products["items"].as_array().expect("items");
    let skus: Vec<&str> = items.iter().filter_map(|p| p["sku"].as_str()).collect();
    assert_eq!(
        skus,
        ["COFFEE-1KG", "FILTER-100", "MILK-1L", "MUG-CLASSIC"],
        "{products}"
    );
    for p in items {
        assert!(p["on_hand"].as_i64().unwrap_or(0) > 0, "opening stock: {p}");
        assert_eq!(
            p["min_stock_source"], "forecast",
            "a minimum from the year of history, right away: {p}"
        );
    }

    let (status, forecast) = demo.get("/v1/products/MILK-1L/forecast").await;
    assert_eq!(status, StatusCode::OK, "{forecast}");
    assert!(
        forecast["forecast"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "{forecast}"
    );

    // Prices are seeded, so the purchase plan answers instead of 404.
    for sku in ["COFFEE-1KG", "MILK-1L", "FILTER-100"] {
        let (status, plan) = demo.get(&format!("/v1/products/{sku}/purchase-plan")).await;
        assert_eq!(status, StatusCode::OK, "{sku}: {plan}");
        assert!(
            plan["history"].as_array().is_some_and(|h| h.len() >= 60),
            "{sku}: {plan}"
        );
        assert!(
            plan["unit_price_today"].as_f64().is_some_and(|p| p > 0.0),
            "{plan}"
        );
    }

    let (_, before) = demo.get("/v1/products/COFFEE-1KG/events?limit=500").await;
    drop(demo);

    // A second start on the same folder: a new token, the same events.
    let again = Demo::start(&dir).await;
    let (status, after) = again.get("/v1/products/COFFEE-1KG/events?limit=500").await;
    assert_eq!(status, StatusCode::OK, "{after}");
    let count = |v: &Value| v["items"].as_array().map(Vec::len);
    assert!(count(&before).is_some_and(|n| n >= 3), "{before}");
    assert_eq!(
        count(&after),
        count(&before),
        "seeding twice records nothing"
    );
    drop(again);
    let _ = std::fs::remove_dir_all(&dir);
}
