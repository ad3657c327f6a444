//! The append algorithm, written once for both backends.
//!
//! An append is one transaction: the idempotency record, the version check, the events, the
//! aliases, the snapshot, in that order, so a caller sees all of it or none. [`in_transaction`]
//! runs those steps over any [`Dialect`]: what a backend adds is how it binds each kind of value
//! ([`Param`]) and the one statement whose text differs (how an inserted event reports its
//! position). Postgres also has a one-statement form for the common append (see
//! `postgres.rs`); it shares the statements' pieces, the error classification and the building
//! of recorded events with this one.

use super::micros;
use super::store::{statement, stream_params, Dialect, Param};
use restock_application::ports::{
    AppendError, AppendRequest, NewEvent, Position, RecordedEvent, StoreError,
};
use sqlx::{Executor, FromRow, IntoArguments, Transaction};

/// The columns of an event row an append writes, in the order the statements bind them.
macro_rules! event_columns {
    () => {
        "tenant_id, aggregate_type, aggregate_id, sequence, event_type, event_version, payload, \
         metadata, event_id, recorded_at, occurred_at, correlation_id, causation_id, actor"
    };
}
pub(super) use event_columns;

/// The event insert, given the backend's expression for the inserting transaction's id: it
/// returns `(tx, global_position)`.
macro_rules! insert_event {
    ($tx:literal) => {
        concat!(
            "INSERT INTO events (",
            $crate::event_store::append::event_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING ",
            $tx,
            " AS tx, global_position"
        )
    };
}
pub(super) use insert_event;

/// How a snapshot write meets the stream's existing snapshot: never let an older state overwrite
/// a newer one (a zero-event append racing a real one).
macro_rules! snapshot_conflict {
    () => {
        "ON CONFLICT (tenant_id, aggregate_type, aggregate_id) DO UPDATE \
         SET version = excluded.version, schema = excluded.schema, state = excluded.state \
         WHERE snapshots.version <= excluded.version"
    };
}
pub(super) use snapshot_conflict;

const INSERT_IDEMPOTENCY: &str =
    "INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, body) \
     VALUES ($1, $2, $3, $4, $5)";

/// ORDER BY ... LIMIT 1 walks the key index backwards to one entry; a plain max() may be
/// planned as a scan of the whole stream (seen on Postgres: 35 ms at 100k events).
const STREAM_VERSION: &str = "SELECT sequence FROM events \
     WHERE tenant_id = $1 AND aggregate_type = $2 AND aggregate_id = $3 \
     ORDER BY sequence DESC LIMIT 1";

const INSERT_ALIAS: &str =
    "INSERT INTO stream_aliases (tenant_id, kind, alias_id, aggregate_type, aggregate_id) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

const ALIAS_OWNER: &str = "SELECT aggregate_type, aggregate_id FROM stream_aliases \
     WHERE tenant_id = $1 AND kind = $2 AND alias_id = $3";

const UPSERT_SNAPSHOT: &str = concat!(
    "INSERT INTO snapshots (tenant_id, aggregate_type, aggregate_id, version, schema, state) \
     VALUES ($1, $2, $3, $4, $5, $6) ",
    snapshot_conflict!()
);

/// One event's columns after the stream's, from `sequence` to `actor` (see [`event_columns!`]).
pub(super) fn event_params(sequence: i64, event: &NewEvent) -> [Param<'_>; 11] {
    [
        Param::Int(sequence),
        Param::Text(&event.event_type),
        Param::Int4(event.event_version),
        Param::Json(&event.payload),
        Param::Metadata(&event.metadata),
        Param::Uuid(event.event_id),
        Param::Time(micros(event.recorded_at)),
        Param::Time(micros(event.occurred_at)),
        Param::Uuid(event.metadata.correlation_id),
        Param::OptionalUuid(event.metadata.causation_id),
        Param::Text(&event.metadata.actor),
    ]
}

