//! The Product as users see it (docs/api.md "Product"), derived from the aggregate's state.

use chrono::{DateTime, Utc};
use restock_domain::Product;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A product and its stock. `available = on_hand - reserved`;
/// `below_min = min_stock != null && available < min_stock`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Product)]
pub struct ProductView {
    pub sku: String,
    pub name: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    #[schema(required = true)]
    pub min_stock: Option<i64>,
    #[schema(schema_with = crate::views::min_stock_source)]
    pub min_stock_source: String,
    pub lead_time_days: i64,
    pub service_level: f64,
    pub below_min: bool,
    #[schema(required = true)]
    pub open_refill_id: Option<Uuid>,
    #[schema(required = true)]
    pub unit: Option<String>,
    #[schema(required = true)]
    pub supplier: Option<String>,
    #[schema(required = true)]
    pub reorder_quantity: Option<i64>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

impl ProductView {
    /// `None` for a product that is not registered.
    pub fn from_state(product: &Product, updated_at: DateTime<Utc>) -> Option<Self> {
        let (sku, details) = (product.sku.as_ref()?, product.details.as_ref()?);
        Some(Self {
            sku: sku.to_string(),
            name: details.name.clone(),
            on_hand: product.on_hand,
            reserved: product.reserved,
            available: product.available(),
            min_stock: product.minimum().map(|q| q.get()),
            min_stock_source: product.minimum_source().as_str().to_owned(),
            lead_time_days: i64::from(details.lead_time_days),
            service_level: details.service_level.get(),
            below_min: product.below_minimum(),
            open_refill_id: product.open_refill().map(|(id, _)| id.as_uuid()),
            unit: details.unit.clone(),
            supplier: details.supplier.clone(),
            reorder_quantity: details.reorder_quantity.map(|q| q.get()),
            version: i64::try_from(product.version).unwrap_or(i64::MAX),
            updated_at,
        })
    }
}
