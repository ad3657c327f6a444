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

use super::{append_error, known_prefix, micros, recorded_event, validate};
use crate::direct_pool::DirectPool;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use restock_application::ports::{
    AppendError, AppendRequest, EventMetadata, EventStore, IdempotencyRecord, LoadedStream,
    NewEvent, Position, RecordedEvent, Snapshot, StoreError, StreamId,
};
use restock_domain::TenantId;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgPool, Postgres, Row};
use std::sync::Arc;
use uuid::Uuid;

/// Connections kept for one-statement appends, next to the shared pool.
const APPEND_CONNECTIONS: usize = 10;
/// Connections kept for reading the global log: one per projection runner.
const LOG_READ_CONNECTIONS: usize = 4;

#[derive(Debug, Clone)]
pub struct PostgresEventStore {
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
        Self {
            pool,
            appends: Arc::new(DirectPool::new(options, APPEND_CONNECTIONS)),
            log_reads: Arc::new(DirectPool::new(ordered_reads, LOG_READ_CONNECTIONS)),
        }
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

/// A stream's events after a version: a range read on the primary key, so the cost is the tail's
/// length, not the stream's. `LIMIT NULL` means no limit.
pub(crate) const STREAM_TAIL: &str = concat!(
    select_events!(),
    "WHERE tenant_id = $1 AND aggregate_type = $2 AND aggregate_id = $3 AND sequence > $4 \
     ORDER BY sequence LIMIT $5"
);

/// What the stream held at a time; cut to an unbroken prefix by `known_prefix`.
const STREAM_UNTIL: &str = concat!(
    select_events!(),
    "WHERE tenant_id = $1 AND aggregate_type = $2 AND aggregate_id = $3 AND recorded_at <= $4 \
     ORDER BY sequence"
);

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
        "WITH current AS ( \
            SELECT COALESCE((SELECT sequence FROM events \
                WHERE tenant_id = $1 AND aggregate_type = $2 AND aggregate_id = $3 \
                ORDER BY sequence DESC LIMIT 1), 0) = $4 AS ok \
        ), idempotency AS ( \
            INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, body) \
            SELECT $1, $5, $6, $7, $8 FROM current WHERE ok AND $5::text IS NOT NULL \
        ), snapshot AS ( \
            INSERT INTO snapshots (tenant_id, aggregate_type, aggregate_id, version, schema, state) \
            SELECT $1, $2, $3, $9, $10, $11 FROM current WHERE ok AND $9::bigint IS NOT NULL \
            ON CONFLICT (tenant_id, aggregate_type, aggregate_id) DO UPDATE \
            SET version = excluded.version, schema = excluded.schema, state = excluded.state \
            WHERE snapshots.version <= excluded.version \
        ) \
        INSERT INTO events (tenant_id, aggregate_type, aggregate_id, sequence, event_type, \
            event_version, payload, metadata, event_id, recorded_at, occurred_at, correlation_id, \
            causation_id, actor) "
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

/// Binds one event's columns, from `sequence` to `actor`, after the statement's first three.
fn bind_event<'q>(
    query: Query<'q, Postgres, PgArguments>,
    sequence: i64,
    event: &'q NewEvent,
    metadata: &'q serde_json::Value,
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(sequence)
        .bind(event.event_type.as_str())
        .bind(event.event_version)
        .bind(&event.payload)
        .bind(metadata)
        .bind(event.event_id)
        .bind(micros(event.recorded_at))
        .bind(micros(event.occurred_at))
        .bind(event.metadata.correlation_id)
        .bind(event.metadata.causation_id)
        .bind(event.metadata.actor.as_str())
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

impl PostgresEventStore {
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
        let metadata = events
            .iter()
            .map(|e| serde_json::to_value(&e.metadata))
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::new)?;
        let first = request.expected_version + 1;
        let head = |sql| {
            sqlx::query(sql)
                .bind(stream.tenant.as_str())
                .bind(stream.aggregate_type)
                .bind(&stream.aggregate_id)
                .bind(request.expected_version)
                .bind(key.map(|k| &k.key))
                .bind(key.map(|k| &k.request_hash))
                .bind(key.map(|k| i32::from(k.status)))
                .bind(key.map(|k| &k.body))
                .bind(snapshot.map(|s| s.version))
                .bind(snapshot.map(|s| s.schema))
                .bind(snapshot.map(|s| &s.state))
        };
        let query = match (events.as_slice(), metadata.as_slice()) {
            ([event], [metadata]) => bind_event(head(APPEND_ONE), first, event, metadata),
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
                .bind(&metadata)
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
                    if self
                        .find_idempotency(&stream.tenant, &k.key)
                        .await?
                        .is_some() =>
                {
                    AppendError::IdempotencyKeyTaken
                }
                _ => AppendError::Conflict,
            });
        }
        let mut positions = std::collections::HashMap::with_capacity(rows.len());
        for row in &rows {
            let sequence: i64 = row.try_get("sequence").map_err(StoreError::new)?;
            let position = Position {
                tx_id: row.try_get("tx").map_err(StoreError::new)?,
                global_position: row.try_get("global_position").map_err(StoreError::new)?,
            };
            positions.insert(sequence, position);
        }
        // RETURNING promises no order; match rows to events by sequence.
        events
            .iter()
            .zip(first..)
            .map(|(event, sequence)| {
                let position = positions.get(&sequence).copied().ok_or_else(|| {
                    StoreError(format!("append returned no row for sequence {sequence}"))
                })?;
                Ok(recorded_event(stream, sequence, event, position))
            })
            .collect()
    }

    /// The general append: a transaction of several statements, for appends that name aliases
    /// (whose ownership check must see rows a concurrent append just committed) or carry no
    /// events (an idempotency record alone, whose version check cannot ride on an insert).
    async fn append_in_transaction(
        &self,
        request: &AppendRequest,
    ) -> Result<Vec<RecordedEvent>, AppendError> {
        let stream = &request.stream;
        let tenant = stream.tenant.as_str();
        let mut tx = self.pool.begin().await.map_err(StoreError::new)?;

        // The key goes first: a repeated request is answered from its record even when its
        // expected version has gone stale meanwhile.
        if let Some(record) = &request.idempotency {
            sqlx::query(
                "INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, body) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(tenant)
            .bind(&record.key)
            .bind(&record.request_hash)
            .bind(i32::from(record.status))
            .bind(&record.body)
            .execute(&mut *tx)
            .await
            .map_err(append_error)?;
        }

        // The primary key alone catches two appends of the same version, but not an expected
        // version ahead of the stream, which would leave a gap; nor a stale one with no events.
        // ORDER BY ... LIMIT 1 walks the key index backwards to one entry; a plain max() may be
        // planned as a scan of the whole stream (seen on Postgres: 35 ms at 100k events).
        let current: i64 = sqlx::query_scalar::<_, i64>(
            "SELECT sequence FROM events \
             WHERE tenant_id = $1 AND aggregate_type = $2 AND aggregate_id = $3 \
             ORDER BY sequence DESC LIMIT 1",
        )
        .bind(tenant)
        .bind(stream.aggregate_type)
        .bind(&stream.aggregate_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::new)?
        .unwrap_or(0);
        if current != request.expected_version {
            return Err(AppendError::Conflict);
        }

        let mut recorded = Vec::with_capacity(request.events.len());
        for (event, sequence) in request.events.iter().zip(request.expected_version + 1..) {
            let metadata = serde_json::to_value(&event.metadata).map_err(StoreError::new)?;
            let query = sqlx::query(
                "INSERT INTO events (tenant_id, aggregate_type, aggregate_id, sequence, \
                 event_type, event_version, payload, metadata, event_id, recorded_at, \
                 occurred_at, correlation_id, causation_id, actor) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 RETURNING tx_id::text::bigint AS tx, global_position",
            )
            .bind(tenant)
            .bind(stream.aggregate_type)
            .bind(&stream.aggregate_id);
            let row = bind_event(query, sequence, event, &metadata)
                .fetch_one(&mut *tx)
                .await
                .map_err(append_error)?;
            recorded.push(recorded_event(
                stream,
                sequence,
                event,
                Position {
                    tx_id: row.try_get("tx").map_err(StoreError::new)?,
                    global_position: row.try_get("global_position").map_err(StoreError::new)?,
                },
            ));
        }

        // Sorted so that two appends sharing aliases lock them in the same order.
        let mut aliases: Vec<_> = request.aliases.iter().collect();
        aliases.sort_by_key(|a| (a.kind, a.id));
        for alias in aliases {
            // Naming the same stream again is harmless; naming another one is refused. The check
            // is a separate statement so that it sees a row a concurrent append just committed.
            let inserted = sqlx::query(
                "INSERT INTO stream_aliases (tenant_id, kind, alias_id, aggregate_type, aggregate_id) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(alias.kind)
            .bind(alias.id)
            .bind(stream.aggregate_type)
            .bind(&stream.aggregate_id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new)?
            .rows_affected();
            if inserted == 1 {
                continue;
            }
            let owner: Option<(String, String)> = sqlx::query_as(
                "SELECT aggregate_type, aggregate_id FROM stream_aliases \
                 WHERE tenant_id = $1 AND kind = $2 AND alias_id = $3",
            )
            .bind(tenant)
            .bind(alias.kind)
            .bind(alias.id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::new)?;
            if let Some((aggregate_type, aggregate_id)) = owner {
                if aggregate_type != stream.aggregate_type || aggregate_id != stream.aggregate_id {
                    return Err(AppendError::Store(StoreError(format!(
                        "{} {} already names {aggregate_type} {aggregate_id}",
                        alias.kind, alias.id
                    ))));
                }
            }
        }

        if let Some(snapshot) = &request.snapshot {
            // Never let an older state overwrite a newer one (a zero-event append racing a
            // real one).
            sqlx::query(
                "INSERT INTO snapshots (tenant_id, aggregate_type, aggregate_id, version, schema, state) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (tenant_id, aggregate_type, aggregate_id) DO UPDATE \
                 SET version = excluded.version, schema = excluded.schema, state = excluded.state \
                 WHERE snapshots.version <= excluded.version",
            )
            .bind(tenant)
            .bind(stream.aggregate_type)
            .bind(&stream.aggregate_id)
            .bind(snapshot.version)
            .bind(snapshot.schema)
            .bind(&snapshot.state)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new)?;
        }

        tx.commit().await.map_err(StoreError::new)?;
        Ok(recorded)
    }

    async fn tail(
        &self,
        stream: &StreamId,
        after_version: i64,
        limit: Option<i64>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(STREAM_TAIL)
            .bind(stream.tenant.as_str())
            .bind(stream.aggregate_type)
            .bind(&stream.aggregate_id)
            .bind(after_version)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::new)?;
        decode_all(&rows)
    }
}

