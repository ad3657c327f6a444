//! MCP (docs/api.md, "MCP"): the tool layer for any AI client, over streamable HTTP at `POST /mcp`
//! (stateless, the API's bearer token) and over stdio (`restock mcp`, the operator's tenant).
//!
//! Nothing here decides what a tool does or who may call it: `list_tools` and `call_tool` are
//! [`Tools::list`] and [`Tools::call`] translated to MCP, so the tenant, the manager check and
//! the validation are exactly the API's. A refused call ([`ToolError`]) is a tool result with
//! `isError: true` whose text starts with the error's stable code, never a protocol error: an
//! MCP client shows a tool result to the model and the person, and hides protocol errors.
//!
//! Not here yet: the per-tenant rate limit on `/mcp` (the hardening issue).

use crate::extract::Caller;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use restock_application::ports::{CommitListener, SystemClock};
use restock_application::tools::{ToolCaller, ToolError, ToolSpec, Tools};
use restock_application::ProductCommands;
use restock_domain::TenantId;
use restock_infrastructure::event_store::event_store_for;
use restock_infrastructure::read_models::daily_demand::SqlDemandReader;
use restock_infrastructure::read_models::decisions::SqlDecisionLedger;
use restock_infrastructure::read_models::forecasts::SqlForecasts;
use restock_infrastructure::read_models::queries::SqlReadModels;
use restock_infrastructure::tokens::Role;
use restock_infrastructure::Db;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::Value;
use std::sync::Arc;

/// The variable that sets which `Host`s (and so which browser `Origin`s) `/mcp` answers.
pub const ALLOWED_HOSTS_VAR: &str = "RESTOCK_MCP_ALLOWED_HOSTS";

/// A request larger than this is refused (413) before it is parsed: tool arguments are small.
const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// Which `Host` headers `/mcp` answers. Checking it stops DNS rebinding (a web page whose name
/// resolves to this machine talking to a local server); behind a reverse proxy it must list the
/// public name, hence configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedHosts {
    /// Any host (`*`): only for a server whose every client sends a token anyway and whose
    /// proxy rewrites `Host`.
    Any,
    /// These names or `name:port` authorities (a name without a port allows every port).
    Only(Vec<String>),
}

impl Default for AllowedHosts {
    /// The loopback names, as the SDK does: a server on a laptop is safe without setup.
    fn default() -> Self {
        Self::Only(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()])
    }
}

impl AllowedHosts {
    /// `RESTOCK_MCP_ALLOWED_HOSTS`: a comma-separated list of hosts or `host:port` authorities
    /// (`[::1]:8080` for IPv6 with a port), or `*` for any. Errors name the variable.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw == "*" {
            return Ok(Self::Any);
        }
        let mut hosts = Vec::new();
        for entry in raw.split(',').map(str::trim) {
            if entry.is_empty() {
                return Err(format!(
                    "{ALLOWED_HOSTS_VAR}: expected a comma-separated list of host names \
                     (e.g. localhost,mcp.example.com:443) or *, got {raw:?}"
                ));
            }
            if !is_authority(entry) {
                return Err(format!(
                    "{ALLOWED_HOSTS_VAR}: {entry:?} is not a host name, IP address or host:port \
                     (no scheme, path or user)"
                ));
            }
            hosts.push(entry.to_ascii_lowercase());
        }
        Ok(Self::Only(hosts))
    }

    /// The browser origins that go with these hosts: the same names, over http or https. A
    /// request without `Origin` (every non-browser client) is not affected.
    fn origins(hosts: &[String]) -> Vec<String> {
        let mut origins = Vec::new();
        for host in hosts {
            let authority = if host.parse::<std::net::Ipv6Addr>().is_ok() {
                format!("[{host}]:*")
            } else if host.contains(':') {
                host.clone()
            } else {
                format!("{host}:*")
            };
            for scheme in ["http", "https"] {
                origins.push(format!("{scheme}://{authority}"));
            }
        }
        origins
    }
}

