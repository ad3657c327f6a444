//! A supplier price forecast: the daily series, the model chosen by holdout error, and
//! intervals from that model's holdout errors (conformal: none of the models has its own).

use super::models::PriceModel;
use chrono::{Days, NaiveDate};

/// Days of history a forecast is fitted on: half a year holds 26 weekly cycles; older prices
/// say little about the next two weeks.
pub const MAX_FIT_DAYS: usize = 182;
/// Days scored per holdout origin, and the most origins scored.
const HOLDOUT_DAYS: usize = 14;
const HOLDOUT_ORIGINS: usize = 2;
/// Days a model is fitted on at least before a holdout.
const MIN_TRAIN_DAYS: usize = 14;
/// Interval level of the forecast bounds.
pub const INTERVAL_LEVEL: f64 = 0.9;

/// One forecast day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriceDay {
    pub date: NaiveDate,
    pub mean: f64,
    pub lower: f64,
    pub upper: f64,
    /// The price was recorded for this day, not forecast.
    pub observed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PriceForecast {
    pub model: PriceModel,
    /// Mean absolute holdout error of the chosen model; `None` when the history was too short
    /// to score one (the model is then `naive`).
    pub holdout_mae: Option<f64>,
    /// From the day after the last recorded price through `until`.
    pub days: Vec<PriceDay>,
    /// The last recorded day and its price.
    pub last: (NaiveDate, f64),
}

impl PriceForecast {
    /// The price expected on `date`: the recorded one on the last recorded day, else the
    /// forecast. `None` outside the series.
    pub fn on(&self, date: NaiveDate) -> Option<PriceDay> {
        if date == self.last.0 {
            let p = self.last.1;
            return Some(PriceDay {
                date,
                mean: p,
                lower: p,
                upper: p,
                observed: true,
            });
        }
        self.days.iter().find(|d| d.date == date).copied()
    }
}

/// The daily series of `prices` (date order, one a day), from the first date to the last,
/// each missing day holding the price before it; only the last [`MAX_FIT_DAYS`] days.
pub fn daily_series(prices: &[(NaiveDate, f64)]) -> Option<(NaiveDate, Vec<f64>)> {
    let (&(first, p0), rest) = prices.split_first()?;
    let mut values = vec![p0];
    let mut day = first;
    for &(date, p) in rest {
        while let Some(next) = day.succ_opt() {
            if next >= date {
                break;
            }
            values.push(*values.last()?);
            day = next;
        }
        if date > day {
            values.push(p);
            day = date;
        }
    }
    let keep = values.len().min(MAX_FIT_DAYS);
    let start = values.len() - keep;
    Some((day, values.split_off(start)))
}

/// The forecast from the day after the last recorded price through `until`; `None` without
/// prices, or when `until` is not after the last price (nothing to forecast).
pub fn forecast_prices(prices: &[(NaiveDate, f64)], until: NaiveDate) -> Option<PriceForecast> {
    let (last_day, y) = daily_series(prices)?;
    let last_price = *y.last()?;
    let horizon = usize::try_from((until - last_day).num_days()).ok()?;
    let (model, errors) = select(&y);
    let mean = model.forecast(&y, horizon)?;
    let (low, high) = error_bounds(&errors);
    let holdout_mae = (!errors.is_empty())
        .then(|| errors.iter().map(|e| e.abs()).sum::<f64>() / errors.len() as f64);
    let days = mean
        .into_iter()
        .enumerate()
        .filter_map(|(i, m)| {
            // Prices stay above zero whatever a drift says.
            let m = m.max(f64::MIN_POSITIVE);
            Some(PriceDay {
                date: last_day.checked_add_days(Days::new(i as u64 + 1))?,
                mean: m,
                lower: (m + low).clamp(0.0, m),
                upper: (m + high).max(m),
                observed: false,
            })
        })
        .collect();
    Some(PriceForecast {
        model,
        holdout_mae,
        days,
        last: (last_day, last_price),
    })
}

/// The model with the lowest mean absolute error over the holdout origins, and its errors
/// (actual - forecast). Too short to score: `naive`, with the day-to-day changes as errors.
fn select(y: &[f64]) -> (PriceModel, Vec<f64>) {
    let origins: Vec<usize> = (1..=HOLDOUT_ORIGINS)
        .filter_map(|k| y.len().checked_sub(k * HOLDOUT_DAYS))
        .filter(|&origin| origin >= MIN_TRAIN_DAYS)
        .collect();
    if origins.is_empty() {
        let changes = y.windows(2).map(|w| w[1] - w[0]).collect();
        return (PriceModel::Naive, changes);
    }
    let mut best: Option<(PriceModel, f64, Vec<f64>)> = None;
    for model in PriceModel::ALL {
        let mut errors = Vec::with_capacity(origins.len() * HOLDOUT_DAYS);
        for &origin in &origins {
            let Some(f) = model.forecast(&y[..origin], HOLDOUT_DAYS) else {
                continue;
            };
            errors.extend(
                y[origin..origin + HOLDOUT_DAYS]
                    .iter()
                    .zip(f)
                    .map(|(a, f)| a - f),
            );
        }
        if errors.is_empty() {
            continue;
        }
        let mae = errors.iter().map(|e| e.abs()).sum::<f64>() / errors.len() as f64;
        // Strictly better only: on a tie the simpler model (earlier in `ALL`) stays.
        if best.as_ref().is_none_or(|(_, b, _)| mae < *b - 1e-12) {
            best = Some((model, mae, errors));
        }
    }
    match best {
        Some((model, _, errors)) => (model, errors),
        None => (PriceModel::Naive, Vec::new()),
    }
}

/// The error quantiles bounding [`INTERVAL_LEVEL`] of the holdout errors.
fn error_bounds(errors: &[f64]) -> (f64, f64) {
    let mut sorted = errors.to_vec();
    sorted.sort_by(f64::total_cmp);
    (
        quantile(&sorted, (1.0 - INTERVAL_LEVEL) / 2.0),
        quantile(&sorted, (1.0 + INTERVAL_LEVEL) / 2.0),
    )
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return 0.0;
    };
    let pos = q.clamp(0.0, 1.0) * last as f64;
    let (i, frac) = (pos.floor() as usize, pos.fract());
    let next = sorted[(i + 1).min(last)];
    sorted[i] + frac * (next - sorted[i])
}
