//! Event store adapters: Postgres (production) and SQLite (embedded).
//!
//! Both implement [`EventStore`] with the same observable behaviour; the integration tests in
//! `tests/event_store.rs` run one suite against each. What differs is how the global log is read
//! in commit order: Postgres orders by `(tx_id, global_position)` below the snapshot's xmin,
//! SQLite relies on its single writer making rowid order commit order.

mod postgres;
mod sqlite;

pub use postgres::PostgresEventStore;
pub use sqlite::SqliteEventStore;

use crate::db::Db;
use chrono::{DateTime, SubsecRound, Utc};
use restock_application::ports::{
    AppendError, AppendRequest, EventStore, NewEvent, Position, RecordedEvent, StoreError, StreamId,
};
use std::sync::Arc;

/// The adapter for whichever backend `db` is.
pub fn event_store_for(db: &Db) -> Arc<dyn EventStore> {
    match db {
        Db::Postgres(pool) => Arc::new(PostgresEventStore::new(pool.clone())),
        Db::Sqlite { write, read } => Arc::new(SqliteEventStore::new(write.clone(), read.clone())),
    }
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
fn append_error(error: sqlx::Error) -> AppendError {
    match clash(&error) {
        Some(Clash::StreamSequence) => AppendError::Conflict,
        Some(Clash::IdempotencyKey) => AppendError::IdempotencyKeyTaken,
        Some(Clash::Other) | None => AppendError::Store(StoreError::new(error)),
    }
}

/// Both databases keep microseconds. Truncating before writing makes the events an append
/// returns identical to the ones read back later (Postgres would otherwise drop the nanoseconds
/// silently and SQLite would keep them).
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// The stored form of an appended event, as a later read returns it.
fn recorded_event(
    stream: &StreamId,
    sequence: i64,
    event: &NewEvent,
    position: Position,
) -> RecordedEvent {
    RecordedEvent {
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
    }
}

/// Checks that need no database: a snapshot must describe the state after exactly these events,
/// or a later load would apply some of them twice or not at all.
fn validate(request: &AppendRequest) -> Result<(), AppendError> {
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

/// The events recorded by `as_of`, given sorted by sequence, cut at the first missing sequence.
///
/// Two servers' clocks can disagree, so a later event may carry an earlier `recorded_at`. Keeping
/// only an unbroken prefix from 1 means an as-of read never returns an event without the ones it
/// was decided on.
fn known_prefix(events: Vec<RecordedEvent>) -> Vec<RecordedEvent> {
    let unbroken = events
        .iter()
        .zip(1..)
        .take_while(|(e, n)| e.sequence == *n)
        .count();
    let mut events = events;
    events.truncate(unbroken);
    events
}
