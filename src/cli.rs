//! Command-line flags and environment, parsed once. Flags override env; a bad value is refused at
//! start-up with a message naming the variable.

use clap::{Parser, Subcommand, ValueEnum};
use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://restock-data/restock.db";

#[derive(Debug, Parser)]
#[command(name = "restock", version, about = "Event-sourced inventory engine")]
pub struct Cli {
    /// `postgres://...` or `sqlite://PATH` (default: an SQLite file in ./restock-data/)
    #[arg(long, env = "DATABASE_URL", global = true, default_value = DEFAULT_DATABASE_URL,
          value_parser = database_url)]
    pub database_url: String,

    /// Log filter, e.g. `info` or `restock=debug,sqlx=warn`
    #[arg(
        long,
        env = "RESTOCK_LOG",
        global = true,
        default_value = "info,sqlx=warn"
    )]
    pub log: String,

    #[arg(
        long,
        env = "RESTOCK_LOG_FORMAT",
        global = true,
        value_enum,
        default_value = "pretty"
    )]
    pub log_format: LogFormat,

    /// HS256 signing secret for bearer tokens (at least 32 bytes)
    #[arg(long, env = "RESTOCK_JWT_SECRET", global = true, hide_env_values = true,
          value_parser = jwt_secret)]
    pub jwt_secret: Option<SecretString>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API, projections and background workers
    Serve(ServeArgs),
    /// Apply database migrations and exit
    Migrate,
    /// Print a bearer token for a tenant
    Token(TokenArgs),
    /// Inspect or rebuild projections
    Projections {
        #[command(subcommand)]
        action: ProjectionsAction,
    },
    /// Show a product as the system knew it at a past instant
    Replay(ReplayArgs),
    /// Import data
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Replay a demand CSV (date,sku,quantity) day by day: the forecast policy against a
    /// moving-average reorder point and a static minimum, and an oracle that knows the mean
    /// demand in hindsight (the most a forecast could buy)
    Backtest(BacktestArgs),
    /// Replay a supplier price CSV (date,sku,unit_price) day by day: buying on each day's
    /// purchase plan vs buying at once and vs the cheapest day
    BacktestPrices(BacktestPricesArgs),
    /// Serve the tools over MCP on stdin/stdout, for desktop AI clients (no token: you choose
    /// the tenant)
    Mcp(McpArgs),
}

#[derive(Debug, clap::Args)]
pub struct McpArgs {
    #[arg(long)]
    pub tenant: String,
    /// `viewer` lists only the read tools; `manager` adds refill_stock and set_min_stock
    #[arg(long, value_parser = ["manager", "viewer"], default_value = "viewer")]
    pub role: String,
    /// Who the writes are recorded as (`user:<user>` on the events)
    #[arg(long, default_value = "mcp")]
    pub user: String,
}

