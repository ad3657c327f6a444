//! What every handler can reach.

use crate::metrics::Metrics;
use crate::problem::ApiError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use restock_application::agent::AgentMetrics;
use restock_application::chat::Chat;
use restock_application::ports::{Clock, DecisionLedger, EventStore, ReadModels, ReplyStatus};
use restock_application::purchase::PurchasePlans;
use restock_application::thresholds::Thresholds;
use restock_application::tools::Tools;
use restock_application::{CommandContext, Executed, Outcome, ProductCommands};
use restock_domain::{ProductCommand, Sku};
use restock_infrastructure::tokens::TokenKeys;
use restock_infrastructure::Db;
use restock_projections::{ProjectionRunner, Wakeup};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub store: Arc<dyn EventStore>,
    pub commands: Arc<ProductCommands>,
    pub thresholds: Arc<Thresholds>,
    /// What the agent decided on each trigger, for refill audits.
    pub ledger: Arc<dyn DecisionLedger>,
    /// The read tables, as API shapes.
    pub read_models: Arc<dyn ReadModels>,
    /// Purchase plans from supplier prices (the routes, the agent worker).
    pub plans: Arc<PurchasePlans>,
    /// The tool layer: what chat, MCP and the dashboard call.
    pub tools: Arc<Tools>,
    /// Conversations over the tool layer.
    pub chat: Arc<Chat>,
    pub clock: Arc<dyn Clock>,
    pub tokens: Arc<TokenKeys>,
    pub wake: Wakeup,
    /// Bumped when the agent projection committed triggers; the agent worker waits on it.
    pub agent_triggers: Wakeup,
    pub runners: Arc<Vec<ProjectionRunner>>,
    pub metrics: Arc<Metrics>,
    pub agent_metrics: Arc<AgentMetrics>,
    /// The `Host`s `/mcp` answers (`RESTOCK_MCP_ALLOWED_HOSTS`).
    pub mcp_allowed_hosts: crate::mcp::AllowedHosts,
    /// Each tenant's request rate on `/v1` and `/mcp` (`RESTOCK_RATE_LIMIT`).
    pub rate_limiter: Arc<crate::rate_limit::TenantRateLimiter>,
}

impl AppState {
    /// Execute a product command and answer with `render`'s status and body (an API shape, `()`
    /// for none). The same rendering is stored with an idempotency key, so a repeat gets
    /// byte-for-byte the first answer.
    pub async fn execute<T: Serialize>(
        &self,
        ctx: &CommandContext,
        sku: &Sku,
        command: ProductCommand,
        render: impl Fn(&Executed) -> (StatusCode, T) + Send + Sync,
    ) -> Result<Response, ApiError> {
        let render = |e: &Executed| {
            let (status, body) = render(e);
            // API shapes are plain structs: serializing one into a `Value` cannot fail.
            (status, serde_json::to_value(body).unwrap_or(Value::Null))
        };
        let stored = |e: &Executed| {
            let (status, body) = render(e);
            (reply_status(status), body)
        };
        match self.commands.execute(ctx, sku, command, &stored).await? {
            Outcome::Executed(executed) => {
                if !executed.recorded.is_empty() {
                    self.metrics.events_appended(executed.recorded.len());
                }
                let (status, body) = render(&executed);
                Ok(respond(status, body))
            }
            Outcome::Replayed(record) => {
                let status = StatusCode::from_u16(record.status.code())
                    .map_err(|e| ApiError::internal(format!("stored status: {e}")))?;
                Ok(respond(status, record.body))
            }
        }
    }
}

/// The kind of success a command answered with, as the store keeps it. Commands answer only
/// 201, 200 or 204 (`routes`); a replay maps it back through `ReplyStatus::code`.
fn reply_status(status: StatusCode) -> ReplyStatus {
    match status {
        StatusCode::CREATED => ReplyStatus::Created,
        StatusCode::NO_CONTENT => ReplyStatus::NoContent,
        _ => ReplyStatus::Done,
    }
}

fn respond(status: StatusCode, body: Value) -> Response {
    if status == StatusCode::NO_CONTENT {
        status.into_response()
    } else {
        (status, Json(body)).into_response()
    }
}
