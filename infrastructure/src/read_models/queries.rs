//! [`ReadModels`] over the read tables: each query in a tenant-scoped read transaction (on
//! PostgreSQL also under row-level security), each row mapped to its API shape here, once.

use super::movements::Movement;
use super::notifications::NotificationRow;
use super::refills::RefillRow;
use super::{movements, notifications, prices, products, refills, reservations};
use crate::{Db, DbTx};
use async_trait::async_trait;
use chrono::NaiveDate;
use restock_application::ports::{PageRequest, PricePoint, ProductFilter, ReadModels, StoreError};
use restock_application::views::{MovementView, NotificationView, RefillView, ReservationView};
use restock_application::ProductView;
use restock_domain::{RefillStatus, ReservationId, ReservationStatus, Sku, TenantId};

pub struct SqlReadModels {
    db: Db,
}

impl SqlReadModels {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    async fn begin(&self, tenant: &TenantId) -> Result<DbTx, StoreError> {
        self.db
            .begin_tenant_read(tenant.as_str())
            .await
            .map_err(StoreError::new)
    }
}

/// Run one read in the tenant's read transaction and commit it.
macro_rules! read {
    ($self:expr, $tenant:expr, |$tx:ident| $query:expr) => {{
        let mut $tx = $self.begin($tenant).await?;
        let found = $query.await.map_err(StoreError::new)?;
        $tx.commit().await.map_err(StoreError::new)?;
        found
    }};
}

#[async_trait]
impl ReadModels for SqlReadModels {
    async fn products(
        &self,
        tenant: &TenantId,
        filter: &ProductFilter,
        page: &PageRequest,
    ) -> Result<Vec<ProductView>, StoreError> {
        Ok(read!(self, tenant, |tx| products::list(
            &mut tx,
            tenant.as_str(),
            filter.below_min,
            filter.text.as_deref(),
            page.after.as_deref(),
            page.limit,
        )))
    }

    async fn product(
        &self,
        tenant: &TenantId,
        sku: &Sku,
    ) -> Result<Option<ProductView>, StoreError> {
        Ok(read!(self, tenant, |tx| products::get(
            &mut tx,
            tenant.as_str(),
            sku.as_str()
        )))
    }

    async fn product_names(&self, tenant: &TenantId) -> Result<Vec<(String, String)>, StoreError> {
        Ok(read!(self, tenant, |tx| products::names(
            &mut tx,
            tenant.as_str()
        )))
    }

    async fn movements(
        &self,
        tenant: &TenantId,
        sku: &Sku,
        after_version: i64,
        limit: i64,
    ) -> Result<Vec<MovementView>, StoreError> {
        let rows = read!(self, tenant, |tx| movements::list(
            &mut tx,
            tenant.as_str(),
            sku.as_str(),
            after_version,
            limit
        ));
        Ok(rows.into_iter().map(MovementView::from_row).collect())
    }

    async fn movements_until(
        &self,
        tenant: &TenantId,
        sku: &Sku,
        version: i64,
        limit: i64,
    ) -> Result<Vec<MovementView>, StoreError> {
        let rows = read!(self, tenant, |tx| movements::latest_until(
            &mut tx,
            tenant.as_str(),
            sku.as_str(),
            version,
            limit
        ));
        Ok(rows.into_iter().map(MovementView::from_row).collect())
    }

    async fn refills(
        &self,
        tenant: &TenantId,
        status: Option<RefillStatus>,
        page: &PageRequest,
    ) -> Result<Vec<RefillView>, StoreError> {
        let rows = read!(self, tenant, |tx| refills::list(
            &mut tx,
            tenant.as_str(),
            status,
            page.after.as_deref(),
            page.limit,
        ));
        Ok(rows.into_iter().map(RefillView::from_row).collect())
    }

    async fn price_history(
        &self,
        tenant: &TenantId,
        sku: &Sku,
        since: NaiveDate,
    ) -> Result<Vec<PricePoint>, StoreError> {
        let rows = read!(self, tenant, |tx| prices::since(
            &mut tx,
            tenant.as_str(),
            sku.as_str(),
            since
        ));
        Ok(rows
            .into_iter()
            .map(|r| PricePoint {
                date: r.day,
                unit_price: r.unit_price,
            })
            .collect())
    }

    async fn notifications(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> Result<Vec<NotificationView>, StoreError> {
        let rows = read!(self, tenant, |tx| notifications::list(
            &mut tx,
            tenant.as_str(),
            page.after.as_deref(),
            page.limit
        ));
        Ok(rows.into_iter().map(NotificationView::from_row).collect())
    }

    async fn reservation(
        &self,
        tenant: &TenantId,
        id: ReservationId,
    ) -> Result<Option<ReservationView>, StoreError> {
        let row = read!(self, tenant, |tx| reservations::get(
            &mut tx,
            tenant.as_str(),
            &id.to_string()
        ));
        let Some(row) = row else { return Ok(None) };
        let status = match row.status.as_str() {
            "active" => ReservationStatus::Active,
            "confirmed" => ReservationStatus::Confirmed,
            "released" => ReservationStatus::Released,
            "expired" => ReservationStatus::Expired,
            other => return Err(StoreError::new(format!("reservation status {other:?}"))),
        };
        Ok(Some(ReservationView {
            id: id.0,
            sku: row.sku,
            quantity: Some(row.quantity),
            status: Some(status),
            expires_at: Some(row.expires_at),
        }))
    }
}

/// Rows into API shapes (a local trait: the shapes are the application's, the rows ours).
trait FromRow<R> {
    fn from_row(row: R) -> Self;
}

impl FromRow<RefillRow> for RefillView {
    fn from_row(r: RefillRow) -> Self {
        RefillView {
            id: r.id,
            sku: r.sku,
            quantity: r.quantity,
            status: r.status,
            decided_by: r.decided_by,
            reason: r.reason,
            trigger_event_id: r.trigger_event_id,
            received_quantity: r.received_quantity,
            created_at: r.created_at,
            received_at: r.received_at,
            cancelled_at: r.cancelled_at,
            buy_on: r.buy_on,
            expected_unit_price: r.expected_unit_price,
        }
    }
}

impl FromRow<NotificationRow> for NotificationView {
    fn from_row(n: NotificationRow) -> Self {
        NotificationView {
            id: n.id,
            kind: n.kind,
            sku: n.sku,
            severity: n.severity,
            message: n.message,
            trigger_event_id: n.trigger_event_id,
            created_at: n.created_at,
            delivery: n.delivery,
            attempts: n.attempts,
        }
    }
}

impl FromRow<Movement> for MovementView {
    fn from_row(m: Movement) -> Self {
        MovementView {
            version: m.version,
            kind: m.kind,
            delta_on_hand: m.delta_on_hand,
            on_hand_after: m.on_hand_after,
            reference: m.reference,
            occurred_at: m.occurred_at,
        }
    }
}