#[derive(Debug, clap::Args)]
pub struct BacktestArgs {
    #[arg(long)]
    pub csv: PathBuf,
    /// Days from order to delivery
    #[arg(long, default_value_t = 7)]
    pub lead_time: u16,
    /// Target fill rate: the share of demand served from stock
    #[arg(long, default_value_t = 0.95)]
    pub service_level: f64,
    /// Run once per target fill rate of --targets and print each policy's stock and orders,
    /// with the moving average's at the fill the forecast reached
    #[arg(long)]
    pub sweep: bool,
    /// Target fill rates of --sweep, comma-separated
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.85,0.9,0.93,0.95,0.97,0.98,0.99,0.995"
    )]
    pub targets: Vec<f64>,
    /// Replace each series by Poisson demand around its hindsight mean, drawn with this seed:
    /// data with the file's weekday and yearly shape whose mean the oracle knows exactly
    #[arg(long, value_name = "SEED")]
    pub generated: Option<u64>,
    /// Print one JSON object instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct BacktestPricesArgs {
    #[arg(long)]
    pub csv: PathBuf,
    /// Print one JSON object instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[arg(long, env = "RESTOCK_BIND", default_value = "127.0.0.1:8080", value_parser = bind_addr)]
    pub bind: SocketAddr,
    /// Seed a demo tenant with products and history, and print a manager token
    #[arg(long)]
    pub demo: bool,
    /// How often minimums are recomputed for every tenant, e.g. 15m, 1h
    #[arg(long, env = "RESTOCK_FORECAST_INTERVAL", default_value = "1h", value_parser = forecast_interval)]
    pub forecast_interval: Duration,
    /// Hosts `/mcp` answers, comma-separated (`host` or `host:port`), or `*` for any
    #[arg(long, env = "RESTOCK_MCP_ALLOWED_HOSTS", default_value = "localhost,127.0.0.1,::1",
          value_parser = mcp_allowed_hosts)]
    pub mcp_allowed_hosts: restock_api::mcp::AllowedHosts,
    /// Requests per second per tenant on /v1 and /mcp (burst twice that); 0 turns it off
    #[arg(long, env = "RESTOCK_RATE_LIMIT", default_value = "100", value_parser = restock_api::rate_limit::RateLimit::parse)]
    pub rate_limit: restock_api::rate_limit::RateLimit,
    /// The longest a request may take before it is answered 503 `timeout`, e.g. 60s
    #[arg(long, env = "RESTOCK_REQUEST_TIMEOUT", default_value = "60s", value_parser = request_timeout)]
    pub request_timeout: Duration,
    /// Test-only: the server's clock runs this many milliseconds off the system clock, so a
    /// test that spawns the binary shares the calendar of its in-process servers.
    #[cfg(feature = "fault-injection")]
    #[arg(long, env = "RESTOCK_CLOCK_OFFSET_MS", hide = true)]
    pub clock_offset_ms: Option<i64>,
    #[command(flatten)]
    pub agent: AgentArgs,
}

/// The agent: the built-in policy unless an LLM is configured. See docs/api.md (CLI, env).
#[derive(Debug, Clone, clap::Args)]
pub struct AgentArgs {
    /// OpenAI-compatible endpoint, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1
    #[arg(long, env = "RESTOCK_LLM_BASE_URL", value_parser = llm_base_url)]
    pub llm_base_url: Option<String>,
    #[arg(long, env = "RESTOCK_LLM_API_KEY", hide_env_values = true, value_parser = secret)]
    pub llm_api_key: Option<SecretString>,
    #[arg(long, env = "RESTOCK_LLM_MODEL")]
    pub llm_model: Option<String>,
    /// One LLM request's timeout, e.g. 500ms, 20s
    #[arg(long, env = "RESTOCK_LLM_TIMEOUT", default_value = "20s", value_parser = llm_duration("RESTOCK_LLM_TIMEOUT"))]
    pub llm_timeout: Duration,
    /// The whole LLM exchange of one decision, its single retry included
    #[arg(long, env = "RESTOCK_LLM_DEADLINE", default_value = "45s", value_parser = llm_duration("RESTOCK_LLM_DEADLINE"))]
    pub llm_deadline: Duration,
    /// Retries of a timed-out or 5xx request: 0 or 1
    #[arg(long, env = "RESTOCK_LLM_RETRIES", default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub llm_retries: u8,
    /// LLM decisions per tenant per UTC day; the policy decides once they are spent
    #[arg(long, env = "RESTOCK_LLM_CALLS_PER_DAY", default_value_t = 500)]
    pub llm_calls_per_day: u32,
    /// Consecutive LLM failures that open the circuit breaker
    #[arg(long, env = "RESTOCK_LLM_BREAKER_THRESHOLD", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub llm_breaker_threshold: u32,
    /// How long the breaker stays open before a trial call
    #[arg(long, env = "RESTOCK_LLM_BREAKER_COOLDOWN", default_value = "60s",
          value_parser = llm_duration("RESTOCK_LLM_BREAKER_COOLDOWN"))]
    pub llm_breaker_cooldown: Duration,
    /// tool_choice sent to the LLM server: auto (works with every server) or required
    /// (falls back to auto once if the server refuses it)
    #[arg(long, env = "RESTOCK_LLM_TOOL_CHOICE", default_value = "auto")]
    pub llm_tool_choice: restock_application::agent::ToolChoice,
    /// How tool results go back to the LLM server: tool (OpenAI's tool messages) or user (one
    /// user message per round, for llama.cpp's chatml-function-calling, which drops tool messages)
    #[arg(long, env = "RESTOCK_LLM_TOOL_RESULTS", default_value = "tool")]
    pub llm_tool_results: restock_application::agent::ToolResults,
    /// Notifications are also POSTed here as JSON (every tenant), with retries
    #[arg(long, env = "RESTOCK_WEBHOOK_URL", value_parser = webhook_url)]
    pub webhook_url: Option<String>,
    /// Test-only crash injection: agent_after_llm_call | agent_after_decision | agent_after_command
    #[cfg(feature = "fault-injection")]
    #[arg(long, env = "RESTOCK_FAULT", hide = true)]
    pub fault: Option<String>,
}

