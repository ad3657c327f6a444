//! The engine behind `restock backtest`: replays a demand history day by day under three
//! replenishment policies, and an oracle that bounds them, and reports what each achieved.
//!
//! Input: a `date,sku,quantity` CSV, read by [`crate::demand_csv`] under the same rules as the
//! demand import (rows for the same sku and day are added together). Each sku is one series,
//! zero-filled between its first and last day.
//!
//! Simulation, per series and policy, with a virtual clock:
//! - the first [`WARMUP_DAYS`] days are history only (not scored); stock starts at the
//!   policy's own reorder point computed from them;
//! - each scored day: receive the orders due today, serve `min(demand, on_hand)` (the rest is
//!   lost), then review the position (on hand + on order) and, when it is below the reorder
//!   point, order up to the policy's order-up-to level; an order arrives `lead_time` days
//!   later (a lead time of 0 counts as 1, as in [`super::reorder`]);
//! - `forecast` policy: every [`REFIT_EVERY_DAYS`] days, [`super::forecast_product`] on what the
//!   system would have seen (units sold, days that ended with no stock marked censored);
//!   order up to reorder point + lead-time demand;
//! - `static` policy: from the warm-up mean demand m, minimum = ceil(7 m) and order up to
//!   minimum + ceil(L m): the same extra cover (one lead time of expected demand) as the
//!   forecast policy, but never updated;
//! - `movavg` policy: the textbook moving-average reorder point, refreshed with the forecast's
//!   plans: from the last 28 days' sales (stockout days left out), minimum = L m + z s sqrt(L)
//!   and order up to minimum + L m, with z from the same fill-rate sizing as the forecast's.
//!
//! - `oracle`: not a policy anyone could run, the upper bound of what knowing demand can buy
//!   under this ordering rule: it knows each day's mean demand in hindsight ([`hindsight`]) and
//!   sizes like the forecast (order up to reorder point + lead-time demand), with a Poisson
//!   spread.
//!
//! The service level is the target fill rate of `forecast`, `movavg` and `oracle`;
//! [`run_sweep`] runs them for several targets, so that stock can be compared at the same fill
//! reached. With [`BacktestOptions::generated`], every series is first replaced by Poisson
//! demand around its hindsight mean ([`generated`]), and the oracle knows that mean exactly.
//!
//! Scores: fill rate = served / demand over all series; average on hand at the end of the
//! day per series-day; orders and stockout days (days with lost demand) summed over series.
//! `mase`: for each weekly plan, the mean forecast for the next 7 days (1 to 7 days ahead)
//! against the true demand, as MAE divided by the MAE of the seasonal naive forecast made at
//! the same moment for the same days; averaged over series. Below 1 beats the baseline.
//!
//! Files:
//! - [`history`]: the demand read from the file as one zero-filled series per sku;
//! - [`hindsight`]: each day's mean demand seen in hindsight, what the oracle knows;
//! - [`generated`]: Poisson demand around that mean, for a bound with a known mean;
//! - [`parallel`]: handing the series to worker threads, every policy per series;
//! - [`policy`]: what each policy orders;
//! - [`simulation`]: the day-by-day replay of one series under one policy, and its sums;
//! - [`report`]: the totals over all series, as JSON or a table.

mod generated;
mod hindsight;
mod history;
mod parallel;
mod policy;
mod report;
mod simulation;
#[cfg(test)]
mod tests;

pub use report::{BacktestReport, PolicyReport, SweepReport};

use super::series::MAX_SERIES_DAYS;
use super::ForecastError;
use crate::demand_csv::{parse_demand_csv, DemandCsvError};
use chrono::NaiveDate;
use generated::poisson_around_hindsight;
use history::{distinct_scored_days, series_by_sku, SkuSeries};
use parallel::run_parallel;
use report::count_models;
use restock_domain::ServiceLevel;
use simulation::PolicyTotals;

