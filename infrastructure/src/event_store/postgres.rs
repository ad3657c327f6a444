//! The Postgres event store.
//!
//! Appends are one transaction (idempotency record, version check, events, aliases, snapshot) so
//! a caller sees all of it or none. The global log is read in commit order: a `bigserial` is
//! handed out at insert time, so positions commit out of order, and a reader that checkpoints the
//! highest position seen skips a slow transaction's event when it finally commits. Instead every
//! row carries its transaction id and the reader takes only rows from transactions older than the
//! oldest one still running (`pg_snapshot_xmin`), ordered and checkpointed by the pair
//! `(tx_id, global_position)`. `xid8` has no Rust type in sqlx, so it crosses the wire as text
//! cast to `bigint` (an xid8 is a 64-bit epoch-extended counter well below `i64::MAX`).

use super::append::{
    self, append_error, event_columns, event_params, insert_event, recorded_events,
    snapshot_conflict,
};
use super::micros;
use super::read::{self, tail_where, until_where};
use super::store::{statement, stream_params, Dialect, Param, Store, StoreBackend};
use crate::direct_pool::DirectPool;
use chrono::{DateTime, Utc};
use restock_application::ports::{
    AppendError, AppendRequest, EventMetadata, Position, RecordedEvent, StoreError,
};
use sqlx::postgres::{PgArguments, PgQueryResult, PgRow};
use sqlx::query::Query;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Row};
use std::sync::Arc;

/// Connections kept for one-statement appends, next to the shared pool.
const APPEND_CONNECTIONS: usize = 10;
/// Connections kept for reading the global log: one per projection runner.
const LOG_READ_CONNECTIONS: usize = 4;

pub type PostgresEventStore = Store<PgBackend>;

#[derive(Debug, Clone)]
pub struct PgBackend {
    pool: PgPool,
    /// The hot path's connections: one round trip per append instead of two (see
    /// `direct_pool`).
    appends: Arc<DirectPool>,
    /// Where `READ_ALL` runs, planned as an ordered index scan whatever the statistics say.
    ///
    /// The planner estimates how many rows follow a checkpoint from the statistics of
    /// `tx_id`, which lag behind a large transaction (an import, a seeded stream): it then
    /// expects a handful, reads every row after the checkpoint with a bitmap scan and sorts
    /// them to keep the first batch, so each batch costs the whole remaining log (seen: 48 ms
    /// instead of 2.7 ms per 4000-event batch, 100k events behind). The keyset read is
    /// written for the index; these connections only run it, so the other plans are switched
    /// off for them alone.
    log_reads: Arc<DirectPool>,
}

impl PostgresEventStore {
    pub fn new(pool: PgPool) -> Self {
        let options = pool.connect_options().as_ref().clone();
        let ordered_reads = options
            .clone()
            .options([("enable_bitmapscan", "off"), ("enable_seqscan", "off")]);
        Store(PgBackend {
            pool,
            appends: Arc::new(DirectPool::new(options, APPEND_CONNECTIONS)),
            log_reads: Arc::new(DirectPool::new(ordered_reads, LOG_READ_CONNECTIONS)),
        })
    }
}

/// Every column of a `RecordedEvent`, as the statements below start. `decode` reads them by
/// position: keep the two in the same order.
macro_rules! select_events {
    () => {
        "SELECT tx_id::text::bigint AS tx, global_position, tenant_id, aggregate_type, \
         aggregate_id, sequence, event_id, event_type, event_version, payload, correlation_id, \
         causation_id, actor, recorded_at, occurred_at FROM events "
    };
}

/// Rows of transactions that have all finished, after the checkpoint, in commit order.
const READ_ALL: &str = concat!(
    select_events!(),
    "WHERE (tx_id, global_position) > ($1::bigint::text::xid8, $2) \
       AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
     ORDER BY tx_id, global_position LIMIT $3"
);

