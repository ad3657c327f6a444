//! The forecast engine: daily demand history in, forecast and reorder point out.
//!
//! Pure and synchronous: no I/O, no clock (`today` is an argument), so a minimum can be
//! recomputed later from the same events and give the same answer.
//!
//! - [`series`]: the daily demand series, with censored (stockout) days;
//! - [`models`]: seasonal naive, mean, Croston/SBA/TSB, MSTL+ETS and ETS;
//! - [`selection`]: intermittent or regular, and the best model on a holdout;
//! - [`fill_rate`]: the reorder point that serves a target share of demand (the service level);
//! - [`reorder`]: reorder point, safety stock and the refill trigger;
//! - [`backtest`]: replays a CSV of demand to compare the forecast policy with a static one.

pub mod backtest;
pub mod fill_rate;
pub mod models;
pub mod reorder;
pub mod selection;
pub mod series;
#[cfg(test)]
mod test_data;

pub use backtest::{
    run_backtest, run_sweep, BacktestError, BacktestOptions, BacktestReport, PolicyReport,
    SweepReport,
};
pub use models::ModelKind;
pub use reorder::{needs_refill, position, ReorderError};
pub use series::{DemandSeries, SeriesError};

use chrono::{DateTime, Days, NaiveDate, Utc};
use fill_rate::Spread;
use models::{Prediction, TrainingData};
use reorder::{compute_reorder_point, effective_lead_time, service_level_z, ReorderCalc};
use restock_domain::{Quantity, ReorderPoint, ServiceLevel};
use selection::Selection;
use serde::Serialize;

