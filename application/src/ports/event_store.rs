//! The event store port: an append-only log of per-tenant streams with a global, commit-ordered
//! read. Two adapters implement it (infrastructure: Postgres and SQLite); one set of behavioural
//! tests runs against both.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use restock_domain::TenantId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// One aggregate of one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamId {
    pub tenant: TenantId,
    pub aggregate_type: &'static str,
    pub aggregate_id: String,
}

impl StreamId {
    pub fn product(tenant: &TenantId, sku: &restock_domain::Sku) -> Self {
        Self {
            tenant: tenant.clone(),
            aggregate_type: "product",
            aggregate_id: sku.to_string(),
        }
    }
}

/// Who caused an event and in answer to what; travels with every event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub actor: String,
}

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub event_version: i32,
    pub payload: Value,
    pub occurred_at: DateTime<Utc>,
    /// When the system learned of it. Chosen by the application (not a database default) so
    /// that the response stored with an idempotency key, which shows it, is identical to the
    /// first response. Stored as given; `read_stream_until` filters on it.
    pub recorded_at: DateTime<Utc>,
    pub metadata: EventMetadata,
}

/// A position in the global log. On Postgres events become visible in `(tx_id, global_position)`
/// order once every older transaction has finished; on SQLite `tx_id` is always 0 and the single
/// writer makes `global_position` commit order. Always checkpoint the pair, never one half.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Position {
    pub tx_id: i64,
    pub global_position: i64,
}

impl Position {
    pub const START: Position = Position {
        tx_id: 0,
        global_position: 0,
    };
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub position: Position,
    pub tenant_id: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// 1-based sequence within the stream: the stream's version after this event.
    pub sequence: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub event_version: i32,
    pub payload: Value,
    pub metadata: EventMetadata,
    pub recorded_at: DateTime<Utc>,
    pub occurred_at: DateTime<Utc>,
}

/// The stored answer to a command sent with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub key: String,
    /// SHA-256 of what identifies the request (method, path, body), to detect key reuse.
    pub request_hash: String,
    pub status: ReplyStatus,
    pub body: Value,
}

/// What kind of success a command's stored reply was. A front end maps it to its own wire
/// (HTTP 201/200/204); the store keeps it as that same number, so replies recorded before this
/// type existed read back unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub enum ReplyStatus {
    /// Something new exists (a product, a movement, a reservation, a refill).
    Created,
    /// The command changed or confirmed something that already existed.
    Done,
    /// Done, with nothing to say (a release).
    NoContent,
}

impl ReplyStatus {
    /// The number stored with an idempotency key (and the HTTP status it is answered with).
    pub const fn code(self) -> u16 {
        match self {
            Self::Created => 201,
            Self::Done => 200,
            Self::NoContent => 204,
        }
    }

    pub fn from_code(code: u16) -> Option<Self> {
        [Self::Created, Self::Done, Self::NoContent]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

impl TryFrom<u16> for ReplyStatus {
    type Error = String;

    fn try_from(code: u16) -> Result<Self, Self::Error> {
        Self::from_code(code).ok_or_else(|| format!("no reply status {code}"))
    }
}

impl From<ReplyStatus> for u16 {
    fn from(status: ReplyStatus) -> Self {
        status.code()
    }
}

/// The aggregate's state after the appended events, stored in the same transaction so that a
/// load reads one row plus the (normally empty) tail instead of the whole stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The stream version the state includes.
    pub version: i64,
    /// Bumped when the state's shape changes; snapshots of another schema are ignored.
    pub schema: i32,
    pub state: Value,
}

/// A secondary id that names a stream (a reservation or refill id -> its product), written in the
/// append transaction so that it is usable as soon as the command has answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamAlias {
    pub kind: &'static str,
    pub id: Uuid,
}

#[derive(Debug, Clone)]
pub struct AppendRequest {
    pub stream: StreamId,
    /// The version the decision was made on; the append fails with `Conflict` if it moved.
    pub expected_version: i64,
    pub events: Vec<NewEvent>,
    pub idempotency: Option<IdempotencyRecord>,
    pub snapshot: Option<Snapshot>,
    pub aliases: Vec<StreamAlias>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("stream moved past the expected version")]
    Conflict,
    #[error("idempotency key already recorded")]
    IdempotencyKeyTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
#[error("event store: {0}")]
pub struct StoreError(pub String);

impl StoreError {
    pub fn new(e: impl std::fmt::Display) -> Self {
        Self(e.to_string())
    }
}

/// What `load` returns: the newest usable snapshot, if any, and the events after it.
#[derive(Debug, Clone, Default)]
pub struct LoadedStream {
    pub snapshot: Option<Snapshot>,
    pub events: Vec<RecordedEvent>,
}

#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// Snapshot plus tail. The cost must not grow with the stream's length.
    async fn load(
        &self,
        stream: &StreamId,
        snapshot_schema: i32,
    ) -> Result<LoadedStream, StoreError>;

    /// Append atomically: events, idempotency record, snapshot and aliases, or nothing.
    async fn append(&self, request: AppendRequest) -> Result<Vec<RecordedEvent>, AppendError>;

    /// Events of one stream with `sequence > after_version`, oldest first.
    async fn read_stream(
        &self,
        stream: &StreamId,
        after_version: i64,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Events of one stream recorded at or before `as_of`: what the system knew then.
    async fn read_stream_until(
        &self,
        stream: &StreamId,
        as_of: DateTime<Utc>,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Events after `after` in global commit order, never skipping one that commits late.
    async fn read_all(&self, after: Position, limit: i64)
        -> Result<Vec<RecordedEvent>, StoreError>;

    /// How many committed events lie after `after` (readable or still behind the commit-order
    /// horizon), and the oldest one's recorded_at: what a projection at `after` has yet to do.
    async fn lag(&self, after: Position) -> Result<(i64, Option<DateTime<Utc>>), StoreError>;

    async fn find_idempotency(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;

    /// The aggregate id a secondary id names, within the tenant.
    async fn resolve_alias(
        &self,
        tenant: &TenantId,
        kind: &'static str,
        id: Uuid,
    ) -> Result<Option<String>, StoreError>;
}
