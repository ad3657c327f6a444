//! `chat`: the interpreter's answer time over HTTP for questions of every kind, against a tenant
//! with 1,000 products and a year of demand history each (imported) and a forecast for every
//! product, next to GET product measured the same way in the same run (sequential requests,
//! one client, after a warm-up), so the ratio says what answering costs beyond a read.

use super::{percentile, wait_caught_up, Bench};
use anyhow::{bail, Context};
use serde_json::json;
use std::time::Instant;

/// Products in the tenant, and days of history each.
const PRODUCTS: usize = 1_000;
const DAYS: i64 = 365;
/// Products per import request (36,500 rows, under the import's body limit).
const PRODUCTS_PER_IMPORT: usize = 100;

/// Questions of every kind the interpreter answers; `{p}` is a product's name.
const QUESTIONS: &[(&str, &str)] = &[
    ("stock", "how much {p} do we have?"),
    (
        "units sold, one product",
        "how many {p} did we sell last month?",
    ),
    (
        "units sold, every product",
        "quanto vendemos na semana passada?",
    ),
    (
        "daily average",
        "how much {p} do we sell per day on average?",
    ),
    ("best sellers", "qual produto mais vendeu no último mês?"),
    (
        "run out, every product",
        "which products will run out this week?",
    ),
    ("days of cover", "how many days of {p} do we have left?"),
    ("when to buy", "when should I buy {p}?"),
    ("who changed", "who changed the minimum of {p}?"),
    ("supplier", "who supplies {p}?"),
    ("below minimum", "what is below the minimum?"),
    ("proposal", "receive 30 units of {p}"),
];

fn name(p: usize) -> String {
    format!("item {p:04}")
}

async fn seed(bench: &Bench) -> anyhow::Result<()> {
    use futures::StreamExt;
    let (client, base, token) = (&bench.client, &bench.base, &bench.token);
    let created: Vec<anyhow::Result<()>> = futures::stream::iter(0..PRODUCTS)
        .map(|p| async move {
            let r = client
                .put(format!("{base}/v1/products/C{p:04}"))
                .bearer_auth(token)
                .json(&json!({ "name": name(p), "supplier": format!("Supplier {}", p % 7) }))
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("register C{p:04}: {}", r.status());
            }
            let r = client
                .post(format!("{base}/v1/products/C{p:04}/receipts"))
                .bearer_auth(token)
                .json(&json!({ "quantity": 20 + (p % 80) }))
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("receive C{p:04}: {}", r.status());
            }
            Ok(())
        })
        .buffer_unordered(super::CLIENTS)
        .collect()
        .await;
    created.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    let today = chrono::Utc::now().date_naive();
    for chunk in (0..PRODUCTS)
        .collect::<Vec<_>>()
        .chunks(PRODUCTS_PER_IMPORT)
    {
        let mut csv = String::from("date,sku,quantity\n");
        for &p in chunk {
            for back in 1..=DAYS {
                let day = today - chrono::Duration::days(back);
                // A weekly shape around a level that differs per product.
                let q = (p % 9) as i64 + [1, 1, 2, 2, 3, 4, 3][(back % 7) as usize];
                csv.push_str(&format!("{day},C{p:04},{q}\n"));
            }
        }
        let r = client
            .post(format!("{base}/v1/imports/demand-history"))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!(
                "import: {} {}",
                r.status(),
                r.text().await.unwrap_or_default()
            );
        }
    }
    wait_caught_up(&bench.server).await?;
    let started = Instant::now();
    let r = client
        .post(format!("{base}/v1/jobs/recompute-thresholds"))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("recompute: {}", r.status());
    }
    println!(
        "    seeded {PRODUCTS} products x {DAYS} days; recompute {:.1} s",
        started.elapsed().as_secs_f64()
    );
    wait_caught_up(&bench.server).await?;
    Ok(())
}

pub(super) async fn chat(bench: &Bench, rounds: usize) -> anyhow::Result<()> {
    println!(
        "\n[C] chat answers over HTTP (interpreter), {PRODUCTS} products with a year of history:"
    );
    seed(bench).await?;
    let (client, base, token) = (&bench.client, &bench.base, &bench.token);
    let conversation = || async {
        let r = client
            .post(format!("{base}/v1/conversations"))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .await?;
        let body: serde_json::Value = r.json().await?;
        body["id"]
            .as_str()
            .map(str::to_owned)
            .context("a conversation id")
    };
    // GET product, the baseline: the same client, sequential, after the same warm-up.
    let mut reads = Vec::with_capacity(rounds * QUESTIONS.len());
    for i in 0..rounds * QUESTIONS.len() + 20 {
        let started = Instant::now();
        let r = client
            .get(format!("{base}/v1/products/C{:04}", i % PRODUCTS))
            .bearer_auth(token)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("GET product: {}", r.status());
        }
        r.bytes().await?;
        if i >= 20 {
            reads.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let mut all = Vec::new();
    let mut rows = Vec::new();
    for (kind, template) in QUESTIONS {
        let mut samples = Vec::with_capacity(rounds);
        let mut c = conversation().await?;
        for i in 0..rounds + 2 {
            // A new conversation every ten questions, as a person would start one.
            if i % 10 == 9 {
                c = conversation().await?;
            }
            let text = template.replace("{p}", &name((i * 37) % PRODUCTS));
            let started = Instant::now();
            let r = client
                .post(format!("{base}/v1/conversations/{c}/messages"))
                .bearer_auth(token)
                .json(&json!({ "text": text }))
                .send()
                .await?;
            if r.status() != reqwest::StatusCode::CREATED {
                bail!("{text}: {}", r.status());
            }
            let turn: serde_json::Value = r.json().await?;
            if turn["answered_by"] != "interpreter" {
                bail!("{text}: answered by {}", turn["answered_by"]);
            }
            if i >= 2 {
                samples.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        all.extend_from_slice(&samples);
        rows.push((
            *kind,
            percentile(&mut samples, 0.50),
            percentile(&mut samples, 0.99),
        ));
    }
    let (read50, read99) = (percentile(&mut reads, 0.50), percentile(&mut reads, 0.99));
    for (kind, p50, p99) in rows {
        println!("    {kind:<26} p50 {p50:>7.2}  p99 {p99:>7.2} ms");
    }
    let (p50, p99) = (percentile(&mut all, 0.50), percentile(&mut all, 0.99));
    println!(
        "    every question ({} asked)   p50 {p50:>7.2}  p99 {p99:>7.2} ms (target p99 < 20)",
        all.len()
    );
    println!(
        "    GET product ({} reads)       p50 {read50:>7.2}  p99 {read99:>7.2} ms; chat/GET p99 ratio {:.1}x",
        reads.len(),
        p99 / read99
    );
    Ok(())
}
