//! `restock-bench`: the core's performance figures, each next to a baseline measured in the same
//! run on the same machine. Run against PostgreSQL:
//!
//! ```sh
//! cargo run --release -p restock-bench -- [--seconds 10] [--admin-url postgres://postgres@127.0.0.1:5432/postgres]
//! ```
//!
//! `core` (the default, with the others):
//! 1. commands/s through HTTP, 16 clients on distinct products, vs pgbench running a one-row
//!    insert transaction of the same shape into an `events`-shaped table. The clients are a
//!    minimal keep-alive HTTP/1.1 loop (load.rs), as lean as pgbench is; the same load sent
//!    with reqwest is printed after it;
//! 2. command latency on a product with 100k events vs a fresh product;
//! 3. projection rebuild speed (events/s);
//! 4. GET product latency p50/p99 at a steady 500 requests/s.
//!
//! `reservations`: reservations/s through HTTP on one hot product and spread over many.
//!
//! `thresholds`: recompute time for 10,000 products x 730 days of demand history.
//!
//! `backtest`: `restock backtest` on ../shared/data/store-item-demand-sample.csv (its table, and
//! throughput in series x days per second). Needs no database.
//!
//! `llm` (only when asked for): one agent decision's latency and tokens against a model server
//! (`--llm-base-url URL --llm-model NAME`), next to the policy's; see llm.rs.
//!
//! `soak` (only when asked for): mixed traffic from several tenants against a `restock serve`
//! process killed with SIGKILL half-way; see soak.rs.
//!
//! `chat`: the interpreter's answer p50/p99 over HTTP for every kind of question, 1,000
//! products with a year of history, next to GET product in the same run; see chat.rs.
//!
//! Pick with `--only core|reservations|thresholds|backtest|dashboard|chat`; `--only commands` (figure 1),
//! `--only rebuild --database-url URL` (figure 3 on a database a `core` run left) and
//! `--only fitting` repeat one figure.

mod chat;
mod cpu;
mod llm;
mod load;
mod soak;

