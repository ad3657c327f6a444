//! The engine behind `restock backtest`: replays a demand history day by day under two
//! replenishment policies and reports what each would have achieved.
//!
//! Input: a `date,sku,quantity` CSV (header required, columns in any order; rows for the same
//! sku and day are added together). Each sku is one series, zero-filled between its first and
//! last day.
//!
//! Simulation, per series and policy, with a virtual clock:
//! - the first [`WARMUP_DAYS`] days are history only (not scored); stock starts at the
//!   policy's own reorder point computed from them;
//! - each scored day: receive the orders due today, serve `min(demand, on_hand)` (the rest is
//!   lost), then review the position (on hand + on order) and, when it is below the reorder
//!   point, order up to the policy's order-up-to level; an order arrives `lead_time` days
//!   later (a lead time of 0 counts as 1, as in [`super::reorder`]);
//! - `forecast` policy: every [`REFIT_EVERY_DAYS`] days, [`forecast_product`] on what the
//!   system would have seen (units sold, days that ended with no stock marked censored);
//!   order up to reorder point + lead-time demand;
//! - `static` policy: from the warm-up mean demand m, minimum = ceil(7 m) and order up to
//!   minimum + ceil(L m): the same extra cover (one lead time of expected demand) as the
//!   forecast policy, but never updated.
//!
//! Scores: fill rate = served / demand over all series; average on hand at the end of the
//! day per series-day; orders and stockout days (days with lost demand) summed over series.
//! `mase`: for each weekly plan, the mean forecast for the next 7 days (1 to 7 days ahead)
//! against the true demand, as MAE divided by the MAE of the seasonal naive forecast made at
//! the same moment for the same days; averaged over series. Below 1 beats the baseline.

use super::reorder::{effective_lead_time, whole_units};
use super::series::{DemandSeries, MAX_SERIES_DAYS};
use super::{forecast_product, ForecastError, ModelKind, MAX_FIT_DAYS};
use chrono::{Days, NaiveDate};
use restock_domain::{Quantity, ServiceLevel};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Days of history before scoring starts.
pub const WARMUP_DAYS: usize = 90;
/// How often the forecast policy refits.
pub const REFIT_EVERY_DAYS: usize = 7;
/// Days of warm-up mean demand the static minimum covers.
const STATIC_MIN_DAYS: f64 = 7.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BacktestOptions {
    pub lead_time_days: u16,
    pub service_level: ServiceLevel,
    /// Worker threads (series run in parallel); at least 1.
    pub threads: usize,
}

