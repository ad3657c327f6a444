//! The day-by-day replay of one series under one policy, and its running sums.

use super::history::SkuSeries;
use super::policy::{Levels, PlanInput, Planner};
use super::report::PolicyReport;
use super::{BacktestOptions, REFIT_EVERY_DAYS, WARMUP_DAYS};
use crate::forecast::reorder::effective_lead_time;
use crate::forecast::ForecastError;

/// Running sums of one policy on one or more series.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct PolicyTotals {
    demand: u64,
    served: u64,
    on_hand_sum: u128,
    days: u64,
    orders: u64,
    stockout_days: u64,
    abs_error: f64,
    naive_abs_error: f64,
    lead_squared_error: f64,
    lead_sums: u64,
}

impl PolicyTotals {
    pub(super) fn sum<'a>(series: impl Iterator<Item = &'a PolicyTotals>) -> PolicyReport {
        let mut total = PolicyTotals::default();
        let mut mase = Vec::new();
        for s in series {
            total.demand += s.demand;
            total.served += s.served;
            total.on_hand_sum += s.on_hand_sum;
            total.days += s.days;
            total.orders += s.orders;
            total.stockout_days += s.stockout_days;
            total.lead_squared_error += s.lead_squared_error;
            total.lead_sums += s.lead_sums;
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
            lead_time_rmse: (total.lead_sums > 0)
                .then(|| (total.lead_squared_error / total.lead_sums as f64).sqrt()),
        }
    }

    /// Scores a plan made at the start of `today` against the next days' true demand: each of
    /// the first week's days, and the sum over the lead time.
    fn score(&mut self, demand: &[u64], today: usize, forecast: &[f64], lead: usize) {
        if let (Some(actual), Some(planned)) =
            (demand.get(today..today + lead), forecast.get(..lead))
        {
            let error = actual.iter().sum::<u64>() as f64 - planned.iter().sum::<f64>();
            self.lead_squared_error += error * error;
            self.lead_sums += 1;
        }
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
pub(super) fn simulate(
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
    let lead = effective_lead_time(options.lead_time_days);
    let mut plan_at = |today: usize, sold: &[f64], censored: &[bool], totals: &mut PolicyTotals| {
        let input = PlanInput {
            start: s.start,
            today,
            sold,
            censored,
        };
        let plan = planner.plan(input)?;
        totals.score(demand, today, &plan.forecast, lead);
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
