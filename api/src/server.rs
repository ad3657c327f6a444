//! Composition root: wire the store, the command service, the projection runners and the HTTP
//! router into one running server, and take it down gracefully.

use crate::metrics::Metrics;
use crate::rate_limit::{RateLimit, TenantRateLimiter};
use crate::routes;
use crate::state::AppState;
use restock_application::agent::{AgentMetrics, SharedLlm};
use restock_application::chat::{Chat, ChatLlm};
use restock_application::ports::{
    Clock, DecisionLedger, EventStore, ForecastRepository, ReadModels, SystemClock,
};
use restock_application::purchase::PurchasePlans;
use restock_application::thresholds::Thresholds;
use restock_application::tools::Tools;
use restock_application::ProductCommands;
use restock_infrastructure::event_store::event_store_for;
use restock_infrastructure::llm::{LlmSetupError, OpenAiClient};
use restock_infrastructure::notifier::{NotifyError, WebhookClient};
use restock_infrastructure::read_models::conversations::SqlConversations;
use restock_infrastructure::read_models::daily_demand::SqlDemandReader;
use restock_infrastructure::read_models::decisions::{SqlDecisionLedger, SqlLlmBudget};
use restock_infrastructure::read_models::forecasts::SqlForecasts;
use restock_infrastructure::read_models::queries::SqlReadModels;
use restock_infrastructure::tokens::{load_or_create_secret, TokenError, TokenKeys};
use restock_infrastructure::{Db, DbError};
use restock_projections::agent::AgentProjector;
use restock_projections::{ProjectionRunner, Wakeup};
use restock_workers::agent::{AgentConfig, AgentWorker};
use restock_workers::delivery::WebhookDelivery;
use restock_workers::expiry::ExpirySweeper;
use restock_workers::scheduler::ThresholdScheduler;
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Long enough for a chat answer that waits out the LLM deadline (45 s by default).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything `restock serve` needs, parsed and validated once at start-up.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub database_url: String,
    pub bind: SocketAddr,
    /// Redacted in `Debug` (`secrecy`).
    pub jwt_secret: Option<SecretString>,
    /// How often the scheduler recomputes every tenant's minimums.
    pub forecast_interval: Duration,
    /// The agent: policy or LLM backend, webhook, worker timing.
    pub agent: AgentConfig,
    /// The `Host`s `/mcp` answers (`RESTOCK_MCP_ALLOWED_HOSTS`; default the loopback names).
    pub mcp_allowed_hosts: crate::mcp::AllowedHosts,
    /// How long a change proposed in chat may be confirmed.
    pub chat_action_ttl: chrono::Duration,
    /// Requests per second per tenant on `/v1` and `/mcp` (`RESTOCK_RATE_LIMIT`).
    pub rate_limit: RateLimit,
    /// The longest any request may take before it is answered 503 `timeout`
    /// (`RESTOCK_REQUEST_TIMEOUT`); above the LLM deadline, so chat answers in time.
    pub request_timeout: Duration,
    /// What the server takes as now (commands, forecasts, the chat's calendar). The system
    /// clock, but for tests that fix the calendar.
    pub clock: Arc<dyn Clock>,
}

impl ServerConfig {
    /// Defaults for everything but the database: an ephemeral port, a generated secret (SQLite
    /// only), hourly forecasts.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            jwt_secret: None,
            forecast_interval: Duration::from_secs(3600),
            agent: AgentConfig::default(),
            mcp_allowed_hosts: Default::default(),
            chat_action_ttl: restock_application::chat::DEFAULT_ACTION_TTL,
            rate_limit: RateLimit::default(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            clock: Arc::new(SystemClock),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("RESTOCK_JWT_SECRET is required when the store is Postgres")]
    MissingSecret,
    #[error("binding {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error(transparent)]
    Llm(#[from] LlmSetupError),
    #[error(transparent)]
    Webhook(#[from] NotifyError),
    #[error(
        "RESTOCK_REQUEST_TIMEOUT ({request:?}) must be longer than RESTOCK_LLM_DEADLINE ({llm:?}): \
         a chat message may wait that long for the model"
    )]
    TimeoutBelowLlmDeadline { request: Duration, llm: Duration },
}