impl Default for BacktestOptions {
    fn default() -> Self {
        Self {
            lead_time_days: 7,
            service_level: ServiceLevel::DEFAULT,
            threads: 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BacktestError {
    #[error("the file is empty; expected a header `date,sku,quantity`")]
    Empty,
    #[error("line {line}: header must name the columns date,sku,quantity; `{column}` is missing")]
    MissingColumn { line: usize, column: &'static str },
    #[error("line {line}: {message}")]
    BadRow { line: usize, message: String },
    #[error("sku {sku}: its days span more than {max} days", max = MAX_SERIES_DAYS)]
    SeriesTooLong { sku: String },
    #[error("no series has more than {WARMUP_DAYS} days: nothing to score")]
    NothingToScore,
    #[error("sku {sku}: {source}")]
    Forecast { sku: String, source: ForecastError },
    #[error("a backtest worker stopped unexpectedly")]
    WorkerPanicked,
}

/// Results of one policy over all series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyReport {
    pub fill_rate: f64,
    pub avg_on_hand: f64,
    pub orders: u64,
    pub stockout_days: u64,
    pub mase: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BacktestReport {
    /// Series scored.
    pub series: usize,
    /// Distinct calendar days scored (after the warm-up), over all series.
    pub days: usize,
    /// Skus with too little history to score.
    pub skipped: Vec<String>,
    pub lead_time_days: u16,
    pub service_level: f64,
    pub forecast: PolicyReport,
    pub static_policy: PolicyReport,
    /// How often each model was chosen by the forecast policy's refits.
    pub models: BTreeMap<&'static str, usize>,
}

impl BacktestReport {
    /// `{ "series", "days", "policies": { "forecast": {..}, "static": {..} } }`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "series": self.series,
            "days": self.days,
            "policies": { "forecast": self.forecast, "static": self.static_policy },
        })
    }

    /// A plain-text table for people.
    pub fn to_table(&self) -> String {
        let mut out = format!(
            "{} series, {} days scored after a {WARMUP_DAYS}-day warm-up; lead time {} days, service level {}\n",
            self.series, self.days, self.lead_time_days, self.service_level
        );
        let _ = writeln!(
            out,
            "{:<10}{:>11}{:>13}{:>9}{:>15}{:>8}",
            "policy", "fill rate", "avg on hand", "orders", "stockout days", "MASE"
        );
        for (name, p) in [
            ("forecast", &self.forecast),
            ("static", &self.static_policy),
        ] {
            let mase = p.mase.map_or_else(|| "-".to_owned(), |m| format!("{m:.3}"));
            let _ = writeln!(
                out,
                "{name:<10}{:>11.4}{:>13.1}{:>9}{:>15}{mase:>8}",
                p.fill_rate, p.avg_on_hand, p.orders, p.stockout_days
            );
        }
        out.push_str("MASE: MAE of the 1-7 days ahead forecasts of each weekly plan / MAE of seasonal naive\n");
        let total: usize = self.models.values().sum();
        if total > 0 {
            let shares: Vec<String> = self
                .models
                .iter()
                .map(|(m, n)| format!("{m} {:.1}%", 100.0 * *n as f64 / total as f64))
                .collect();
            let _ = writeln!(out, "models chosen: {}", shares.join(", "));
        }
        if !self.skipped.is_empty() {
            let _ = writeln!(
                out,
                "skipped (<= {WARMUP_DAYS} days): {}",
                self.skipped.join(", ")
            );
        }
        out
    }
}

/// Parses the CSV, simulates both policies on every series (in parallel) and sums up.
pub fn run_backtest(
    csv_text: &str,
    options: BacktestOptions,
) -> Result<BacktestReport, BacktestError> {
    let all = parse_csv(csv_text)?;
    let (scored, skipped): (Vec<SkuSeries>, Vec<SkuSeries>) =
        all.into_iter().partition(|s| s.demand.len() > WARMUP_DAYS);
    if scored.is_empty() {
        return Err(BacktestError::NothingToScore);
    }
    let outcomes = run_parallel(&scored, options)?;
    Ok(BacktestReport {
        series: scored.len(),
        days: distinct_scored_days(&scored),
        skipped: skipped.into_iter().map(|s| s.sku).collect(),
        lead_time_days: options.lead_time_days,
        service_level: options.service_level.get(),
        forecast: PolicyTotals::sum(outcomes.iter().map(|o| &o.forecast)),
        static_policy: PolicyTotals::sum(outcomes.iter().map(|o| &o.static_policy)),
        models: count_models(&outcomes),
    })
}

// ---------------------------------------------------------------------------------------------
// CSV

/// One sku's demand, one entry per day from `start`.
#[derive(Debug, Clone, PartialEq)]
struct SkuSeries {
    sku: String,
    start: NaiveDate,
    demand: Vec<u64>,
}

struct Columns {
    count: usize,
    date: usize,
    sku: usize,
    quantity: usize,
}

fn parse_csv(text: &str) -> Result<Vec<SkuSeries>, BacktestError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let (header_line, header) = lines.next().ok_or(BacktestError::Empty)?;
    let columns = parse_header(header_line, header)?;
    let mut sums: BTreeMap<String, BTreeMap<NaiveDate, u64>> = BTreeMap::new();
    for (line, text) in lines {
        let (date, sku, quantity) =
            parse_row(&columns, text).map_err(|message| BacktestError::BadRow { line, message })?;
        let day = sums
            .entry(sku.to_owned())
            .or_default()
            .entry(date)
            .or_default();
        *day = day.saturating_add(quantity);
    }
    sums.into_iter()
        .map(|(sku, days)| densify(sku, days))
        .collect()
}

