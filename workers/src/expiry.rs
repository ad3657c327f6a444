//! The reservation expiry sweeper: gives the stock of unconfirmed reservations back, on time,
//! without any client call.
//!
//! It scans the `reservations` read model for active reservations past their deadline and sends
//! `ExpireReservation` to each product. The aggregate decides: a reservation confirmed or
//! released meanwhile, or already expired by another server's sweeper, makes the command a no-op,
//! so any number of servers can sweep the same database without double expiry.

use restock_application::ports::ReplyStatus;
use restock_application::{CommandContext, Executed, ProductCommands};
use restock_domain::{ProductCommand, ReservationId, Sku, TenantId};
use restock_infrastructure::read_models::reservations;
use restock_infrastructure::Db;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const SWEEP_EVERY: Duration = Duration::from_millis(500);
const BATCH: i64 = 500;

pub struct ExpirySweeper {
    db: Db,
    commands: Arc<ProductCommands>,
}

impl ExpirySweeper {
    pub fn new(db: Db, commands: Arc<ProductCommands>) -> Self {
        Self { db, commands }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.sweep().await {
                Ok(expired) if expired > 0 => tracing::info!(expired, "reservations expired"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reservation sweep failed; retrying"),
            }
            tokio::select! {
                _ = tokio::time::sleep(SWEEP_EVERY) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Expire every due reservation once. Returns how many expiry events were recorded.
    pub async fn sweep(&self) -> Result<usize, SweepError> {
        let now = self.commands.clock().now();
        let mut tx = self.db.begin_read().await?;
        let due = reservations::due(&mut tx, now, BATCH).await?;
        tx.commit().await?;
        let ignore = |_: &Executed| (ReplyStatus::Done, serde_json::Value::Null);
        let mut expired = 0;
        for r in due {
            let (Ok(tenant), Ok(sku), Ok(id)) = (
                TenantId::parse(&r.tenant_id),
                Sku::parse(&r.sku),
                r.reservation_id.parse().map(ReservationId),
            ) else {
                tracing::error!(?r, "unreadable reservation row skipped");
                continue;
            };
            let ctx = CommandContext::new(tenant, "system:expiry");
            let command = ProductCommand::ExpireReservation {
                reservation_id: id,
                now,
            };
            match self.commands.execute(&ctx, &sku, command, &ignore).await {
                Ok(restock_application::Outcome::Executed(e)) if !e.recorded.is_empty() => {
                    expired += 1
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, reservation = %r.reservation_id, "expiry failed")
                }
            }
        }
        Ok(expired)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Db(#[from] restock_infrastructure::DbError),
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
}
