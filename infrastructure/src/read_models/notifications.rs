//! `notifications`: what `notify_manager` wrote, and the state of its webhook delivery.
//!
//! Not a projection: a notification is an effect of a recorded decision, written by the agent
//! worker with an id chosen in the decision, so writing it twice (after a crash) is a no-op.

use crate::{execute, fetch_all, DbTx};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct NotificationRow {
    #[sqlx(rename = "notification_id")]
    pub id: String,
    pub kind: String,
    pub sku: Option<String>,
    pub severity: String,
    pub message: String,
    pub trigger_event_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivery: String,
    pub attempts: i32,
}

pub struct NewNotification<'a> {
    pub tenant: &'a str,
    pub id: &'a str,
    pub kind: &'a str,
    pub sku: Option<&'a str>,
    pub severity: &'a str,
    pub message: &'a str,
    pub trigger_event_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Schedule a webhook delivery (a webhook is configured).
    pub deliver: bool,
}

/// Insert once; a second insert of the same id does nothing. Returns whether it was new.
pub async fn insert(tx: &mut DbTx, n: &NewNotification<'_>) -> Result<bool, sqlx::Error> {
    let (delivery, next) = if n.deliver {
        ("pending", Some(n.created_at.timestamp_millis()))
    } else {
        ("none", None)
    };
    let inserted = execute!(
        tx,
        "INSERT INTO notifications (tenant_id, notification_id, kind, sku, severity, message, \
             trigger_event_id, created_at, delivery, next_attempt_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (tenant_id, notification_id) DO NOTHING",
        n.tenant,
        n.id,
        n.kind,
        n.sku,
        n.severity,
        n.message,
        &n.trigger_event_id,
        n.created_at,
        delivery,
        next,
    )?;
    Ok(inserted == 1)
}

const COLUMNS: &str =
    "notification_id, kind, sku, severity, message, trigger_event_id, created_at, \
    delivery, attempts";

/// A page of the tenant's notifications in creation order (UUIDv7 ids), after the `after` id.
pub async fn list(
    tx: &mut DbTx,
    tenant: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<NotificationRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications WHERE tenant_id = $1 AND notification_id > $2 \
         ORDER BY notification_id LIMIT $3"
    );
    fetch_all!(
        tx,
        NotificationRow,
        &sql,
        tenant,
        after.unwrap_or(""),
        limit
    )
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DueDelivery {
    pub tenant_id: String,
    #[sqlx(rename = "notification_id")]
    pub id: String,
    pub kind: String,
    pub sku: Option<String>,
    pub severity: String,
    pub message: String,
    pub trigger_event_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
    pub next_attempt_ms: i64,
}

/// Deliveries due at `now_ms`, oldest first, across tenants.
pub async fn due(tx: &mut DbTx, now_ms: i64, limit: i64) -> Result<Vec<DueDelivery>, sqlx::Error> {
    fetch_all!(
        tx,
        DueDelivery,
        "SELECT tenant_id, notification_id, kind, sku, severity, message, trigger_event_id, \
             created_at, attempts, next_attempt_ms FROM notifications \
         WHERE delivery = 'pending' AND next_attempt_ms <= $1 ORDER BY next_attempt_ms LIMIT $2",
        now_ms,
        limit
    )
}

/// Record one delivery attempt: delivered, retry at `next_ms`, or (`next_ms` None) given up.
pub async fn record_attempt(
    tx: &mut DbTx,
    tenant: &str,
    id: &str,
    outcome: Result<(), String>,
    next_ms: Option<i64>,
) -> Result<(), sqlx::Error> {
    let (delivery, error) = match (&outcome, next_ms) {
        (Ok(()), _) => ("delivered", None),
        (Err(e), Some(_)) => ("pending", Some(e.as_str())),
        (Err(e), None) => ("failed", Some(e.as_str())),
    };
    execute!(
        tx,
        "UPDATE notifications SET delivery = $1, last_error = $2, next_attempt_ms = $3, \
             attempts = attempts + 1 WHERE tenant_id = $4 AND notification_id = $5",
        delivery,
        error,
        next_ms,
        tenant,
        id
    )?;
    Ok(())
}

/// Take a due delivery for `lease_ms` so that another server does not post it at the same time.
pub async fn claim_delivery(
    tx: &mut DbTx,
    tenant: &str,
    id: &str,
    due_ms: i64,
    lease_until_ms: i64,
) -> Result<bool, sqlx::Error> {
    let n = execute!(
        tx,
        "UPDATE notifications SET next_attempt_ms = $1 WHERE tenant_id = $2 AND notification_id = $3 \
           AND delivery = 'pending' AND next_attempt_ms = $4",
        lease_until_ms,
        tenant,
        id,
        due_ms
    )?;
    Ok(n == 1)
}
