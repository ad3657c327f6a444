//! The tool layer: every read tool and guarded write tool, once, with its JSON schema
//! ([`catalog`]), its validation ([`request`]: types, then domain parsing) and its execution
//! ([`read`] over the read-model ports, [`write`] as ordinary commands). Chat, MCP and the
//! dashboard call tools through [`Tools`]; none of them reads a table or builds a command itself.
//!
//! The rules every front end inherits from here:
//! - the tenant is the caller's ([`ToolCaller`], from a token or the operator), never an
//!   argument: another tenant's sku is simply not found;
//! - a write tool runs only for a caller that may write (a manager), as the caller (`user:<sub>`
//!   on the events), through the same command and rules as the HTTP API;
//! - a refused call is a [`ToolError`] with a stable code and a message naming the problem.

pub mod catalog;
pub mod insight;
mod read;
pub mod request;
mod write;

pub use catalog::{catalog, ToolName, ToolSpec};
pub use request::{ProductRef, RefillRef, ToolRequest};

use crate::agent::chat::canonical_json;
use crate::ports::{
    DecisionLedger, DemandReader, EventStore, ForecastRepository, ReadModels, StoreError,
};
use crate::product_commands::{CommandContext, CommandError, IdempotencyRequest};
use crate::ProductCommands;
use restock_domain::{ProductError, TenantId};
use serde_json::Value;
use std::sync::Arc;
use uuid::Uuid;

/// Who calls a tool, and in answer to what.
#[derive(Debug, Clone)]
pub struct ToolCaller {
    pub tenant: TenantId,
    /// The token's `sub` (or the operator's name on stdio); writes record `user:<user>`.
    pub user: String,
    /// A manager may call write tools; a viewer only reads.
    pub may_write: bool,
    pub correlation_id: Uuid,
    /// What caused this call (a conversation turn, a confirmed action), for the events it makes.
    pub causation_id: Option<Uuid>,
    /// Run a write at most once under this key (per tenant), like `Idempotency-Key`.
    pub idempotency_key: Option<String>,
}

impl ToolCaller {
    pub fn new(tenant: TenantId, user: impl Into<String>, may_write: bool) -> Self {
        Self {
            tenant,
            user: user.into(),
            may_write,
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            idempotency_key: None,
        }
    }

    fn command_context(&self, request: &Value) -> CommandContext {
        CommandContext {
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            idempotency: self.idempotency_key.as_ref().map(|key| IdempotencyRequest {
                key: key.clone(),
                request_hash: crate::agent::chat::sha256_hex(&canonical_json(request)),
            }),
            ..CommandContext::new(self.tenant.clone(), format!("user:{}", self.user))
        }
    }
}

/// Why a tool call did nothing. `code` is stable; the message names what was wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ToolError {
    #[error("no tool named {0:?}")]
    UnknownTool(String),
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0} needs a manager")]
    Forbidden(ToolName),
    /// The rules refused the command (a refill already open, stock too low, ...).
    #[error("{0}")]
    Refused(String),
    #[error("the same idempotency key was used for a different request")]
    KeyReused,
    #[error("the store failed: {0}")]
    Store(String),
}

impl ToolError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownTool(_) => "unknown_tool",
            Self::InvalidArguments(_) => "invalid_arguments",
            Self::NotFound(_) => "not_found",
            Self::Forbidden(_) => "forbidden",
            Self::Refused(_) => "conflict",
            Self::KeyReused => "idempotency_key_reused",
            Self::Store(_) => "internal",
        }
    }
}

impl From<StoreError> for ToolError {
    fn from(e: StoreError) -> Self {
        Self::Store(e.to_string())
    }
}

impl From<CommandError> for ToolError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Rejected(ProductError::NotRegistered) => {
                Self::NotFound("no product with this sku".into())
            }
            CommandError::Rejected(rule) => Self::Refused(rule.to_string()),
            CommandError::Conflict => Self::Refused(e.to_string()),
            CommandError::IdempotencyKeyReused => Self::KeyReused,
            CommandError::Store(s) => Self::Store(s.to_string()),
        }
    }
}

/// The tools, wired to the ports they read and the commands they run.
pub struct Tools {
    read_models: Arc<dyn ReadModels>,
    forecasts: Arc<dyn ForecastRepository>,
    ledger: Arc<dyn DecisionLedger>,
    demand: Arc<dyn DemandReader>,
    store: Arc<dyn EventStore>,
    commands: Arc<ProductCommands>,
    plans: crate::purchase::PurchasePlans,
}

impl Tools {
    pub fn new(
        read_models: Arc<dyn ReadModels>,
        forecasts: Arc<dyn ForecastRepository>,
        ledger: Arc<dyn DecisionLedger>,
        demand: Arc<dyn DemandReader>,
        commands: Arc<ProductCommands>,
    ) -> Self {
        Self {
            demand,
            plans: crate::purchase::PurchasePlans::new(read_models.clone(), forecasts.clone()),
            read_models,
            forecasts,
            ledger,
            store: commands.store().clone(),
            commands,
        }
    }

    /// The caller's products as (sku, name), for linking a question's words to products. Not
    /// a tool: it states no figure, so the chat does not list it among a turn's tool calls.
    pub async fn product_names(
        &self,
        caller: &ToolCaller,
    ) -> Result<Vec<(String, String)>, ToolError> {
        Ok(self.read_models.product_names(&caller.tenant).await?)
    }

    /// The tools this caller may see and call.
    pub fn list(&self, caller: &ToolCaller) -> Vec<ToolSpec> {
        catalog(caller.may_write)
    }

    /// Validate and run a call given by name and JSON arguments.
    pub async fn call(
        &self,
        caller: &ToolCaller,
        name: &str,
        arguments: &Value,
    ) -> Result<Value, ToolError> {
        let request = ToolRequest::parse(name, arguments)?;
        self.run(caller, &request, arguments).await
    }

    /// Run a validated call. `arguments` is what the caller sent, for the idempotency hash.
    #[tracing::instrument(skip_all, fields(tenant = %caller.tenant, tool = %request.name()))]
    pub async fn run(
        &self,
        caller: &ToolCaller,
        request: &ToolRequest,
        arguments: &Value,
    ) -> Result<Value, ToolError> {
        let tool = request.name();
        if !tool.is_read_only() && !caller.may_write {
            return Err(ToolError::Forbidden(tool));
        }
        match request {
            _ if !tool.is_read_only() => {
                let ctx = caller.command_context(&serde_json::json!({
                    "tool": tool.as_str(),
                    "arguments": arguments,
                }));
                write::run(self, caller, &ctx, request).await
            }
            _ => read::run(self, &caller.tenant, request).await,
        }
    }
}

#[cfg(test)]
mod tests;
