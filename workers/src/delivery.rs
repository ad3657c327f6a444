//! Webhook delivery of notifications, in its own task: the agent worker only writes a row
//! marked `pending`, so a slow or dead webhook never holds up a decision or a projection.
//!
//! At-least-once with bounded retries: exponential backoff from 1 s, at most `MAX_ATTEMPTS`
//! posts, then the row is marked `failed` (and stays visible in GET /v1/notifications).

use chrono::Utc;
use restock_application::agent::AgentMetrics;
use restock_infrastructure::notifier::WebhookClient;
use restock_infrastructure::read_models::notifications::{self, DueDelivery};
use restock_infrastructure::{Db, DbError};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const MAX_ATTEMPTS: i32 = 5;
const SCAN_EVERY: Duration = Duration::from_millis(250);
/// Longer than a post can take (the client's timeout), so a lease never expires mid-post.
const LEASE_MS: i64 = 30_000;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
}

pub struct WebhookDelivery {
    db: Db,
    client: WebhookClient,
    metrics: Arc<AgentMetrics>,
}

impl WebhookDelivery {
    pub fn new(db: Db, client: WebhookClient, metrics: Arc<AgentMetrics>) -> Self {
        Self {
            db,
            client,
            metrics,
        }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            if let Err(e) = self.deliver_due().await {
                tracing::warn!(error = %e, "notification delivery pass failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(SCAN_EVERY) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Post every due notification once. Returns how many were delivered.
    pub async fn deliver_due(&self) -> Result<usize, DeliveryError> {
        let now_ms = Utc::now().timestamp_millis();
        let mut tx = self.db.begin_read().await?;
        let due = notifications::due(&mut tx, now_ms, 20).await?;
        tx.commit().await?;
        let mut delivered = 0;
        for n in due {
            let mut tx = self.db.begin().await?;
            let mine = notifications::claim_delivery(
                &mut tx,
                &n.tenant_id,
                &n.id,
                n.next_attempt_ms,
                now_ms + LEASE_MS,
            )
            .await?;
            tx.commit().await?;
            if !mine {
                continue;
            }
            let outcome = self
                .client
                .deliver(&payload(&n))
                .await
                .map_err(|e| e.to_string());
            let next = match &outcome {
                Ok(()) => None,
                Err(_) if n.attempts + 1 < MAX_ATTEMPTS => {
                    Some(Utc::now().timestamp_millis() + 1000 * (1i64 << n.attempts.clamp(0, 10)))
                }
                Err(_) => None,
            };
            match &outcome {
                Ok(()) => {
                    delivered += 1;
                    self.metrics.notification("delivered");
                }
                Err(e) if next.is_none() => {
                    tracing::warn!(notification = %n.id, error = %e, "webhook delivery given up");
                    self.metrics.notification("failed");
                }
                Err(e) => {
                    tracing::info!(notification = %n.id, error = %e, "webhook delivery will be retried");
                    self.metrics.notification("retried");
                }
            }
            let mut tx = self.db.begin().await?;
            notifications::record_attempt(&mut tx, &n.tenant_id, &n.id, outcome, next).await?;
            tx.commit().await?;
        }
        Ok(delivered)
    }
}

fn payload(n: &DueDelivery) -> serde_json::Value {
    json!({
        "id": n.id,
        "tenant": n.tenant_id,
        "kind": n.kind,
        "sku": n.sku,
        "severity": n.severity,
        "message": n.message,
        "trigger_event_id": n.trigger_event_id,
        "created_at": n.created_at,
    })
}