/// A bare IPv6 address, or what `Host` may carry: a name or IP, optionally `:port`.
fn is_authority(entry: &str) -> bool {
    if entry.parse::<std::net::Ipv6Addr>().is_ok() {
        return true;
    }
    if entry.contains(['/', '@', '?', '#', ' ']) {
        return false;
    }
    // `Authority` accepts any text after the colon; a port must be a number.
    let port_ok = match entry.rsplit_once(':') {
        Some((_, port)) if !entry.ends_with(']') => port.parse::<u16>().is_ok(),
        _ => true,
    };
    port_ok
        && axum::http::uri::Authority::try_from(entry)
            .is_ok_and(|authority| !authority.host().is_empty())
}

/// The MCP server: the tool layer, and who is calling when the transport cannot say.
#[derive(Clone)]
pub struct RestockMcp {
    tools: Arc<Tools>,
    /// stdio: the tenant and role the operator chose. HTTP: `None`, the caller comes from the
    /// token the middleware verified ([`authenticate`]), per request.
    operator: Option<Operator>,
}

#[derive(Debug, Clone)]
struct Operator {
    tenant: TenantId,
    user: String,
    role: Role,
}

impl RestockMcp {
    fn over_http(tools: Arc<Tools>) -> Self {
        Self {
            tools,
            operator: None,
        }
    }

    /// The caller of this request: the operator on stdio, the token's subject over HTTP.
    fn caller(&self, context: &RequestContext<RoleServer>) -> Result<ToolCaller, ErrorData> {
        if let Some(op) = &self.operator {
            return Ok(ToolCaller::new(
                op.tenant.clone(),
                op.user.clone(),
                op.role == Role::Manager,
            ));
        }
        // The SDK hands each request's HTTP parts to the handler; `authenticate` put the
        // verified caller in them. Without one the request did not come through the
        // middleware, which the router makes impossible: refuse rather than guess a tenant.
        let caller = context
            .extensions
            .get::<Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>())
            .ok_or_else(|| ErrorData::internal_error("request without a verified caller", None))?;
        Ok(ToolCaller {
            correlation_id: caller.correlation_id,
            ..ToolCaller::new(
                caller.tenant.clone(),
                caller.user.clone(),
                caller.role == Role::Manager,
            )
        })
    }
}

/// A tool as MCP lists it: the tool layer's name, description and schema, and its read-only
/// flag as the hint. Write tools only add (a refill, a minimum), so they are not destructive.
fn mcp_tool(spec: &ToolSpec) -> Tool {
    let schema = match &spec.input_schema {
        Value::Object(map) => map.clone(),
        _ => JsonObject::new(),
    };
    let mut annotations = ToolAnnotations::new()
        .read_only(spec.read_only)
        .open_world(false);
    if !spec.read_only {
        annotations = annotations.destructive(false);
    }
    Tool::new(spec.name.as_str(), spec.description, Arc::new(schema)).with_annotations(annotations)
}

/// A tool layer answer as a tool result: the JSON as text (what every client shows the model)
/// and, for objects, as structured content too (no output schema is declared, so a client has
/// nothing to check it against).
fn tool_result(answer: Result<Value, ToolError>) -> CallToolResult {
    match answer {
        Ok(value) => {
            let text = serde_json::to_string(&value).unwrap_or_else(|_| value.to_string());
            let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
            if value.is_object() {
                result.structured_content = Some(value);
            }
            result
        }
        Err(ToolError::Store(detail)) => {
            // The store's own words stay in the server log, as for the HTTP API's 500s.
            tracing::error!(error = %detail, "mcp tool call failed in the store");
            CallToolResult::error(vec![ContentBlock::text(
                "internal: the server failed to answer; it is logged, try again later",
            )])
        }
        Err(e) => CallToolResult::error(vec![ContentBlock::text(format!("{}: {e}", e.code()))]),
    }
}

impl ServerHandler for RestockMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("restock", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Restock: stock, minimums, forecasts, refills and notifications of one shop \
                 (the token's tenant). Read tools change nothing; refill_stock and \
                 set_min_stock need a manager and act as the caller.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let caller = self.caller(&context)?;
        let tools = self.tools.list(&caller).iter().map(mcp_tool).collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = self.caller(&context)?;
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        let answer = self.tools.call(&caller, &request.name, &arguments).await;
        Ok(tool_result(answer).into())
    }
}

