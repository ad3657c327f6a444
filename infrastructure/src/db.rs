//! One handle over the two supported databases.
//!
//! Postgres is production; SQLite is the zero-setup embedded default. Most SQL in Restock is
//! written once in the dialect both accept (`$1` parameters in order of first use, `ON CONFLICT`,
//! `RETURNING`) and run through the [`execute!`](crate::execute) and [`fetch_all!`](crate::fetch_all)
//! macros, which expand the same query for whichever backend is live. Where the databases really
//! differ (the event log's commit-order read) the adapters have their own code.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

/// The PostgreSQL notification channel on which committed appends are announced.
pub const COMMITS_CHANNEL: &str = "restock_events";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL: {0}")]
    BadUrl(String),
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("creating the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A connection pool on either backend.
///
/// SQLite has a single writer: all writes go through a pool of exactly one connection, so
/// transactions queue in the process instead of failing with `SQLITE_BUSY`, and rowid order is
/// commit order. Reads use a separate pool and see WAL snapshots concurrently.
#[derive(Debug, Clone)]
pub enum Db {
    Postgres(PgPool),
    Sqlite { write: SqlitePool, read: SqlitePool },
}

/// A transaction on either backend.
pub enum DbTx {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

impl Db {
    /// Connect to `postgres://...` or `sqlite://PATH` (the file and its folder are created).
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // An idle open transaction holds every projection at the commit-order horizon (see
            // event_store/postgres.rs); cap how long one of ours can do that.
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| DbError::BadUrl(e.to_string()))?
                .options([("idle_in_transaction_session_timeout", "60s")]);
            let pool = PgPoolOptions::new()
                .max_connections(20)
                .acquire_timeout(Duration::from_secs(10))
                // No ping before each use: it is a round trip of its own, as many as a
                // one-statement append has. A connection that died while idle fails its next
                // statement once, as it could right after a successful ping anyway.
                .test_before_acquire(false)
                .connect_with(options)
                .await?;
            Ok(Db::Postgres(pool))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap_or(path);
            if let Some(parent) = std::path::Path::new(path).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent).map_err(|source| DbError::DataDir {
                        path: parent.display().to_string(),
                        source,
                    })?;
                }
            }
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: an acknowledged command survives a power cut, not only a process kill.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options.clone())
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options.read_only(true))
                .await?;
            Ok(Db::Sqlite { write, read })
        } else {
            Err(DbError::BadUrl(format!(
                "expected postgres://... or sqlite://PATH, got {:?}",
                url.split(':').next().unwrap_or_default()
            )))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Postgres(_) => Backend::Postgres,
            Db::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// Apply the embedded migrations for this backend. Safe to run from several processes.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
            Db::Sqlite { write, .. } => sqlx::migrate!("../migrations/sqlite").run(write).await?,
        }
        Ok(())
    }

    /// True when every embedded migration has been applied (for `/readyz`).
    pub async fn migrations_applied(&self) -> Result<bool, DbError> {
        let (expected, applied): (usize, i64) = match self {
            Db::Postgres(pool) => (
                sqlx::migrate!("../migrations/postgres").iter().count(),
                sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(pool)
                    .await?,
            ),
            Db::Sqlite { read, .. } => (
                sqlx::migrate!("../migrations/sqlite").iter().count(),
                sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(read)
                    .await?,
            ),
        };
        Ok(usize::try_from(applied).unwrap_or(0) >= expected)
    }

    /// A write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`): a
    /// deferred transaction that reads and then writes fails outright if another connection
    /// wrote in between, where an immediate one simply waits its turn.
    pub async fn begin(&self) -> Result<DbTx, DbError> {
        Ok(match self {
            Db::Postgres(pool) => DbTx::Postgres(pool.begin().await?),
            Db::Sqlite { write, .. } => DbTx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// A read-only transaction across tenants (projection checkpoints, scheduler scans).
    pub async fn begin_read(&self) -> Result<DbTx, DbError> {
        Ok(match self {
            Db::Postgres(pool) => DbTx::Postgres(pool.begin().await?),
            Db::Sqlite { read, .. } => DbTx::Sqlite(read.begin().await?),
        })
    }

    /// A read transaction scoped to one tenant. On Postgres it drops to the `restock_app` role and
    /// sets `restock.tenant`, so row-level security hides every other tenant's rows even from a
    /// query that forgot its `WHERE tenant_id = ...`.
    pub async fn begin_tenant_read(&self, tenant: &str) -> Result<DbTx, DbError> {
        match self {
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SET LOCAL ROLE restock_app")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("SELECT set_config('restock.tenant', $1, true)")
                    .bind(tenant)
                    .execute(&mut *tx)
                    .await?;
                Ok(DbTx::Postgres(tx))
            }
            Db::Sqlite { read, .. } => Ok(DbTx::Sqlite(read.begin().await?)),
        }
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        match self {
            Db::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop)?,
            Db::Sqlite { read, .. } => sqlx::query("SELECT 1").execute(read).await.map(drop)?,
        }
        Ok(())
    }

    /// Tell other processes sharing this PostgreSQL that events were committed (they `LISTEN` on
    /// [`COMMITS_CHANNEL`]). Its own statement, after the commits it announces: a `NOTIFY` inside an
    /// append transaction would make every append queue on the notification lock at commit.
    /// SQLite has one process per file: nothing to tell.
    pub async fn announce_commits(&self) -> Result<(), DbError> {
        if let Db::Postgres(pool) = self {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(COMMITS_CHANNEL)
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Postgres(pool) => pool.close().await,
            Db::Sqlite { write, read } => {
                write.close().await;
                read.close().await;
            }
        }
    }
}

