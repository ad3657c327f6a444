//! The SQLite event store.
//!
//! Every append runs on the one-connection write pool, so appends are serialized in the process
//! and rowid order is commit order: the global log is read by `global_position` alone and
//! positions report `tx_id` 0. Reads use the read pool and see WAL snapshots of committed data.
//!
//! Values are stored as text in fixed formats (see the migration): timestamps as RFC 3339 UTC with
//! six fractional digits so that comparing text compares time, uuids hyphenated, JSON serialized.

use super::append::{self, insert_event};
use super::read::{tail_where, until_where};
use super::store::{Dialect, Param, Store, StoreBackend};
use chrono::{DateTime, SecondsFormat, Utc};
use restock_application::ports::{
    AppendError, AppendRequest, EventMetadata, Position, RecordedEvent, StoreError,
};
use serde_json::Value;
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteQueryResult, SqliteRow};
use sqlx::types::Json;
use sqlx::{Row, Sqlite, SqlitePool};
use uuid::Uuid;

pub type SqliteEventStore = Store<SqliteBackend>;

#[derive(Debug, Clone)]
pub struct SqliteBackend {
    write: SqlitePool,
    read: SqlitePool,
}

impl SqliteEventStore {
    pub fn new(write: SqlitePool, read: SqlitePool) -> Self {
        Store(SqliteBackend { write, read })
    }
}

/// Every column of a `RecordedEvent`, as the statements below start.
macro_rules! select_events {
    () => {
        "SELECT global_position, tenant_id, aggregate_type, aggregate_id, sequence, event_id, \
         event_type, event_version, payload, correlation_id, causation_id, actor, recorded_at, \
         occurred_at FROM events "
    };
}

const READ_ALL: &str = concat!(
    select_events!(),
    "WHERE global_position > $1 ORDER BY global_position LIMIT $2"
);

/// SQLite's side of the shared statements (see `store::Dialect`): one writer, so rowid order is
/// commit order and every event reports `tx_id` 0; uuids, timestamps and JSON stored as text.
impl Dialect for Sqlite {
    const INSERT_EVENT: &'static str = insert_event!("0");
    /// A range search on the stream's unique index.
    const STREAM_TAIL: &'static str = concat!(select_events!(), tail_where!());
    const STREAM_UNTIL: &'static str = concat!(select_events!(), until_where!());

    fn bind<'q>(
        query: Query<'q, Sqlite, SqliteArguments<'q>>,
        param: Param<'q>,
    ) -> Query<'q, Sqlite, SqliteArguments<'q>> {
        match param {
            Param::Int(value) => query.bind(value),
            Param::Uuid(value) => query.bind(value.to_string()),
            Param::Int4(value) => query.bind(value),
            Param::OptionalUuid(value) => query.bind(value.map(|id| id.to_string())),
            Param::Text(value) => query.bind(value),
            Param::Time(value) => query.bind(timestamp(value)),
            Param::Json(value) => query.bind(Json(value)),
            Param::Metadata(value) => query.bind(Json(value)),
            // `LIMIT -1` means no limit.
            Param::Limit(value) => query.bind(value.unwrap_or(-1)),
        }
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    fn json(row: &SqliteRow, index: usize) -> Result<Value, StoreError> {
        parse_json(row.try_get(index).map_err(StoreError::new)?)
    }

    fn events(rows: &[SqliteRow]) -> Result<Vec<RecordedEvent>, StoreError> {
        decode_all(rows)
    }
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError(format!("timestamp {text:?}: {e}")))
}

fn parse_uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| StoreError(format!("uuid {text:?}: {e}")))
}

fn parse_json(text: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError(format!("stored JSON: {e}")))
}

fn get<'r, T>(row: &'r SqliteRow, column: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(column).map_err(StoreError::new)
}

fn decode(row: &SqliteRow) -> Result<RecordedEvent, StoreError> {
    let causation: Option<String> = get(row, "causation_id")?;
    Ok(RecordedEvent {
        position: Position {
            tx_id: 0,
            global_position: get(row, "global_position")?,
        },
        tenant_id: get(row, "tenant_id")?,
        aggregate_type: get(row, "aggregate_type")?,
        aggregate_id: get(row, "aggregate_id")?,
        sequence: get(row, "sequence")?,
        event_id: parse_uuid(get(row, "event_id")?)?,
        event_type: get(row, "event_type")?,
        event_version: get(row, "event_version")?,
        payload: parse_json(get(row, "payload")?)?,
        metadata: EventMetadata {
            correlation_id: parse_uuid(get(row, "correlation_id")?)?,
            causation_id: causation.as_deref().map(parse_uuid).transpose()?,
            actor: get(row, "actor")?,
        },
        recorded_at: parse_timestamp(get(row, "recorded_at")?)?,
        occurred_at: parse_timestamp(get(row, "occurred_at")?)?,
    })
}

fn decode_all(rows: &[SqliteRow]) -> Result<Vec<RecordedEvent>, StoreError> {
    rows.iter().map(decode).collect()
}

impl StoreBackend for SqliteBackend {
    type Db = Sqlite;

    fn reads(&self) -> &SqlitePool {
        &self.read
    }

    async fn append(&self, request: &AppendRequest) -> Result<Vec<RecordedEvent>, AppendError> {
        // IMMEDIATE takes the write lock up front: a deferred transaction that reads first can
        // fail to upgrade (SQLITE_BUSY_SNAPSHOT) if another process wrote in between, and
        // busy_timeout does not retry that. The writer is then serialized, so the algorithm's
        // version check is exact.
        let tx = self
            .write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::new)?;
        append::in_transaction(tx, request).await
    }

    async fn read_all(
        &self,
        after: Position,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(READ_ALL)
            .bind(after.global_position)
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(StoreError::new)?;
        decode_all(&rows)
    }

    async fn lag(&self, after: Position) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        let (behind, oldest): (i64, Option<String>) = sqlx::query_as(
            "SELECT count(*), min(recorded_at) FROM events WHERE global_position > $1",
        )
        .bind(after.global_position)
        .fetch_one(&self.read)
        .await
        .map_err(StoreError::new)?;
        Ok((behind, oldest.as_deref().map(parse_timestamp).transpose()?))
    }
}

#[cfg(test)]
mod tests {
    use super::super::read::sample_tail;
    use super::super::store::Dialect;
    use crate::testing::fresh_db;
    use crate::{Backend, Db};
    use sqlx::{Row, Sqlite};

    /// `load` must cost the tail, not the stream: the tail query has to search the stream's
    /// unique index with the sequence bound inside the search, not scan the stream.
    #[tokio::test]
    async fn the_stream_tail_is_an_index_range_read() {
        let Db::Sqlite { read, .. } = fresh_db(Backend::Sqlite).await.expect("db") else {
            panic!("not sqlite")
        };
        let sql = format!("EXPLAIN QUERY PLAN {}", <Sqlite as Dialect>::STREAM_TAIL);
        let rows = sample_tail::<Sqlite>(&sql)
            .fetch_all(&read)
            .await
            .expect("explain");
        let plan: Vec<String> = rows
            .iter()
            .map(|row| row.try_get("detail").expect("detail"))
            .collect();
        let plan = plan.join("\n");
        assert!(plan.contains("SEARCH events USING INDEX"), "{plan}");
        assert!(plan.contains("sequence>?"), "{plan}");
        assert!(
            !plan.contains("SCAN") && !plan.contains("TEMP B-TREE"),
            "{plan}"
        );
    }
}
