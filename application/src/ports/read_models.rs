//! The read side as the front ends query it (HTTP routes, the tool layer, chat, MCP): every
//! query is scoped to one tenant, and every answer is an API shape (`views`), never a row.

use super::StoreError;
use crate::views::{MovementView, NotificationView, RefillView, ReservationView};
use crate::ProductView;
use async_trait::async_trait;
use chrono::NaiveDate;
use restock_domain::{RefillStatus, ReservationId, Sku, TenantId};
use serde::{Deserialize, Serialize};

/// A supplier's unit price on one day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PricePoint {
    pub date: NaiveDate,
    pub unit_price: f64,
}

/// A page of a list in key order: items after `after` (exclusive), at most `limit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<String>,
    pub limit: i64,
}

impl PageRequest {
    pub fn first(limit: i64) -> Self {
        Self { after: None, limit }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    /// Only products below (true) or not below (false) their minimum.
    pub below_min: Option<bool>,
    /// Case-insensitive substring of the name or the sku.
    pub text: Option<String>,
}

#[async_trait]
pub trait ReadModels: Send + Sync + 'static {
    /// Products ordered by sku; the page's `after` is a sku.
    async fn products(
        &self,
        tenant: &TenantId,
        filter: &ProductFilter,
        page: &PageRequest,
    ) -> Result<Vec<ProductView>, StoreError>;

    async fn product(
        &self,
        tenant: &TenantId,
        sku: &Sku,
    ) -> Result<Option<ProductView>, StoreError>;

    /// Every product's (sku, name), by sku: what linking a question's words to products needs,
    /// without the rest of each row.
    async fn product_names(&self, tenant: &TenantId) -> Result<Vec<(String, String)>, StoreError>;

    /// Ledger rows after `after_version`, oldest first.
    async fn movements(
        &self,
        tenant: &TenantId,
        sku: &Sku,
        after_version: i64,
        limit: i64,
    ) -> Result<Vec<MovementView>, StoreError>;

    /// The last `limit` ledger rows at or before `version`, oldest first (a product's history
    /// as of a past version, without reading the ledger before it).
    async fn movements_until(
        &self,
        tenant: &TenantId,
        sku: &Sku,
        version: i64,
        limit: i64,
    ) -> Result<Vec<MovementView>, StoreError>;

    /// Refills in creation order; the page's `after` is a refill id.
    async fn refills(
        &self,
        tenant: &TenantId,
        status: Option<RefillStatus>,
        page: &PageRequest,
    ) -> Result<Vec<RefillView>, StoreError>;

    /// The product's supplier prices from `since` on, in date order, one a day.
    async fn price_history(
        &self,
        tenant: &TenantId,
        sku: &Sku,
        since: NaiveDate,
    ) -> Result<Vec<PricePoint>, StoreError>;

    /// Notifications in creation order; the page's `after` is a notification id.
    async fn notifications(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> Result<Vec<NotificationView>, StoreError>;

    /// A reservation as the read model last recorded it. The Product aggregate forgets closed
    /// reservations beyond `CLOSED_RESERVATIONS_KEPT`; confirm and release answer for those
    /// from here.
    async fn reservation(
        &self,
        tenant: &TenantId,
        id: ReservationId,
    ) -> Result<Option<ReservationView>, StoreError>;
}
