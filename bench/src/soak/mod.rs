//! `--only soak`: the server as a separate `restock serve` process on PostgreSQL, under mixed
//! traffic from several tenants (commands, reservations confirmed or released, reads, chat
//! questions) for a fixed time, killed with SIGKILL half-way and started again on the same
//! database and port. At the end:
//! - nothing acknowledged is lost: every command answered 2xx left its events (each request
//!   carries its own `X-Request-Id`, the events' correlation id);
//! - projections are exact: each product's read model equals its events folded (`?as_of=`);
//! - resident memory (VmRSS of the server process) at start, after warm-up and at the end of
//!   each life of the server;
//! - answers by status and kind; only 409 (stock ran out, a reservation moved on) and 429 (the
//!   tenant's rate) are expected, connection errors are counted apart (the kill window).
//!
//! `--soak-seconds` (default 240), `--tenants` (default 4), `--clients` per tenant (default 2),
//! `--server-bin` (default the `restock` next to this binary: build it with the same profile).
//! `--soak-no-kill` runs one life and ends it with SIGTERM instead of SIGKILL, so that a
//! `--server-bin` wrapper such as a heap profiler sees the process exit normally (the RSS
//! figures are then the wrapper's).

mod memory;

use anyhow::{bail, Context};
use memory::{Sample, Samples};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use uuid::Uuid;

const PRODUCTS_PER_TENANT: usize = 5;
const QUESTIONS: [&str; 4] = [
    "how much sku-0 do we have?",
    "what is below the minimum?",
    "o que está abaixo do mínimo?",
    "and sku-1?",
];

pub struct SoakConfig {
    pub seconds: u64,
    pub tenants: usize,
    pub clients: usize,
    pub server_bin: PathBuf,
    /// One life, ended by SIGTERM (for profiling the server).
    pub no_kill: bool,
}

impl SoakConfig {
    pub fn default_server_bin() -> anyhow::Result<PathBuf> {
        let exe = std::env::current_exe()?;
        Ok(exe.with_file_name("restock"))
    }
}

/// One life of the server process.
struct Server {
    child: tokio::process::Child,
    pid: u32,
    base: String,
}

impl Server {
    async fn spawn(bin: &PathBuf, database_url: &str, bind: &str) -> anyhow::Result<Self> {
        let mut child = tokio::process::Command::new(bin)
            .args(["serve", "--bind", bind, "--database-url", database_url])
            .env("RESTOCK_JWT_SECRET", super::SECRET)
            .env("RESTOCK_LOG", "error")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().context("server pid")?;
        let stdout = child.stdout.take().context("stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let base = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                    return Some(url.to_owned());
                }
            }
            None
        })
        .await
        .context("the server listens within 60 s")?
        .context("the server exited before listening")?;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { child, pid, base })
    }

    fn rss_mib(&self) -> f64 {
        memory::rss_mib(self.pid).unwrap_or(0.0)
    }

    async fn kill9(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// SIGTERM, then wait for the exit (a profiler wrapping the server writes its file then).
    async fn terminate(mut self) -> anyhow::Result<()> {
        let status = tokio::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await?;
        if !status.success() {
            bail!("kill -TERM {} failed", self.pid);
        }
        match tokio::time::timeout(Duration::from_secs(120), self.child.wait()).await {
            Ok(exit) => {
                println!("  server exited: {}", exit?);
                Ok(())
            }
            Err(_) => self.kill9().await,
        }
    }
}

#[derive(Default)]
struct Tally {
    /// (kind, status) -> count; status 0 is a connection error.
    answers: BTreeMap<(&'static str, u16), u64>,
    /// Correlation ids of commands answered 2xx that must have appended.
    acknowledged: Vec<Uuid>,
}

struct Shared {
    base: Mutex<String>,
    tally: Mutex<Tally>,
    stop: AtomicBool,
    client: reqwest::Client,
    /// The server process being sampled, and which life it is.
    pid: AtomicU32,
    life: AtomicUsize,
    memory: Samples,
}

/// A tiny xorshift: the traffic mix needs no statistical quality, and the bench no new crate.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

impl Shared {
    fn base(&self) -> String {
        self.base.lock().map(|b| b.clone()).unwrap_or_default()
    }

