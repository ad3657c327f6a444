//! Conversations (docs/api.md "Conversations"): ask about the stock in plain English or Portuguese.
//! Any role may ask; only a manager may confirm a proposed change. A conversation belongs to
//! the token's tenant and `sub`: anyone else gets 404.

use crate::extract::{parse_json, Caller, Manager};
use crate::problem::codes::{
    Conflict, Forbidden, Internal, NotFound, Unauthorized, ValidationFailed,
};
use crate::problem::{ApiError, Problems};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use restock_application::chat::{
    ChatError, ConfirmedAction, ConversationCreated, ConversationSummary, ConversationView, Turn,
};
use restock_application::tools::{ToolCaller, ToolError};
use restock_application::views::Page;
use restock_infrastructure::tokens::Role;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

impl From<ChatError> for ApiError {
    fn from(e: ChatError) -> Self {
        match e {
            ChatError::NotFound | ChatError::ActionNotFound => ApiError::not_found(e.to_string()),
            ChatError::Invalid(d) => ApiError::validation(d),
            ChatError::Expired(_) | ChatError::Busy => ApiError::conflict(e.to_string()),
            // A confirmed action the rules refuse (a refill already open, ...) or whose product
            // is gone changes nothing: 409, as docs/api.md says.
            ChatError::Tool(ToolError::NotFound(d) | ToolError::InvalidArguments(d)) => {
                ApiError::conflict(d)
            }
            ChatError::Tool(t) => t.into(),
            ChatError::Store(s) => s.into(),
        }
    }
}

fn tool_caller(caller: &Caller) -> ToolCaller {
    ToolCaller {
        correlation_id: caller.correlation_id,
        ..ToolCaller::new(
            caller.tenant.clone(),
            caller.user.clone(),
            caller.role == Role::Manager,
        )
    }
}

fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("no conversation with this id"))
}

/// Start a conversation.
#[utoipa::path(
    post,
    path = "/conversations",
    tag = "conversations",
    security(("bearer" = [])),
    request_body(content = Object, description = "`{}` or no body", content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = ConversationCreated),
        Problems<(ValidationFailed, Unauthorized, Internal)>,
    )
)]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<ConversationCreated>), ApiError> {
    // `{}` or nothing; anything else is a client's mistake to hear about, not to ignore.
    parse_json::<crate::extract::Empty>(&body)?;
    let created = app.chat.create(&caller.tenant, &caller.user).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The caller's conversations, newest first.
#[utoipa::path(
    get,
    path = "/conversations",
    tag = "conversations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's conversations", body = Page<ConversationSummary>),
        Problems<(Unauthorized, Internal)>,
    )
)]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<Page<ConversationSummary>>, ApiError> {
    let items = app.chat.list(&caller.tenant, &caller.user).await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// A conversation and its messages, oldest first.
#[utoipa::path(
    get,
    path = "/conversations/{id}",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation")),
    responses(
        (status = 200, description = "The conversation", body = ConversationView),
        Problems<(Unauthorized, NotFound, Internal)>,
    )
)]
pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ConversationView>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(app.chat.get(&caller.tenant, &caller.user, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MessageInput)]
pub struct MessageBody {
    /// The question, 1-2000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    text: String,
}

/// Ask a question; the answer is built from the read tools and stored with the question.
#[utoipa::path(
    post,
    path = "/conversations/{id}/messages",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation")),
    request_body = MessageBody,
    responses(
        (status = 201, description = "The answer", body = Turn),
        Problems<(ValidationFailed, Unauthorized, NotFound, Conflict, Internal)>,
    )
)]
pub async fn post_message(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Turn>), ApiError> {
    let id = parse_id(&id)?;
    let body: MessageBody = parse_json(&body)?;
    let turn = app
        .chat
        .post_message(&tool_caller(&caller), id, &body.text)
        .await?;
    Ok((StatusCode::CREATED, Json(turn)))
}

/// Run a proposed action as the ordinary command, once: a repeat returns the first result.
#[utoipa::path(
    post,
    path = "/conversations/{id}/actions/{action_id}/confirm",
    operation_id = "confirm_action",
    tag = "conversations",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The conversation"),
        ("action_id" = Uuid, Path, description = "The proposed action"),
    ),
    responses(
        (status = 201, description = "Done (or done before)", body = ConfirmedAction),
        Problems<(Unauthorized, Forbidden, NotFound, Conflict, Internal)>,
    )
)]
pub async fn confirm(
    State(app): State<AppState>,
    Manager(caller): Manager,
    Path((id, action_id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<ConfirmedAction>), ApiError> {
    let id = parse_id(&id)?;
    let action_id = Uuid::parse_str(&action_id)
        .map_err(|_| ApiError::not_found("no proposed action with this id"))?;
    let done = app
        .chat
        .confirm(&tool_caller(&caller), id, action_id)
        .await?;
    Ok((StatusCode::CREATED, Json(done)))
}