use anyhow::{bail, Context};
use cpu::{CpuSample, CpuUsed};
use restock_api::{RunningServer, ServerConfig};
use restock_domain::TenantId;
use restock_infrastructure::tokens::{Role, TokenKeys};
use restock_infrastructure::Db;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "bench-secret-that-is-long-enough-0123456789";
const CLIENTS: usize = 16;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seconds: u64 = flag("--seconds")
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10);
    let admin =
        flag("--admin-url").unwrap_or_else(restock_infrastructure::testing::postgres_admin_url);
    std::env::set_var("TEST_DATABASE_URL", &admin);
    println!(
        "machine: {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
    );
    let only = flag("--only");
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
    // Each section on a database of its own, so that one's events do not weigh on another's
    // figures (the rebuild in particular replays everything in its database).
    if wanted("core") {
        let bench = Bench::start().await?;
        core(&bench, seconds).await?;
        let url = bench.finish().await;
        rebuild(&url).await?;
    }
    // Figure 3 alone, on a database an earlier `core` run left behind (its URL is printed).
    if only.as_deref() == Some("rebuild") {
        let url = flag("--database-url").context("--only rebuild needs --database-url URL")?;
        rebuild(&url).await?;
    }
    // Section 1 alone, for comparing changes to the write path run against run.
    if only.as_deref() == Some("commands") {
        let bench = Bench::start().await?;
        command_rate(&bench, seconds).await?;
        bench.finish().await;
    }
    if wanted("reservations") {
        let bench = Bench::start().await?;
        reservations(&bench.client, &bench.base, &bench.token, seconds).await?;
        bench.finish().await;
    }
    if wanted("backtest") {
        backtest(flag("--sample").as_deref())?;
    }
    // The CPU floor of the recompute alone: its model fits, no database.
    if only.as_deref() == Some("fitting") {
        let products: usize = flag("--products")
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(10_000);
        let today = chrono::Utc::now().date_naive();
        let secs = fitting_seconds(products, today)?;
        println!("\n[F] model fitting, {products} products x 730 days, 2 threads: {secs:.1} s");
    }
    if wanted("thresholds") {
        let products: usize = flag("--products")
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(10_000);
        let bench = Bench::start().await?;
        thresholds(&bench, products).await?;
        bench.finish().await;
    }
    if wanted("dashboard") {
        let bench = Bench::start().await?;
        dashboard(&bench, 1_000, 200).await?;
        bench.finish().await;
    }
    if wanted("chat") {
        let rounds: usize = flag("--rounds")
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(50);
        let bench = Bench::start().await?;
        chat::chat(&bench, rounds).await?;
        bench.finish().await;
    }
    // Minutes long and kills a server, so only when asked for.
    if only.as_deref() == Some("soak") {
        let number = |name: &str, default: u64| -> anyhow::Result<u64> {
            Ok(flag(name)
                .map(|s| s.parse())
                .transpose()?
                .unwrap_or(default))
        };
        soak::soak(soak::SoakConfig {
            seconds: number("--soak-seconds", 240)?,
            tenants: usize::try_from(number("--tenants", 4)?)?,
            clients: usize::try_from(number("--clients", 2)?)?,
            server_bin: match flag("--server-bin") {
                Some(path) => path.into(),
                None => soak::SoakConfig::default_server_bin()?,
            },
            no_kill: args.iter().any(|a| a == "--soak-no-kill"),
        })
        .await?;
    }
    // Needs a model server, so only when asked for.
    if only.as_deref() == Some("llm") {
        let base = flag("--llm-base-url").context("--only llm needs --llm-base-url URL")?;
        let model = flag("--llm-model").context("--only llm needs --llm-model NAME")?;
        let decisions: usize = flag("--decisions")
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(20);
        llm::llm(&base, &model, decisions).await?;
    }
    Ok(())
}

/// Dashboard page times (issue 14: p99 under 50 ms for a tenant with 1,000 products on
/// PostgreSQL): each page fetched `n` times in a row with a session cookie, after a warm-up.
async fn dashboard(bench: &Bench, products: usize, n: usize) -> anyhow::Result<()> {
    use futures::StreamExt;
    let seeded: Vec<anyhow::Result<()>> = futures::stream::iter(0..products)
        .map(|p| {
            let (client, base, token) = (&bench.client, &bench.base, &bench.token);
            async move {
                let sku = format!("D{p:05}");
                put(client, base, token, &sku).await?;
                stock(client, base, token, &sku, 10 + (p as i64 % 50)).await?;
                // Every tenth below a manual minimum, so the page has both kinds to sort.
                if p % 10 == 0 {
                    let r = client
                        .put(format!("{base}/v1/products/{sku}/min-stock"))
                        .bearer_auth(token)
                        .json(&json!({ "quantity": 100 }))
                        .send()
                        .await?;
                    if !r.status().is_success() {
                        bail!("min-stock {sku}: {}", r.status());
                    }
                }
                Ok(())
            }
        })
        .buffer_unordered(CLIENTS)
        .collect()
        .await;
    seeded.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    wait_caught_up(&bench.server).await?;
    let cookie = format!("restock_session={}", bench.token);
    println!(
        "
[D] dashboard pages, {products} products, {n} sequential requests each (ms):"
    );
    for (name, path) in [
        ("products (200 rows)", "/"),
        ("search fragment", "/ui/products?q=D0004"),
        ("one product", "/ui/products/D00042"),
        ("refills", "/ui/refills"),
        ("notifications", "/ui/notifications"),
    ] {
        let mut samples = Vec::with_capacity(n);
        for i in 0..n + 10 {
            let started = Instant::now();
            let r = bench
                .client
                .get(format!("{}{path}", bench.base))
                .header("cookie", &cookie)
                .send()
                .await?;
            if r.status() != reqwest::StatusCode::OK {
                bail!("{path}: {}", r.status());
            }
            r.bytes().await?;
            if i >= 10 {
                samples.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        println!(
            "    {name:<22} p50 {:>6.2}  p99 {:>6.2}",
            percentile(&mut samples, 0.50),
            percentile(&mut samples, 0.99)
        );
    }
    Ok(())
}

/// The backtest on the real sample: `date,store,item,sales` becomes `date,sku,quantity` with
/// sku `s{store}-i{item}`, as in the README.
fn backtest(sample: Option<&str>) -> anyhow::Result<()> {
    use restock_application::forecast::{run_backtest, BacktestOptions};
    let path = sample.unwrap_or(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/store-item-demand-sample.csv"
    ));
    let raw = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let mut csv = String::from("date,sku,quantity\n");
    let mut input_days = 0usize;
    for line in raw.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let [date, store, item, sales] = f[..] else {
            bail!("{path}: expected date,store,item,sales, got {line}");
        };
        csv.push_str(&format!("{date},s{store}-i{item},{sales}\n"));
        input_days += 1;
    }
    let options = BacktestOptions::default();
    let started = Instant::now();
    let report = run_backtest(&csv, chrono::Utc::now().date_naive(), options)?;
    let secs = started.elapsed().as_secs_f64();
    println!("\n[B] backtest on {path}\n{}", report.to_table());
    println!(
        "    {input_days} series-days replayed in {secs:.1} s on {} threads = {:.0} series x days/s",
        options.threads,
        input_days as f64 / secs
    );
    Ok(())
}