/// Days of history before scoring starts.
pub const WARMUP_DAYS: usize = 90;
/// How often the forecast policy refits.
pub const REFIT_EVERY_DAYS: usize = 7;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BacktestOptions {
    pub lead_time_days: u16,
    pub service_level: ServiceLevel,
    /// Worker threads (series run in parallel); at least 1.
    pub threads: usize,
    /// Replace each series by Poisson demand around its hindsight mean, drawn with this seed.
    pub generated: Option<u64>,
}

impl Default for BacktestOptions {
    fn default() -> Self {
        Self {
            lead_time_days: 7,
            service_level: ServiceLevel::DEFAULT,
            threads: 2,
            generated: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BacktestError {
    /// The file breaks a rule of [`crate::demand_csv`].
    #[error(transparent)]
    Csv(#[from] DemandCsvError),
    #[error("sku {sku}: its days span more than {max} days", max = MAX_SERIES_DAYS)]
    SeriesTooLong { sku: String },
    #[error("no series has more than {WARMUP_DAYS} days: nothing to score")]
    NothingToScore,
    #[error("sku {sku}: {source}")]
    Forecast { sku: String, source: ForecastError },
    #[error("a backtest worker stopped unexpectedly")]
    WorkerPanicked,
}

/// Reads the CSV (no day may be after `today`), simulates every policy on every series (in
/// parallel) and sums up.
pub fn run_backtest(
    csv_text: &str,
    today: NaiveDate,
    options: BacktestOptions,
) -> Result<BacktestReport, BacktestError> {
    let (scored, skipped) = read_series(csv_text, today, options.generated)?;
    run_series(&scored, skipped, options)
}

/// [`run_backtest`] once per target fill rate in `targets` (the file is read once).
pub fn run_sweep(
    csv_text: &str,
    today: NaiveDate,
    options: BacktestOptions,
    targets: &[ServiceLevel],
) -> Result<SweepReport, BacktestError> {
    let (scored, skipped) = read_series(csv_text, today, options.generated)?;
    let runs = targets
        .iter()
        .map(|&service_level| {
            let options = BacktestOptions {
                service_level,
                ..options
            };
            run_series(&scored, skipped.clone(), options)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SweepReport { runs })
}

/// The series with more than the warm-up to score (generated around their hindsight means
/// with a seed), and the skus of the others.
fn read_series(
    csv_text: &str,
    today: NaiveDate,
    generated: Option<u64>,
) -> Result<(Vec<SkuSeries>, Vec<String>), BacktestError> {
    let all = series_by_sku(parse_demand_csv(csv_text, today)?)?;
    let (scored, skipped): (Vec<SkuSeries>, Vec<SkuSeries>) =
        all.into_iter().partition(|s| s.demand.len() > WARMUP_DAYS);
    if scored.is_empty() {
        return Err(BacktestError::NothingToScore);
    }
    let scored = match generated {
        Some(seed) => poisson_around_hindsight(&scored, seed),
        None => scored,
    };
    Ok((scored, skipped.into_iter().map(|s| s.sku).collect()))
}

fn run_series(
    scored: &[SkuSeries],
    skipped: Vec<String>,
    options: BacktestOptions,
) -> Result<BacktestReport, BacktestError> {
    let outcomes = run_parallel(scored, options)?;
    Ok(BacktestReport {
        series: scored.len(),
        days: distinct_scored_days(scored),
        skipped,
        lead_time_days: options.lead_time_days,
        service_level: options.service_level.get(),
        generated: options.generated,
        forecast: PolicyTotals::sum(outcomes.iter().map(|o| &o.forecast)),
        static_policy: PolicyTotals::sum(outcomes.iter().map(|o| &o.static_policy)),
        movavg: PolicyTotals::sum(outcomes.iter().map(|o| &o.movavg)),
        oracle: PolicyTotals::sum(outcomes.iter().map(|o| &o.oracle)),
        models: count_models(&outcomes),
    })
}