#[async_trait]
impl EventStore for PostgresEventStore {
    async fn load(
        &self,
        stream: &StreamId,
        snapshot_schema: i32,
    ) -> Result<LoadedStream, StoreError> {
        // Snapshot first, then the tail: both only move forward, so the tail read after it is at
        // least as new and the pair is a consistent state.
        let snapshot = sqlx::query(
            "SELECT version, schema, state FROM snapshots \
             WHERE tenant_id = $1 AND aggregate_type = $2 AND aggregate_id = $3",
        )
        .bind(stream.tenant.as_str())
        .bind(stream.aggregate_type)
        .bind(&stream.aggregate_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new)?
        .map(|row| -> Result<Snapshot, sqlx::Error> {
            Ok(Snapshot {
                version: row.try_get("version")?,
                schema: row.try_get("schema")?,
                state: row.try_get("state")?,
            })
        })
        .transpose()
        .map_err(StoreError::new)?
        .filter(|s| s.schema == snapshot_schema);
        let after = snapshot.as_ref().map_or(0, |s| s.version);
        let events = self.tail(stream, after, None).await?;
        Ok(LoadedStream { snapshot, events })
    }

    async fn append(&self, request: AppendRequest) -> Result<Vec<RecordedEvent>, AppendError> {
        validate(&request)?;
        if request.aliases.is_empty() && !request.events.is_empty() {
            self.append_in_one_statement(&request).await
        } else {
            self.append_in_transaction(&request).await
        }
    }