impl AgentArgs {
    pub fn to_config(&self) -> Result<restock_workers::agent::AgentConfig, String> {
        use restock_application::agent::LlmConfig;
        let llm = match (&self.llm_base_url, &self.llm_model) {
            (None, None) => None,
            (Some(_), None) => {
                return Err("RESTOCK_LLM_MODEL is required when RESTOCK_LLM_BASE_URL is set".into())
            }
            (None, Some(_)) => {
                return Err("RESTOCK_LLM_BASE_URL is required when RESTOCK_LLM_MODEL is set".into())
            }
            (Some(url), Some(model)) => Some(LlmConfig {
                request_timeout: self.llm_timeout,
                deadline: self.llm_deadline.max(self.llm_timeout),
                max_retries: self.llm_retries,
                breaker_threshold: self.llm_breaker_threshold,
                breaker_cooldown: self.llm_breaker_cooldown,
                calls_per_day: self.llm_calls_per_day,
                tool_choice: self.llm_tool_choice,
                tool_results: self.llm_tool_results,
                ..LlmConfig::new(url.clone(), self.llm_api_key.clone(), model.clone())
            }),
        };
        Ok(restock_workers::agent::AgentConfig {
            llm,
            webhook_url: self.webhook_url.clone(),
            #[cfg(feature = "fault-injection")]
            fault: self.fault.as_deref().map(str::parse).transpose()?,
            ..Default::default()
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[arg(long)]
    pub tenant: String,
    #[arg(long, value_parser = ["manager", "viewer"])]
    pub role: String,
    /// Lifetime, e.g. 30m, 24h, 7d
    #[arg(long, default_value = "24h", value_parser = duration)]
    pub ttl: Duration,
    /// The token's subject (user name)
    #[arg(long, default_value = "cli")]
    pub user: String,
}

#[derive(Debug, Subcommand)]
pub enum ProjectionsAction {
    /// Checkpoint and lag of every projection
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Empty a projection's tables and replay the whole log into them
    Rebuild {
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    #[arg(long)]
    pub tenant: String,
    #[arg(long)]
    pub sku: String,
    /// RFC 3339 time
    #[arg(long)]
    pub as_of: String,
}

#[derive(Debug, Subcommand)]
pub enum ImportWhat {
    /// Past daily demand from a `date,sku,quantity` CSV file
    DemandHistory {
        file: PathBuf,
        #[arg(long)]
        tenant: String,
    },
    /// Supplier unit prices from a `date,sku,unit_price` CSV file
    Prices {
        file: PathBuf,
        #[arg(long)]
        tenant: String,
    },
}

fn database_url(raw: &str) -> Result<String, String> {
    let ok = ["postgres://", "postgresql://", "sqlite://"]
        .iter()
        .any(|p| raw.starts_with(p));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err("DATABASE_URL must start with postgres:// or sqlite://".to_owned())
    }
}

fn mcp_allowed_hosts(raw: &str) -> Result<restock_api::mcp::AllowedHosts, String> {
    restock_api::mcp::AllowedHosts::parse(raw)
}

fn bind_addr(raw: &str) -> Result<SocketAddr, String> {
    raw.parse()
        .map_err(|_| format!("RESTOCK_BIND must be HOST:PORT with an IP host, got {raw:?}"))
}

/// Secrets are held as `SecretString` from the moment they are parsed, so `Debug` of the
/// parsed command line (or of any config built from it) prints `[REDACTED]`.
fn secret(raw: &str) -> Result<SecretString, String> {
    Ok(raw.into())
}

fn jwt_secret(raw: &str) -> Result<SecretString, String> {
    if raw.len() >= 32 {
        Ok(raw.into())
    } else {
        Err("RESTOCK_JWT_SECRET must be at least 32 bytes".to_owned())
    }
}

fn request_timeout(raw: &str) -> Result<Duration, String> {
    duration(raw).map_err(|e| format!("RESTOCK_REQUEST_TIMEOUT: {e}"))
}

fn forecast_interval(raw: &str) -> Result<Duration, String> {
    duration(raw).map_err(|e| format!("RESTOCK_FORECAST_INTERVAL: {e}"))
}

fn http_url(var: &str, raw: &str) -> Result<String, String> {
    if raw.starts_with("http://") || raw.starts_with("https://") {
        Ok(raw.to_owned())
    } else {
        Err(format!("{var} must be an http:// or https:// URL"))
    }
}

fn llm_base_url(raw: &str) -> Result<String, String> {
    http_url("RESTOCK_LLM_BASE_URL", raw)
}

fn webhook_url(raw: &str) -> Result<String, String> {
    http_url("RESTOCK_WEBHOOK_URL", raw)
}

/// `500ms` as well as `duration`'s units: LLM timeouts are often below a second.
fn llm_duration(var: &'static str) -> impl Fn(&str) -> Result<Duration, String> + Clone {
    move |raw: &str| match raw.strip_suffix("ms").map(str::parse::<u64>) {
        Some(Ok(ms)) if ms > 0 => Ok(Duration::from_millis(ms)),
        Some(_) => Err(format!(
            "{var}: expected a duration like 500ms or 20s, got {raw:?}"
        )),
        None => duration(raw).map_err(|e| format!("{var}: {e}")),
    }
}

/// `90s`, `30m`, `24h`, `7d`.
pub fn duration(raw: &str) -> Result<Duration, String> {
    let err = || format!("expected a duration like 30s, 15m, 1h or 7d, got {raw:?}");
    let split = raw.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
    let (digits, unit) = raw.split_at(split);
    let n: u64 = digits.parse().map_err(|_| err())?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(err()),
    };
    if seconds == 0 {
        return Err(err());
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("24h"), Ok(Duration::from_secs(86_400)));
        assert!(duration("0h").is_err());
        assert!(duration("h").is_err());
        assert!(duration("5y").is_err());
    }

    #[test]
    fn bad_mcp_hosts_name_the_variable() {
        let err = Cli::try_parse_from(["restock", "serve", "--mcp-allowed-hosts", "http://x/"])
            .expect_err("a URL is not a host")
            .to_string();
        assert!(err.contains("RESTOCK_MCP_ALLOWED_HOSTS"), "{err}");
    }

    #[test]
    fn bad_rate_limit_and_timeout_name_the_variable() {
        for (flag, bad, var) in [
            ("--rate-limit", "fast", "RESTOCK_RATE_LIMIT"),
            ("--rate-limit", "1.5", "RESTOCK_RATE_LIMIT"),
            ("--request-timeout", "0s", "RESTOCK_REQUEST_TIMEOUT"),
        ] {
            let err = Cli::try_parse_from(["restock", "serve", flag, bad])
                .expect_err(bad)
                .to_string();
            assert!(err.contains(var), "{err}");
        }
    }

    #[test]
    fn bad_bind_names_the_variable() {
        assert!(bind_addr("localhost").unwrap_err().contains("RESTOCK_BIND"));
    }
}
