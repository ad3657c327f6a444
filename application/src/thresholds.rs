//! Recomputing minimums: each product's demand history through the forecast engine, and a
//! `ReorderPointRecalculated` event when the reorder point changed.
//!
//! A manual minimum still wins (the aggregate keeps both and reports the manual one); the
//! forecast minimum is recorded regardless, so it is ready when the manual one is cleared.

use crate::forecast::{forecast_product, DemandSeries, ForecastResult, MAX_FIT_DAYS};
use crate::ports::{
    DemandDay, DemandReader, ForecastPoint, ForecastRepository, HistoryPoint, ReplyStatus,
    StoreError, StoredForecast, StreamId,
};
use crate::product_commands::{CommandContext, CommandError, Executed, Outcome, ProductCommands};
use chrono::{DateTime, Days, SubsecRound, Utc};
use restock_domain::{ProductCommand, Sku, TenantId};
use serde::Serialize;
use std::sync::Arc;

/// Days of history shown with a forecast.
const HISTORY_SHOWN_DAYS: usize = 90;
/// Products read, fitted and saved together: one demand query and one forecast upsert per
/// chunk instead of per product.
const CHUNK: usize = 64;
/// Chunks in flight: while one chunk's products are fitted, the next one's demand is read and
/// the previous one's commands and forecasts are written.
const CHUNKS_IN_FLIGHT: usize = 2;

/// `POST /v1/jobs/recompute-thresholds`: products whose minimums were recomputed, and how many changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RecomputeSummary {
    pub products: usize,
    pub changed: usize,
}