    fn count(&self, kind: &'static str, status: u16, acknowledged: Option<Uuid>) {
        if let Ok(mut t) = self.tally.lock() {
            *t.answers.entry((kind, status)).or_default() += 1;
            if let Some(id) = acknowledged {
                t.acknowledged.push(id);
            }
        }
    }

    /// Send one request; count it; return the body of a 2xx.
    async fn send(
        &self,
        kind: &'static str,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        appends: bool,
    ) -> Option<Value> {
        let id = Uuid::new_v4();
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base()))
            .bearer_auth(token)
            .header("x-request-id", id.to_string())
            .timeout(Duration::from_secs(30));
        if let Some(b) = &body {
            req = req.json(b);
        }
        match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let ok = res.status().is_success();
                let value = res.json::<Value>().await.unwrap_or(Value::Null);
                self.count(kind, status, (ok && appends).then_some(id));
                ok.then_some(value)
            }
            Err(_) => {
                self.count(kind, 0, None);
                // The server is down (the kill window): do not spin.
                tokio::time::sleep(Duration::from_millis(100)).await;
                None
            }
        }
    }
}

async fn client_loop(shared: Arc<Shared>, token: String, seed: u64) {
    let mut dice = Dice(seed | 1);
    let mut conversation: Option<String> = None;
    while !shared.stop.load(Ordering::Relaxed) {
        let sku = format!("sku-{}", dice.below(PRODUCTS_PER_TENANT as u64));
        let roll = dice.below(100);
        let post = reqwest::Method::POST;
        match roll {
            // Receipts a little larger than sales, so stock drifts up and sales rarely run out.
            0..=44 => {
                let (kind, route, most) = if roll <= 24 {
                    ("receipt", "receipts", 5)
                } else {
                    ("sale", "sales", 3)
                };
                let q = 1 + dice.below(most);
                let path = format!("/v1/products/{sku}/{route}");
                let body = Some(json!({ "quantity": q }));
                shared.send(kind, post, &path, &token, body, true).await;
            }
            45..=59 => {
                let path = format!("/v1/products/{sku}/reservations");
                let body = json!({ "quantity": 1 + dice.below(2), "ttl_seconds": 600 });
                let held = shared
                    .send("reserve", post, &path, &token, Some(body), true)
                    .await;
                if let Some(id) = held.as_ref().and_then(|r| r["id"].as_str()) {
                    if dice.below(2) == 0 {
                        let path = format!("/v1/reservations/{id}/confirm");
                        shared
                            .send("confirm", reqwest::Method::POST, &path, &token, None, true)
                            .await;
                    } else {
                        let path = format!("/v1/reservations/{id}");
                        shared
                            .send(
                                "release",
                                reqwest::Method::DELETE,
                                &path,
                                &token,
                                None,
                                true,
                            )
                            .await;
                    }
                }
            }
            60..=89 => {
                let path = if roll.is_multiple_of(2) {
                    format!("/v1/products/{sku}")
                } else {
                    "/v1/products?limit=50".to_owned()
                };
                shared
                    .send("read", reqwest::Method::GET, &path, &token, None, false)
                    .await;
            }
            _ => {
                if conversation.is_none() {
                    conversation = shared
                        .send(
                            "chat",
                            post.clone(),
                            "/v1/conversations",
                            &token,
                            Some(json!({})),
                            false,
                        )
                        .await
                        .and_then(|c| c["id"].as_str().map(str::to_owned));
                }
                if let Some(id) = &conversation {
                    let text = QUESTIONS[dice.below(QUESTIONS.len() as u64) as usize];
                    let path = format!("/v1/conversations/{id}/messages");
                    shared
                        .send(
                            "chat",
                            post,
                            &path,
                            &token,
                            Some(json!({ "text": text })),
                            false,
                        )
                        .await;
                }
            }
        }
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// How often the server's RSS is read: often enough for a slope over a two-minute half-life.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// Read the current server's RSS every [`SAMPLE_EVERY`] until the clients stop; nothing is
/// recorded while no process answers (the kill window).
async fn sample_memory(shared: Arc<Shared>, started: Instant) {
    while !shared.stop.load(Ordering::Relaxed) {
        tokio::time::sleep(SAMPLE_EVERY).await;
        if let Some(mib) = memory::rss_mib(shared.pid.load(Ordering::Relaxed)) {
            shared.memory.push(Sample {
                at: started.elapsed().as_secs_f64(),
                life: shared.life.load(Ordering::Relaxed),
                mib,
            });
        }
    }
}

pub async fn soak(config: SoakConfig) -> anyhow::Result<()> {
    let url = restock_infrastructure::testing::fresh_database_url(
        restock_infrastructure::Backend::Postgres,
    )
    .await?;
    println!(
        "\n[soak] {} s, {} tenants x {} clients, server {} on {url}",
        config.seconds,
        config.tenants,
        config.clients,
        config.server_bin.display()
    );
    let bind = format!("127.0.0.1:{}", free_port()?);
    let server = Server::spawn(&config.server_bin, &url, &bind).await?;
    let shared = Arc::new(Shared {
        base: Mutex::new(server.base.clone()),
        tally: Mutex::new(Tally::default()),
        stop: AtomicBool::new(false),
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()?,
        pid: AtomicU32::new(server.pid),
        life: AtomicUsize::new(1),
        memory: Samples::default(),
    });
    let tokens: Vec<String> = (0..config.tenants)
        .map(|t| super::manager_token(&restock_domain::TenantId::parse(&format!("soak-{t}"))?))
        .collect::<anyhow::Result<_>>()?;
    for token in &tokens {
        for p in 0..PRODUCTS_PER_TENANT {
            let sku = format!("sku-{p}");
            let r = shared
                .client
                .put(format!("{}/v1/products/{sku}", server.base))
                .bearer_auth(token)
                .json(&json!({ "name": format!("Product {p}") }))
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("registering {sku}: {}", r.status());
            }
            shared
                .send(
                    "receipt",
                    reqwest::Method::POST,
                    &format!("/v1/products/{sku}/receipts"),
                    token,
                    Some(json!({ "quantity": 100 })),
                    true,
                )
                .await;
        }
    }
    let mut rss: Vec<(String, f64)> = vec![("first start".into(), server.rss_mib())];
    shared.pid.store(server.pid, Ordering::Relaxed);
    let started = Instant::now();
    let sampler = tokio::spawn(sample_memory(shared.clone(), started));
    let mut clients = Vec::new();
    for (t, token) in tokens.iter().enumerate() {
        for c in 0..config.clients {
            let seed = 0x9E37_79B9_7F4A_7C15u64 ^ ((t * 100 + c) as u64 + 1);
            clients.push(tokio::spawn(client_loop(
                shared.clone(),
                token.clone(),
                seed,
            )));
        }
    }
    let total = Duration::from_secs(config.seconds);
    let half = if config.no_kill { total } else { total / 2 };
    let warm_up = (total / 8).max(Duration::from_secs(10));
    let mut warm_until = vec![warm_up.as_secs_f64()];
    tokio::time::sleep(warm_up).await;
    rss.push(("first life, after warm-up".into(), server.rss_mib()));
    tokio::time::sleep(half.saturating_sub(started.elapsed())).await;
    let mut kill = None;
    let server = if config.no_kill {
        server
    } else {
        rss.push(("first life, before kill -9".into(), server.rss_mib()));
        let killed_at = started.elapsed();
        server.kill9().await?;
        let server = Server::spawn(&config.server_bin, &url, &bind).await?;
        kill = Some((killed_at, started.elapsed() - killed_at));
        shared.life.store(2, Ordering::Relaxed);
        shared.pid.store(server.pid, Ordering::Relaxed);
        *shared.base.lock().map_err(|_| anyhow::anyhow!("lock"))? = server.base.clone();
        rss.push(("second start".into(), server.rss_mib()));
        warm_until.push((started.elapsed() + warm_up).as_secs_f64());
        tokio::time::sleep(warm_up).await;
        rss.push(("second life, after warm-up".into(), server.rss_mib()));
        tokio::time::sleep(total.saturating_sub(started.elapsed())).await;
        server
    };
    shared.stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.await;
    }
    let elapsed = started.elapsed();
    rss.push(("end".into(), server.rss_mib()));
    let _ = sampler.await;
    let samples = shared.memory.take();

    let tally = std::mem::take(&mut *shared.tally.lock().map_err(|_| anyhow::anyhow!("lock"))?);
    match kill {
        Some((killed_at, down_for)) => println!(
            "  ran {:.0} s; kill -9 at {:.0} s, listening again {:.1} s later",
            elapsed.as_secs_f64(),
            killed_at.as_secs_f64(),
            down_for.as_secs_f64()
        ),
        None => println!("  ran {:.0} s, one life", elapsed.as_secs_f64()),
    }
    let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_status: BTreeMap<u16, u64> = BTreeMap::new();
    for ((kind, status), n) in &tally.answers {
        *by_kind.entry(kind).or_default() += n;
        *by_status.entry(*status).or_default() += n;
    }
    let all: u64 = by_kind.values().sum();
    println!(
        "  requests: {all} ({:.0}/s): {}",
        all as f64 / elapsed.as_secs_f64(),
        by_kind
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  answers by status (0 = connection error): {}",
        by_status
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for ((kind, status), n) in &tally.answers {
        if *status >= 400 || *status == 0 {
            println!("    {kind} {status}: {n}");
        }
    }
    for (when, mib) in &rss {
        println!("  RSS {when}: {mib:.1} MiB");
    }
    for (i, warm) in warm_until.iter().enumerate() {
        if let Some(life) = memory::summarize(&samples, i + 1, *warm) {
            println!("  RSS {life}");
        }
    }
    println!(
        "  RSS every {} s (MiB): {}",
        SAMPLE_EVERY.as_secs(),
        samples
            .iter()
            .map(|s| format!("{:.0}", s.mib))
            .collect::<Vec<_>>()
            .join(" ")
    );

    // Nothing acknowledged lost: every 2xx command's correlation id is in the store.
    let pool = sqlx::PgPool::connect(&url).await?;
    let stored: HashSet<Uuid> = sqlx::query_scalar::<_, Uuid>("SELECT correlation_id FROM events")
        .fetch_all(&pool)
        .await?
        .into_iter()
        .collect();
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    let lost = tally
        .acknowledged
        .iter()
        .filter(|id| !stored.contains(id))
        .count();
    println!(
        "  acknowledged commands: {}, events in the store: {events}, lost: {lost}",
        tally.acknowledged.len()
    );

    // Projections exact: the read model equals the fold of each product's events, once the
    // projections have caught up.
    let mut mismatched = Vec::new();
    for (t, token) in tokens.iter().enumerate() {
        for p in 0..PRODUCTS_PER_TENANT {
            let sku = format!("sku-{p}");
            if !projection_matches(&shared.client, &server.base, token, &sku).await? {
                mismatched.push(format!("soak-{t}/{sku}"));
            }
        }
    }
    println!(
        "  projections: {} products, {} differ from their events{}",
        tokens.len() * PRODUCTS_PER_TENANT,
        mismatched.len(),
        if mismatched.is_empty() {
            String::new()
        } else {
            format!(" ({})", mismatched.join(", "))
        }
    );
    let unexpected: u64 = tally
        .answers
        .iter()
        .filter(|((_, s), _)| *s >= 400 && *s != 409 && *s != 429)
        .map(|(_, n)| n)
        .sum();
    println!("  unexpected error answers (not 409/429): {unexpected}");
    if config.no_kill {
        server.terminate().await?;
    } else {
        server.kill9().await?;
    }
    if lost > 0 || !mismatched.is_empty() || unexpected > 0 {
        bail!(
            "soak failed: {lost} lost, {} projections differ, {unexpected} unexpected errors",
            mismatched.len()
        );
    }
    Ok(())
}

/// The read model (`GET /v1/products/{sku}`) against the product folded from its events
/// (`?as_of=` now), retried for up to 30 s while the projections catch up.
async fn projection_matches(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    sku: &str,
) -> anyhow::Result<bool> {
    let fields = ["on_hand", "reserved", "available", "version"];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let read: Value = client
            .get(format!("{base}/v1/products/{sku}"))
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        let folded: Value = client
            .get(format!("{base}/v1/products/{sku}"))
            .query(&[("as_of", now)])
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        if fields
            .iter()
            .all(|f| read[f] == folded[f] && !read[f].is_null())
        {
            return Ok(true);
        }
        if Instant::now() > deadline {
            println!("    {sku}: read model {read} vs events {folded}");
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
