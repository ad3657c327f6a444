//! What the forecast needs from the read side: products, their demand days, and a place to keep
//! the latest forecast for `GET /v1/products/{sku}/forecast`.

use super::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use restock_domain::{Sku, TenantId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One day of demand for one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemandDay {
    pub date: NaiveDate,
    pub quantity: i64,
    /// Stock ran out that day: what was sold is a lower bound on demand, not demand.
    pub censored: bool,
}

#[async_trait]
pub trait DemandReader: Send + Sync + 'static {
    /// Every tenant that has products.
    async fn tenants(&self) -> Result<Vec<TenantId>, StoreError>;
    /// The tenant's products.
    async fn skus(&self, tenant: &TenantId) -> Result<Vec<Sku>, StoreError>;
    /// Each product's demand days from `since` on, oldest first; days without a row had no
    /// demand. A product whose history began before `since` gets a day at `since` (zero if it
    /// had no row), so its series is the whole window rather than starting at its first sale
    /// in it. Products with no days are left out.
    async fn demand(
        &self,
        tenant: &TenantId,
        skus: &[Sku],
        since: NaiveDate,
    ) -> Result<HashMap<Sku, Vec<DemandDay>>, StoreError>;
    /// Units and days out of stock over `[from, to]` (both inclusive) of one product or every
    /// product, summed by the store, keyed by sku; products with no day in it are absent. A
    /// sales question about a thousand products reads a thousand rows instead of every day
    /// of each.
    async fn totals(
        &self,
        tenant: &TenantId,
        sku: Option<&Sku>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<HashMap<String, DemandTotal>, StoreError>;
}

/// Units of demand and days out of stock of one product over a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DemandTotal {
    pub units: i64,
    pub stockout_days: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HistoryPoint {
    pub date: NaiveDate,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ForecastPoint {
    pub date: NaiveDate,
    pub mean: f64,
    pub lower: f64,
    pub upper: f64,
}

/// The latest forecast of a product, as `GET /v1/products/{sku}/forecast` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Forecast)]
pub struct StoredForecast {
    pub sku: String,
    /// `mstl_ets`, `ets`, `croston`, `sba`, `tsb`, `seasonal_naive` or `mean_fallback`.
    pub model: String,
    pub computed_at: DateTime<Utc>,
    pub history: Vec<HistoryPoint>,
    pub forecast: Vec<ForecastPoint>,
    pub lead_time_demand: f64,
    pub safety_stock: f64,
    pub reorder_point: i64,
    pub service_level: f64,
    pub lead_time_days: i64,
}

#[async_trait]
pub trait ForecastRepository: Send + Sync + 'static {
    /// Keep these as the latest forecasts of their products.
    async fn save(&self, tenant: &TenantId, forecasts: &[StoredForecast])
        -> Result<(), StoreError>;
    async fn get(&self, tenant: &TenantId, sku: &Sku)
        -> Result<Option<StoredForecast>, StoreError>;
    /// Every product's forecast days (not its history), by sku: what projecting all of a
    /// tenant's stock forward needs in one read. Reading whole forecasts instead decodes a
    /// year of history per product (365,000 points for 1,000 products) to use a few weeks.
    async fn forecast_days(
        &self,
        tenant: &TenantId,
    ) -> Result<HashMap<String, Vec<ForecastPoint>>, StoreError>;
}
