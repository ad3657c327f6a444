//! `restock backtest-prices`: replays each day's plan on a `date,sku,unit_price` file. On day
//! t the plan sees the prices up to t and may buy on any day up to the end of its horizon
//! (t + 13: a backtest has no stock, so the deadline is the horizon); buying on its `best_day`
//! is compared with buying at once (day t) and with the cheapest actual day of the window.

use super::plan::{StockOutlook, HORIZON_DAYS};
use super::{plan_prices, Recommendation};
use crate::price_csv::{parse_price_csv, PriceCsvError};
use chrono::{Days, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;

/// Days of prices a series needs before its first plan is scored.
pub const WARM_UP_DAYS: usize = 56;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PriceBacktestError {
    #[error(transparent)]
    Csv(#[from] PriceCsvError),
    #[error("no series has more than {WARM_UP_DAYS} + {HORIZON_DAYS} days of prices to replay")]
    TooShort,
}

/// Per-unit averages over every scored day (one purchase a day).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceBacktestReport {
    pub series: usize,
    pub plans: usize,
    /// Plans that said to wait.
    pub waits: usize,
    /// Mean price paid buying at once.
    pub avg_price_now: f64,
    /// Mean price paid on the plan's day.
    pub avg_price_plan: f64,
    /// Mean price on the cheapest actual day of each window (hindsight).
    pub avg_price_best: f64,
    /// Saving per unit of the plan against buying at once.
    pub saving_vs_now: f64,
    pub saving_vs_now_pct: f64,
    /// Saving per unit hindsight would have had against buying at once.
    pub possible_saving: f64,
    /// What the plan paid above the cheapest day, per unit.
    pub regret_vs_best: f64,
    /// `saving_vs_now / possible_saving`: the share of the possible saving realised.
    pub realised_share: f64,
    /// How often each price model was chosen.
    pub models: BTreeMap<String, usize>,
}

impl PriceBacktestReport {
    /// The report as a small table (what `restock backtest-prices` prints).
    pub fn to_table(&self) -> String {
        let models: Vec<String> = self
            .models
            .iter()
            .map(|(m, n)| format!("{m} {:.1}%", 100.0 * *n as f64 / self.plans.max(1) as f64))
            .collect();
        format!(
            "{} series, {} daily plans after a {WARM_UP_DAYS}-day warm-up; {} said wait\n\
             buying on            avg unit price   saving/unit vs now\n\
             the day (at once)    {:>14.4}   {:>18.4}\n\
             the plan's best_day  {:>14.4}   {:>18.4}\n\
             the cheapest day     {:>14.4}   {:>18.4}\n\
             realised {:.1}% of the possible saving ({:.2}% of the price); {:.4}/unit above the cheapest day\n\
             price models chosen: {}\n",
            self.series,
            self.plans,
            self.waits,
            self.avg_price_now,
            0.0,
            self.avg_price_plan,
            self.saving_vs_now,
            self.avg_price_best,
            self.possible_saving,
            100.0 * self.realised_share,
            self.saving_vs_now_pct,
            self.regret_vs_best,
            models.join(", "),
        )
    }
}

/// Replay the file; `today` is the last day a row may have (as for the import).
pub fn run_price_backtest(
    text: &str,
    today: NaiveDate,
) -> Result<PriceBacktestReport, PriceBacktestError> {
    let history = parse_price_csv(text, today)?;
    let mut sums = Sums::default();
    let mut series = 0;
    for prices in history.by_sku.values() {
        let points: Vec<(NaiveDate, f64)> = prices
            .iter()
            .map(|p| (p.date, p.unit_price.get()))
            .collect();
        if replay(&points, &mut sums) {
            series += 1;
        }
    }
    if sums.plans == 0 {
        return Err(PriceBacktestError::TooShort);
    }
    let n = sums.plans as f64;
    let saving = (sums.now - sums.plan) / n;
    let possible = (sums.now - sums.best) / n;
    Ok(PriceBacktestReport {
        series,
        plans: sums.plans,
        waits: sums.waits,
        avg_price_now: sums.now / n,
        avg_price_plan: sums.plan / n,
        avg_price_best: sums.best / n,
        saving_vs_now: saving,
        saving_vs_now_pct: if sums.now > 0.0 {
            (sums.now - sums.plan) / sums.now * 100.0
        } else {
            0.0
        },
        possible_saving: possible,
        regret_vs_best: (sums.plan - sums.best) / n,
        realised_share: if possible > 0.0 {
            saving / possible
        } else {
            1.0
        },
        models: sums.models,
    })
}

#[derive(Default)]
struct Sums {
    plans: usize,
    waits: usize,
    now: f64,
    plan: f64,
    best: f64,
    models: BTreeMap<String, usize>,
}

/// Score every day of one series with a full window after it; whether any was scored.
fn replay(points: &[(NaiveDate, f64)], sums: &mut Sums) -> bool {
    // The whole daily series (not cut to the fit window), to look prices up by day.
    let Some((first, actual)) = full_daily(points) else {
        return false;
    };
    // No demand: stock never falls short, so the order may wait to the horizon's last day.
    let stock = StockOutlook {
        available: 1,
        lead_time_days: 0,
        demand: Some(super::DemandOutlook {
            daily: vec![0.0],
            safety_stock: 0.0,
            model: "none".into(),
        }),
    };
    let mut scored = false;
    for t in WARM_UP_DAYS..actual.len().saturating_sub(HORIZON_DAYS - 1) {
        let Some(day) = first.checked_add_days(Days::new(t as u64)) else {
            break;
        };
        let start = t.saturating_sub(super::forecast::MAX_FIT_DAYS - 1);
        let known: Vec<(NaiveDate, f64)> = (start..=t)
            .filter_map(|i| Some((first.checked_add_days(Days::new(i as u64))?, actual[i])))
            .collect();
        let Some((forecast, decision)) = plan_prices(&known, day, &stock) else {
            continue;
        };
        let offset = usize::try_from((decision.best_day - day).num_days()).unwrap_or(0);
        let window = &actual[t..t + HORIZON_DAYS];
        sums.plans += 1;
        sums.waits += usize::from(decision.recommendation == Recommendation::Wait);
        sums.now += window[0];
        sums.plan += window[offset.min(HORIZON_DAYS - 1)];
        sums.best += window.iter().copied().fold(f64::INFINITY, f64::min);
        *sums
            .models
            .entry(forecast.model.name().to_owned())
            .or_default() += 1;
        scored = true;
    }
    scored
}

/// The daily series over the whole file, by the plan's rule (a missing day holds the price
/// before it), not cut to the fit window.
fn full_daily(points: &[(NaiveDate, f64)]) -> Option<(NaiveDate, Vec<f64>)> {
    let (first, _) = *points.first()?;
    let mut all = Vec::new();
    let mut day = first;
    let mut last = points[0].1;
    for &(date, p) in points {
        while day < date {
            all.push(last);
            day = day.succ_opt()?;
        }
        last = p;
    }
    all.push(last);
    Some((first, all))
}