fn parse_header(line: usize, header: &str) -> Result<Columns, BacktestError> {
    let names: Vec<String> = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let find = |column: &'static str| {
        names
            .iter()
            .position(|n| *n == column)
            .ok_or(BacktestError::MissingColumn { line, column })
    };
    Ok(Columns {
        count: names.len(),
        date: find("date")?,
        sku: find("sku")?,
        quantity: find("quantity")?,
    })
}

/// One data row, or what is wrong with it.
fn parse_row<'a>(columns: &Columns, text: &'a str) -> Result<(NaiveDate, &'a str, u64), String> {
    let fields: Vec<&str> = text.split(',').map(str::trim).collect();
    if fields.len() > columns.count {
        return Err(format!(
            "expected {} columns, found {}",
            columns.count,
            fields.len()
        ));
    }
    let field = |index: usize, name: &str| {
        fields
            .get(index)
            .copied()
            .filter(|f| !f.is_empty())
            .ok_or_else(|| format!("missing column `{name}`"))
    };
    let raw_date = field(columns.date, "date")?;
    // Exactly ten characters: chrono would also take a sign or a longer year, and dates near
    // the end of its calendar would overflow when the simulation adds days.
    let date = Some(raw_date)
        .filter(|d| d.len() == 10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| format!("bad date `{raw_date}` (expected YYYY-MM-DD)"))?;
    let sku = field(columns.sku, "sku")?;
    let quantity = parse_quantity(field(columns.quantity, "quantity")?)?;
    Ok((date, sku, quantity))
}

fn parse_quantity(raw: &str) -> Result<u64, String> {
    if let Ok(q) = raw.parse::<u64>() {
        return if q <= u64::from(Quantity::MAX) {
            Ok(q)
        } else {
            Err(format!("quantity {q} is more than {}", Quantity::MAX))
        };
    }
    // Not a plain non-negative integer: say which rule it breaks.
    Err(match raw.parse::<f64>() {
        Ok(v) if v < 0.0 => format!("quantity `{raw}` is negative"),
        Ok(_) => format!("quantity `{raw}` is not an integer"),
        Err(_) => format!("quantity `{raw}` is not a number"),
    })
}

fn densify(sku: String, days: BTreeMap<NaiveDate, u64>) -> Result<SkuSeries, BacktestError> {
    let (Some(&start), Some(&end)) = (days.keys().next(), days.keys().next_back()) else {
        return Ok(SkuSeries {
            sku,
            start: NaiveDate::MIN,
            demand: Vec::new(),
        });
    };
    let len = usize::try_from((end - start).num_days() + 1)
        .ok()
        .filter(|&n| n <= MAX_SERIES_DAYS);
    let Some(len) = len else {
        return Err(BacktestError::SeriesTooLong { sku });
    };
    let mut demand = vec![0; len];
    for (date, q) in days {
        let i = usize::try_from((date - start).num_days()).unwrap_or(0);
        demand[i] = q;
    }
    Ok(SkuSeries { sku, start, demand })
}

fn distinct_scored_days(series: &[SkuSeries]) -> usize {
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

// ---------------------------------------------------------------------------------------------
// Parallel run

struct SeriesOutcome {
    forecast: PolicyTotals,
    static_policy: PolicyTotals,
    models: Vec<ModelKind>,
}

/// Series are handed out one at a time from a shared counter, so a long series does not leave
/// the other worker idle; results are put back in input order so sums do not depend on timing.
fn run_parallel(
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
    Ok(SeriesOutcome {
        forecast,
        static_policy,
        models: forecast_planner.models,
    })
}

// ---------------------------------------------------------------------------------------------
// Simulation

/// When to order, and up to what.
#[derive(Debug, Clone, Copy)]
struct Levels {
    reorder_point: u64,
    order_up_to: u64,
}

/// What a policy knows when it plans: the days before `today`.
struct PlanInput<'a> {
    start: NaiveDate,
    today: usize,
    /// Units sold and stockout flags for days `0..today`, as the system recorded them.
    sold: &'a [f64],
    censored: &'a [bool],
}