    async fn read_stream(
        &self,
        stream: &StreamId,
        after_version: i64,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        self.tail(stream, after_version, Some(limit)).await
    }

    async fn read_stream_until(
        &self,
        stream: &StreamId,
        as_of: DateTime<Utc>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(STREAM_UNTIL)
            .bind(stream.tenant.as_str())
            .bind(stream.aggregate_type)
            .bind(&stream.aggregate_id)
            .bind(as_of)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::new)?;
        Ok(known_prefix(decode_all(&rows)?))
    }

    async fn read_all(
        &self,
        after: Position,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let query = sqlx::query(READ_ALL)
            .bind(after.tx_id)
            .bind(after.global_position)
            .bind(limit);
        let rows = self
            .log_reads
            .fetch_all(query)
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

    async fn find_idempotency(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT key, request_hash, status, body FROM idempotency_keys \
             WHERE tenant_id = $1 AND key = $2",
        )
        .bind(tenant.as_str())
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new)?;
        let Some(row) = row else { return Ok(None) };
        let status: i32 = row.try_get("status").map_err(StoreError::new)?;
        Ok(Some(IdempotencyRecord {
            key: row.try_get("key").map_err(StoreError::new)?,
            request_hash: row.try_get("request_hash").map_err(StoreError::new)?,
            status: u16::try_from(status).map_err(StoreError::new)?,
            body: row.try_get("body").map_err(StoreError::new)?,
        }))
    }

    async fn resolve_alias(
        &self,
        tenant: &TenantId,
        kind: &'static str,
        id: Uuid,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT aggregate_id FROM stream_aliases \
             WHERE tenant_id = $1 AND kind = $2 AND alias_id = $3",
        )
        .bind(tenant.as_str())
        .bind(kind)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::fresh_db;
    use crate::{Backend, Db};

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
        let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {}", super::STREAM_TAIL))
            .bind("t")
            .bind("product")
            .bind("sku")
            .bind(100_i64)
            .bind(None::<i64>)
            .fetch_all(&mut *conn)
            .await
            .expect("explain");
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
