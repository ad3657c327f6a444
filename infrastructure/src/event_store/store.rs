//! What the two backends share: the port's methods, written once over a [`StoreBackend`], and
//! the [`Dialect`] the shared statements (`append`, `read`) are written over.
//!
//! The traits are `pub` only so that the public store types may name them; this module is
//! private.

use super::{append, read};
use chrono::{DateTime, Utc};
use restock_application::ports::{
    AppendError, AppendRequest, EventMetadata, EventStore, IdempotencyRecord, LoadedStream,
    Position, RecordedEvent, StoreError, StreamId,
};
use restock_domain::TenantId;
use sqlx::query::Query;
use sqlx::{Database, Executor, FromRow, IntoArguments, Pool};
use std::future::Future;
use uuid::Uuid;

/// An event store on one backend: [`EventStore`] answered by the shared algorithms, with what
/// differs asked of `B`.
#[derive(Debug, Clone)]
pub struct Store<B>(pub(super) B);

/// What differs between the backends beyond their [`Dialect`]: where reads run, how an append
/// starts (and whether it has a faster form), and reading the global log in commit order.
pub trait StoreBackend: Send + Sync + 'static {
    type Db: Dialect;

    /// Where stream reads, snapshots, idempotency records and aliases are read.
    fn reads(&self) -> &Pool<Self::Db>;

    /// An append that passed `append::validate`.
    fn append(
        &self,
        request: &AppendRequest,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, AppendError>> + Send;

    /// The port's `read_all`, for a `limit` of at least 1.
    fn read_all(
        &self,
        after: Position,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, StoreError>> + Send;

    fn lag(
        &self,
        after: Position,
    ) -> impl Future<Output = Result<(i64, Option<DateTime<Utc>>), StoreError>> + Send;
}

#[async_trait::async_trait]
impl<B: StoreBackend> EventStore for Store<B>
where
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    (i64, i32): for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (String, String, i32): for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (String,): for<'r> FromRow<'r, <B::Db as Database>::Row>,
{
    async fn load(
        &self,
        stream: &StreamId,
        snapshot_schema: i32,
    ) -> Result<LoadedStream, StoreError> {
        read::load(self.0.reads(), stream, snapshot_schema).await
    }

    async fn append(&self, request: AppendRequest) -> Result<Vec<RecordedEvent>, AppendError> {
        append::validate(&request)?;
        self.0.append(&request).await
    }

    async fn read_stream(
        &self,
        stream: &StreamId,
        after_version: i64,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        read::stream(self.0.reads(), stream, after_version, limit).await
    }

    async fn read_stream_until(
        &self,
        stream: &StreamId,
        as_of: DateTime<Utc>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        read::stream_until(self.0.reads(), stream, as_of).await
    }

    async fn read_all(
        &self,
        after: Position,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        self.0.read_all(after, limit).await
    }

    async fn lag(&self, after: Position) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        self.0.lag(after).await
    }

    async fn find_idempotency(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        read::idempotency(self.0.reads(), tenant, key).await
    }

    async fn resolve_alias(
        &self,
        tenant: &TenantId,
        kind: &'static str,
        id: Uuid,
    ) -> Result<Option<String>, StoreError> {
        read::alias(self.0.reads(), tenant, kind, id).await
    }
}

/// A value a statement binds, by kind; each backend stores the kinds its own way (SQLite keeps
/// uuids, timestamps and JSON as text).
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    Int(i64),
    Int4(i32),
    Text(&'a str),
    Uuid(Uuid),
    OptionalUuid(Option<Uuid>),
    /// Already truncated to microseconds (see `micros`).
    Time(DateTime<Utc>),
    Json(&'a serde_json::Value),
    Metadata(&'a EventMetadata),
    /// A `LIMIT`; `None` for no limit.
    Limit(Option<i64>),
}

/// What a backend contributes to the statements written once in `append` and `read`: how it
/// binds and decodes each kind of value, and the statements whose text differs (the event
/// columns it selects, how an inserted event reports its position).
pub trait Dialect: Database {
    /// [`append::insert_event!`] with the backend's transaction id expression.
    const INSERT_EVENT: &'static str;
    /// The backend's event columns followed by [`read::tail_where!`].
    const STREAM_TAIL: &'static str;
    /// The backend's event columns followed by [`read::until_where!`].
    const STREAM_UNTIL: &'static str;

    fn bind<'q>(
        query: Query<'q, Self, Self::Arguments<'q>>,
        param: Param<'q>,
    ) -> Query<'q, Self, Self::Arguments<'q>>;

    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// The JSON value in column `index` of `row`.
    fn json(row: &Self::Row, index: usize) -> Result<serde_json::Value, StoreError>;

    /// Rows of `STREAM_TAIL` or `STREAM_UNTIL`.
    fn events(rows: &[Self::Row]) -> Result<Vec<RecordedEvent>, StoreError>;
}

/// `sql` with `params` bound in order.
pub(super) fn statement<'q, DB: Dialect>(
    sql: &'q str,
    params: impl IntoIterator<Item = Param<'q>>,
) -> Query<'q, DB, DB::Arguments<'q>> {
    params.into_iter().fold(sqlx::query(sql), DB::bind)
}

/// The stream's three key columns, as statements about one stream start.
pub(super) fn stream_params(stream: &StreamId) -> [Param<'_>; 3] {
    [
        Param::Text(stream.tenant.as_str()),
        Param::Text(stream.aggregate_type),
        Param::Text(&stream.aggregate_id),
    ]
}