/// The plan: levels, and the mean forecast for the next days (for scoring accuracy).
struct Plan {
    levels: Levels,
    forecast: Vec<f64>,
}

trait Planner {
    fn plan(&mut self, input: PlanInput<'_>) -> Result<Plan, ForecastError>;
}

struct ForecastPlanner {
    options: BacktestOptions,
    models: Vec<ModelKind>,
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
        let reorder_point = result.reorder_point.get().unsigned_abs();
        let cover = whole_units(result.lead_time_demand)?.get().unsigned_abs();
        Ok(Plan {
            levels: Levels {
                reorder_point,
                order_up_to: reorder_point + cover,
            },
            forecast: result.forecast.iter().map(|d| d.mean).collect(),
        })
    }
}

struct StaticPlanner {
    plan: Result<Levels, ForecastError>,
    mean: f64,
}

impl StaticPlanner {
    fn from_warmup(demand: &[u64], options: BacktestOptions) -> Self {
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
        Self { plan, mean }
    }
}

impl Planner for StaticPlanner {
    fn plan(&mut self, _input: PlanInput<'_>) -> Result<Plan, ForecastError> {
        Ok(Plan {
            levels: self.plan.clone()?,
            forecast: vec![self.mean; REFIT_EVERY_DAYS],
        })
    }
}

/// Running sums of one policy on one or more series.
#[derive(Debug, Clone, Default, PartialEq)]
struct PolicyTotals {
    demand: u64,
    served: u64,
    on_hand_sum: u128,
    days: u64,
    orders: u64,
    stockout_days: u64,
    abs_error: f64,
    naive_abs_error: f64,
}

impl PolicyTotals {
    fn sum<'a>(series: impl Iterator<Item = &'a PolicyTotals>) -> PolicyReport {
        let mut total = PolicyTotals::default();
        let mut mase = Vec::new();
        for s in series {
            total.demand += s.demand;
            total.served += s.served;
            total.on_hand_sum += s.on_hand_sum;
            total.days += s.days;
            total.orders += s.orders;
            total.stockout_days += s.stockout_days;
            if s.naive_abs_error > 0.0 {
                mase.push(s.abs_error / s.naive_abs_error);
            }
        }
        PolicyReport {
            fill_rate: total.served as f64 / total.demand.max(1) as f64,
            avg_on_hand: total.on_hand_sum as f64 / total.days.max(1) as f64,
            orders: total.orders,
            stockout_days: total.stockout_days,
            mase: (!mase.is_empty()).then(|| mase.iter().sum::<f64>() / mase.len() as f64),
        }
    }

    /// Scores a plan made at the start of `today` against the next days' true demand.
    fn score(&mut self, demand: &[u64], today: usize, forecast: &[f64]) {
        for (h, f) in forecast.iter().enumerate().take(REFIT_EVERY_DAYS) {
            let (Some(&actual), Some(&naive)) = (demand.get(today + h), demand.get(today + h - 7))
            else {
                break;
            };
            self.abs_error += (actual as f64 - f).abs();
            self.naive_abs_error += (actual as f64 - naive as f64).abs();
        }
    }
}

/// Replays the scored days of one series under one policy.
fn simulate(
    s: &SkuSeries,
    options: BacktestOptions,
    planner: &mut dyn Planner,
) -> Result<PolicyTotals, ForecastError> {
    let demand = &s.demand;
    let mut totals = PolicyTotals::default();
    let Some(warmup) = demand.get(..WARMUP_DAYS) else {
        return Ok(totals);
    };
    // The warm-up is assumed fully served, so its sales are its demand.
    let mut sold: Vec<f64> = warmup.iter().map(|&d| d as f64).collect();
    let mut censored = vec![false; WARMUP_DAYS];
    let mut plan_at = |today: usize, sold: &[f64], censored: &[bool], totals: &mut PolicyTotals| {
        let input = PlanInput {
            start: s.start,
            today,
            sold,
            censored,
        };
        let plan = planner.plan(input)?;
        totals.score(demand, today, &plan.forecast);
        Ok::<_, ForecastError>(plan.levels)
    };
    let mut levels = plan_at(WARMUP_DAYS, &sold, &censored, &mut totals)?;
    let mut shelf = Shelf::new(levels.reorder_point, demand.len(), options.lead_time_days);
    let mut days_since_plan = 0;
    for (today, &wanted) in demand.iter().enumerate().skip(WARMUP_DAYS) {
        shelf.receive(today);
        let served = shelf.serve(wanted);
        totals.record_day(wanted, served, shelf.on_hand);
        sold.push(served as f64);
        // The system only knows the shelf went empty, not how many customers it turned away.
        censored.push(shelf.on_hand == 0);
        days_since_plan += 1;
        if days_since_plan == REFIT_EVERY_DAYS && today + 1 < demand.len() {
            levels = plan_at(today + 1, &sold, &censored, &mut totals)?;
            days_since_plan = 0;
        }
        if shelf.review(today, levels) {
            totals.orders += 1;
        }
    }
    Ok(totals)
}

