//! Request extractors: everything a handler receives is already authenticated and parsed, and
//! every refusal is a problem+json answer.

use crate::problem::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use chrono::{DateTime, Utc};
use restock_application::{CommandContext, IdempotencyRequest};
use restock_domain::TenantId;
use restock_infrastructure::tokens::Role;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// An authenticated caller. Tenancy comes from the token, never from the request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: String,
    pub tenant: TenantId,
    pub role: Role,
    pub correlation_id: Uuid,
}

impl Caller {
    pub fn context(&self) -> CommandContext {
        CommandContext {
            correlation_id: self.correlation_id,
            ..CommandContext::new(self.tenant.clone(), format!("user:{}", self.user))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    /// Verifies the token and takes one request from the tenant's rate bucket, once per request
    /// (the caller is kept in the request, so a second extraction counts nothing again).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| ApiError::unauthorized("missing bearer token"))?;
        let claims = state
            .tokens
            .verify(token.trim())
            .map_err(|e| ApiError::unauthorized(e.to_string()))?;
        state.rate_limiter.check(&claims.tenant)?;
        let caller = Caller {
            user: claims.sub,
            tenant: claims.tenant,
            role: claims.role,
            correlation_id: correlation_id(&parts.headers),
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// The request id a client or proxy sent, so one id follows a request into its events.
fn correlation_id(headers: &HeaderMap) -> Uuid {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v).ok())
        .unwrap_or_else(Uuid::now_v7)
}

/// A caller allowed to send commands.
#[derive(Debug, Clone)]
pub struct Manager(pub Caller);

impl FromRequestParts<AppState> for Manager {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        match caller.role {
            Role::Manager => Ok(Manager(caller)),
            Role::Viewer => Err(ApiError::forbidden("viewers cannot send commands")),
        }
    }
}

/// A command: a manager, a JSON body of type `T`, and the optional `Idempotency-Key` bound to
/// a hash of the method, path and body so a reused key with another request is detected.
pub struct Command<T> {
    pub caller: Caller,
    pub body: T,
    pub idempotency: Option<IdempotencyRequest>,
}

impl<T> Command<T> {
    pub fn context(&self) -> CommandContext {
        CommandContext {
            idempotency: self.idempotency.clone(),
            ..self.caller.context()
        }
    }

    pub fn context_at(&self, occurred_at: Option<DateTime<Utc>>) -> CommandContext {
        CommandContext {
            occurred_at,
            ..self.context()
        }
    }
}

/// The body of a command: JSON of type `T`, or nothing at all (for bodiless commands `T = Empty`).
pub trait CommandBody: Sized {
    fn parse(bytes: &Bytes) -> Result<Self, ApiError>;
}

/// Command bodies are JSON unless a type says otherwise (see `routes::imports::Csv`).
impl<T: DeserializeOwned> CommandBody for T {
    fn parse(bytes: &Bytes) -> Result<Self, ApiError> {
        parse_json(bytes)
    }
}

impl<T: CommandBody + Send> FromRequest<AppState> for Command<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let Manager(caller) = Manager::from_request_parts(&mut parts, state).await?;
        let key = idempotency_key(&parts.headers)?;
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|e| ApiError::validation(format!("unreadable body: {e}")))?;
        let body = T::parse(&bytes)?;
        let idempotency = key.map(|key| IdempotencyRequest {
            request_hash: request_hash(&parts.method, parts.uri.path(), &bytes),
            key,
        });
        Ok(Command {
            caller,
            body,
            idempotency,
        })
    }
}

/// The `Idempotency-Key` header every command accepts, as the OpenAPI document shows it (the
/// [`Command`] extractor reads it).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// 1-128 visible ASCII characters. A repeat with the same key and body returns the first
    /// response and appends nothing; the same key with another body is `idempotency_key_reused`.
    #[param(rename = "Idempotency-Key", value_type = String, required = false, min_length = 1, max_length = 128)]
    #[allow(dead_code)]
    key: Option<String>,
}

/// An empty JSON object or no body at all, for commands that take no arguments.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

pub fn parse_json<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let parsed: T =
        serde_json::from_slice(bytes).map_err(|e| ApiError::validation(format!("body: {e}")))?;
    // PostgreSQL cannot keep U+0000 in text or jsonb: refused here, it would be a 500 at the
    // store. Only a body that spells the escape can hold one (JSON has no raw control
    // characters in strings), so most bodies skip the walk.
    if contains_nul_escape(bytes)
        && has_nul(&serde_json::from_slice::<Value>(bytes).unwrap_or_default())
    {
        return Err(ApiError::validation(
            "body: text may not contain the NUL character (U+0000)",
        ));
    }
    Ok(parsed)
}

fn contains_nul_escape(bytes: &[u8]) -> bool {
    bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
}

fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(fields) => fields.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// `Idempotency-Key`: 1 to 128 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| (1..=128).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::validation("Idempotency-Key must be 1-128 visible ASCII characters")
        })?;
    Ok(Some(key.to_owned()))
}

fn request_hash(method: &Method, path: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// Query string parameters, refused as problem+json when malformed.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        // `%00` is a NUL once decoded, which PostgreSQL cannot take as text (see `parse_json`).
        if parts.uri.query().is_some_and(|q| q.contains("%00")) {
            return Err(ApiError::validation(
                "query: text may not contain the NUL character (U+0000)",
            ));
        }
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| QueryParams(q.0))
            .map_err(|e| ApiError::validation(format!("query: {}", e.body_text())))
    }
}

/// `?limit=`: default 50, at most 500.
pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(50),
        Some(n) if (1..=500).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::validation("limit must be between 1 and 500")),
    }
}
