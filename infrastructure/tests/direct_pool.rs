//! The append path's own connections (`direct_pool`): reused only when the server answered,
//! closed when a statement was abandoned half way, never more open than asked.

use restock_infrastructure::direct_pool::DirectPool;
use restock_infrastructure::testing::fresh_database_url;
use restock_infrastructure::Backend;
use sqlx::postgres::PgConnectOptions;
use sqlx::Row;
use std::str::FromStr;
use std::time::Duration;

async fn pool(size: usize) -> DirectPool {
    let url = fresh_database_url(Backend::Postgres)
        .await
        .expect("a PostgreSQL test database");
    DirectPool::new(PgConnectOptions::from_str(&url).expect("a test URL"), size)
}

async fn backend_pid(pool: &DirectPool) -> i32 {
    let mut lent = pool.acquire().await.expect("a connection");
    let result = sqlx::query("SELECT pg_backend_pid()")
        .fetch_one(&mut *lent)
        .await;
    lent.settle(&result);
    result.expect("a pid").get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_answered_is_reused() {
    let pool = pool(4).await;
    let first = backend_pid(&pool).await;
    assert_eq!(pool.idle(), 1);
    assert_eq!(backend_pid(&pool).await, first, "same session");
    assert_eq!(pool.idle(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_the_server_refused_leaves_the_connection_usable() {
    let pool = pool(4).await;
    let first = backend_pid(&pool).await;
    let mut lent = pool.acquire().await.expect("a connection");
    let result = sqlx::query("SELECT 1 / 0").fetch_one(&mut *lent).await;
    assert!(matches!(result, Err(sqlx::Error::Database(_))));
    lent.settle(&result);
    assert_eq!(pool.idle(), 1);
    assert_eq!(backend_pid(&pool).await, first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_statement_closes_its_connection() {
    let pool = pool(4).await;
    let first = backend_pid(&pool).await;
    // The caller gives up while the server is still working (a client that hung up).
    let abandoned = tokio::time::timeout(Duration::from_millis(100), async {
        let mut lent = pool.acquire().await.expect("a connection");
        let result = sqlx::query("SELECT pg_sleep(5)").execute(&mut *lent).await;
        lent.settle(&result);
    })
    .await;
    assert!(abandoned.is_err(), "the sleep outlived the timeout");
    assert_eq!(pool.idle(), 0, "a connection mid-statement is not reused");
    let next = backend_pid(&pool).await;
    assert_ne!(next, first, "a fresh session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_than_size_connections_are_lent() {
    let pool = pool(2).await;
    let a = pool.acquire().await.expect("first");
    let _b = pool.acquire().await.expect("second");
    let third = tokio::time::timeout(Duration::from_millis(200), pool.acquire()).await;
    assert!(third.is_err(), "a third waits while two are lent");
    a.give_back();
    let third = tokio::time::timeout(Duration::from_secs(5), pool.acquire()).await;
    assert!(matches!(third, Ok(Ok(_))), "and gets the one given back");
}