/// Stock of one series: on hand, and orders on their way by arrival day.
struct Shelf {
    on_hand: u64,
    on_order: u64,
    arrivals: Vec<u64>,
    lead: usize,
}

impl Shelf {
    fn new(on_hand: u64, days: usize, lead_time_days: u16) -> Self {
        let lead = effective_lead_time(lead_time_days);
        Self {
            on_hand,
            on_order: 0,
            arrivals: vec![0; days + lead + 1],
            lead,
        }
    }

    fn receive(&mut self, today: usize) {
        let arriving = self.arrivals.get(today).copied().unwrap_or(0);
        self.on_hand += arriving;
        self.on_order -= arriving;
    }

    /// Serves what it can; the rest of the demand is lost.
    fn serve(&mut self, wanted: u64) -> u64 {
        let served = wanted.min(self.on_hand);
        self.on_hand -= served;
        served
    }

    /// Orders up to the order-up-to level when the position is below the reorder point;
    /// true if an order was placed.
    fn review(&mut self, today: usize, levels: Levels) -> bool {
        let position = self.on_hand + self.on_order;
        let quantity = levels.order_up_to.saturating_sub(position);
        let Some(slot) = self.arrivals.get_mut(today + self.lead) else {
            return false;
        };
        if position >= levels.reorder_point || quantity == 0 {
            return false;
        }
        *slot += quantity;
        self.on_order += quantity;
        true
    }
}

impl PolicyTotals {
    fn record_day(&mut self, wanted: u64, served: u64, on_hand: u64) {
        self.demand += wanted;
        self.served += served;
        self.on_hand_sum += u128::from(on_hand);
        self.days += 1;
        if served < wanted {
            self.stockout_days += 1;
        }
    }
}

