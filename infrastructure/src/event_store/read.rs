//! The reads both backends run alike (a stream's tail, its state at a time, snapshots,
//! idempotency records, aliases), written once over a [`Dialect`]. Reading the global log in
//! commit order differs by backend and stays in each backend's file.

use super::store::{statement, stream_params, Dialect, Param};
use super::{known_prefix, micros};
use chrono::{DateTime, Utc};
use restock_application::ports::{
    IdempotencyRecord, LoadedStream, RecordedEvent, ReplyStatus, Snapshot, StoreError, StreamId,
};
use restock_domain::TenantId;
use sqlx::{Executor, FromRow, IntoArguments, Pool};
use uuid::Uuid;

/// A stream's events after a version, after the backend's event columns: a range read on the
/// stream's key, so the cost is the tail's length, not the stream's (each backend's tests check
/// the plan). `$5` is the limit.
macro_rules! tail_where {
    () => {
        "WHERE tenant_id = $1 AND aggregate_type = $2 AND aggregate_id = $3 AND sequence > $4 \
         ORDER BY sequence LIMIT $5"
    };
}
pub(super) use tail_where;

/// What the stream held at a time, after the backend's event columns; cut to an unbroken prefix
/// by `known_prefix`.
macro_rules! until_where {
    () => {
        "WHERE tenant_id = $1 AND aggregate_type = $2 AND aggregate_id = $3 AND recorded_at <= $4 \
         ORDER BY sequence"
    };
}
pub(super) use until_where;

const SNAPSHOT: &str = "SELECT version, schema, state FROM snapshots \
     WHERE tenant_id = $1 AND aggregate_type = $2 AND aggregate_id = $3";

const IDEMPOTENCY: &str = "SELECT key, request_hash, status, body FROM idempotency_keys \
     WHERE tenant_id = $1 AND key = $2";

const ALIAS: &str = "SELECT aggregate_id FROM stream_aliases \
     WHERE tenant_id = $1 AND kind = $2 AND alias_id = $3";

/// The stream's snapshot of `snapshot_schema`, if any, and the events after it.
pub(super) async fn load<DB: Dialect>(
    pool: &Pool<DB>,
    stream: &StreamId,
    snapshot_schema: i32,
) -> Result<LoadedStream, StoreError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    (i64, i32): for<'r> FromRow<'r, DB::Row>,
{
    // Snapshot first, then the tail: both only move forward, so the tail read after it is at
    // least as new and the pair is a consistent state.
    let row = statement::<DB>(SNAPSHOT, stream_params(stream))
        .fetch_optional(pool)
        .await
        .map_err(StoreError::new)?;
    let snapshot = match row {
        Some(row) => {
            let (version, schema) = <(i64, i32)>::from_row(&row).map_err(StoreError::new)?;
            let state = DB::json(&row, 2)?;
            Some(Snapshot {
                version,
                schema,
                state,
            })
        }
        None => None,
    }
    .filter(|s| s.schema == snapshot_schema);
    let after = snapshot.as_ref().map_or(0, |s| s.version);
    let events = tail(pool, stream, after, None).await?;
    Ok(LoadedStream { snapshot, events })
}

/// Up to `limit` events after `after_version`; none for a limit below 1.
pub(super) async fn stream<DB: Dialect>(
    pool: &Pool<DB>,
    stream: &StreamId,
    after_version: i64,
    limit: i64,
) -> Result<Vec<RecordedEvent>, StoreError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
{
    if limit <= 0 {
        return Ok(Vec::new());
    }
    tail(pool, stream, after_version, Some(limit)).await
}

async fn tail<DB: Dialect>(
    pool: &Pool<DB>,
    stream: &StreamId,
    after_version: i64,
    limit: Option<i64>,
) -> Result<Vec<RecordedEvent>, StoreError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
{
    let rows = statement::<DB>(DB::STREAM_TAIL, tail_params(stream, after_version, limit))
        .fetch_all(pool)
        .await
        .map_err(StoreError::new)?;
    DB::events(&rows)
}

fn tail_params(stream: &StreamId, after_version: i64, limit: Option<i64>) -> [Param<'_>; 5] {
    let [tenant, aggregate_type, aggregate_id] = stream_params(stream);
    [
        tenant,
        aggregate_type,
        aggregate_id,
        Param::Int(after_version),
        Param::Limit(limit),
    ]
}

/// The events the stream held at `as_of`.
pub(super) async fn stream_until<DB: Dialect>(
    pool: &Pool<DB>,
    stream: &StreamId,
    as_of: DateTime<Utc>,
) -> Result<Vec<RecordedEvent>, StoreError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
{
    // Stored values have whole microseconds: truncating the bound keeps `<=` exact.
    let params = stream_params(stream)
        .into_iter()
        .chain([Param::Time(micros(as_of))]);
    let rows = statement::<DB>(DB::STREAM_UNTIL, params)
        .fetch_all(pool)
        .await
        .map_err(StoreError::new)?;
    Ok(known_prefix(DB::events(&rows)?))
}

pub(super) async fn idempotency<DB: Dialect>(
    pool: &Pool<DB>,
    tenant: &TenantId,
    key: &str,
) -> Result<Option<IdempotencyRecord>, StoreError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    (String, String, i32): for<'r> FromRow<'r, DB::Row>,
{
    let params = [Param::Text(tenant.as_str()), Param::Text(key)];
    let row = statement::<DB>(IDEMPOTENCY, params)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::new)?;
    let Some(row) = row else { return Ok(None) };
    let (key, request_hash, status) =
        <(String, String, i32)>::from_row(&row).map_err(StoreError::new)?;
    Ok(Some(IdempotencyRecord {
        key,
        request_hash,
        status: u16::try_from(status)
            .ok()
            .and_then(ReplyStatus::from_code)
            .ok_or_else(|| StoreError::new(format!("stored reply status {status} is unknown")))?,
        body: DB::json(&row, 3)?,
    }))
}

/// The stream an alias names.
pub(super) async fn alias<DB: Dialect>(
    pool: &Pool<DB>,
    tenant: &TenantId,
    kind: &'static str,
    id: Uuid,
) -> Result<Option<String>, StoreError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    (String,): for<'r> FromRow<'r, DB::Row>,
{
    let params = [
        Param::Text(tenant.as_str()),
        Param::Text(kind),
        Param::Uuid(id),
    ];
    let row = statement::<DB>(ALIAS, params)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::new)?;
    row.map(|row| <(String,)>::from_row(&row).map(|(id,)| id))
        .transpose()
        .map_err(StoreError::new)
}

/// `sql`, the tail statement behind an `EXPLAIN`, with sample values: for the tests that check
/// its plan.
#[cfg(test)]
pub(super) fn sample_tail<DB: Dialect>(sql: &str) -> sqlx::query::Query<'_, DB, DB::Arguments<'_>> {
    let sample = [
        Param::Text("t"),
        Param::Text("product"),
        Param::Text("sku"),
        Param::Int(100),
        Param::Limit(None),
    ];
    statement::<DB>(sql, sample)
}