impl std::ops::AddAssign for RecomputeSummary {
    fn add_assign(&mut self, other: Self) {
        self.products += other.products;
        self.changed += other.changed;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecomputeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Command(#[from] CommandError),
}

pub struct Thresholds {
    pub commands: Arc<ProductCommands>,
    pub demand: Arc<dyn DemandReader>,
    pub forecasts: Arc<dyn ForecastRepository>,
}

impl Thresholds {
    /// Recompute every tenant's products.
    pub async fn recompute_all(&self) -> Result<RecomputeSummary, RecomputeError> {
        let mut total = RecomputeSummary::default();
        for tenant in self.demand.tenants().await? {
            total += self.recompute_tenant(&tenant).await?;
        }
        Ok(total)
    }

    /// Recompute one tenant's products. `products` counts those with a forecast.
    #[tracing::instrument(skip_all, fields(tenant = %tenant))]
    pub async fn recompute_tenant(
        &self,
        tenant: &TenantId,
    ) -> Result<RecomputeSummary, RecomputeError> {
        use futures::stream::{FuturesUnordered, StreamExt};
        let skus = self.demand.skus(tenant).await?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let fits = tokio::sync::Semaphore::new(cores);
        // A plain loop rather than `buffer_unordered` over a closure: a closure returning a
        // borrowing future defeats the `Send` inference when the scheduler spawns this.
        let mut queue = skus.chunks(CHUNK);
        let mut pending = FuturesUnordered::new();
        let mut summary = RecomputeSummary::default();
        loop {
            while pending.len() < CHUNKS_IN_FLIGHT {
                let Some(chunk) = queue.next() else { break };
                pending.push(self.recompute_chunk(tenant, chunk, &fits));
            }
            let Some(result) = pending.next().await else {
                break;
            };
            summary += result?;
        }
        Ok(summary)
    }

    /// Read the chunk's demand in one query, fit and record each product, save the forecasts
    /// in one statement.
    async fn recompute_chunk(
        &self,
        tenant: &TenantId,
        skus: &[Sku],
        fits: &tokio::sync::Semaphore,
    ) -> Result<RecomputeSummary, RecomputeError> {
        use futures::stream::{FuturesUnordered, TryStreamExt};
        let now = self.commands.clock().now().trunc_subsecs(6);
        let today = now.date_naive();
        // Only the days a forecast fits on: the rest would be read and thrown away.
        let since = today
            .checked_sub_days(Days::new(MAX_FIT_DAYS as u64))
            .unwrap_or(today);
        let mut demand = self.demand.demand(tenant, skus, since).await?;
        let products = FuturesUnordered::new();
        for sku in skus {
            let days = demand.remove(sku).unwrap_or_default();
            products.push(self.recompute_product(tenant, sku, days, now, fits));
        }
        let done: Vec<Option<(StoredForecast, bool)>> = products.try_collect().await?;
        let mut summary = RecomputeSummary::default();
        let mut forecasts = Vec::with_capacity(done.len());
        for (forecast, changed) in done.into_iter().flatten() {
            summary.products += 1;
            summary.changed += usize::from(changed);
            forecasts.push(forecast);
        }
        self.forecasts.save(tenant, &forecasts).await?;
        Ok(summary)
    }

    /// The product's forecast and whether its minimum changed, when it has history to forecast
    /// from. The fit runs while holding a permit of `fits`, so concurrent products do not
    /// oversubscribe the cores.
    async fn recompute_product(
        &self,
        tenant: &TenantId,
        sku: &Sku,
        days: Vec<DemandDay>,
        now: DateTime<Utc>,
        fits: &tokio::sync::Semaphore,
    ) -> Result<Option<(StoredForecast, bool)>, RecomputeError> {
        if days.is_empty() {
            return Ok(None);
        }
        let state = self
            .commands
            .current_state(&StreamId::product(tenant, sku))
            .await?;
        let Some(details) = state.product.details.clone() else {
            return Ok(None);
        };
        let today = now.date_naive();
        let permit = fits
            .acquire()
            .await
            .map_err(|e| StoreError(format!("forecast permits closed: {e}")))?;
        let fitted = tokio::task::spawn_blocking(move || {
            fit(&days, details.lead_time_days, details.service_level, today)
        })
        .await
        .map_err(|e| StoreError(format!("forecast task failed: {e}")))?;
        drop(permit);
        let Some((result, history)) = fitted else {
            return Ok(None);
        };
        let ctx = CommandContext::new(tenant.clone(), "system:forecast");
        let command = ProductCommand::RecalculateReorderPoint {
            point: result.to_reorder_point(now),
        };
        let ignore = |_: &Executed| (ReplyStatus::Done, serde_json::Value::Null);
        let changed = match self.commands.execute(&ctx, sku, command, &ignore).await? {
            Outcome::Executed(e) => !e.recorded.is_empty(),
            Outcome::Replayed(_) => false,
        };
        Ok(Some((stored(sku, &result, history, now), changed)))
    }
}

/// Fit the forecast on the product's days; `None` without any history.
fn fit(
    days: &[DemandDay],
    lead_time_days: u16,
    service_level: restock_domain::ServiceLevel,
    today: chrono::NaiveDate,
) -> Option<(ForecastResult, Vec<HistoryPoint>)> {
    let series = DemandSeries::from_points(days.iter().map(|d| (d.date, d.quantity as f64)))
        .and_then(|s| s.with_censored(days.iter().filter(|d| d.censored).map(|d| d.date)))
        .map_err(|e| tracing::warn!(error = %e, "demand series rejected"))
        .ok()?;
    let result = forecast_product(&series, lead_time_days, service_level, today)
        .map_err(|e| tracing::warn!(error = %e, "forecast failed"))
        .ok()??;
    let history = days
        .iter()
        .rev()
        .take(HISTORY_SHOWN_DAYS)
        .rev()
        .map(|d| HistoryPoint {
            date: d.date,
            quantity: d.quantity,
        })
        .collect();
    Some((result, history))
}

fn stored(
    sku: &Sku,
    r: &ForecastResult,
    history: Vec<HistoryPoint>,
    now: DateTime<Utc>,
) -> StoredForecast {
    StoredForecast {
        sku: sku.to_string(),
        model: r.model_name().to_owned(),
        computed_at: now,
        history,
        forecast: r
            .forecast
            .iter()
            .map(|d| ForecastPoint {
                date: d.date,
                mean: d.mean,
                lower: d.lower,
                upper: d.upper,
            })
            .collect(),
        lead_time_demand: r.lead_time_demand,
        safety_stock: r.safety_stock,
        reorder_point: r.reorder_point.get(),
        service_level: r.service_level,
        lead_time_days: i64::from(r.lead_time_days),
    }
}