/// The general append, on a transaction the backend began: the key, the version check, the
/// events, the aliases and the snapshot, then COMMIT. Dropped on an error, the transaction rolls
/// back and nothing is written.
pub(super) async fn in_transaction<DB: Dialect>(
    mut tx: Transaction<'static, DB>,
    request: &AppendRequest,
) -> Result<Vec<RecordedEvent>, AppendError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
    (i64, i64): for<'r> FromRow<'r, DB::Row>,
    (String, String): for<'r> FromRow<'r, DB::Row>,
{
    let stream = &request.stream;
    let tenant = Param::Text(stream.tenant.as_str());

    // The key goes first: a repeated request is answered from its record even when its
    // expected version has gone stale meanwhile.
    if let Some(record) = &request.idempotency {
        let params = [
            tenant,
            Param::Text(&record.key),
            Param::Text(&record.request_hash),
            Param::Int4(i32::from(record.status.code())),
            Param::Json(&record.body),
        ];
        statement::<DB>(INSERT_IDEMPOTENCY, params)
            .execute(&mut *tx)
            .await
            .map_err(append_error)?;
    }

    // The primary key alone catches two appends of the same version, but not an expected
    // version ahead of the stream, which would leave a gap; nor a stale one with no events.
    let current = statement::<DB>(STREAM_VERSION, stream_params(stream))
        .fetch_optional(&mut *tx)
        .await
        .and_then(|row| row.as_ref().map(<(i64,)>::from_row).transpose())
        .map_err(StoreError::new)?
        .map_or(0, |(sequence,)| sequence);
    if current != request.expected_version {
        return Err(AppendError::Conflict);
    }

    let mut positions = Vec::with_capacity(request.events.len());
    for (event, sequence) in request.events.iter().zip(request.expected_version + 1..) {
        let params = stream_params(stream)
            .into_iter()
            .chain(event_params(sequence, event));
        let row = statement::<DB>(DB::INSERT_EVENT, params)
            .fetch_one(&mut *tx)
            .await
            .map_err(append_error)?;
        let (tx_id, global_position) = <(i64, i64)>::from_row(&row).map_err(StoreError::new)?;
        positions.push(Position {
            tx_id,
            global_position,
        });
    }

    // Sorted so that two appends sharing aliases lock them in the same order, and so that of
    // several aliases owned elsewhere the same one is reported on either backend.
    let mut aliases: Vec<_> = request.aliases.iter().collect();
    aliases.sort_by_key(|a| (a.kind, a.id));
    for alias in aliases {
        let alias_key = [tenant, Param::Text(alias.kind), Param::Uuid(alias.id)];
        // Naming the same stream again is harmless; naming another one is refused. The check
        // is a separate statement so that on Postgres it sees a row a concurrent append just
        // committed.
        let owned_by = [
            Param::Text(stream.aggregate_type),
            Param::Text(&stream.aggregate_id),
        ];
        let result = statement::<DB>(INSERT_ALIAS, alias_key.into_iter().chain(owned_by))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new)?;
        if DB::rows_affected(&result) == 1 {
            continue;
        }
        let owner = statement::<DB>(ALIAS_OWNER, alias_key)
            .fetch_optional(&mut *tx)
            .await
            .and_then(|row| row.as_ref().map(<(String, String)>::from_row).transpose())
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
        let params = stream_params(stream).into_iter().chain([
            Param::Int(snapshot.version),
            Param::Int4(snapshot.schema),
            Param::Json(&snapshot.state),
        ]);
        statement::<DB>(UPSERT_SNAPSHOT, params)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new)?;
    }

    tx.commit().await.map_err(StoreError::new)?;
    Ok(recorded_events(request, positions))
}

/// Which uniqueness rule an insert broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clash {
    /// `(tenant_id, aggregate_type, aggregate_id, sequence)`: another append took the version.
    StreamSequence,
    IdempotencyKey,
    Other,
}

/// Classify a unique violation. Postgres names the table; SQLite only says so in the message
/// (`UNIQUE constraint failed: idempotency_keys.tenant_id, ...`).
fn clash(error: &sqlx::Error) -> Option<Clash> {
    let db = error.as_database_error()?;
    if !db.is_unique_violation() {
        return None;
    }
    let (table, constraint) = match db.table() {
        Some(table) => (
            table.to_owned(),
            db.constraint().unwrap_or_default().to_owned(),
        ),
        None => {
            let columns = db
                .message()
                .strip_prefix("UNIQUE constraint failed: ")
                .unwrap_or_default();
            let table = columns.split('.').next().unwrap_or_default().to_owned();
            (table, columns.to_owned())
        }
    };
    Some(match table.as_str() {
        "idempotency_keys" => Clash::IdempotencyKey,
        // The event_id rule lives on the same table; a reused event id is a bug, not a race.
        "events" if !constraint.contains("event_id") => Clash::StreamSequence,
        _ => Clash::Other,
    })
}

/// An insert's failure as the port reports it.
pub(super) fn append_error(error: sqlx::Error) -> AppendError {
    match clash(&error) {
        Some(Clash::StreamSequence) => AppendError::Conflict,
        Some(Clash::IdempotencyKey) => AppendError::IdempotencyKeyTaken,
        Some(Clash::Other) | None => AppendError::Store(StoreError::new(error)),
    }
}

/// The stored form of the appended events, as a later read returns them, given the position
/// each was written at, in sequence order.
pub(super) fn recorded_events(
    request: &AppendRequest,
    positions: Vec<Position>,
) -> Vec<RecordedEvent> {
    let stream = &request.stream;
    request
        .events
        .iter()
        .zip(positions)
        .zip(request.expected_version + 1..)
        .map(|((event, position), sequence)| RecordedEvent {
            position,
            tenant_id: stream.tenant.as_str().to_owned(),
            aggregate_type: stream.aggregate_type.to_owned(),
            aggregate_id: stream.aggregate_id.clone(),
            sequence,
            event_id: event.event_id,
            event_type: event.event_type.clone(),
            event_version: event.event_version,
            payload: event.payload.clone(),
            metadata: event.metadata.clone(),
            recorded_at: micros(event.recorded_at),
            occurred_at: micros(event.occurred_at),
        })
        .collect()
}

/// Checks that need no database: a snapshot must describe the state after exactly these events,
/// or a later load would apply some of them twice or not at all.
pub(super) fn validate(request: &AppendRequest) -> Result<(), AppendError> {
    let new_version = request.expected_version + request.events.len() as i64;
    if request.expected_version < 0 {
        return Err(AppendError::Store(StoreError(format!(
            "expected_version {} is negative",
            request.expected_version
        ))));
    }
    if let Some(snapshot) = &request.snapshot {
        if snapshot.version != new_version {
            return Err(AppendError::Store(StoreError(format!(
                "snapshot version {} does not match the stream version after the append ({new_version})",
                snapshot.version
            ))));
        }
    }
    Ok(())
}