/// The signing keys: the configured secret, or on the embedded store one kept in its data
/// directory so that `restock token` and `restock serve` agree with no setup.
pub fn token_keys(database_url: &str, secret: Option<&str>) -> Result<TokenKeys, StartError> {
    if let Some(secret) = secret {
        return Ok(TokenKeys::new(secret.as_bytes())?);
    }
    match sqlite_data_dir(database_url) {
        Some(dir) => Ok(TokenKeys::new(&load_or_create_secret(&dir)?)?),
        None => Err(StartError::MissingSecret),
    }
}

/// The folder holding an SQLite database file (`None` for Postgres).
pub fn sqlite_data_dir(database_url: &str) -> Option<PathBuf> {
    let path = database_url.strip_prefix("sqlite://")?;
    let path = path.split('?').next().unwrap_or(path);
    Some(
        std::path::Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".")),
    )
}

/// The runners for every projection, in the order they are reported.
pub fn runners(db: &Db, store: &Arc<dyn EventStore>) -> Vec<ProjectionRunner> {
    runners_with(db, store, restock_projections::all())
}

fn runners_with(
    db: &Db,
    store: &Arc<dyn EventStore>,
    projectors: Vec<Arc<dyn restock_projections::Projector>>,
) -> Vec<ProjectionRunner> {
    projectors
        .into_iter()
        .map(|p| ProjectionRunner::new(db.clone(), store.clone(), p))
        .collect()
}

/// Build the shared state on an already migrated database.
pub fn app_state(db: Db, tokens: TokenKeys, clock: Arc<dyn Clock>) -> AppState {
    let store = event_store_for(&db);
    let agent = Arc::new(AgentProjector::default());
    let agent_triggers = agent.triggers().clone();
    let runners = runners_with(&db, &store, restock_projections::with_agent(agent));
    let wake = Wakeup::new();
    let commands = Arc::new(
        ProductCommands::new(store.clone(), clock.clone())
            .with_commit_listener(Arc::new(wake.clone())),
    );
    let forecasts: Arc<dyn ForecastRepository> = Arc::new(SqlForecasts::new(db.clone()));
    let thresholds = Arc::new(Thresholds {
        commands: commands.clone(),
        demand: Arc::new(SqlDemandReader::new(db.clone())),
        forecasts: forecasts.clone(),
    });
    let ledger: Arc<dyn DecisionLedger> = Arc::new(SqlDecisionLedger::new(db.clone()));
    let read_models: Arc<dyn ReadModels> = Arc::new(SqlReadModels::new(db.clone()));
    let plans = Arc::new(PurchasePlans::new(read_models.clone(), forecasts.clone()));
    let tools = Arc::new(Tools::new(
        read_models.clone(),
        forecasts,
        ledger.clone(),
        Arc::new(SqlDemandReader::new(db.clone())),
        commands.clone(),
    ));
    let chat = Arc::new(Chat::new(
        tools.clone(),
        Arc::new(SqlConversations::new(db.clone())),
        clock.clone(),
        restock_application::chat::DEFAULT_ACTION_TTL,
    ));
    AppState {
        plans,
        chat,
        commands,
        thresholds,
        ledger,
        read_models,
        tools,
        db,
        store,
        clock,
        tokens: Arc::new(tokens),
        wake,
        agent_triggers,
        runners: Arc::new(runners),
        metrics: Arc::new(Metrics::default()),
        agent_metrics: Arc::new(AgentMetrics::default()),
        mcp_allowed_hosts: Default::default(),
        rate_limiter: Arc::new(TenantRateLimiter::default()),
    }
}

