//! What the agent decides on: the product as it stood right after the trigger event, and the
//! threshold in force. Recorded with every decision so that it can be re-run later on exactly
//! the same inputs (the audit's `replayed_decision`).

use crate::purchase::PlanDecision;
use chrono::{DateTime, Utc};
use restock_domain::{MinimumSource, Product, Quantity, ReorderPoint, Sku};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The event that made the product cross its minimum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerRef {
    pub event_id: Uuid,
    pub event_type: String,
    /// The product stream's version after the trigger event.
    pub sequence: i64,
    pub recorded_at: DateTime<Utc>,
}

/// The minimum in force and where it came from (docs/api.md audit `threshold`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Threshold {
    pub reorder_point: i64,
    /// `manual` or `forecast`.
    pub source: String,
    /// The forecast model, when the minimum is the forecast's.
    #[schema(required = true)]
    pub model: Option<String>,
    /// When the minimum in force was computed (forecast) or set (manual).
    #[schema(required = true)]
    pub computed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentContext {
    pub tenant: String,
    pub sku: Sku,
    pub name: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    pub threshold: Threshold,
    /// The forecast minimum, present even when a manual minimum overrides it: its lead-time
    /// demand sizes the order either way.
    pub forecast: Option<ReorderPoint>,
    pub lead_time_days: i64,
    pub reorder_quantity: Option<i64>,
    pub unit: Option<String>,
    pub supplier: Option<String>,
    pub version: i64,
    pub trigger: TriggerRef,
    /// When to buy, from supplier prices (absent without prices, and in contexts recorded
    /// before prices existed). Added by the worker when it decides, not by the projection
    /// that records the crossing: it reads the price history and the demand forecast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_plan: Option<PlanDecision>,
}

/// Forecast models whose minimum is a plain average: too little history to trust, so a human
/// should look at the product (the policy notifies).
pub const UNRELIABLE_MODELS: &[&str] = &["mean_fallback"];

impl AgentContext {
    /// `None` when the product has no minimum or is not registered: nothing to decide then.
    pub fn from_product(
        tenant: &str,
        product: &Product,
        manual_set_at: Option<DateTime<Utc>>,
        trigger: TriggerRef,
    ) -> Option<Self> {
        let (sku, details) = (product.sku.as_ref()?, product.details.as_ref()?);
        let minimum = product.minimum()?;
        let source = product.minimum_source();
        let threshold = Threshold {
            reorder_point: minimum.get(),
            source: source.as_str().to_owned(),
            model: match source {
                MinimumSource::Forecast => {
                    product.forecast_minimum.as_ref().map(|f| f.model.clone())
                }
                _ => None,
            },
            computed_at: match source {
                MinimumSource::Forecast => product.forecast_minimum.as_ref().map(|f| f.computed_at),
                MinimumSource::Manual => manual_set_at,
                MinimumSource::None => None,
            },
        };
        Some(Self {
            tenant: tenant.to_owned(),
            sku: sku.clone(),
            name: details.name.clone(),
            on_hand: product.on_hand,
            reserved: product.reserved,
            available: product.available(),
            threshold,
            forecast: product.forecast_minimum.clone(),
            lead_time_days: i64::from(details.lead_time_days),
            reorder_quantity: details.reorder_quantity.map(Quantity::get),
            unit: details.unit.clone(),
            supplier: details.supplier.clone(),
            version: i64::try_from(product.version).unwrap_or(i64::MAX),
            trigger,
            purchase_plan: None,
        })
    }

    pub fn minimum(&self) -> i64 {
        self.threshold.reorder_point
    }

    /// Demand expected while an order is on its way: the forecast's when there is one, else
    /// the minimum stands in for it (a manual minimum is usually "what we sell in a lead time").
    pub fn lead_time_demand(&self) -> i64 {
        match &self.forecast {
            Some(f) if f.lead_time_demand.is_finite() && f.lead_time_demand >= 0.0 => {
                // Bounded by Quantity::MAX through the forecast engine; the cast cannot overflow.
                (f.lead_time_demand.ceil() as i64).min(i64::from(Quantity::MAX))
            }
            _ => self.minimum(),
        }
    }

    /// The order-up-to level: the minimum plus what will sell before the order arrives.
    pub fn target(&self) -> i64 {
        self.minimum() + self.lead_time_demand()
    }

    /// The largest refill any backend may request: four times the order-up-to level (plus any
    /// deficit below zero), or the supplier's lot size when that is larger. Guards against a
    /// model that orders a thousand times too much (OWASP LLM06, excessive agency).
    pub fn max_refill(&self) -> i64 {
        let deficit = (-self.available).max(0);
        let bound = (4 * self.target() + deficit)
            .max(self.reorder_quantity.unwrap_or(0))
            .max(1);
        bound.min(i64::from(Quantity::MAX))
    }

    /// True when the minimum comes from a forecast model known to be unreliable.
    pub fn forecast_unreliable(&self) -> bool {
        self.threshold.source == MinimumSource::Forecast.as_str()
            && self
                .threshold
                .model
                .as_deref()
                .is_some_and(|m| UNRELIABLE_MODELS.contains(&m))
    }
}
