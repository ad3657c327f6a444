//! Fresh databases for tests: every test gets its own, so tests run in parallel and never see
//! each other's rows.
//!
//! The Postgres server comes from `TEST_DATABASE_URL`, else a `postgres://` `DATABASE_URL`, else
//! the local server on 127.0.0.1:5432. `scripts/test` starts a throwaway cluster and sets
//! `TEST_DATABASE_URL` when there is no server, so tests never need a manual step.

use crate::db::{Backend, Db, DbError};
use sqlx::Connection;

/// The Postgres server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .or_else(|| {
            std::env::var("DATABASE_URL")
                .ok()
                .filter(|u| u.starts_with("postgres"))
        })
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Create an empty database and return its URL. SQLite files go in the system temp folder.
pub async fn fresh_database_url(backend: Backend) -> Result<String, DbError> {
    let name = format!("restock_test_{}", uuid::Uuid::new_v4().simple());
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            Ok(format!("sqlite://{}", path.display()))
        }
        Backend::Postgres => {
            let admin = postgres_admin_url();
            let mut conn = sqlx::PgConnection::connect(&admin).await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await?;
            conn.close().await?;
            Ok(replace_database(&admin, &name))
        }
    }
}

/// A connected, migrated, empty database.
pub async fn fresh_db(backend: Backend) -> Result<Db, DbError> {
    let url = fresh_database_url(backend).await?;
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    Ok(db)
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    // The database is the last path segment after the authority.
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name_and_keeps_options() {
        assert_eq!(
            super::replace_database("postgres://u@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(
            super::replace_database("postgres://u@h", "x"),
            "postgres://u@h/x"
        );
    }
}