fn count_models(outcomes: &[SeriesOutcome]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for model in outcomes.iter().flat_map(|o| &o.models) {
        *counts.entry(model.name()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::super::test_data::{intermittent_values, start, weekly_values};
    use super::*;

    fn csv(series: &[(&str, Vec<f64>)]) -> String {
        let mut text = String::from("date,sku,quantity\n");
        for (sku, values) in series {
            for (i, v) in values.iter().enumerate() {
                let date = start() + Days::new(i as u64);
                let _ = writeln!(text, "{date},{sku},{v}");
            }
        }
        text
    }

    fn bad_line(text: &str) -> (usize, String) {
        match parse_csv(text) {
            Err(BacktestError::BadRow { line, message }) => (line, message),
            other => panic!("expected a bad row, got {other:?}"),
        }
    }

    #[test]
    fn csv_errors_name_the_line_and_the_problem() {
        let head = "date,sku,quantity\n2024-01-01,a,1\n";
        let (line, msg) = bad_line(&format!("{head}2024-01-02,a\n"));
        assert_eq!(line, 3);
        assert!(msg.contains("missing column `quantity`"), "{msg}");
        let (line, msg) = bad_line(&format!("{head}\n2024-13-01,a,1\n"));
        assert_eq!(line, 4, "blank lines still count");
        assert!(msg.contains("bad date `2024-13-01`"), "{msg}");
        assert!(bad_line(&format!("{head}+2024-01-02,a,1\n"))
            .1
            .contains("bad date"));
        assert!(bad_line(&format!("{head}2024-1-2,a,1\n"))
            .1
            .contains("bad date"));
        assert!(bad_line(&format!("{head}2024-01-02,a,-3\n"))
            .1
            .contains("negative"));
        assert!(bad_line(&format!("{head}2024-01-02,a,2.5\n"))
            .1
            .contains("not an integer"));
        assert!(bad_line(&format!("{head}2024-01-02,a,x\n"))
            .1
            .contains("not a number"));
        assert!(bad_line(&format!("{head}2024-01-02,,4\n"))
            .1
            .contains("missing column `sku`"));
        assert!(bad_line(&format!("{head}2024-01-02,a,4,9\n"))
            .1
            .contains("expected 3 columns"));
        assert_eq!(
            parse_csv("date,item,quantity\n"),
            Err(BacktestError::MissingColumn {
                line: 1,
                column: "sku"
            })
        );
        assert_eq!(parse_csv("\n \n"), Err(BacktestError::Empty));
        let err = run_backtest(
            &format!("{head}2024-01-02,a,-3\n"),
            BacktestOptions::default(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "line 3: quantity `-3` is negative");
    }

    #[test]
    fn csv_sums_days_zero_fills_gaps_and_accepts_any_column_order() {
        let text = "\u{feff}sku,quantity,date\nb,2,2024-01-03\na,1,2024-01-01\na,4,2024-01-01\na,2,2024-01-03\n";
        let series = parse_csv(text).unwrap();
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].sku, "a");
        assert_eq!(series[0].demand, vec![5, 0, 2]);
        assert_eq!(series[1].demand, vec![2]);
    }

    #[test]
    fn backtest_on_synthetic_data_gives_sane_numbers() {
        let text = csv(&[
            ("weekly", weekly_values(160, 11)),
            ("sparse", intermittent_values(160, 12)),
            ("short", vec![1.0; 30]),
        ]);
        let report = run_backtest(&text, BacktestOptions::default()).unwrap();
        assert_eq!(report.series, 2);
        assert_eq!(report.days, 70);
        assert_eq!(report.skipped, vec!["short".to_owned()]);
        for p in [&report.forecast, &report.static_policy] {
            assert!((0.0..=1.0).contains(&p.fill_rate), "{p:?}");
            assert!(p.orders > 0 && p.avg_on_hand > 0.0, "{p:?}");
        }
        assert!(report.forecast.fill_rate > 0.8, "{:?}", report.forecast);
        assert!(report
            .forecast
            .mase
            .is_some_and(|m| m.is_finite() && m > 0.0));
        assert!(
            report.models.values().sum::<usize>() >= 2 * 10,
            "one plan per week and series"
        );

        let json = report.to_json();
        assert_eq!(json["series"], 2);
        let keys = |v: &serde_json::Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&json), ["days", "policies", "series"]);
        assert_eq!(keys(&json["policies"]), ["forecast", "static"]);
        assert_eq!(
            keys(&json["policies"]["forecast"]),
            [
                "avg_on_hand",
                "fill_rate",
                "mase",
                "orders",
                "stockout_days"
            ]
        );
        let table = report.to_table();
        assert!(
            table.contains("forecast") && table.contains("static") && table.contains("fill rate"),
            "{table}"
        );
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let text = csv(&[
            ("a", weekly_values(130, 1)),
            ("b", weekly_values(120, 2)),
            ("c", intermittent_values(140, 3)),
        ]);
        let one = run_backtest(
            &text,
            BacktestOptions {
                threads: 1,
                ..Default::default()
            },
        )
        .unwrap();
        let two = run_backtest(
            &text,
            BacktestOptions {
                threads: 2,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(one, two);
    }

    #[test]
    fn nothing_to_score_is_an_error() {
        let text = csv(&[("a", vec![1.0; WARMUP_DAYS])]);
        assert_eq!(
            run_backtest(&text, BacktestOptions::default()),
            Err(BacktestError::NothingToScore)
        );
    }
}