/// Keys per statement in [`DbTx::fetch_by_tenant_sku`]: 2 parameters each, well inside both
/// databases' limits.
const KEYS_PER_STATEMENT: usize = 500;

impl DbTx {
    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            DbTx::Postgres(tx) => tx.commit().await?,
            DbTx::Sqlite(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// The rows of `select` (a `SELECT ... FROM table` with no `WHERE`) whose `(tenant_id, sku)`
    /// is one of `keys`: one statement per 500 keys instead of one per key, which is what lets a
    /// projection batch touching many products cost a few round trips.
    pub async fn fetch_by_tenant_sku<R>(
        &mut self,
        select: &str,
        keys: &[(&str, &str)],
    ) -> Result<Vec<R>, sqlx::Error>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + Send
            + Unpin,
    {
        macro_rules! fetch_chunk {
            ($conn:expr, $db:ty, $chunk:expr) => {{
                let mut query = sqlx::QueryBuilder::<$db>::new(select);
                // `IN (VALUES ...)`: the row-value list form both databases accept.
                query.push(" WHERE (tenant_id, sku) IN (VALUES ");
                for (i, (tenant, sku)) in $chunk.iter().enumerate() {
                    query.push(if i == 0 { "(" } else { ", (" });
                    query
                        .push_bind(*tenant)
                        .push(", ")
                        .push_bind(*sku)
                        .push(")");
                }
                query.push(")");
                query.build_query_as::<R>().fetch_all(&mut **$conn).await?
            }};
        }
        let mut rows = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(KEYS_PER_STATEMENT) {
            rows.extend(match self {
                DbTx::Postgres(conn) => fetch_chunk!(conn, Postgres, chunk),
                DbTx::Sqlite(conn) => fetch_chunk!(conn, Sqlite, chunk),
            });
        }
        Ok(rows)
    }

    /// The JSON `state` column of `table` (keyed by `tenant_id, sku`) for these keys, by
    /// (tenant, sku); keys without a row are absent. How a projection resumes folding. `table`
    /// is written into the SQL: a name from the code, never from input.
    pub async fn fetch_states<T>(
        &mut self,
        table: &str,
        keys: &[(&str, &str)],
    ) -> Result<HashMap<(String, String), T>, sqlx::Error>
    where
        T: serde::de::DeserializeOwned + Send + Unpin + 'static,
    {
        let select = format!("SELECT tenant_id, sku, state FROM {table}");
        let rows: Vec<(String, String, sqlx::types::Json<T>)> =
            self.fetch_by_tenant_sku(&select, keys).await?;
        Ok(rows
            .into_iter()
            .map(|(tenant, sku, state)| ((tenant, sku), state.0))
            .collect())
    }
}

/// Run one statement on a [`DbTx`] and return the rows it affected.
///
/// `execute!(tx, "UPDATE t SET a = $1 WHERE id = $2", a, id)` expands to the same query bound
/// for whichever backend the transaction belongs to. Parameters must first appear in order.
#[macro_export]
macro_rules! execute {
    ($tx:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $tx {
            $crate::db::DbTx::Postgres(t) => sqlx::query($sql)$(.bind($arg))*
                .execute(&mut **t).await.map(|r| r.rows_affected()),
            $crate::db::DbTx::Sqlite(t) => sqlx::query($sql)$(.bind($arg))*
                .execute(&mut **t).await.map(|r| r.rows_affected()),
        }
    };
}

/// Fetch rows as `$row` (a `sqlx::FromRow` type that decodes on both backends).
#[macro_export]
macro_rules! fetch_all {
    ($tx:expr, $row:ty, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $tx {
            $crate::db::DbTx::Postgres(t) => sqlx::query_as::<_, $row>($sql)$(.bind($arg))*
                .fetch_all(&mut **t).await,
            $crate::db::DbTx::Sqlite(t) => sqlx::query_as::<_, $row>($sql)$(.bind($arg))*
                .fetch_all(&mut **t).await,
        }
    };
}

/// Fetch at most one row as `$row`.
#[macro_export]
macro_rules! fetch_optional {
    ($tx:expr, $row:ty, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $tx {
            $crate::db::DbTx::Postgres(t) => sqlx::query_as::<_, $row>($sql)$(.bind($arg))*
                .fetch_optional(&mut **t).await,
            $crate::db::DbTx::Sqlite(t) => sqlx::query_as::<_, $row>($sql)$(.bind($arg))*
                .fetch_optional(&mut **t).await,
        }
    };
}
