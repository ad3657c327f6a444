//! Handing the series to worker threads: every policy on each series.

use super::hindsight::hindsight_mean;
use super::history::SkuSeries;
use super::policy::{ForecastPlanner, MovingAveragePlanner, OraclePlanner, StaticPlanner};
use super::simulation::{simulate, PolicyTotals};
use super::{BacktestError, BacktestOptions};
use crate::forecast::ModelKind;
use std::sync::atomic::{AtomicUsize, Ordering};

pub(super) struct SeriesOutcome {
    pub(super) forecast: PolicyTotals,
    pub(super) static_policy: PolicyTotals,
    pub(super) movavg: PolicyTotals,
    pub(super) oracle: PolicyTotals,
    pub(super) models: Vec<ModelKind>,
}

/// Series are handed out one at a time from a shared counter, so a long series does not leave
/// the other worker idle; results are put back in input order so sums do not depend on timing.
pub(super) fn run_parallel(
    series: &[SkuSeries],
    options: BacktestOptions,
) -> Result<Vec<SeriesOutcome>, BacktestError> {
    let next = AtomicUsize::new(0);
    let threads = options.threads.clamp(1, series.len());
    let worker = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(s) = series.get(i) else { break done };
            done.push((i, backtest_series(s, options)));
        }
    };
    let mut results = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
        let mut all = Vec::with_capacity(series.len());
        for handle in handles {
            all.extend(handle.join().map_err(|_| BacktestError::WorkerPanicked)?);
        }
        Ok::<_, BacktestError>(all)
    })?;
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn backtest_series(
    s: &SkuSeries,
    options: BacktestOptions,
) -> Result<SeriesOutcome, BacktestError> {
    let forecast_error = |source| BacktestError::Forecast {
        sku: s.sku.clone(),
        source,
    };
    let mut forecast_planner = ForecastPlanner {
        options,
        models: Vec::new(),
    };
    let forecast = simulate(s, options, &mut forecast_planner).map_err(forecast_error)?;
    let static_policy = simulate(
        s,
        options,
        &mut StaticPlanner::from_warmup(&s.demand, options),
    )
    .map_err(forecast_error)?;
    let movavg =
        simulate(s, options, &mut MovingAveragePlanner { options }).map_err(forecast_error)?;
    let mean = s
        .known_mean
        .clone()
        .unwrap_or_else(|| hindsight_mean(&s.demand, s.start));
    let oracle =
        simulate(s, options, &mut OraclePlanner { options, mean }).map_err(forecast_error)?;
    Ok(SeriesOutcome {
        forecast,
        static_policy,
        movavg,
        oracle,
        models: forecast_planner.models,
    })
}
