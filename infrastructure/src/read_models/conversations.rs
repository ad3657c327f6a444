//! Conversations, their messages and proposed actions (`ConversationStore`): rows, tenant-leading
//! keys, each read or write in a tenant-scoped transaction (on PostgreSQL under row-level
//! security as `restock_app`).

use crate::{execute, fetch_all, fetch_optional, Backend, Db, DbTx};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use restock_application::chat::{
    ConversationStore, ConversationSummary, ProposedAction, RecentMessages, StoredAction,
    StoredMessage,
};
use restock_application::ports::StoreError;
use restock_domain::TenantId;
use serde_json::Value;
use uuid::Uuid;

/// Titles are the first question, shortened to this many characters.
const TITLE_CHARS: usize = 80;

pub struct SqlConversations {
    db: Db,
}

impl SqlConversations {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    async fn begin(&self, tenant: &TenantId, write: bool) -> Result<DbTx, StoreError> {
        // PostgreSQL: the tenant-scoped transaction may write (restock_app has the grants) and
        // row-level security checks every row. SQLite writes go through its one writer pool.
        let tx = match (self.db.backend(), write) {
            (Backend::Sqlite, true) => self.db.begin().await,
            _ => self.db.begin_tenant_read(tenant.as_str()).await,
        };
        tx.map_err(StoreError::new)
    }
}

#[derive(sqlx::FromRow)]
struct ConversationRow {
    conversation_id: String,
    created_at: DateTime<Utc>,
    last_message_at: Option<DateTime<Utc>>,
    title: Option<String>,
}

impl ConversationRow {
    fn summary(self) -> Result<ConversationSummary, StoreError> {
        Ok(ConversationSummary {
            id: uuid(&self.conversation_id)?,
            created_at: self.created_at,
            last_message_at: self.last_message_at,
            title: self.title,
        })
    }
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    message_id: String,
    role: String,
    text: String,
    turn: Option<String>,
    context: Option<String>,
    created_at: DateTime<Utc>,
}

impl MessageRow {
    fn stored(self) -> Result<StoredMessage, StoreError> {
        Ok(StoredMessage {
            id: uuid(&self.message_id)?,
            role: self.role,
            text: self.text,
            created_at: self.created_at,
            turn: self.turn.as_deref().map(json).transpose()?,
            context: self.context.as_deref().map(json::<Value>).transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct RecentRow {
    position: i64,
    #[sqlx(flatten)]
    message: MessageRow,
}

#[derive(sqlx::FromRow)]
struct ActionRow {
    action_id: String,
    conversation_id: String,
    turn_id: String,
    tool: String,
    arguments: String,
    summary: String,
    expires_at: DateTime<Utc>,
    result: Option<String>,
}

fn uuid(raw: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(raw).map_err(StoreError::new)
}

fn json<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, StoreError> {
    serde_json::from_str(raw).map_err(StoreError::new)
}

fn text<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(StoreError::new)
}

const CONVERSATION_COLUMNS: &str = "conversation_id, created_at, last_message_at, title";

#[async_trait]
impl ConversationStore for SqlConversations {
    async fn create(
        &self,
        tenant: &TenantId,
        owner: &str,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(tenant, true).await?;
        execute!(
            &mut tx,
            "INSERT INTO conversations (tenant_id, conversation_id, owner, created_at) \
             VALUES ($1, $2, $3, $4)",
            tenant.as_str(),
            id.to_string(),
            owner,
            at,
        )
        .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)
    }

    async fn list(
        &self,
        tenant: &TenantId,
        owner: &str,
        limit: i64,
    ) -> Result<Vec<ConversationSummary>, StoreError> {
        let mut tx = self.begin(tenant, false).await?;
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE tenant_id = $1 AND owner = $2 \
             ORDER BY conversation_id DESC LIMIT $3"
        );
        let rows = fetch_all!(
            &mut tx,
            ConversationRow,
            &sql,
            tenant.as_str(),
            owner,
            limit
        )
        .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        rows.into_iter().map(ConversationRow::summary).collect()
    }

    async fn find(
        &self,
        tenant: &TenantId,
        owner: &str,
        id: Uuid,
    ) -> Result<Option<ConversationSummary>, StoreError> {
        let mut tx = self.begin(tenant, false).await?;
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations \
             WHERE tenant_id = $1 AND conversation_id = $2 AND owner = $3"
        );
        let row = fetch_optional!(
            &mut tx,
            ConversationRow,
            &sql,
            tenant.as_str(),
            id.to_string(),
            owner
        )
        .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        row.map(ConversationRow::summary).transpose()
    }

    async fn messages(
        &self,
        tenant: &TenantId,
        conversation: Uuid,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let mut tx = self.begin(tenant, false).await?;
        let rows = fetch_all!(
            &mut tx,
            MessageRow,
            "SELECT message_id, role, text, turn, context, created_at FROM conversation_messages \
             WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY position",
            tenant.as_str(),
            conversation.to_string(),
        )
        .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        rows.into_iter().map(MessageRow::stored).collect()
    }

