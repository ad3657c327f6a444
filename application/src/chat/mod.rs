//! Conversations: questions about the shop's stock in English or Portuguese, answered by the
//! built-in [`interpreter`] from tool-layer calls only, stored turn by turn (a [`ConversationStore`]),
//! and changes asked in chat kept as proposed actions until a manager confirms them.
//!
//! Every figure an answer states comes from a tool result recorded in the turn's `tool_calls`;
//! nothing here reads a table or builds a command (the tool layer does, once).

mod answers;
pub(crate) mod figures;
pub mod interpreter;
pub mod llm;
pub mod metrics;
pub mod period;
mod proposals;
pub mod query;
pub mod text;

pub use llm::ChatLlm;
pub use metrics::ChatMetrics;

use crate::ports::{Clock, StoreError};
use crate::tools::{ToolCaller, ToolError, Tools};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use restock_domain::TenantId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

/// How long a proposed action may be confirmed.
pub const DEFAULT_ACTION_TTL: Duration = Duration::minutes(15);
/// Longest question accepted (docs/api.md).
pub const MAX_TEXT_CHARS: usize = 2000;
/// Conversations listed at most.
const LIST_LIMIT: i64 = 500;
/// Earlier messages a question is answered with: the LLM is shown these, and the interpreter's
/// follow-up context is the last assistant message's among them. Reading the whole conversation
/// instead made each question cost its conversation's length: in the soak (eight conversations
/// of a few hundred turns) decoding whole histories was 21 of the server's 35 MB peak heap
/// (heaptrack), and resident memory rose through every run as the conversations grew.
pub const HISTORY_MESSAGES: usize = 12;

/// `POST /v1/conversations` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationCreated {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
}

/// One of the caller's conversations.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationSummary {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub last_message_at: Option<DateTime<Utc>>,
    /// The first question, shortened.
    #[schema(required = true)]
    pub title: Option<String>,
}

/// A tool the answer was built from, with what it was asked and what it answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ToolCallView {
    pub name: String,
    #[schema(value_type = Object)]
    pub arguments: Value,
    #[schema(value_type = Object)]
    pub result: Value,
}

/// A change asked in chat, waiting for a manager's confirmation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProposedAction {
    pub id: Uuid,
    /// `refill_stock` or `set_min_stock`.
    pub tool: String,
    #[schema(value_type = Object)]
    pub arguments: Value,
    pub summary: String,
    pub expires_at: DateTime<Utc>,
}

/// The assistant's answer to one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Turn {
    pub id: Uuid,
    /// Always `assistant`.
    pub role: String,
    pub text: String,
    /// `en` or `pt`: the question's language.
    pub lang: String,
    /// `interpreter` or `llm:<model>`.
    pub answered_by: String,
    #[schema(required = true)]
    pub fallback_reason: Option<String>,
    pub tool_calls: Vec<ToolCallView>,
    /// The facts the text states, structured for a UI.
    #[schema(required = true, value_type = Option<Object>)]
    pub data: Option<Value>,
    #[schema(required = true)]
    pub proposed_action: Option<ProposedAction>,
}

/// One message of a conversation as `GET /v1/conversations/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageView {
    pub id: Uuid,
    /// `user` or `assistant`.
    pub role: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposed_action: Option<ProposedAction>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationView {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    /// Oldest first.
    pub messages: Vec<MessageView>,
}

/// `POST .../actions/{id}/confirm` answer: the tool's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConfirmedAction {
    pub action_id: Uuid,
    #[schema(value_type = Object)]
    pub result: Value,
}

/// A message as stored. An assistant message keeps its whole [`Turn`] and the interpreter's
/// context, which the next question's follow-up leans on.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    pub id: Uuid,
    pub role: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub turn: Option<Turn>,
    pub context: Option<Value>,
}

/// The end of a conversation: what answering one more question needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecentMessages {
    /// The last messages, oldest first.
    pub messages: Vec<StoredMessage>,
    /// The position of the conversation's last message (positions run from 1, so also how many
    /// it holds): the `after` of the [`ConversationStore::append`] that answers.
    pub last_position: usize,
}

