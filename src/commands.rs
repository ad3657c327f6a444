//! What each subcommand does.

use crate::cli::{
    BacktestArgs, BacktestPricesArgs, Cli, Command, ImportWhat, McpArgs, ProjectionsAction,
    ReplayArgs, ServeArgs, TokenArgs,
};
use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use restock_api::server::{runners, token_keys};
use restock_api::{RunningServer, ServerConfig};
use restock_application::demand_import::{parse_demand_csv, record_demand_history};
use restock_application::forecast::{run_backtest, run_sweep, BacktestOptions};
use restock_application::ports::{StreamId, SystemClock};
use restock_application::price_import::{parse_price_csv, record_prices};
use restock_application::purchase::run_price_backtest;
use restock_application::refill_audit::{refill_audit, refills_until};
use restock_application::{load_product_as_of, CommandContext, ProductCommands, ProductView};
use restock_domain::{ServiceLevel, Sku, TenantId};
use restock_infrastructure::event_store::event_store_for;
use restock_infrastructure::read_models::decisions::SqlDecisionLedger;
use restock_infrastructure::tokens::Role;
use restock_infrastructure::Db;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let secret = cli.jwt_secret.as_ref().map(|s| s.expose_secret());
    match cli.command {
        Command::Serve(args) => serve(&cli.database_url, secret, args).await,
        Command::Migrate => {
            connect(&cli.database_url).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Token(args) => token(&cli.database_url, secret, args),
        Command::Projections { action } => projections(&cli.database_url, action).await,
        Command::Replay(args) => replay(&cli.database_url, args).await,
        Command::Import {
            what: ImportWhat::DemandHistory { file, tenant },
        } => import_demand(&cli.database_url, &file, &tenant).await,
        Command::Import {
            what: ImportWhat::Prices { file, tenant },
        } => import_prices(&cli.database_url, &file, &tenant).await,
        Command::Backtest(args) => backtest(args),
        Command::BacktestPrices(args) => backtest_prices(args),
        Command::Mcp(args) => mcp(&cli.database_url, args).await,
    }
}

fn backtest(args: BacktestArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.csv)
        .with_context(|| format!("reading {}", args.csv.display()))?;
    let options = BacktestOptions {
        lead_time_days: args.lead_time,
        service_level: ServiceLevel::new(args.service_level)?,
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        generated: args.generated,
    };
    let today = Utc::now().date_naive();
    if args.sweep {
        let targets = args
            .targets
            .iter()
            .map(|&t| ServiceLevel::new(t))
            .collect::<Result<Vec<_>, _>>()?;
        let report = run_sweep(&text, today, options, &targets)?;
        if args.json {
            println!("{}", report.to_json());
        } else {
            print!("{}", report.to_table());
        }
        return Ok(());
    }
    let report = run_backtest(&text, today, options)?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}

fn backtest_prices(args: BacktestPricesArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.csv)
        .with_context(|| format!("reading {}", args.csv.display()))?;
    let report = run_price_backtest(&text, Utc::now().date_naive())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}

async fn connect(url: &str) -> anyhow::Result<Db> {
    let db = Db::connect(url)
        .await
        .with_context(|| format!("connecting to {}", redact(url)))?;
    db.migrate().await.context("applying migrations")?;
    Ok(db)
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

async fn serve(url: &str, secret: Option<&str>, args: ServeArgs) -> anyhow::Result<()> {
    #[allow(unused_mut)]
    let mut config = ServerConfig {
        bind: args.bind,
        jwt_secret: secret.map(SecretString::from),
        forecast_interval: args.forecast_interval,
        agent: args.agent.to_config().map_err(anyhow::Error::msg)?,
        mcp_allowed_hosts: args.mcp_allowed_hosts,
        rate_limit: args.rate_limit,
        request_timeout: args.request_timeout,
        ..ServerConfig::new(url)
    };
    #[cfg(feature = "fault-injection")]
    if let Some(ms) = args.clock_offset_ms {
        config.clock = std::sync::Arc::new(restock_application::ports::ShiftedClock::with_offset(
            chrono::Duration::milliseconds(ms),
        ));
    }
    // Listen for SIGTERM before starting: one that arrives during start-up (migrations, demo
    // seeding) then shuts the server down cleanly instead of killing it half-way.
    let shutdown = shutdown_signal();
    let server = RunningServer::start(&config).await?;
    if args.demo {
        let token = crate::demo::seed(&server.state)
            .await
            .context("seeding the demo tenant")?;
        println!("Restock demo is running at {}", server.base_url());
        println!("Tenant `demo`, manager token (valid 24 h):\n\n{token}\n");
        println!(
            "Try:\n  curl -s -H \"Authorization: Bearer $TOKEN\" {}/v1/products | jq",
            server.base_url()
        );
        println!("Interactive docs: {}/docs", server.base_url());
        println!(
            "Dashboard: open {}/login and paste the token above to sign in.",
            server.base_url()
        );
    } else {
        println!("Restock is running at {}", server.base_url());
    }
    shutdown.await;
    tracing::info!("shutting down");
    server.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM. SIGTERM's handler is installed when this is called, not when
/// the future is first awaited.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async {
            match terminate {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            _ = terminate => {}
        }
    }
}