/// The agent worker and, when a webhook is configured, the notification delivery task.
fn spawn_agent(
    state: &AppState,
    config: &AgentConfig,
    llm: Option<SharedLlm>,
    stop: &watch::Receiver<bool>,
) -> Result<Vec<JoinHandle<()>>, StartError> {
    let worker = AgentWorker::new(
        state.db.clone(),
        state.commands.clone(),
        state.agent_triggers.clone(),
        state.agent_metrics.clone(),
        config.clone(),
        llm,
    )
    .with_purchase_plans(state.plans.clone());
    let mut tasks = vec![tokio::spawn(worker.run(stop.clone()))];
    if let Some(url) = &config.webhook_url {
        let client = WebhookClient::new(url, Duration::from_secs(10))?;
        let delivery = WebhookDelivery::new(state.db.clone(), client, state.agent_metrics.clone());
        tasks.push(tokio::spawn(delivery.run(stop.clone())));
    }
    Ok(tasks)
}

/// A server running in this process: the HTTP listener plus every background worker.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// Connect, migrate, start the projection runners and listen.
    pub async fn start(config: &ServerConfig) -> Result<Self, StartError> {
        if let Some(llm) = config
            .agent
            .llm
            .as_ref()
            .filter(|l| l.deadline >= config.request_timeout)
        {
            return Err(StartError::TimeoutBelowLlmDeadline {
                request: config.request_timeout,
                llm: llm.deadline,
            });
        }
        let db = Db::connect(&config.database_url).await?;
        db.migrate().await?;
        let tokens = token_keys(
            &config.database_url,
            config.jwt_secret.as_ref().map(|s| s.expose_secret()),
        )?;
        let mut state = AppState {
            mcp_allowed_hosts: config.mcp_allowed_hosts.clone(),
            rate_limiter: Arc::new(TenantRateLimiter::new(config.rate_limit)),
            ..app_state(db, tokens, config.clock.clone())
        };
        // One LLM link for the agent and the chat: one client, one breaker, one budget.
        let llm = match &config.agent.llm {
            Some(llm) => Some(SharedLlm::new(
                Arc::new(OpenAiClient::new(llm.clone())?),
                llm.clone(),
            )),
            None => None,
        };
        let chat_llm = llm
            .clone()
            .map(|l| ChatLlm::new(l, Arc::new(SqlLlmBudget::new(state.db.clone()))));
        state.chat = Arc::new(
            state
                .chat
                .with_action_ttl(config.chat_action_ttl)
                .with_llm(chat_llm),
        );
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|e| StartError::Bind(config.bind, e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartError::Bind(config.bind, e))?;
        let (shutdown, stop) = watch::channel(false);
        let mut tasks = Vec::new();
        state.wake.connect(&state.db);
        for runner in state.runners.iter().cloned() {
            tasks.push(tokio::spawn(
                runner.run(state.wake.subscribe(), stop.clone()),
            ));
        }
        let sweeper = ExpirySweeper::new(state.db.clone(), state.commands.clone());
        tasks.push(tokio::spawn(sweeper.run(stop.clone())));
        let scheduler = ThresholdScheduler::new(
            state.db.clone(),
            state.thresholds.clone(),
            config.forecast_interval,
        );
        tasks.push(tokio::spawn(scheduler.run(stop.clone())));
        tasks.extend(spawn_agent(&state, &config.agent, llm, &stop)?);
        let app = crate::telemetry::traced(routes::with_timeout(
            routes::router(state.clone()),
            config.request_timeout,
        ));
        let mut http_stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = http_stop.wait_for(|stop| *stop).await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "http server failed");
            }
        }));
        tracing::info!(%addr, backend = ?state.db.backend(), "restock listening");
        Ok(Self {
            addr,
            state,
            shutdown,
            tasks,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting requests, let in-flight ones finish, stop the workers, close the pool.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        self.state.db.close().await;
    }
}