/// A manager's token for `tenant`, valid for the length of any run.
fn manager_token(tenant: &TenantId) -> anyhow::Result<String> {
    Ok(TokenKeys::new(SECRET.as_bytes())?.issue(
        "bench",
        tenant,
        Role::Manager,
        chrono::Utc::now() + chrono::Duration::hours(2),
    )?)
}

/// A server on a fresh PostgreSQL database, and a client with a manager token for it.
struct Bench {
    server: RunningServer,
    url: String,
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Bench {
    async fn start() -> anyhow::Result<Self> {
        let url = restock_infrastructure::testing::fresh_database_url(
            restock_infrastructure::Backend::Postgres,
        )
        .await?;
        println!("\ndatabase {url}");
        let server = RunningServer::start(&ServerConfig {
            jwt_secret: Some(SECRET.into()),
            // One tenant at full speed is what these figures measure.
            rate_limit: restock_api::rate_limit::RateLimit::off(),
            ..ServerConfig::new(url.clone())
        })
        .await?;
        let base = server.base_url();
        let token = manager_token(&TenantId::parse("bench")?)?;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Self {
            server,
            url,
            base,
            token,
            client,
        })
    }

    /// Stop the server; the database stays for a rebuild. Returns its URL.
    async fn finish(self) -> String {
        self.server.shutdown().await;
        self.url
    }
}

/// Rebuild speed (figure 3) over everything the run wrote, with the server stopped so that no
/// live runner shares the work.
async fn rebuild(url: &str) -> anyhow::Result<()> {
    let db = Db::connect(url).await?;
    let store = restock_infrastructure::event_store::event_store_for(&db);
    for runner in restock_api::server::runners(&db, &store) {
        let started = Instant::now();
        runner.reset().await?;
        let applied = runner.catch_up().await?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "\n[3] rebuild {}: {applied} events in {secs:.2} s = {:.0} events/s (target >= 50k)",
            runner.name(),
            applied as f64 / secs
        );
    }
    db.close().await;
    Ok(())
}