/// Days of history used for fitting, counted back from yesterday: 64 weeks, so that the weekday
/// profile's yearly factor ([`models::weekday_yearly`]) can be scored on a 4-week holdout with a
/// year and four weeks before it. The optimised models see only their last half year, so the cost
/// per product stays flat however old the product is.
pub const MAX_FIT_DAYS: usize = 728;
/// Days of known demand the review undershoot is measured on.
pub(crate) const UNDERSHOOT_DAYS: usize = 91;
/// Days forecast at least, so that a short lead time still shows a useful forecast.
pub const MIN_HORIZON_DAYS: usize = 14;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForecastError {
    #[error(transparent)]
    Series(#[from] SeriesError),
    #[error(transparent)]
    Reorder(#[from] ReorderError),
    #[error("the forecast from {today} would run past the end of the calendar")]
    DateOutOfRange { today: NaiveDate },
}

/// One forecast day: expected demand and an interval at the service level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ForecastDay {
    pub date: NaiveDate,
    pub mean: f64,
    pub lower: f64,
    pub upper: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecastResult {
    pub model: ModelKind,
    /// From `today`, at least the lead time and at least [`MIN_HORIZON_DAYS`] days.
    pub forecast: Vec<ForecastDay>,
    pub lead_time_demand: f64,
    pub safety_stock: f64,
    pub reorder_point: Quantity,
    pub service_level: f64,
    pub lead_time_days: u16,
    /// Daily forecast error (root mean square of the holdout errors).
    pub sigma_daily: f64,
    /// Spread of the demand over the lead time the safety stock is sized on: the root mean
    /// square of the holdout errors summed over lead-time windows, or the standard deviation
    /// of the bootstrapped lead-time demands for intermittent demand.
    pub sigma_lead_time: f64,
    pub intermittent: bool,
    /// Holdout error of the chosen model; `None` for the mean fallback.
    pub holdout_mae: Option<f64>,
    pub holdout_mase: Option<f64>,
    /// Holdout MAE of the seasonal naive baseline, for comparison.
    pub baseline_mae: Option<f64>,
    /// Days of history the model was fitted on.
    pub history_days: usize,
}

impl ForecastResult {
    pub fn model_name(&self) -> &'static str {
        self.model.name()
    }

    /// The domain record of this computation, for a `ReorderPointRecalculated` event.
    pub fn to_reorder_point(&self, computed_at: DateTime<Utc>) -> ReorderPoint {
        ReorderPoint {
            reorder_point: self.reorder_point,
            lead_time_demand: self.lead_time_demand,
            safety_stock: self.safety_stock,
            model: self.model_name().to_owned(),
            service_level: self.service_level,
            lead_time_days: self.lead_time_days,
            computed_at,
        }
    }
}

/// Forecasts demand from `today` on and computes the reorder point.
///
/// Only days before `today` are used (today is not over yet); days between the last recorded
/// day and yesterday count as zero demand, so stockout days must be marked censored in
/// `history` (see [`DemandSeries::with_censored`]). `Ok(None)` when there is no history at all.
/// Histories under two weeks get the mean of what exists (model `mean_fallback`).
pub fn forecast_product(
    history: &DemandSeries,
    lead_time_days: u16,
    service_level: ServiceLevel,
    today: NaiveDate,
) -> Result<Option<ForecastResult>, ForecastError> {
    let mut series = history.clone().before(today);
    if let Some(yesterday) = today.pred_opt() {
        series = series.extended_through(yesterday)?;
    }
    let series = series.tail(MAX_FIT_DAYS);
    if series.is_empty() {
        return Ok(None);
    }
    let level = service_level.get();
    let horizon = effective_lead_time(lead_time_days).max(MIN_HORIZON_DAYS);
    // Checked once here, so adding up to `horizon` days to `today` below cannot overflow.
    if today.checked_add_days(Days::new(horizon as u64)).is_none() {
        return Err(ForecastError::DateOutOfRange { today });
    }
    let lead = effective_lead_time(lead_time_days);
    let fitted = fit(&series, horizon, level, lead);
    let known: Vec<f64> = series.observations().into_iter().flatten().collect();
    let undershoot = fill_rate::undershoot(&known[known.len().saturating_sub(UNDERSHOOT_DAYS)..]);
    let spread = match &fitted.spread {
        LeadSpread::Normal(sigma) => Spread::Normal { sigma: *sigma },
        LeadSpread::Scenarios(s) => Spread::Scenarios(s),
    };
    let calc = compute_reorder_point(&fitted.mean, spread, undershoot, lead_time_days, level)?;
    Ok(Some(fitted.into_result(
        today,
        calc,
        lead_time_days,
        level,
        series.len(),
    )))
}

/// A chosen model's forecast with bounds and its daily error, all `horizon` long.
struct Fitted {
    model: ModelKind,
    selection: Option<Selection>,
    mean: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
    sigma_daily: f64,
    spread: LeadSpread,
}

/// The uncertainty of lead-time demand, owned (see [`Spread`]).
enum LeadSpread {
    Normal(f64),
    Scenarios(Vec<f64>),
}

impl LeadSpread {
    fn sigma(&self) -> f64 {
        match self {
            Self::Normal(sigma) => *sigma,
            Self::Scenarios(s) => {
                let n = s.len().max(1) as f64;
                let mean = s.iter().sum::<f64>() / n;
                (s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt()
            }
        }
    }
}

impl Fitted {
    fn into_result(
        self,
        today: NaiveDate,
        calc: ReorderCalc,
        lead_time_days: u16,
        service_level: f64,
        history_days: usize,
    ) -> ForecastResult {
        let days = self.mean.iter().zip(&self.lower).zip(&self.upper);
        let forecast = days
            .enumerate()
            .map(|(h, ((&mean, &lower), &upper))| ForecastDay {
                date: today + Days::new(h as u64),
                mean,
                lower,
                upper,
            })
            .collect();
        let selection = self.selection.as_ref();
        ForecastResult {
            model: self.model,
            forecast,
            lead_time_demand: calc.lead_time_demand,
            safety_stock: calc.safety_stock,
            reorder_point: calc.reorder_point,
            service_level,
            lead_time_days,
            sigma_daily: self.sigma_daily,
            sigma_lead_time: self.spread.sigma(),
            intermittent: selection.is_some_and(|s| s.profile.intermittent),
            holdout_mae: selection.and_then(Selection::chosen).map(|c| c.mae),
            holdout_mase: selection.and_then(|s| s.mase),
            baseline_mae: selection.and_then(|s| s.baseline.as_ref()).map(|b| b.mae),
            history_days,
        }
    }
}

/// The selected model refitted on the whole series, or the mean when selection is impossible.
/// `lead` is the lead time in days the spread is measured over.
fn fit(series: &DemandSeries, horizon: usize, level: f64, lead: usize) -> Fitted {
    let imputed = series.imputed();
    let observations = series.observations();
    let data = TrainingData {
        imputed: &imputed,
        observations: &observations,
    };
    let Some(selection) = selection::select(series, level) else {
        return mean_fallback(&imputed, horizon, level, lead);
    };
    match models::predict(selection.model, data, horizon, level) {
        Ok(prediction) => {
            let spread = if selection.profile.intermittent {
                let lead_time_demand = prediction.mean.iter().take(lead).sum::<f64>();
                bootstrap(&observations, lead, lead_time_demand)
            } else {
                None
            };
            with_bounds(prediction, level, selection, lead, spread)
        }
        Err(_) => mean_fallback(&imputed, horizon, level, lead),
    }
}

/// Adds empirical bounds where the model has none, the daily error, and the spread of the
/// lead-time demand when none was bootstrapped: the root mean square of the holdout errors
/// summed over every `lead`-day window of the holdout (bias included, since a model that
/// under-forecasts needs the extra stock as much as a noisy one). Summing the errors, rather
/// than scaling the daily error by sqrt(L), keeps their correlation: a level the model has
/// wrong is wrong on every day of the lead time.
fn with_bounds(
    prediction: Prediction,
    level: f64,
    selection: Selection,
    lead: usize,
    spread: Option<LeadSpread>,
) -> Fitted {
    let errors = selection
        .chosen()
        .map(|c| c.errors.as_slice())
        .unwrap_or(&[]);
    let Prediction { mean, interval } = prediction;
    let (lower, upper) = match interval {
        Some(i) => (i.lower, i.upper),
        None => empirical_bounds(&mean, errors, level),
    };
    let sigma_daily = if errors.is_empty() {
        interval_sigma(&mean, &upper, level)
    } else {
        (errors.iter().map(|e| e * e).sum::<f64>() / errors.len() as f64).sqrt()
    };
    let spread = spread.unwrap_or_else(|| {
        let daily = sigma_daily * (lead as f64).sqrt();
        LeadSpread::Normal(lead_time_sigma(errors, lead).unwrap_or(daily))
    });
    Fitted {
        model: selection.model,
        selection: Some(selection),
        mean,
        lower,
        upper,
        sigma_daily,
        spread,
    }
}

/// Root mean square of the errors summed over windows of `lead` consecutive days; for a lead
/// time longer than the holdout, the whole holdout's sum scaled by sqrt(lead / days). `None`
/// without errors.
fn lead_time_sigma(errors: &[f64], lead: usize) -> Option<f64> {
    if errors.is_empty() {
        return None;
    }
    let window = lead.min(errors.len()).max(1);
    let sums: Vec<f64> = errors.windows(window).map(|w| w.iter().sum()).collect();
    let rms = (sums.iter().map(|s| s * s).sum::<f64>() / sums.len() as f64).sqrt();
    Some(rms * (lead as f64 / window as f64).sqrt())
}

/// Lead-time demand scenarios for intermittent demand: the demand of every `lead`-day window of
/// the history with no censored day, scaled so that their mean is the forecast's
/// `lead_time_demand` (so an item whose sales are fading gets its lumps shrunk with its rate).
/// `None` when there are under 28 windows or none has demand.
fn bootstrap(
    observations: &[Option<f64>],
    lead: usize,
    lead_time_demand: f64,
) -> Option<LeadSpread> {
    const MIN_SCENARIOS: usize = 28;
    let sums: Vec<f64> = observations
        .windows(lead)
        .filter_map(|w| w.iter().copied().sum::<Option<f64>>())
        .collect();
    let mean = sums.iter().sum::<f64>() / sums.len().max(1) as f64;
    if sums.len() < MIN_SCENARIOS || mean <= 0.0 {
        return None;
    }
    let scale = lead_time_demand / mean;
    Some(LeadSpread::Scenarios(
        sums.into_iter().map(|s| s * scale).collect(),
    ))
}

/// For histories too short to choose a model: the mean, and a spread no smaller than a
/// Poisson count's (sqrt of the mean), since a few days rarely show the real variability.
fn mean_fallback(values: &[f64], horizon: usize, level: f64, lead: usize) -> Fitted {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let sigma_daily = variance.sqrt().max(mean.sqrt());
    let half_width = two_sided_z(level) * sigma_daily;
    Fitted {
        model: ModelKind::MeanFallback,
        selection: None,
        mean: vec![mean; horizon],
        lower: vec![(mean - half_width).max(0.0); horizon],
        upper: vec![mean + half_width; horizon],
        sigma_daily,
        spread: LeadSpread::Normal(sigma_daily * (lead as f64).sqrt()),
    }
}

/// Bounds from the quantiles of the holdout errors (a conformal interval), for models that
/// have no interval of their own. With no errors to go on, the bounds are the forecast.
fn empirical_bounds(mean: &[f64], errors: &[f64], level: f64) -> (Vec<f64>, Vec<f64>) {
    let mut sorted = errors.to_vec();
    sorted.sort_by(f64::total_cmp);
    let low = quantile(&sorted, (1.0 - level) / 2.0);
    let high = quantile(&sorted, (1.0 + level) / 2.0);
    let lower = mean.iter().map(|m| (m + low).max(0.0)).collect();
    let upper = mean.iter().map(|m| (m + high).max(*m)).collect();
    (lower, upper)
}

/// Linear-interpolated quantile of sorted values; 0 for none.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return 0.0;
    };
    let pos = q.clamp(0.0, 1.0) * last as f64;
    let (i, frac) = (pos.floor() as usize, pos.fract());
    let next = sorted[(i + 1).min(last)];
    sorted[i] + frac * (next - sorted[i])
}

/// The daily sigma implied by a first-day interval, when there were no holdout errors.
fn interval_sigma(mean: &[f64], upper: &[f64], level: f64) -> f64 {
    let z = two_sided_z(level);
    match (mean.first(), upper.first()) {
        (Some(m), Some(u)) if z > 0.0 => ((u - m) / z).max(0.0),
        _ => 0.0,
    }
}

/// z of a two-sided interval at `level` (1.96 for 0.95).
fn two_sided_z(level: f64) -> f64 {
    service_level_z((1.0 + level) / 2.0).unwrap_or(0.0)
}

#[cfg(test)]
mod tests;
