//! The demand history as one zero-filled series per sku.

use super::{BacktestError, MAX_SERIES_DAYS, WARMUP_DAYS};
use crate::demand_csv::DemandHistory;
use chrono::{Days, NaiveDate};
use restock_domain::DailyDemand;

/// One sku's demand, one entry per day from `start`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SkuSeries {
    pub(super) sku: String,
    pub(super) start: NaiveDate,
    pub(super) demand: Vec<u64>,
    /// The mean demand of each day when it is known (generated series): what the oracle
    /// plans with instead of the hindsight mean of `demand`.
    pub(super) known_mean: Option<Vec<f64>>,
}

/// One series per sku, in sku order.
pub(super) fn series_by_sku(history: DemandHistory) -> Result<Vec<SkuSeries>, BacktestError> {
    history
        .by_sku
        .into_iter()
        .map(|(sku, days)| densify(sku.into(), &days))
        .collect()
}

fn densify(sku: String, days: &[DailyDemand]) -> Result<SkuSeries, BacktestError> {
    let dates = || days.iter().map(|d| d.date);
    let (Some(start), Some(end)) = (dates().min(), dates().max()) else {
        return Ok(SkuSeries {
            sku,
            start: NaiveDate::MIN,
            demand: Vec::new(),
            known_mean: None,
        });
    };
    let len = usize::try_from((end - start).num_days() + 1)
        .ok()
        .filter(|&n| n <= MAX_SERIES_DAYS);
    let Some(len) = len else {
        return Err(BacktestError::SeriesTooLong { sku });
    };
    let mut demand = vec![0; len];
    for day in days {
        let i = usize::try_from((day.date - start).num_days()).unwrap_or(0);
        demand[i] += day.quantity.get().unsigned_abs();
    }
    Ok(SkuSeries {
        sku,
        start,
        demand,
        known_mean: None,
    })
}

pub(super) fn distinct_scored_days(series: &[SkuSeries]) -> usize {
    let mut ranges: Vec<(NaiveDate, NaiveDate)> = series
        .iter()
        .map(|s| {
            let first = s.start + Days::new(WARMUP_DAYS as u64);
            (
                first,
                s.start + Days::new(s.demand.len().saturating_sub(1) as u64),
            )
        })
        .collect();
    ranges.sort();
    let mut days = 0;
    let mut covered_until: Option<NaiveDate> = None;
    for (first, last) in ranges {
        let from = match covered_until {
            Some(c) if c >= first => c.succ_opt().unwrap_or(c),
            _ => first,
        };
        if last >= from {
            days += (last - from).num_days() as usize + 1;
            covered_until = Some(last);
        }
    }
    days
}
