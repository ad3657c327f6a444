//! End-to-end decision latency through a real server with the policy backend: from the
//! crossing sale's commit to the refill event's commit (projection, worker, decision record,
//! command), read back from each refill's audit.

use crate::sim::percentile;
use anyhow::{bail, Context};
use restock_api::{RunningServer, ServerConfig};
use restock_domain::TenantId;
use restock_infrastructure::testing::fresh_database_url;
use restock_infrastructure::tokens::{Role, TokenKeys};
use restock_infrastructure::Backend;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SECRET: &str = "bench-secret-that-is-long-enough-0123456789";

fn millis_between(a: &Value, b: &Value) -> Option<f64> {
    let parse = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str()?).ok();
    Some((parse(b)? - parse(a)?).num_microseconds()? as f64 / 1000.0)
}

pub async fn run(backend: Backend, crossings: usize) -> anyhow::Result<()> {
    let url = fresh_database_url(backend).await?;
    let server = RunningServer::start(&ServerConfig {
        jwt_secret: Some(SECRET.into()),
        rate_limit: restock_api::rate_limit::RateLimit::off(),
        ..ServerConfig::new(url)
    })
    .await?;
    let base = server.base_url();
    let token = TokenKeys::new(SECRET.as_bytes())?.issue(
        "bench",
        &TenantId::parse("bench")?,
        Role::Manager,
        chrono::Utc::now() + chrono::Duration::hours(1),
    )?;
    let client = reqwest::Client::new();
    let send = |method: reqwest::Method, path: String, body: Value| {
        client
            .request(method, format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    for i in 0..crossings {
        let sku = format!("E{i:04}");
        send(
            reqwest::Method::PUT,
            format!("/v1/products/{sku}"),
            json!({ "name": sku }),
        )
        .await?;
        send(
            reqwest::Method::POST,
            format!("/v1/products/{sku}/receipts"),
            json!({ "quantity": 10 }),
        )
        .await?;
        send(
            reqwest::Method::PUT,
            format!("/v1/products/{sku}/min-stock"),
            json!({ "quantity": 5 }),
        )
        .await?;
    }
    // One crossing at a time, spaced out: the latency of a decision, not of a queue.
    for i in 0..crossings {
        let r = send(
            reqwest::Method::POST,
            format!("/v1/products/E{i:04}/sales"),
            json!({ "quantity": 6 }),
        )
        .await?;
        if !r.status().is_success() {
            bail!("sale refused: {}", r.status());
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let started = Instant::now();
    let refills = loop {
        let r: Value = send(
            reqwest::Method::GET,
            "/v1/refills?limit=500".into(),
            Value::Null,
        )
        .await?
        .json()
        .await?;
        let items = r["items"].as_array().cloned().unwrap_or_default();
        if items.len() >= crossings {
            break items;
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("only {} of {crossings} refills after 60 s", items.len());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (mut end_to_end, mut deciding) = (Vec::new(), Vec::new());
    for refill in &refills {
        let id = refill["id"].as_str().context("refill id")?;
        let audit: Value = send(
            reqwest::Method::GET,
            format!("/v1/refills/{id}/audit"),
            Value::Null,
        )
        .await?
        .json()
        .await?;
        if let Some(ms) = millis_between(
            &audit["trigger"]["recorded_at"],
            &audit["events"][0]["recorded_at"],
        ) {
            end_to_end.push(ms);
        }
        if let Some(ms) = audit["decision"]["latency_ms"].as_f64() {
            deciding.push(ms);
        }
    }
    end_to_end.sort_by(f64::total_cmp);
    deciding.sort_by(f64::total_cmp);
    println!(
        "\n[3] {backend:?}, {} crossings one by one: crossing sale committed -> refill event committed: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        end_to_end.len(),
        percentile(&end_to_end, 0.5),
        percentile(&end_to_end, 0.99),
        end_to_end.last().copied().unwrap_or(0.0),
    );
    println!(
        "    of which the decision itself (recorded latency_ms): p50 {:.3} ms, p99 {:.3} ms",
        percentile(&deciding, 0.5),
        percentile(&deciding, 0.99)
    );
    server.shutdown().await;
    Ok(())
}
