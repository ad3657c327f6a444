//! Event store adapters: Postgres (production) and SQLite (embedded).
//!
//! Both implement [`EventStore`] with the same observable behaviour; the integration tests in
//! `tests/event_store.rs` run one suite against each. The behaviour is written once: `store`
//! answers the port over a backend, `append` holds the append algorithm and `read` the stream
//! reads, all over a `Dialect` that says how each backend binds and decodes values. What stays
//! per backend is its SQL where it differs, Postgres's one-statement append, and how the global
//! log is read in commit order: Postgres orders by `(tx_id, global_position)` below the
//! snapshot's xmin, SQLite relies on its single writer making rowid order commit order.

mod append;
mod postgres;
mod read;
mod sqlite;
mod store;

pub use postgres::PostgresEventStore;
pub use sqlite::SqliteEventStore;

use crate::db::Db;
use chrono::{DateTime, SubsecRound, Utc};
use restock_application::ports::{EventStore, RecordedEvent};
use std::sync::Arc;

/// The adapter for whichever backend `db` is.
pub fn event_store_for(db: &Db) -> Arc<dyn EventStore> {
    match db {
        Db::Postgres(pool) => Arc::new(PostgresEventStore::new(pool.clone())),
        Db::Sqlite { write, read } => Arc::new(SqliteEventStore::new(write.clone(), read.clone())),
    }
}

/// Both databases keep microseconds. Truncating before writing makes the events an append
/// returns identical to the ones read back later (Postgres would otherwise drop the nanoseconds
/// silently and SQLite would keep them).
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
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
