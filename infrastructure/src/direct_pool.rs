//! A few PostgreSQL connections for the append path, handed out and taken back directly.
//!
//! sqlx's pool pings every connection it takes back (a Sync message and a wait for
//! ReadyForQuery, sqlx-core 0.8 `return_to_pool`), so each statement run through it costs two
//! round trips. For a one-statement append that doubles the messages, the syscalls and the
//! wake-ups on both sides of the socket. Here a connection goes back to the idle list only when
//! its statement ran to an answer from the server, so nothing is left in flight; any other end
//! (an I/O error, a future dropped mid-statement) closes it instead of testing it.
//!
//! Connections open lazily, so a process that appends rarely holds one or two.

use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgRow};
use sqlx::query::Query;
use sqlx::{Connection, Postgres};
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct DirectPool {
    options: PgConnectOptions,
    idle: Mutex<Vec<PgConnection>>,
    permits: Semaphore,
}

/// A connection lent by a [`DirectPool`]. Give it back with [`Lent::give_back`] after the
/// server answered; dropped otherwise, it is closed.
pub struct Lent<'a> {
    connection: Option<PgConnection>,
    pool: &'a DirectPool,
    _permit: SemaphorePermit<'a>,
}

impl DirectPool {
    /// At most `size` connections open at once, all made with `options`.
    pub fn new(options: PgConnectOptions, size: usize) -> Self {
        Self {
            options,
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Semaphore::new(size),
        }
    }

    /// An idle connection, else a new one; waits while `size` are lent.
    pub async fn acquire(&self) -> Result<Lent<'_>, sqlx::Error> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let connection = match idle {
            Some(connection) => connection,
            None => {
                tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&self.options))
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)??
            }
        };
        Ok(Lent {
            connection: Some(connection),
            pool: self,
            _permit: permit,
        })
    }

    /// Run `query` on a lent connection and settle the connection by how it ended.
    pub async fn fetch_all(
        &self,
        query: Query<'_, Postgres, PgArguments>,
    ) -> Result<Vec<PgRow>, sqlx::Error> {
        let mut connection = self.acquire().await?;
        let rows = query.fetch_all(&mut *connection).await;
        connection.settle(&rows);
        rows
    }

    /// How many connections wait idle (for tests).
    pub fn idle(&self) -> usize {
        self.idle.lock().map(|idle| idle.len()).unwrap_or(0)
    }
}

impl Lent<'_> {
    /// Return the connection for reuse. Call only after a statement ended with the server's
    /// answer: a result, or an error the server sent (the protocol is then back at
    /// ReadyForQuery).
    pub fn give_back(mut self) {
        if let (Some(connection), Ok(mut idle)) = (self.connection.take(), self.pool.idle.lock()) {
            idle.push(connection);
        }
    }

    /// Give the connection back if `result` came from the server, close it otherwise.
    pub fn settle<T>(self, result: &Result<T, sqlx::Error>) {
        match result {
            Ok(_) | Err(sqlx::Error::Database(_)) => self.give_back(),
            Err(_) => drop(self),
        }
    }
}

impl Deref for Lent<'_> {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.connection
            .as_ref()
            .expect("a lent connection is present until given back")
    }
}

impl DerefMut for Lent<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.connection
            .as_mut()
            .expect("a lent connection is present until given back")
    }
}