/// A proposed action as stored, with the result of its confirmation once confirmed.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAction {
    pub action: ProposedAction,
    pub conversation_id: Uuid,
    /// The turn that proposed it: the causation of the command it runs.
    pub turn_id: Uuid,
    pub result: Option<Value>,
}

/// Where conversations live: rows per tenant, each conversation owned by one user (`sub`).
#[async_trait]
pub trait ConversationStore: Send + Sync + 'static {
    async fn create(
        &self,
        tenant: &TenantId,
        owner: &str,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The owner's conversations, newest first.
    async fn list(
        &self,
        tenant: &TenantId,
        owner: &str,
        limit: i64,
    ) -> Result<Vec<ConversationSummary>, StoreError>;
    /// The conversation, if it exists in this tenant and belongs to `owner`.
    async fn find(
        &self,
        tenant: &TenantId,
        owner: &str,
        id: Uuid,
    ) -> Result<Option<ConversationSummary>, StoreError>;
    /// Its messages, oldest first.
    async fn messages(
        &self,
        tenant: &TenantId,
        conversation: Uuid,
    ) -> Result<Vec<StoredMessage>, StoreError>;
    /// Its last `limit` messages, oldest first, and the position of the last one: a read that
    /// does not grow with the conversation.
    async fn recent_messages(
        &self,
        tenant: &TenantId,
        conversation: Uuid,
        limit: usize,
    ) -> Result<RecentMessages, StoreError>;
    /// Append a question and its answer (and the action it proposes) in one transaction, after
    /// the messages read before answering. False, and nothing written, when another answer was
    /// appended since (two questions raced in one conversation).
    async fn append(
        &self,
        tenant: &TenantId,
        conversation: Uuid,
        after: usize,
        messages: &[StoredMessage],
        action: Option<&StoredAction>,
    ) -> Result<bool, StoreError>;
    async fn action(
        &self,
        tenant: &TenantId,
        conversation: Uuid,
        action: Uuid,
    ) -> Result<Option<StoredAction>, StoreError>;
    /// Keep the first confirmation's result (a second write of a result keeps the first).
    async fn confirm_action(
        &self,
        tenant: &TenantId,
        action: Uuid,
        result: &Value,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("no conversation with this id")]
    NotFound,
    #[error("no proposed action with this id in this conversation")]
    ActionNotFound,
    #[error("{0}")]
    Invalid(String),
    #[error("the proposed action expired at {0}; ask again")]
    Expired(DateTime<Utc>),
    #[error("another message in this conversation was answered meanwhile; send this one again")]
    Busy,
    #[error(transparent)]
    Tool(#[from] ToolError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Conversations over the tool layer.
pub struct Chat {
    tools: Arc<Tools>,
    store: Arc<dyn ConversationStore>,
    clock: Arc<dyn Clock>,
    action_ttl: Duration,
    /// Asked first when configured; the interpreter answers whenever it fails.
    llm: Option<Arc<ChatLlm>>,
    metrics: Arc<ChatMetrics>,
}

impl Chat {
    pub fn new(
        tools: Arc<Tools>,
        store: Arc<dyn ConversationStore>,
        clock: Arc<dyn Clock>,
        action_ttl: Duration,
    ) -> Self {
        Self {
            tools,
            store,
            clock,
            action_ttl,
            llm: None,
            metrics: Arc::default(),
        }
    }

    /// The same service with another lifetime for proposed actions.
    pub fn with_action_ttl(&self, action_ttl: Duration) -> Self {
        Self {
            action_ttl,
            ..self.clone_parts()
        }
    }

    /// The same service asking an LLM first.
    pub fn with_llm(&self, llm: Option<ChatLlm>) -> Self {
        Self {
            llm: llm.map(Arc::new),
            ..self.clone_parts()
        }
    }

    fn clone_parts(&self) -> Self {
        Self {
            tools: self.tools.clone(),
            store: self.store.clone(),
            clock: self.clock.clone(),
            action_ttl: self.action_ttl,
            llm: self.llm.clone(),
            metrics: self.metrics.clone(),
        }
    }

    pub fn metrics(&self) -> &ChatMetrics {
        &self.metrics
    }

    pub async fn create(
        &self,
        tenant: &TenantId,
        owner: &str,
    ) -> Result<ConversationCreated, ChatError> {
        let created = ConversationCreated {
            id: Uuid::now_v7(),
            created_at: self.clock.now(),
        };
        self.store
            .create(tenant, owner, created.id, created.created_at)
            .await?;
        Ok(created)
    }

    pub async fn list(
        &self,
        tenant: &TenantId,
        owner: &str,
    ) -> Result<Vec<ConversationSummary>, ChatError> {
        Ok(self.store.list(tenant, owner, LIST_LIMIT).await?)
    }

    pub async fn get(
        &self,
        tenant: &TenantId,
        owner: &str,
        id: Uuid,
    ) -> Result<ConversationView, ChatError> {
        let found = self
            .store
            .find(tenant, owner, id)
            .await?
            .ok_or(ChatError::NotFound)?;
        let messages = self.store.messages(tenant, id).await?;
        Ok(ConversationView {
            id,
            created_at: found.created_at,
            messages: messages
                .into_iter()
                .map(|m| MessageView {
                    proposed_action: m.turn.and_then(|t| t.proposed_action),
                    id: m.id,
                    role: m.role,
                    text: m.text,
                    created_at: m.created_at,
                })
                .collect(),
        })
    }

    /// Answer a question in a conversation of the caller's (the caller's `user` is the owner).
    pub async fn post_message(
        &self,
        caller: &ToolCaller,
        conversation: Uuid,
        text: &str,
    ) -> Result<Turn, ChatError> {
        let question = text.trim();
        if question.is_empty() || question.chars().count() > MAX_TEXT_CHARS {
            return Err(ChatError::Invalid(format!(
                "text must be 1 to {MAX_TEXT_CHARS} characters"
            )));
        }
        // PostgreSQL cannot store U+0000 in text: refused here, it would fail at the store.
        if question.contains('\0') {
            return Err(ChatError::Invalid(
                "text may not contain the NUL character (U+0000)".to_owned(),
            ));
        }
        self.store
            .find(&caller.tenant, &caller.user, conversation)
            .await?
            .ok_or(ChatError::NotFound)?;
        let RecentMessages {
            messages: history,
            last_position,
        } = self
            .store
            .recent_messages(&caller.tenant, conversation, HISTORY_MESSAGES)
            .await?;
        let previous = history.iter().rev().find_map(|m| m.context.clone());
        let asked_at = self.clock.now();
        let turn_id = Uuid::now_v7();
        let reading = ToolCaller {
            causation_id: Some(turn_id),
            // Reads only: the interpreter never writes, whatever the token may do.
            may_write: false,
            idempotency_key: None,
            ..caller.clone()
        };
        let lang = text::language(
            &text::words(&text::fold(question)),
            previous
                .as_ref()
                .and_then(|c| c["lang"].as_str())
                .and_then(text::Lang::parse),
        );
        let llm_answer = match &self.llm {
            Some(llm) => Some(
                llm.answer(
                    &self.tools,
                    &reading,
                    question,
                    &history,
                    lang,
                    asked_at,
                    &self.metrics,
                )
                .await
                .map(|a| (llm.answered_by(), a)),
            ),
            None => None,
        };
        let (answer, answered_by, fallback_reason) = match llm_answer {
            Some(Ok((answered_by, a))) => {
                // The interpreter's follow-up context carries on (in the question's language),
                // so that a later fallback still understands "and the mugs?".
                let mut context = previous.clone().unwrap_or_else(|| serde_json::json!({}));
                context["lang"] = Value::from(lang.as_str());
                let answer = interpreter::Answer {
                    text: a.text,
                    lang,
                    data: Some(serde_json::json!({
                        "kind": "llm",
                        "model": a.model_returned,
                        "tool_rounds": a.rounds,
                        "usage": a.usage,
                    })),
                    tool_calls: a.tool_calls,
                    proposal: a.proposal,
                    context,
                };
                (answer, answered_by, None)
            }
            Some(Err(failure)) => {
                tracing::info!(reason = %failure.code, detail = %failure.detail,
                    "chat: the LLM's answer was not used; the interpreter answers");
                let answer = interpreter::answer(
                    &self.tools,
                    &reading,
                    question,
                    previous.as_ref(),
                    asked_at,
                )
                .await?;
                (answer, "interpreter".to_owned(), Some(failure.code))
            }
            None => {
                let answer = interpreter::answer(
                    &self.tools,
                    &reading,
                    question,
                    previous.as_ref(),
                    asked_at,
                )
                .await?;
                (answer, "interpreter".to_owned(), None)
            }
        };
        self.metrics.turn(&answered_by, fallback_reason.as_deref());
        if !answered_by.starts_with("llm:") {
            self.metrics
                .tool_calls(answer.tool_calls.iter().map(|c| c.name.as_str()));
        }
        let action = answer.proposal.map(|p| StoredAction {
            action: ProposedAction {
                id: Uuid::now_v7(),
                tool: p.tool.to_owned(),
                arguments: p.arguments,
                summary: p.summary,
                expires_at: asked_at + self.action_ttl,
            },
            conversation_id: conversation,
            turn_id,
            result: None,
        });
        let turn = Turn {
            id: turn_id,
            role: "assistant".into(),
            text: answer.text,
            lang: answer.lang.as_str().into(),
            answered_by,
            fallback_reason,
            tool_calls: answer.tool_calls,
            data: answer.data,
            proposed_action: action.as_ref().map(|a| a.action.clone()),
        };
        let messages = [
            StoredMessage {
                id: Uuid::now_v7(),
                role: "user".into(),
                text: question.to_owned(),
                created_at: asked_at,
                turn: None,
                context: None,
            },
            StoredMessage {
                id: turn_id,
                role: "assistant".into(),
                text: turn.text.clone(),
                created_at: self.clock.now(),
                turn: Some(turn.clone()),
                context: Some(answer.context),
            },
        ];
        let appended = self
            .store
            .append(
                &caller.tenant,
                conversation,
                last_position,
                &messages,
                action.as_ref(),
            )
            .await?;
        if !appended {
            return Err(ChatError::Busy);
        }
        Ok(turn)
    }

    /// Run a proposed action once, as the confirming manager (`caller`), caused by the turn that
    /// proposed it. A repeat answers the first result; the tool's own idempotency key (derived
    /// from the action id) makes the command run once even if two confirmations race.
    pub async fn confirm(
        &self,
        caller: &ToolCaller,
        conversation: Uuid,
        action_id: Uuid,
    ) -> Result<ConfirmedAction, ChatError> {
        self.store
            .find(&caller.tenant, &caller.user, conversation)
            .await?
            .ok_or(ChatError::NotFound)?;
        let stored = self
            .store
            .action(&caller.tenant, conversation, action_id)
            .await?
            .ok_or(ChatError::ActionNotFound)?;
        if let Some(result) = stored.result {
            return Ok(ConfirmedAction { action_id, result });
        }
        let now = self.clock.now();
        if now > stored.action.expires_at {
            return Err(ChatError::Expired(stored.action.expires_at));
        }
        let writer = ToolCaller {
            causation_id: Some(stored.turn_id),
            idempotency_key: Some(format!("chat-action:{action_id}")),
            ..caller.clone()
        };
        let result = self
            .tools
            .call(&writer, &stored.action.tool, &stored.action.arguments)
            .await?;
        self.store
            .confirm_action(
                &caller.tenant,
                action_id,
                &result,
                &format!("user:{}", caller.user),
                now,
            )
            .await?;
        Ok(ConfirmedAction { action_id, result })
    }
}
