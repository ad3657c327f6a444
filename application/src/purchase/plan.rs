//! The purchase plan: when stock must be ordered by (from the demand forecast), and the
//! cheapest day up to then (from the price forecast).

use super::forecast::{PriceDay, PriceForecast};
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

/// Days a plan looks ahead, today included.
pub const HORIZON_DAYS: usize = 14;
/// Days the stock projection looks ahead for the day stock falls short; beyond a year the
/// plan just says "not within a year".
const SHORTFALL_SEARCH_DAYS: usize = 366;
/// A later day counts as cheaper only when even the top of its forecast interval is below
/// today's price by this share: noise, or a forecast that smooths it, is no reason to wait.
const MIN_SAVING_SHARE: f64 = 0.005;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Recommendation {
    BuyNow,
    Wait,
}

/// What demand is expected from today on, from the demand forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandOutlook {
    /// Expected units per day, day 0 being today; past its end the mean of its last week holds.
    pub daily: Vec<f64>,
    /// Stock kept back for demand above the forecast (the forecast's safety stock).
    pub safety_stock: f64,
    /// The demand forecast's model, for the reason.
    pub model: String,
}

/// Where stock stands for the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct StockOutlook {
    pub available: i64,
    pub lead_time_days: u16,
    /// `None`: no demand forecast yet; the plan then buys now.
    pub demand: Option<DemandOutlook>,
}

/// The decision part of a plan: what the agent's context, a refill and the API carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanDecision {
    /// The last day an order still arrives before available stock is expected to fall below
    /// the safety stock (the demand forecast's).
    pub order_by: NaiveDate,
    /// The cheapest expected day from today to `order_by` (and within the horizon); a later
    /// day counts only when even the top of its forecast interval is below today's price.
    pub best_day: NaiveDate,
    pub expected_unit_price: f64,
    /// The unit price today: recorded today, else forecast.
    pub unit_price_today: f64,
    /// Saving of buying on `best_day` rather than today, in percent of today's price.
    pub expected_saving_pct: f64,
    pub recommendation: Recommendation,
    pub reason: String,
    /// The price model chosen by holdout error.
    pub price_model: String,
}

/// The last day an order still arrives in time, and why.
pub fn order_by(today: NaiveDate, stock: &StockOutlook) -> (NaiveDate, String) {
    let Some(demand) = &stock.demand else {
        return (
            today,
            "no demand forecast yet, so no day to wait for".to_owned(),
        );
    };
    let tail = demand.daily.iter().rev().take(7).collect::<Vec<_>>();
    let tail_mean = if tail.is_empty() {
        0.0
    } else {
        tail.iter().copied().sum::<f64>() / tail.len() as f64
    };
    let mut stock_left = stock.available as f64;
    let mut short_on = None;
    for day in 0..SHORTFALL_SEARCH_DAYS {
        let expected = demand.daily.get(day).copied().unwrap_or(tail_mean).max(0.0);
        stock_left -= expected;
        if stock_left < demand.safety_stock {
            short_on = Some(day);
            break;
        }
    }
    let lead = usize::from(stock.lead_time_days);
    let Some(short_on) = short_on else {
        let last = add(today, SHORTFALL_SEARCH_DAYS - 1);
        return (
            last,
            format!(
                "{} available lasts beyond a year at the forecast's demand",
                stock.available
            ),
        );
    };
    let offset = short_on.saturating_sub(lead);
    let date = add(today, offset);
    let why = if offset == 0 {
        format!(
            "{} available falls below the safety stock {:.1} in {short_on} day(s), within the \
             {lead}-day lead time: an order must go out today",
            stock.available, demand.safety_stock
        )
    } else {
        format!(
            "{} available falls below the safety stock {:.1} in {short_on} day(s) ({} demand \
             forecast); with a {lead}-day lead time the order must go out by {date}",
            stock.available, demand.safety_stock, demand.model
        )
    };
    (date, why)
}

fn add(day: NaiveDate, n: usize) -> NaiveDate {
    day.checked_add_days(Days::new(n as u64)).unwrap_or(day)
}

/// The plan's decision from a price forecast covering `today` through the horizon, given the
/// day an order must go out by. `best_day` is never after `order_by`.
pub fn decide(
    forecast: &PriceForecast,
    today: NaiveDate,
    order_by: NaiveDate,
    order_by_reason: &str,
) -> Option<PlanDecision> {
    let today_day = forecast.on(today)?;
    let p0 = today_day.mean;
    let deadline = order_by.min(add(today, HORIZON_DAYS - 1));
    let noise = forecast.holdout_mae.unwrap_or(0.0);
    let threshold = MIN_SAVING_SHARE * p0;
    let mut best: PriceDay = today_day;
    for day in (1..HORIZON_DAYS).filter_map(|i| today.checked_add_days(Days::new(i as u64))) {
        if day > deadline {
            break;
        }
        let Some(d) = forecast.on(day) else { continue };
        // Only a day cheaper than today even at the top of its interval beats today; among
        // those, the cheapest expected (the earliest on a tie).
        if p0 - d.upper > threshold && d.mean < best.mean {
            best = d;
        }
    }
    let model = forecast.model.name();
    let (recommendation, saving_pct, reason) = if best.date > today {
        let pct = (p0 - best.mean) / p0 * 100.0;
        (
            Recommendation::Wait,
            pct,
            format!(
                "wait until {}: expected {:.2} a unit against {:.2} today ({pct:.1}% less, \
                 {model} price model); {order_by_reason}",
                best.date, best.mean, p0
            ),
        )
    } else if deadline == today {
        (
            Recommendation::BuyNow,
            0.0,
            format!("buy now at {p0:.2} a unit: {order_by_reason}"),
        )
    } else {
        (
            Recommendation::BuyNow,
            0.0,
            format!(
                "buy now at {p0:.2} a unit: no day up to {deadline} is cheaper even at the top \
                 of its forecast interval ({model} price model, typical error {noise:.2}); \
                 {order_by_reason}"
            ),
        )
    };
    Some(PlanDecision {
        order_by,
        best_day: best.date,
        expected_unit_price: best.mean,
        unit_price_today: p0,
        expected_saving_pct: saving_pct,
        recommendation,
        reason,
        price_model: model.to_owned(),
    })
}
