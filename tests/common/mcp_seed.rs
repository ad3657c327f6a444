//! The data the MCP tests read: one tenant whose every read tool has something to show.

use super::{eventually, TestApp};
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn ok_get(app: &TestApp, path: &str, token: &str) -> Value {
    let r = app.get(path, token).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.body);
    r.body
}

/// A year-less demand history: 56 days of milk with a weekly pattern.
fn milk_history() -> String {
    let today = super::now().date_naive();
    let mut csv = String::from("date,sku,quantity\n");
    for back in 1..=56 {
        let date = today - Duration::days(back);
        csv.push_str(&format!("{date},milk,{}\n", 10 + (back % 7) * 2));
    }
    csv
}

/// A tenant's data: milk (history, forecast, stock), coffee, and tea, which runs empty so the
/// agent opens a refill and writes a notification. Returns that refill's id.
pub async fn seed(app: &TestApp, token: &str) -> String {
    for (sku, name) in [
        ("milk", "Whole milk"),
        ("coffee", "Coffee beans"),
        ("tea", "Green tea"),
    ] {
        let r = app
            .put(
                &format!("/v1/products/{sku}"),
                token,
                json!({ "name": name }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    assert_eq!(
        app.import_csv(token, milk_history()).await.status,
        StatusCode::CREATED
    );
    for (sku, received, sold) in [("milk", 120, 7), ("coffee", 40, 0), ("tea", 5, 5)] {
        let r = app
            .post(
                &format!("/v1/products/{sku}/receipts"),
                token,
                json!({ "quantity": received }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        if sku == "tea" {
            let r = app
                .put(
                    "/v1/products/tea/min-stock",
                    token,
                    json!({ "quantity": 3 }),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        }
        if sold > 0 {
            let r = app
                .post(
                    &format!("/v1/products/{sku}/sales"),
                    token,
                    json!({ "quantity": sold }),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        }
    }
    app.settle().await;
    let r = app
        .post("/v1/jobs/recompute-thresholds", token, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    eventually("the agent's refill and notification for tea", || async {
        let refills = app.get("/v1/refills", token).await.body["items"].clone();
        let notes = app.get("/v1/notifications", token).await.body["items"].clone();
        refills.as_array().is_some_and(|r| r.len() == 1)
            && notes.as_array().is_some_and(|n| !n.is_empty())
    })
    .await;
    app.settle().await;
    let refills = ok_get(app, "/v1/refills", token).await;
    refills["items"][0]["id"]
        .as_str()
        .expect("refill id")
        .to_owned()
}
