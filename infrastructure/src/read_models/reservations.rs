//! `reservations`: one row per reservation with its status and deadline. The expiry sweeper scans
//! it for active reservations past their deadline.

use crate::{execute, fetch_all, fetch_optional, DbTx};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DueReservation {
    pub tenant_id: String,
    pub reservation_id: String,
    pub sku: String,
}

pub async fn insert(
    tx: &mut DbTx,
    tenant: &str,
    id: &str,
    sku: &str,
    quantity: i64,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        "INSERT INTO reservations (tenant_id, reservation_id, sku, quantity, status, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        tenant,
        id,
        sku,
        quantity,
        "active",
        expires_at,
        created_at
    )?;
    Ok(())
}

pub async fn set_status(
    tx: &mut DbTx,
    tenant: &str,
    id: &str,
    status: &str,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        "UPDATE reservations SET status = $1 WHERE tenant_id = $2 AND reservation_id = $3",
        status,
        tenant,
        id
    )?;
    Ok(())
}

/// Active reservations whose deadline has passed, oldest deadline first, across all tenants.
pub async fn due(
    tx: &mut DbTx,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DueReservation>, sqlx::Error> {
    fetch_all!(
        tx,
        DueReservation,
        "SELECT tenant_id, reservation_id, sku FROM reservations \
         WHERE status = 'active' AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
        now,
        limit
    )
}

/// One reservation as the read model last recorded it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReservationRow {
    pub sku: String,
    pub quantity: i64,
    pub status: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn get(
    tx: &mut DbTx,
    tenant: &str,
    id: &str,
) -> Result<Option<ReservationRow>, sqlx::Error> {
    fetch_optional!(
        tx,
        ReservationRow,
        "SELECT sku, quantity, status, expires_at FROM reservations \
         WHERE tenant_id = $1 AND reservation_id = $2",
        tenant,
        id
    )
}