/// `POST /mcp` (GET and DELETE answer 405: a stateless server has no stream or session to
/// open or close), behind the bearer-token middleware.
pub fn routes(state: &AppState) -> Router<AppState> {
    let (hosts, origins) = match &state.mcp_allowed_hosts {
        AllowedHosts::Any => (Vec::new(), Vec::new()),
        AllowedHosts::Only(hosts) => (hosts.clone(), AllowedHosts::origins(hosts)),
    };
    let mut config = StreamableHttpServerConfig::default()
        // Stateless: any instance answers any request, and the token is checked on each.
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_max_request_body_bytes(MAX_REQUEST_BYTES)
        .with_allowed_hosts(hosts);
    if !origins.is_empty() {
        config = config
            .with_allowed_origins(origins)
            .enforce_origin_validation();
    }
    let tools = state.tools.clone();
    let service = StreamableHttpService::new(
        move || Ok(RestockMcp::over_http(tools.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Router::new()
        .route_service("/mcp", service)
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate,
        ))
}

/// The API's bearer auth in front of MCP: 401 problem+json without a valid token, else the
/// verified caller travels in the request to [`RestockMcp::caller`].
async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    match Caller::from_request_parts(&mut parts, &state).await {
        Ok(caller) => {
            parts.extensions.insert(caller);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => e.into_response(),
    }
}

/// The tool layer over a database, for `restock mcp`, which runs no projections of its own: its
/// reads come from the read models a running `restock serve` keeps, and its commits are
/// announced to that server's runners (PostgreSQL; on SQLite they find them at their next poll).
pub fn tools_for(db: &Db) -> Arc<Tools> {
    struct Announce(Db);
    impl CommitListener for Announce {
        fn committed(&self) {
            let db = self.0.clone();
            tokio::spawn(async move {
                if let Err(e) = db.announce_commits().await {
                    tracing::warn!(error = %e, "could not announce a commit to running servers");
                }
            });
        }
    }
    let commands = Arc::new(
        ProductCommands::new(event_store_for(db), Arc::new(SystemClock))
            .with_commit_listener(Arc::new(Announce(db.clone()))),
    );
    Arc::new(Tools::new(
        Arc::new(SqlReadModels::new(db.clone())),
        Arc::new(SqlForecasts::new(db.clone())),
        Arc::new(SqlDecisionLedger::new(db.clone())),
        Arc::new(SqlDemandReader::new(db.clone())),
        commands,
    ))
}

/// `restock mcp`: serve the tools over stdin/stdout until the client closes stdin. The operator
/// chose the tenant and role, so no token is needed; writes are recorded as `user:<user>`.
pub async fn serve_stdio(
    tools: Arc<Tools>,
    tenant: TenantId,
    role: Role,
    user: String,
) -> Result<(), std::io::Error> {
    let server = RestockMcp {
        tools,
        operator: Some(Operator { tenant, user, role }),
    };
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::AllowedHosts;

    #[test]
    fn allowed_hosts_parse() {
        assert_eq!(AllowedHosts::parse("*"), Ok(AllowedHosts::Any));
        assert_eq!(
            AllowedHosts::parse("localhost, MCP.example.com:443,::1,[::1]:8080"),
            Ok(AllowedHosts::Only(vec![
                "localhost".into(),
                "mcp.example.com:443".into(),
                "::1".into(),
                "[::1]:8080".into()
            ]))
        );
        for bad in [
            "",
            "a,,b",
            "https://example.com",
            "example.com/mcp",
            "user@host",
            "host:port",
            "host:",
        ] {
            let err = AllowedHosts::parse(bad).expect_err(bad);
            assert!(err.contains("RESTOCK_MCP_ALLOWED_HOSTS"), "{bad}: {err}");
        }
    }

    #[test]
    fn origins_follow_the_hosts() {
        let origins = AllowedHosts::origins(&["localhost".into(), "::1".into(), "a.b:8443".into()]);
        assert_eq!(
            origins,
            [
                "http://localhost:*",
                "https://localhost:*",
                "http://[::1]:*",
                "https://[::1]:*",
                "http://a.b:8443",
                "https://a.b:8443"
            ]
        );
    }
}