/// `restock mcp`: the tool layer over stdio. Reads come from the read models a running
/// `restock serve` keeps up to date; writes are ordinary commands, announced to it (PostgreSQL)
/// or found by its next poll (SQLite). stdout carries the protocol, so logs go to stderr.
async fn mcp(url: &str, args: McpArgs) -> anyhow::Result<()> {
    let tenant = TenantId::parse(&args.tenant)?;
    let role: Role = args.role.parse().map_err(anyhow::Error::msg)?;
    let db = connect(url).await?;
    let tools = restock_api::mcp::tools_for(&db);
    restock_api::mcp::serve_stdio(tools, tenant, role, args.user)
        .await
        .context("serving MCP on stdio")?;
    db.close().await;
    Ok(())
}

fn token(url: &str, secret: Option<&str>, args: TokenArgs) -> anyhow::Result<()> {
    let tenant = TenantId::parse(&args.tenant)?;
    let role: Role = args.role.parse().map_err(anyhow::Error::msg)?;
    let keys = token_keys(url, secret)?;
    let ttl = chrono::Duration::from_std(args.ttl).context("--ttl is too long")?;
    println!(
        "{}",
        keys.issue(&args.user, &tenant, role, Utc::now() + ttl)?
    );
    Ok(())
}

async fn projections(url: &str, action: ProjectionsAction) -> anyhow::Result<()> {
    let db = connect(url).await?;
    let store = event_store_for(&db);
    let all = runners(&db, &store);
    match action {
        ProjectionsAction::Status { json } => {
            let mut statuses = Vec::new();
            for runner in &all {
                statuses.push(runner.status().await?);
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&statuses)?);
            } else {
                println!(
                    "{:<16} {:>14} {:>14} {:>15}",
                    "projection", "position", "events_behind", "seconds_behind"
                );
                for s in statuses {
                    println!(
                        "{:<16} {:>14} {:>14} {:>15.1}",
                        s.name, s.global_position, s.events_behind, s.seconds_behind
                    );
                }
            }
        }
        ProjectionsAction::Rebuild { name } => {
            let chosen: Vec<_> = all
                .into_iter()
                .filter(|r| name.as_deref().is_none_or(|n| n == r.name()))
                .collect();
            if chosen.is_empty() {
                bail!("no projection named {:?}", name.unwrap_or_default());
            }
            for runner in chosen {
                let started = std::time::Instant::now();
                runner.reset().await?;
                let applied = runner.catch_up().await?;
                let secs = started.elapsed().as_secs_f64();
                println!(
                    "{}: rebuilt from {applied} events in {secs:.2} s ({:.0} events/s)",
                    runner.name(),
                    applied as f64 / secs.max(1e-9)
                );
            }
        }
    }
    db.close().await;
    Ok(())
}

async fn replay(url: &str, args: ReplayArgs) -> anyhow::Result<()> {
    let db = connect(url).await?;
    let store = event_store_for(&db);
    let tenant = TenantId::parse(&args.tenant)?;
    let sku = Sku::parse(&args.sku)?;
    let as_of: DateTime<Utc> = DateTime::parse_from_rfc3339(&args.as_of)
        .context("--as-of must be an RFC 3339 time")?
        .with_timezone(&Utc);
    let state =
        load_product_as_of(store.as_ref(), &StreamId::product(&tenant, &sku), as_of).await?;
    let view = state
        .updated_at
        .and_then(|at| ProductView::from_state(&state.product, at))
        .with_context(|| format!("{sku} did not exist for tenant {tenant} at {as_of}"))?;
    let mut out = serde_json::to_value(view)?;
    out["as_of"] = serde_json::json!(as_of);
    // The audits of the refills requested by then: why each was opened, and by whom.
    let mut audits = Vec::new();
    for id in refills_until(store.as_ref(), &tenant, &sku, as_of).await? {
        if let Some(audit) = refill_audit(
            &SqlDecisionLedger::new(db.clone()),
            store.as_ref(),
            &tenant,
            id,
        )
        .await?
        {
            audits.push(serde_json::to_value(audit.view())?);
        }
    }
    out["refill_audits"] = serde_json::Value::Array(audits);
    println!("{}", serde_json::to_string_pretty(&out)?);
    db.close().await;
    Ok(())
}

async fn import_demand(url: &str, file: &std::path::Path, tenant: &str) -> anyhow::Result<()> {
    let ctx = CommandContext::new(TenantId::parse(tenant)?, "cli:import");
    let history = parse_demand_csv(&read_import(file)?, Utc::now().date_naive())?;
    let counts = (history.rows, history.by_sku.len());
    record_import(url, counts, |commands| async move {
        record_demand_history(&commands, &ctx, history).await
    })
    .await
}

async fn import_prices(url: &str, file: &std::path::Path, tenant: &str) -> anyhow::Result<()> {
    let ctx = CommandContext::new(TenantId::parse(tenant)?, "cli:import");
    let history = parse_price_csv(&read_import(file)?, Utc::now().date_naive())?;
    let counts = (history.rows, history.by_sku.len());
    record_import(url, counts, |commands| async move {
        record_prices(&commands, &ctx, history).await
    })
    .await
}

fn read_import(file: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
}

/// Runs a parsed import's commands against the store, then tells running servers.
async fn record_import<Fut>(
    url: &str,
    (rows, skus): (usize, usize),
    record: impl FnOnce(ProductCommands) -> Fut,
) -> anyhow::Result<()>
where
    Fut: std::future::Future<Output = Result<(), restock_application::CommandError>>,
{
    let db = connect(url).await?;
    record(ProductCommands::new(
        event_store_for(&db),
        Arc::new(SystemClock),
    ))
    .await?;
    // A running server's projections would find these at their next poll anyway; tell them now.
    if let Err(e) = db.announce_commits().await {
        tracing::warn!(error = %e, "could not announce the import to running servers");
    }
    println!("imported {rows} rows for {skus} skus");
    db.close().await;
    Ok(())
}
