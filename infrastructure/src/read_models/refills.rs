//! `refills`: one row per purchase request (docs/api.md "Refill"), kept by the refills projection.

use crate::{execute, fetch_all, fetch_optional, DbTx};
use chrono::{DateTime, NaiveDate, Utc};
use restock_domain::{Decider, RefillStatus};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RefillRow {
    #[sqlx(rename = "refill_id")]
    pub id: String,
    pub sku: String,
    pub quantity: i64,
    #[sqlx(try_from = "String")]
    pub status: RefillStatus,
    #[sqlx(try_from = "String")]
    pub decided_by: Decider,
    pub reason: String,
    pub trigger_event_id: Option<String>,
    pub received_quantity: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub received_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub buy_on: Option<NaiveDate>,
    pub expected_unit_price: Option<f64>,
}

const COLUMNS: &str = "refill_id, sku, quantity, status, decided_by, reason, trigger_event_id, \
    received_quantity, created_at, received_at, cancelled_at, buy_on, expected_unit_price";

pub struct NewRefill<'a> {
    pub tenant: &'a str,
    pub id: &'a str,
    pub sku: &'a str,
    pub quantity: i64,
    pub decided_by: &'a Decider,
    pub reason: &'a str,
    pub trigger_event_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub buy_on: Option<NaiveDate>,
    pub expected_unit_price: Option<f64>,
}

pub async fn insert(tx: &mut DbTx, r: &NewRefill<'_>) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        "INSERT INTO refills (tenant_id, refill_id, sku, quantity, status, decided_by, reason, \
             trigger_event_id, created_at, buy_on, expected_unit_price) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        r.tenant,
        r.id,
        r.sku,
        r.quantity,
        RefillStatus::Requested.as_str(),
        r.decided_by.to_string(),
        r.reason,
        &r.trigger_event_id,
        r.created_at,
        r.buy_on,
        r.expected_unit_price,
    )?;
    Ok(())
}

pub async fn set_received(
    tx: &mut DbTx,
    tenant: &str,
    id: &str,
    quantity: i64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        "UPDATE refills SET status = $1, received_quantity = $2, received_at = $3 \
         WHERE tenant_id = $4 AND refill_id = $5",
        RefillStatus::Received.as_str(),
        quantity,
        at,
        tenant,
        id
    )?;
    Ok(())
}

pub async fn set_cancelled(
    tx: &mut DbTx,
    tenant: &str,
    id: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        "UPDATE refills SET status = $1, cancelled_at = $2 WHERE tenant_id = $3 AND refill_id = $4",
        RefillStatus::Cancelled.as_str(),
        at,
        tenant,
        id
    )?;
    Ok(())
}

pub async fn get(tx: &mut DbTx, tenant: &str, id: &str) -> Result<Option<RefillRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM refills WHERE tenant_id = $1 AND refill_id = $2");
    fetch_optional!(tx, RefillRow, &sql, tenant, id)
}

/// A page of refills in creation order (ids are UUIDv7, so id order is time order), after the
/// `after` id, optionally of one status.
pub async fn list(
    tx: &mut DbTx,
    tenant: &str,
    status: Option<RefillStatus>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<RefillRow>, sqlx::Error> {
    let after = after.unwrap_or("");
    match status {
        Some(status) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM refills WHERE tenant_id = $1 AND status = $2 AND refill_id > $3 \
                 ORDER BY refill_id LIMIT $4"
            );
            fetch_all!(tx, RefillRow, &sql, tenant, status.as_str(), after, limit)
        }
        None => {
            let sql = format!(
                "SELECT {COLUMNS} FROM refills WHERE tenant_id = $1 AND refill_id > $2 \
                 ORDER BY refill_id LIMIT $3"
            );
            fetch_all!(tx, RefillRow, &sql, tenant, after, limit)
        }
    }
}
