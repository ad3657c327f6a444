//! Purchase timing from supplier prices: a 14-day price forecast (a model chosen per series by
//! holdout error, [`forecast`] over [`models`]), the day an order must go out by (from the
//! demand forecast, the lead time and available stock) and the cheapest day up to it
//! ([`plan`]), and a backtest replaying each day's plan on a price file ([`backtest`]).
//!
//! The plan is computed when it is read, not stored: it depends on available stock, which
//! every sale moves, and on the latest prices, which an import moves; a stored plan would be
//! stale between recomputes. Its inputs that are expensive (the demand forecast) are the ones
//! the threshold job stores; the price models are closed-form and cost microseconds.

pub mod backtest;
pub mod forecast;
pub mod models;
pub mod plan;

pub use backtest::{run_price_backtest, PriceBacktestReport};
pub use forecast::{forecast_prices, PriceForecast};
pub use models::PriceModel;
pub use plan::{DemandOutlook, PlanDecision, Recommendation, StockOutlook, HORIZON_DAYS};

use crate::ports::{
    ForecastPoint, ForecastRepository, PricePoint, ReadModels, StoreError, StoredForecast,
};
use crate::views::PurchasePlanView;
use chrono::{DateTime, Days, NaiveDate, Utc};
use restock_domain::{Sku, TenantId};
use std::sync::Arc;

/// Days of price history read for a plan (the models fit on at most half a year of it).
const HISTORY_READ_DAYS: u64 = forecast::MAX_FIT_DAYS as u64;
/// Days of price history a plan shows.
const HISTORY_SHOWN_DAYS: usize = 90;

/// A plan's price forecast and decision, from prices up to `today` and the stock outlook.
/// `None` without a price on or before `today`.
pub fn plan_prices(
    prices: &[(NaiveDate, f64)],
    today: NaiveDate,
    stock: &StockOutlook,
) -> Option<(PriceForecast, PlanDecision)> {
    let known: Vec<(NaiveDate, f64)> = prices
        .iter()
        .copied()
        .filter(|(d, _)| *d <= today)
        .collect();
    let until = today.checked_add_days(Days::new(HORIZON_DAYS as u64 - 1))?;
    let forecast = forecast_prices(&known, until)?;
    let (order_by, why) = plan::order_by(today, stock);
    let decision = plan::decide(&forecast, today, order_by, &why)?;
    Some((forecast, decision))
}

/// The demand outlook from a stored demand forecast: its days from `today` on.
pub fn demand_outlook(forecast: &StoredForecast, today: NaiveDate) -> DemandOutlook {
    DemandOutlook {
        daily: forecast
            .forecast
            .iter()
            .filter(|d| d.date >= today)
            .map(|d| d.mean)
            .collect(),
        safety_stock: forecast.safety_stock,
        model: forecast.model.clone(),
    }
}

/// Plans for a tenant's products, read from the price history and the stored demand forecast.
pub struct PurchasePlans {
    read_models: Arc<dyn ReadModels>,
    forecasts: Arc<dyn ForecastRepository>,
}

impl PurchasePlans {
    pub fn new(read_models: Arc<dyn ReadModels>, forecasts: Arc<dyn ForecastRepository>) -> Self {
        Self {
            read_models,
            forecasts,
        }
    }

    /// The plan as `GET /v1/products/{sku}/purchase-plan` shows it, on the product's current
    /// available stock. `None` for an unknown product or one without prices.
    pub async fn plan(
        &self,
        tenant: &TenantId,
        sku: &Sku,
        now: DateTime<Utc>,
    ) -> Result<Option<PurchasePlanView>, StoreError> {
        let Some(product) = self.read_models.product(tenant, sku).await? else {
            return Ok(None);
        };
        let lead = u16::try_from(product.lead_time_days).unwrap_or(u16::MAX);
        self.plan_for(tenant, sku, product.available, lead, now)
            .await
    }

    /// The plan for a given available stock and lead time (the agent's, as they stood at the
    /// trigger). `None` without prices.
    pub async fn plan_for(
        &self,
        tenant: &TenantId,
        sku: &Sku,
        available: i64,
        lead_time_days: u16,
        now: DateTime<Utc>,
    ) -> Result<Option<PurchasePlanView>, StoreError> {
        let today = now.date_naive();
        let since = today
            .checked_sub_days(Days::new(HISTORY_READ_DAYS))
            .unwrap_or(today);
        let history = self.read_models.price_history(tenant, sku, since).await?;
        if history.is_empty() {
            return Ok(None);
        }
        let demand = self
            .forecasts
            .get(tenant, sku)
            .await?
            .map(|f| demand_outlook(&f, today));
        let stock = StockOutlook {
            available,
            lead_time_days,
            demand,
        };
        let prices: Vec<(NaiveDate, f64)> =
            history.iter().map(|p| (p.date, p.unit_price)).collect();
        let Some((forecast, decision)) = plan_prices(&prices, today, &stock) else {
            return Ok(None);
        };
        let shown = history.len().saturating_sub(HISTORY_SHOWN_DAYS);
        Ok(Some(PurchasePlanView {
            sku: sku.to_string(),
            computed_at: now,
            horizon_days: HORIZON_DAYS,
            history: history.into_iter().skip(shown).collect::<Vec<PricePoint>>(),
            price_forecast: (0..HORIZON_DAYS)
                .filter_map(|i| today.checked_add_days(Days::new(i as u64)))
                .filter_map(|d| forecast.on(d))
                .map(|d| ForecastPoint {
                    date: d.date,
                    mean: d.mean,
                    lower: d.lower,
                    upper: d.upper,
                })
                .collect(),
            plan: decision,
        }))
    }
}

#[cfg(test)]
mod tests;