async fn core(bench: &Bench, seconds: u64) -> anyhow::Result<()> {
    let (server, client, base, token) = (
        &bench.server,
        &bench.client,
        bench.base.clone(),
        bench.token.clone(),
    );
    command_rate(bench, seconds).await?;

    // 2. Latency on a long stream vs a fresh one.
    put(client, &base, &token, "LONG").await?;
    put(client, &base, &token, "FRESH").await?;
    seed_long_stream(&server.state.db, "LONG", 100_000).await?;
    // The first command on LONG folds the seeded events once and writes a snapshot. Let the
    // projections digest the seeded events before timing, so they do not compete for the CPU.
    receipt(client, &base, &token, "LONG").await?;
    wait_caught_up(server).await?;
    let long = latencies(client, &base, &token, "LONG", 300).await?;
    let fresh = latencies(client, &base, &token, "FRESH", 300).await?;
    println!(
        "\n[2] command latency p50/p99, 100k-event product: {:.2}/{:.2} ms",
        long.0, long.1
    );
    println!(
        "    command latency p50/p99, fresh product:      {:.2}/{:.2} ms",
        fresh.0, fresh.1
    );
    println!("    ratio p50: {:.2}x (target within 2x)", long.0 / fresh.0);

    // 4. Reads at a steady rate.
    let (p50, p99, n) =
        steady_reads(client, &base, &token, 500, Duration::from_secs(seconds)).await?;
    println!("\n[4] GET product at 500 req/s for {seconds} s ({n} requests): p50 {p50:.2} ms, p99 {p99:.2} ms");
    Ok(())
}

/// 1. Commands/s through HTTP next to pgbench's one-row insert transactions, same database.
async fn command_rate(bench: &Bench, seconds: u64) -> anyhow::Result<()> {
    let (client, base, token) = (&bench.client, &bench.base, &bench.token);
    for i in 0..CLIENTS {
        put(client, base, token, &format!("P{i}")).await?;
    }
    let before = CpuSample::now();
    let restock_rate =
        command_throughput(bench.server.addr, token, Duration::from_secs(seconds)).await?;
    let used = CpuSample::used_since(before);
    let before = CpuSample::now();
    let pgbench_rate = pgbench_insert_rate(&bench.url, seconds)?;
    let pgbench_used = CpuSample::used_since(before);
    println!("\n[1] commands/s via HTTP, {CLIENTS} clients, distinct products: {restock_rate:.0}");
    if let Some(used) = used {
        let per_command = |d| CpuUsed::micros_per(d, restock_rate * seconds as f64);
        println!(
            "    {used}: {:.0} + {:.0} us per command",
            per_command(used.restock),
            per_command(used.postgres)
        );
    }
    println!("    pgbench one-row insert transaction, {CLIENTS} clients:        {pgbench_rate:.0}");
    if let Some(used) = pgbench_used {
        let per_insert = |d| CpuUsed::micros_per(d, pgbench_rate * seconds as f64);
        println!(
            "    CPU: pgbench {:.1} s, PostgreSQL {:.1} s: {:.0} + {:.0} us per insert",
            used.children.as_secs_f64(),
            used.postgres.as_secs_f64(),
            per_insert(used.children),
            per_insert(used.postgres)
        );
    }
    println!(
        "    ratio: {:.0}% (target >= 50%)",
        100.0 * restock_rate / pgbench_rate
    );
    // The same load through a general-purpose client, for scale: its own CPU comes out of
    // the server's share (see load.rs).
    let via_reqwest =
        command_throughput_reqwest(client, base, token, Duration::from_secs(seconds)).await?;
    println!("    the same load sent with reqwest: {via_reqwest:.0} commands/s");
    Ok(())
}