/// The head of an append in one statement (see `append_in_one_statement`). `$4` is the expected
/// version; the idempotency record (`$5`-`$8`) and the snapshot (`$9`-`$11`) are written only
/// when given and only when the version check passes; the events (`$12`-`$22`) follow in the
/// tail. The version check walks the primary key backwards to one entry (a plain max() may be
/// planned as a scan of the whole stream: seen at 35 ms on 100k events).
macro_rules! append_head {
    () => {
        concat!(
            "WITH current AS ( \
                SELECT COALESCE((SELECT sequence FROM events \
                    WHERE tenant_id = $1 AND aggregate_type = $2 AND aggregate_id = $3 \
                    ORDER BY sequence DESC LIMIT 1), 0) = $4 AS ok \
            ), idempotency AS ( \
                INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, body) \
                SELECT $1, $5, $6, $7, $8 FROM current WHERE ok AND $5::text IS NOT NULL \
            ), snapshot AS ( \
                INSERT INTO snapshots (tenant_id, aggregate_type, aggregate_id, version, schema, state) \
                SELECT $1, $2, $3, $9, $10, $11 FROM current WHERE ok AND $9::bigint IS NOT NULL ",
            snapshot_conflict!(),
            ") INSERT INTO events (",
            event_columns!(),
            ") "
        )
    };
}

/// Several events, as parallel arrays.
const APPEND: &str = concat!(
    append_head!(),
    "SELECT $1, $2, $3, e.* FROM current, \
        unnest($12::bigint[], $13::text[], $14::int[], $15::jsonb[], $16::jsonb[], $17::uuid[], \
               $18::timestamptz[], $19::timestamptz[], $20::uuid[], $21::uuid[], $22::text[]) \
        AS e(sequence, event_type, event_version, payload, metadata, event_id, recorded_at, \
             occurred_at, correlation_id, causation_id, actor) \
     WHERE current.ok \
     RETURNING sequence, tx_id::text::bigint AS tx, global_position"
);

/// One event (nearly every command), as plain values: PostgreSQL receives eleven one-element
/// arrays at a measurable cost per statement (each binary array parameter looks up its element
/// type's input functions afresh).
const APPEND_ONE: &str = concat!(
    append_head!(),
    "SELECT $1, $2, $3, $12::bigint, $13::text, $14::int, $15::jsonb, $16::jsonb, $17::uuid, \
            $18::timestamptz, $19::timestamptz, $20::uuid, $21::uuid, $22::text \
     FROM current WHERE current.ok \
     RETURNING sequence, tx_id::text::bigint AS tx, global_position"
);

/// Postgres's side of the shared statements (see `store::Dialect`): native uuids, timestamps and
/// jsonb.
impl Dialect for Postgres {
    const INSERT_EVENT: &'static str = insert_event!("tx_id::text::bigint");
    /// A range read on the primary key.
    const STREAM_TAIL: &'static str = concat!(select_events!(), tail_where!());
    const STREAM_UNTIL: &'static str = concat!(select_events!(), until_where!());

    fn bind<'q>(
        query: Query<'q, Postgres, PgArguments>,
        param: Param<'q>,
    ) -> Query<'q, Postgres, PgArguments> {
        match param {
            Param::Int(value) => query.bind(value),
            Param::Uuid(value) => query.bind(value),
            Param::Int4(value) => query.bind(value),
            Param::OptionalUuid(value) => query.bind(value),
            Param::Text(value) => query.bind(value),
            Param::Time(value) => query.bind(value),
            Param::Json(value) => query.bind(value),
            Param::Metadata(value) => query.bind(Json(value)),
            // `LIMIT NULL` means no limit.
            Param::Limit(value) => query.bind(value),
        }
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    fn json(row: &PgRow, index: usize) -> Result<serde_json::Value, StoreError> {
        row.try_get(index).map_err(StoreError::new)
    }

    fn events(rows: &[PgRow]) -> Result<Vec<RecordedEvent>, StoreError> {
        decode_all(rows)
    }
}

