//! What each policy orders: the forecast planner refits every week, the static one keeps the
//! levels of its warm-up, the moving average follows the last four weeks, and the oracle knows
//! each day's mean demand.

use super::{BacktestOptions, REFIT_EVERY_DAYS, WARMUP_DAYS};
use crate::forecast::fill_rate::{undershoot, Spread};
use crate::forecast::reorder::{compute_reorder_point, effective_lead_time, whole_units};
use crate::forecast::series::DemandSeries;
use crate::forecast::{forecast_product, ForecastError, ModelKind, MAX_FIT_DAYS, UNDERSHOOT_DAYS};
use chrono::{Days, NaiveDate};
use restock_domain::Quantity;

/// Days of warm-up mean demand the static minimum covers.
const STATIC_MIN_DAYS: f64 = 7.0;

/// When to order, and up to what.
#[derive(Debug, Clone, Copy)]
pub(super) struct Levels {
    pub(super) reorder_point: u64,
    pub(super) order_up_to: u64,
}

impl Levels {
    /// The ordering rule every policy that sizes a reorder point shares: order when the position
    /// falls to the reorder point, up to it plus the lead-time demand.
    fn cover_lead_time(
        reorder_point: Quantity,
        lead_time_demand: f64,
    ) -> Result<Self, ForecastError> {
        let reorder_point = reorder_point.get().unsigned_abs();
        let cover = whole_units(lead_time_demand)?.get().unsigned_abs();
        Ok(Self {
            reorder_point,
            order_up_to: reorder_point + cover,
        })
    }
}

/// What a policy knows when it plans: the days before `today`.
pub(super) struct PlanInput<'a> {
    pub(super) start: NaiveDate,
    pub(super) today: usize,
    /// Units sold and stockout flags for days `0..today`, as the system recorded them.
    pub(super) sold: &'a [f64],
    pub(super) censored: &'a [bool],
}

impl PlanInput<'_> {
    /// Sales of the last `days` days that ended with stock left: on the others, sales are not
    /// demand.
    fn known_sales(&self, days: usize) -> Vec<f64> {
        let from = self.today.saturating_sub(days);
        self.sold[from..self.today]
            .iter()
            .zip(&self.censored[from..self.today])
            .filter_map(|(&sold, &censored)| (!censored).then_some(sold))
            .collect()
    }
}

/// The plan: levels, and the mean forecast for the next days (for scoring accuracy).
pub(super) struct Plan {
    pub(super) levels: Levels,
    pub(super) forecast: Vec<f64>,
}