    async fn recent_messages(
        &self,
        tenant: &TenantId,
        conversation: Uuid,
        limit: usize,
    ) -> Result<RecentMessages, StoreError> {
        let mut tx = self.begin(tenant, false).await?;
        // Newest first through the primary key (tenant, conversation, position), then turned.
        let rows = fetch_all!(
            &mut tx,
            RecentRow,
            "SELECT position, message_id, role, text, turn, context, created_at \
             FROM conversation_messages WHERE tenant_id = $1 AND conversation_id = $2 \
             ORDER BY position DESC LIMIT $3",
            tenant.as_str(),
            conversation.to_string(),
            i64::try_from(limit).unwrap_or(i64::MAX),
        )
        .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        let last_position = rows.first().map_or(0, |r| r.position);
        let mut messages = rows
            .into_iter()
            .map(|r| r.message.stored())
            .collect::<Result<Vec<_>, _>>()?;
        messages.reverse();
        Ok(RecentMessages {
            messages,
            last_position: usize::try_from(last_position).map_err(StoreError::new)?,
        })
    }

    async fn append(
        &self,
        tenant: &TenantId,
        conversation: Uuid,
        after: usize,
        messages: &[StoredMessage],
        action: Option<&StoredAction>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin(tenant, true).await?;
        let conversation_id = conversation.to_string();
        let (last,): (i64,) = fetch_optional!(
            &mut tx,
            (i64,),
            "SELECT COALESCE(MAX(position), 0) FROM conversation_messages \
             WHERE tenant_id = $1 AND conversation_id = $2",
            tenant.as_str(),
            &conversation_id,
        )
        .map_err(StoreError::new)?
        .unwrap_or((0,));
        // Answered on a history that has grown since: the answer may not fit it (a follow-up
        // read the wrong context), so the caller is told to ask again. Dropping the transaction
        // rolls it back.
        if usize::try_from(last).ok() != Some(after) {
            return Ok(false);
        }
        for (i, m) in messages.iter().enumerate() {
            let turn = m.turn.as_ref().map(text).transpose()?;
            let context = m.context.as_ref().map(text).transpose()?;
            // Two answers racing past the check above meet here (Postgres, read committed):
            // the second inserts nothing instead of failing on the key.
            let inserted = execute!(
                &mut tx,
                "INSERT INTO conversation_messages (tenant_id, conversation_id, position, \
                     message_id, role, text, turn, context, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                tenant.as_str(),
                &conversation_id,
                last + 1 + i as i64,
                m.id.to_string(),
                &m.role,
                &m.text,
                turn,
                context,
                m.created_at,
            )
            .map_err(StoreError::new)?;
            if inserted != 1 {
                return Ok(false);
            }
        }
        let title: Option<String> = messages
            .iter()
            .find(|m| m.role == "user")
            .map(|m| m.text.chars().take(TITLE_CHARS).collect());
        let last_at = messages.iter().map(|m| m.created_at).max();
        execute!(
            &mut tx,
            "UPDATE conversations SET last_message_at = $1, title = COALESCE(title, $2) \
             WHERE tenant_id = $3 AND conversation_id = $4",
            last_at,
            title,
            tenant.as_str(),
            &conversation_id,
        )
        .map_err(StoreError::new)?;
        if let Some(a) = action {
            execute!(
                &mut tx,
                "INSERT INTO conversation_actions (tenant_id, action_id, conversation_id, turn_id, \
                     tool, arguments, summary, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                tenant.as_str(),
                a.action.id.to_string(),
                &conversation_id,
                a.turn_id.to_string(),
                &a.action.tool,
                text(&a.action.arguments)?,
                &a.action.summary,
                a.action.expires_at,
            )
            .map_err(StoreError::new)?;
        }
        tx.commit().await.map_err(StoreError::new)?;
        Ok(true)
    }

    async fn action(
        &self,
        tenant: &TenantId,
        conversation: Uuid,
        action: Uuid,
    ) -> Result<Option<StoredAction>, StoreError> {
        let mut tx = self.begin(tenant, false).await?;
        let row = fetch_optional!(
            &mut tx,
            ActionRow,
            "SELECT action_id, conversation_id, turn_id, tool, arguments, summary, expires_at, \
                 result FROM conversation_actions \
             WHERE tenant_id = $1 AND action_id = $2 AND conversation_id = $3",
            tenant.as_str(),
            action.to_string(),
            conversation.to_string(),
        )
        .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        row.map(|r| {
            Ok(StoredAction {
                action: ProposedAction {
                    id: uuid(&r.action_id)?,
                    tool: r.tool,
                    arguments: json(&r.arguments)?,
                    summary: r.summary,
                    expires_at: r.expires_at,
                },
                conversation_id: uuid(&r.conversation_id)?,
                turn_id: uuid(&r.turn_id)?,
                result: r.result.as_deref().map(json).transpose()?,
            })
        })
        .transpose()
    }

    async fn confirm_action(
        &self,
        tenant: &TenantId,
        action: Uuid,
        result: &Value,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(tenant, true).await?;
        execute!(
            &mut tx,
            "UPDATE conversation_actions SET result = $1, confirmed_by = $2, confirmed_at = $3 \
             WHERE tenant_id = $4 AND action_id = $5 AND result IS NULL",
            text(result)?,
            by,
            at,
            tenant.as_str(),
            action.to_string(),
        )
        .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)
    }
}