/// A row of `select_events!`, read by position: looking columns up by name hashed each name
/// for every row, a measurable share of a rebuild's decoding (perf, this machine).
fn decode(row: &PgRow) -> Result<RecordedEvent, sqlx::Error> {
    Ok(RecordedEvent {
        position: Position {
            tx_id: row.try_get(0)?,
            global_position: row.try_get(1)?,
        },
        tenant_id: row.try_get(2)?,
        aggregate_type: row.try_get(3)?,
        aggregate_id: row.try_get(4)?,
        sequence: row.try_get(5)?,
        event_id: row.try_get(6)?,
        event_type: row.try_get(7)?,
        event_version: row.try_get(8)?,
        payload: row.try_get(9)?,
        metadata: EventMetadata {
            correlation_id: row.try_get(10)?,
            causation_id: row.try_get(11)?,
            actor: row.try_get(12)?,
        },
        recorded_at: row.try_get(13)?,
        occurred_at: row.try_get(14)?,
    })
}

fn decode_all(rows: &[PgRow]) -> Result<Vec<RecordedEvent>, StoreError> {
    rows.iter()
        .map(|row| decode(row).map_err(StoreError::new))
        .collect()
}

impl PgBackend {
    /// The common append (events, maybe an idempotency record and a snapshot, no aliases) as one
    /// statement: one round trip instead of four (BEGIN, version check, insert, COMMIT), which is
    /// most of an append's cost. Atomic as a statement is; every write is conditioned on the
    /// version check, so a stale expected version writes nothing and returns no rows. Two appends
    /// of the same version both pass the check and collide on the primary key as before.
    ///
    /// A key already used loses on `idempotency_keys`' primary key, unless the version is also
    /// stale, in which case the caller re-decides on fresh state and then meets the key.
    async fn append_in_one_statement(
        &self,
        request: &AppendRequest,
    ) -> Result<Vec<RecordedEvent>, AppendError> {
        let stream = &request.stream;
        let events = &request.events;
        let key = request.idempotency.as_ref();
        let snapshot = request.snapshot.as_ref();
        let first = request.expected_version + 1;
        let head = |sql| {
            statement::<Postgres>(sql, stream_params(stream))
                .bind(request.expected_version)
                .bind(key.map(|k| &k.key))
                .bind(key.map(|k| &k.request_hash))
                .bind(key.map(|k| i32::from(k.status.code())))
                .bind(key.map(|k| &k.body))
                .bind(snapshot.map(|s| s.version))
                .bind(snapshot.map(|s| s.schema))
                .bind(snapshot.map(|s| &s.state))
        };
        let query = match events.as_slice() {
            [event] => event_params(first, event)
                .into_iter()
                .fold(head(APPEND_ONE), Postgres::bind),
            _ => head(APPEND)
                .bind((first..).take(events.len()).collect::<Vec<i64>>())
                .bind(
                    events
                        .iter()
                        .map(|e| e.event_type.as_str())
                        .collect::<Vec<_>>(),
                )
                .bind(events.iter().map(|e| e.event_version).collect::<Vec<_>>())
                .bind(events.iter().map(|e| &e.payload).collect::<Vec<_>>())
                .bind(events.iter().map(|e| Json(&e.metadata)).collect::<Vec<_>>())
                .bind(events.iter().map(|e| e.event_id).collect::<Vec<_>>())
                .bind(
                    events
                        .iter()
                        .map(|e| micros(e.recorded_at))
                        .collect::<Vec<_>>(),
                )
                .bind(
                    events
                        .iter()
                        .map(|e| micros(e.occurred_at))
                        .collect::<Vec<_>>(),
                )
                .bind(
                    events
                        .iter()
                        .map(|e| e.metadata.correlation_id)
                        .collect::<Vec<_>>(),
                )
                .bind(
                    events
                        .iter()
                        .map(|e| e.metadata.causation_id)
                        .collect::<Vec<_>>(),
                )
                .bind(
                    events
                        .iter()
                        .map(|e| e.metadata.actor.as_str())
                        .collect::<Vec<_>>(),
                ),
        };
        let rows = self.appends.fetch_all(query).await.map_err(append_error)?;
        if rows.len() != events.len() {
            // Nothing was written: the version check failed. A retry whose version went stale
            // is still the same request if its key is taken: answered from the key's record.
            return Err(match key {
                Some(k)
                    if read::idempotency(&self.pool, &stream.tenant, &k.key)
                        .await?
                        .is_some() =>
                {
                    AppendError::IdempotencyKeyTaken
                }
                _ => AppendError::Conflict,
            });
        }
        let mut returned = rows
            .iter()
            .map(|row| -> Result<(i64, Position), sqlx::Error> {
                let position = Position {
                    tx_id: row.try_get("tx")?,
                    global_position: row.try_get("global_position")?,
                };
                Ok((row.try_get("sequence")?, position))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::new)?;
        // RETURNING promises no order; put the rows back in sequence order.
        returned.sort_unstable_by_key(|&(sequence, _)| sequence);
        let positions = returned
            .into_iter()
            .zip(first..)
            .map(|((returned, position), sequence)| {
                if returned == sequence {
                    Ok(position)
                } else {
                    Err(StoreError(format!(
                        "append returned no row for sequence {sequence}"
                    )))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(recorded_events(request, positions))
    }

    /// The general append: a transaction of several statements, for appends that name aliases
    /// (whose ownership check must see rows a concurrent append just committed) or carry no
    /// events (an idempotency record alone, whose version check cannot ride on an insert).
    async fn append_in_transaction(
        &self,
        request: &AppendRequest,
    ) -> Result<Vec<RecordedEvent>, AppendError> {
        let tx = self.pool.begin().await.map_err(StoreError::new)?;
        append::in_transaction(tx, request).await
    }
}

impl StoreBackend for PgBackend {
    type Db = Postgres;

    fn reads(&self) -> &PgPool {
        &self.pool
    }

    async fn append(&self, request: &AppendRequest) -> Result<Vec<RecordedEvent>, AppendError> {
        if request.aliases.is_empty() && !request.events.is_empty() {
            self.append_in_one_statement(request).await
        } else {
            self.append_in_transaction(request).await
        }
    }

    async fn read_all(
        &self,
        after: Position,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let params = [
            Param::Int(after.tx_id),
            Param::Int(after.global_position),
            Param::Int(limit),
        ];
        let rows = self
            .log_reads
            .fetch_all(statement(READ_ALL, params))
            .await
            .map_err(StoreError::new)?;
        decode_all(&rows)
    }

    async fn lag(&self, after: Position) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        sqlx::query_as(
            // Every committed event past the checkpoint counts, including those not yet readable
            // because an older transaction is still open: they are exactly what a reader of
            // the read model is waiting for.
            "SELECT count(*), min(recorded_at) FROM events \
             WHERE (tx_id, global_position) > ($1::bigint::text::xid8, $2)",
        )
        .bind(after.tx_id)
        .bind(after.global_position)
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::new)
    }
}

#[cfg(test)]
mod tests {
    use super::super::read::sample_tail;
    use super::super::store::Dialect;
    use crate::testing::fresh_db;
    use crate::{Backend, Db};
    use sqlx::{Postgres, Row};

    /// `load` must cost the tail, not the stream: the tail query has to be a range on the primary
    /// key (`sequence > $4` inside the index condition), not a scan filtered afterwards.
    #[tokio::test]
    async fn the_stream_tail_is_an_index_range_read() {
        let Db::Postgres(pool) = fresh_db(Backend::Postgres).await.expect("db") else {
            panic!("not postgres")
        };
        let mut conn = pool.acquire().await.expect("connection");
        // With a near-empty table any plan is cheap; ask which plan the index allows.
        sqlx::query("SET enable_seqscan = off")
            .execute(&mut *conn)
            .await
            .expect("set");
        let sql = format!("EXPLAIN {}", <Postgres as Dialect>::STREAM_TAIL);
        let rows = sample_tail::<Postgres>(&sql)
            .fetch_all(&mut *conn)
            .await
            .expect("explain");
        let plan: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
        let plan = plan.join("\n");
        assert!(plan.contains("events_stream_sequence"), "{plan}");
        assert!(
            plan.contains("Index Cond") && plan.contains("sequence >"),
            "{plan}"
        );
        assert!(
            !plan.contains("Seq Scan") && !plan.contains("Filter"),
            "{plan}"
        );
    }
}