pub(super) trait Planner {
    fn plan(&mut self, input: PlanInput<'_>) -> Result<Plan, ForecastError>;
}

pub(super) struct ForecastPlanner {
    pub(super) options: BacktestOptions,
    pub(super) models: Vec<ModelKind>,
}

impl Planner for ForecastPlanner {
    fn plan(&mut self, input: PlanInput<'_>) -> Result<Plan, ForecastError> {
        // Only the fitting window is handed over: the engine would cut the rest anyway.
        let skip = input.today.saturating_sub(MAX_FIT_DAYS);
        let history = DemandSeries::from_days(
            input.start + Days::new(skip as u64),
            input.sold[skip..].to_vec(),
            input.censored[skip..].to_vec(),
        )?;
        let today = input.start + Days::new(input.today as u64);
        let result = forecast_product(
            &history,
            self.options.lead_time_days,
            self.options.service_level,
            today,
        )?;
        let Some(result) = result else {
            return Ok(Plan {
                levels: Levels {
                    reorder_point: 0,
                    order_up_to: 0,
                },
                forecast: Vec::new(),
            });
        };
        self.models.push(result.model);
        Ok(Plan {
            levels: Levels::cover_lead_time(result.reorder_point, result.lead_time_demand)?,
            forecast: result.forecast.iter().map(|d| d.mean).collect(),
        })
    }
}

pub(super) struct StaticPlanner {
    plan: Result<Levels, ForecastError>,
    mean: f64,
    lead: usize,
}

impl StaticPlanner {
    pub(super) fn from_warmup(demand: &[u64], options: BacktestOptions) -> Self {
        let warmup = &demand[..WARMUP_DAYS.min(demand.len())];
        let mean = warmup.iter().sum::<u64>() as f64 / warmup.len().max(1) as f64;
        let lead = effective_lead_time(options.lead_time_days) as f64;
        let plan = (|| -> Result<Levels, ForecastError> {
            let minimum = whole_units(STATIC_MIN_DAYS * mean)?.get().unsigned_abs();
            let cover = whole_units(lead * mean)?.get().unsigned_abs();
            Ok(Levels {
                reorder_point: minimum,
                order_up_to: minimum + cover,
            })
        })();
        Self {
            plan,
            mean,
            lead: lead as usize,
        }
    }
}

impl Planner for StaticPlanner {
    fn plan(&mut self, _input: PlanInput<'_>) -> Result<Plan, ForecastError> {
        Ok(Plan {
            levels: self.plan.clone()?,
            forecast: vec![self.mean; REFIT_EVERY_DAYS.max(self.lead)],
        })
    }
}

/// Days of sales the moving average looks back.
const MOVING_AVERAGE_DAYS: usize = 28;

/// The textbook baseline: from the last four weeks' sales (stockout days left out, their sales
/// are not demand), daily mean m and standard deviation s; minimum = L m + z s sqrt(L), order
/// up to minimum + L m, refreshed with the forecast's weekly plans. z comes from the same
/// fill-rate sizing as the forecast's ([`compute_reorder_point`] with a normal spread of
/// s sqrt(L)), so the two differ only in what they know about demand.
pub(super) struct MovingAveragePlanner {
    pub(super) options: BacktestOptions,
}

impl Planner for MovingAveragePlanner {
    fn plan(&mut self, input: PlanInput<'_>) -> Result<Plan, ForecastError> {
        let known = input.known_sales(MOVING_AVERAGE_DAYS);
        let n = known.len().max(1) as f64;
        let mean = known.iter().sum::<f64>() / n;
        let variance = known.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        let lead = effective_lead_time(self.options.lead_time_days);
        let calc = compute_reorder_point(
            &vec![mean; lead],
            Spread::Normal {
                sigma: variance.sqrt() * (lead as f64).sqrt(),
            },
            undershoot(&known),
            self.options.lead_time_days,
            self.options.service_level.get(),
        )?;
        Ok(Plan {
            levels: Levels::cover_lead_time(calc.reorder_point, calc.lead_time_demand)?,
            forecast: vec![mean; REFIT_EVERY_DAYS.max(lead)],
        })
    }
}

/// Not a forecast anyone could run: the upper bound of what knowing demand can buy under this
/// ordering rule. It is handed each day's mean demand for the whole series in advance (the
/// hindsight mean of [`super::hindsight`], or the exact mean of generated series) and sizes
/// with the forecast's own [`compute_reorder_point`], the review undershoot measured as the
/// forecast measures it, and order up to reorder point + lead-time demand. So it differs from
/// the forecast policy only in its error, which is the demand's own noise.
///
/// Its spread is Poisson, sqrt of the lead-time mean: around an exact mean that is the whole
/// error of count demand drawn from it (`--generated`), and no forecast can have less. On real
/// data the hindsight mean misses by more (demand swings more than Poisson around a smooth
/// mean), so the oracle sizes short and reaches a lower fill than its target; it is compared
/// with the moving average at the fill it reached, where that does not matter.
pub(super) struct OraclePlanner {
    pub(super) options: BacktestOptions,
    /// Mean demand of each day of the series, warm-up included.
    pub(super) mean: Vec<f64>,
}

impl Planner for OraclePlanner {
    fn plan(&mut self, input: PlanInput<'_>) -> Result<Plan, ForecastError> {
        let lead = effective_lead_time(self.options.lead_time_days);
        // Past the last day (a plan made in the final week), the last day's mean carries on.
        let last = self.mean.last().copied().unwrap_or(0.0);
        let ahead: Vec<f64> = (input.today..input.today + REFIT_EVERY_DAYS.max(lead))
            .map(|day| self.mean.get(day).copied().unwrap_or(last))
            .collect();
        let lead_time_mean: f64 = ahead[..lead].iter().sum();
        // The last days of known demand, as `forecast_product` takes them.
        let known = input.known_sales(input.today);
        let recent = &known[known.len().saturating_sub(UNDERSHOOT_DAYS)..];
        let calc = compute_reorder_point(
            &ahead,
            Spread::Normal {
                sigma: lead_time_mean.sqrt(),
            },
            undershoot(recent),
            self.options.lead_time_days,
            self.options.service_level.get(),
        )?;
        Ok(Plan {
            levels: Levels::cover_lead_time(calc.reorder_point, calc.lead_time_demand)?,
            forecast: ahead,
        })
    }
}
