//! The threshold scheduler: recompute every tenant's minimums every `interval`.
//!
//! With several servers on one PostgreSQL only one runs a round at a time: the round holds a
//! session advisory lock, and a server that cannot take it skips that round. (On SQLite there is
//! one process by construction.)

use restock_application::thresholds::Thresholds;
use restock_infrastructure::Db;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Key of the advisory lock that serialises recompute rounds across processes.
const ROUND_LOCK: i64 = 0x7265_7374_6f63_6b01; // "restock" + 1

pub struct ThresholdScheduler {
    db: Db,
    thresholds: Arc<Thresholds>,
    interval: Duration,
}

impl ThresholdScheduler {
    pub fn new(db: Db, thresholds: Arc<Thresholds>, interval: Duration) -> Self {
        Self {
            db,
            thresholds,
            interval,
        }
    }

    /// The first round runs one interval after start-up, then every interval.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.interval) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
            match self.round().await {
                Ok(Some(s)) => tracing::info!(
                    products = s.products,
                    changed = s.changed,
                    "thresholds recomputed"
                ),
                Ok(None) => tracing::debug!("another server is recomputing thresholds"),
                Err(e) => tracing::warn!(error = %e, "threshold round failed"),
            }
        }
    }

    /// One round, unless another process holds the round lock (`Ok(None)`).
    pub async fn round(
        &self,
    ) -> Result<
        Option<restock_application::thresholds::RecomputeSummary>,
        Box<dyn std::error::Error + Send + Sync>,
    > {
        let Db::Postgres(pool) = &self.db else {
            return Ok(Some(self.thresholds.recompute_all().await?));
        };
        let mut lock_conn = pool.acquire().await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(ROUND_LOCK)
            .fetch_one(&mut *lock_conn)
            .await?;
        if !locked {
            return Ok(None);
        }
        let result = self.thresholds.recompute_all().await;
        // Unlock on the connection that locked; if that fails the session ends with the pool
        // connection and Postgres releases the lock then.
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(ROUND_LOCK)
            .execute(&mut *lock_conn)
            .await;
        Ok(Some(result?))
    }
}