/// Reservations/s with 16 clients: all on one hot product, then each on its own product.
async fn reservations(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    seconds: u64,
) -> anyhow::Result<()> {
    put(client, base, token, "HOT").await?;
    stock(client, base, token, "HOT", 1_000_000_000).await?;
    for i in 0..CLIENTS {
        put(client, base, token, &format!("R{i}")).await?;
        stock(client, base, token, &format!("R{i}"), 1_000_000_000).await?;
    }
    let hot = reserve_rate(client, base, token, |_| "HOT".to_owned(), seconds).await?;
    let spread = reserve_rate(client, base, token, |i| format!("R{i}"), seconds).await?;
    println!("\n[R] reservations/s, {CLIENTS} clients: one hot product {hot:.0}, spread over {CLIENTS} products {spread:.0}");
    Ok(())
}

async fn stock(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    sku: &str,
    quantity: i64,
) -> anyhow::Result<()> {
    let r = client
        .post(format!("{base}/v1/products/{sku}/receipts"))
        .bearer_auth(token)
        .json(&json!({ "quantity": quantity }))
        .send()
        .await?;
    if r.status() != reqwest::StatusCode::CREATED {
        bail!("stock {sku}: {}", r.status());
    }
    Ok(())
}

async fn reserve_rate(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    sku_for: impl Fn(usize) -> String,
    seconds: u64,
) -> anyhow::Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (client, url, token, done) = (
                client.clone(),
                format!("{base}/v1/products/{}/reservations", sku_for(i)),
                token.to_owned(),
                done.clone(),
            );
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let ok = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({ "quantity": 1, "ttl_seconds": 3600 }))
                        .send()
                        .await
                        .map(|r| r.status() == reqwest::StatusCode::CREATED)
                        .unwrap_or(false);
                    if ok {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

/// Seed `products` products with 730 days of demand each, then time one recompute of them all.
async fn thresholds(bench: &Bench, products: usize) -> anyhow::Result<()> {
    let server = &bench.server;
    use restock_application::demand_import::{record_demand_history, DemandHistory};
    use restock_domain::{DailyDemand, Quantity, Sku};
    let tenant = TenantId::parse("forecast-bench")?;
    let today = chrono::Utc::now().date_naive();
    let seeding = Instant::now();
    for chunk in (0..products).collect::<Vec<_>>().chunks(500) {
        let mut history = DemandHistory::default();
        for &p in chunk {
            let days = synthetic_demand(p, today)
                .map(|(date, q)| {
                    Ok(DailyDemand {
                        date,
                        quantity: Quantity::new(q)?,
                    })
                })
                .collect::<Result<Vec<_>, restock_domain::ValueError>>()?;
            history.rows += days.len();
            history
                .by_sku
                .insert(Sku::parse(&format!("F{p:05}"))?, days);
        }
        let ctx = restock_application::CommandContext::new(tenant.clone(), "bench");
        record_demand_history(&server.state.commands, &ctx, history).await?;
    }
    // Stock far above any minimum: the figure is the recompute's, not the agent's reaction to
    // 10,000 empty shelves crossing their first minimum at once.
    let token = manager_token(&tenant)?;
    use futures::StreamExt;
    let stocked: Vec<anyhow::Result<()>> = futures::stream::iter(0..products)
        .map(|p| {
            let (client, base, token) = (&bench.client, &bench.base, &token);
            async move { stock(client, base, token, &format!("F{p:05}"), 1_000_000).await }
        })
        .buffer_unordered(CLIENTS)
        .collect()
        .await;
    stocked.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    server.state.wake.wake();
    wait_caught_up(server).await?;
    println!(
        "\n[T] seeded {products} products x 730 days (and stock) in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let before = CpuSample::now();
    let started = Instant::now();
    let summary = server.state.thresholds.recompute_tenant(&tenant).await?;
    let secs = started.elapsed().as_secs_f64();
    let used = CpuSample::used_since(before);
    println!(
        "    recompute: {} products ({} changed) in {secs:.1} s = {:.2} ms/product (target: 10,000 in < 30 s)",
        summary.products,
        summary.changed,
        1000.0 * secs / summary.products.max(1) as f64
    );
    if let Some(used) = used {
        println!("    {used}");
    }
    let before = CpuSample::now();
    let fitting = fitting_seconds(products, today)?;
    if let Some(used) = CpuSample::used_since(before) {
        println!("    fitting alone: {used}");
    }
    println!(
        "    of which model fitting alone (the same series, no database, 2 threads): {fitting:.1} s"
    );
    Ok(())
}

/// Product `p`'s 730 days of weekly-patterned demand ending yesterday.
fn synthetic_demand(
    p: usize,
    today: chrono::NaiveDate,
) -> impl Iterator<Item = (chrono::NaiveDate, i64)> {
    (1..=730i64).map(move |back| {
        let weekly = [0.7, 0.8, 1.0, 1.0, 1.1, 1.6, 1.4][(back % 7) as usize];
        let noise = ((back as u64 * 2_654_435_761 + p as u64 * 97) % 100) as f64 / 100.0;
        let q = (10.0 + (p % 50) as f64) * weekly * (0.8 + 0.4 * noise);
        (today - chrono::Duration::days(back), q.round() as i64)
    })
}

/// Wall time of `forecast_product` over the recompute's series on two threads: the CPU floor
/// of a recompute, whatever the database does.
fn fitting_seconds(products: usize, today: chrono::NaiveDate) -> anyhow::Result<f64> {
    use restock_application::forecast::{forecast_product, DemandSeries};
    let fit_half = |half: usize| -> anyhow::Result<()> {
        for p in (half..products).step_by(2) {
            let series =
                DemandSeries::from_points(synthetic_demand(p, today).map(|(d, q)| (d, q as f64)))?;
            forecast_product(&series, 7, restock_domain::ServiceLevel::DEFAULT, today)?
                .context("no forecast for a 730-day series")?;
        }
        Ok(())
    };
    let started = Instant::now();
    std::thread::scope(|scope| {
        let halves: Vec<_> = (0..2).map(|h| scope.spawn(move || fit_half(h))).collect();
        halves.into_iter().try_for_each(|h| {
            h.join()
                .map_err(|_| anyhow::anyhow!("a fitting thread panicked"))?
        })
    })?;
    Ok(started.elapsed().as_secs_f64())
}

async fn put(client: &reqwest::Client, base: &str, token: &str, sku: &str) -> anyhow::Result<()> {
    let r = client
        .put(format!("{base}/v1/products/{sku}"))
        .bearer_auth(token)
        .json(&json!({ "name": sku }))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("register {sku}: {}", r.status());
    }
    Ok(())
}

async fn receipt(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    sku: &str,
) -> anyhow::Result<()> {
    stock(client, base, token, sku, 1).await
}

/// Receipts of one unit, each of `CLIENTS` clients on its own product and connection, for
/// `length`. Returns the rate of 201 answers.
async fn command_throughput(
    addr: std::net::SocketAddr,
    token: &str,
    length: Duration,
) -> anyhow::Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + length;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(CLIENTS);
    for i in 0..CLIENTS {
        let request = load::post_json(
            &format!("/v1/products/P{i}/receipts"),
            token,
            r#"{"quantity":1}"#,
        );
        let mut connection = load::Connection::open(addr).await?;
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                if connection.send(&request).await? == 201 {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

async fn command_throughput_reqwest(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    length: Duration,
) -> anyhow::Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + length;
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (client, base, token, done) = (
                client.clone(),
                base.to_owned(),
                token.to_owned(),
                done.clone(),
            );
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    if receipt(&client, &base, &token, &format!("P{i}"))
                        .await
                        .is_ok()
                    {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

/// pgbench's rate for the same shape of write: one transaction inserting one events row.
fn pgbench_insert_rate(url: &str, seconds: u64) -> anyhow::Result<f64> {
    let setup = "CREATE TABLE IF NOT EXISTS bench_events (LIKE events INCLUDING DEFAULTS INCLUDING INDEXES)";
    run("psql", &[url, "-q", "-c", setup])?;
    let script = std::env::temp_dir().join("restock-pgbench.sql");
    std::fs::write(
        &script,
        // A range wide enough that 16 clients x 10 s never draw the same key twice.
        "\\set n random(1, 9000000000000000)\n\
         INSERT INTO bench_events (tenant_id, aggregate_type, aggregate_id, sequence, event_type, event_version, \
         payload, metadata, event_id, recorded_at, occurred_at, correlation_id, actor) VALUES ('bench', 'product', \
         'p' || :client_id, :n, 'StockReceived', 1, '{\"type\":\"StockReceived\",\"quantity\":1}', '{}', \
         gen_random_uuid(), now(), now(), gen_random_uuid(), 'bench');\n",
    )?;
    let out = run(
        "pgbench",
        &[
            "-n",
            "-c",
            &CLIENTS.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
            "-f",
            &script.to_string_lossy(),
            url,
        ],
    )?;
    out.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.trim_start_matches("tps = ").split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .context("pgbench printed no tps")
}

fn run(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("running {program}"))?;
    if !out.status.success() {
        bail!("{program} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Append `n` receipts to one product directly in SQL (as if it had lived for years).
async fn seed_long_stream(db: &Db, sku: &str, n: i64) -> anyhow::Result<()> {
    let Db::Postgres(pool) = db else {
        bail!("postgres only")
    };
    sqlx::query(
        "INSERT INTO events (tenant_id, aggregate_type, aggregate_id, sequence, event_type, event_version, payload, \
         metadata, event_id, recorded_at, occurred_at, correlation_id, actor) \
         SELECT 'bench', 'product', $1, 1 + s, 'StockReceived', 1, '{\"type\":\"StockReceived\",\"quantity\":1,\"reference\":null}', \
         '{}', gen_random_uuid(), now(), now(), gen_random_uuid(), 'bench' FROM generate_series(1, $2) AS s",
    )
    .bind(sku)
    .bind(n)
    .execute(pool)
    .await?;
    // The registration's snapshot is now stale; drop it so the next load folds the long tail once.
    sqlx::query("DELETE FROM snapshots WHERE aggregate_id = $1")
        .bind(sku)
        .execute(pool)
        .await?;
    Ok(())
}

async fn latencies(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    sku: &str,
    n: usize,
) -> anyhow::Result<(f64, f64)> {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        receipt(client, base, token, sku).await?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((
        percentile(&mut samples, 0.50),
        percentile(&mut samples, 0.99),
    ))
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples.get(i).copied().unwrap_or(f64::NAN)
}

async fn wait_caught_up(server: &RunningServer) -> anyhow::Result<()> {
    for _ in 0..600 {
        let mut behind = 0;
        for r in server.state.runners.iter() {
            behind += r.status().await?.events_behind;
        }
        if behind == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("projections did not catch up")
}

/// Open-loop load: requests start on a fixed schedule whatever the latency, so a slow response
/// shows up in the percentiles instead of quietly lowering the rate.
async fn steady_reads(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    rate: u64,
    length: Duration,
) -> anyhow::Result<(f64, f64, usize)> {
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let deadline = Instant::now() + length;
    let mut tasks = Vec::new();
    while Instant::now() < deadline {
        ticker.tick().await;
        let (client, url, token) = (
            client.clone(),
            format!("{base}/v1/products/P{}", tasks.len() % CLIENTS),
            token.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            let ok = client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            (ok, started.elapsed().as_secs_f64() * 1000.0)
        }));
    }
    let mut samples = Vec::with_capacity(tasks.len());
    for t in tasks {
        let (ok, ms) = t.await?;
        if !ok {
            bail!("a read failed");
        }
        samples.push(ms);
    }
    let n = samples.len();
    Ok((
        percentile(&mut samples, 0.50),
        percentile(&mut samples, 0.99),
        n,
    ))
}
