//! What the questions managers ask need computed from the read side: units sold over a period,
//! products ranked, stock projected forward, and a product's history told event by event.
//!
//! Pure: the callers in [`super::read`] read the ports and pass the rows in; nothing here does
//! IO or reads a clock (today is an argument). Every figure is rounded here, once, to what a
//! person is shown (two decimals for rates, one for days), so that the chat, MCP and an LLM
//! state the same numbers the tool returned.

use crate::ports::{DemandTotal, ForecastPoint};
use crate::product_view::ProductView;
use crate::views::RefillView;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use restock_domain::{Decider, ProductEvent};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// `sales_summary`: units sold per product over `[from, to]`, both days inclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SalesSummary {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub products: Vec<ProductSales>,
    pub total_units: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductSales {
    pub sku: String,
    pub name: String,
    pub units: i64,
    /// Days in the period.
    pub days: i64,
    pub daily_average: f64,
    /// Days of the period on which the product ran out (sales then understate demand).
    pub stockout_days: i64,
}

/// `x` to `decimals` places: the one rounding of every figure a tool or the chat shows.
pub fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

/// Units over `[from, to]` from each product's demand totals (sales, confirmed reservations
/// and imported history alike, as the daily-demand projection counts them). A product with no
/// day in the period sold 0.
pub fn sales_summary(
    products: &[(String, String)],
    totals: &HashMap<String, DemandTotal>,
    from: NaiveDate,
    to: NaiveDate,
) -> SalesSummary {
    let days = (to - from).num_days() + 1;
    let rows: Vec<ProductSales> = products
        .iter()
        .map(|(sku, name)| {
            let total = totals.get(sku).copied().unwrap_or_default();
            ProductSales {
                sku: sku.clone(),
                name: name.clone(),
                units: total.units,
                days,
                daily_average: round(total.units as f64 / days.max(1) as f64, 2),
                stockout_days: total.stockout_days,
            }
        })
        .collect();
    SalesSummary {
        from,
        to,
        total_units: rows.iter().map(|r| r.units).sum(),
        products: rows,
    }
}

/// What `rank_products` ranks by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RankMetric {
    UnitsSold,
    DaysOfCover,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RankOrder {
    /// Largest first.
    Top,
    /// Smallest first.
    Bottom,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    pub metric: RankMetric,
    pub order: RankOrder,
    /// The period of a `units_sold` ranking.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub items: Vec<RankedProduct>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedProduct {
    pub rank: usize,
    pub sku: String,
    pub name: String,
    pub value: f64,
}

/// The first `limit` of `values` in `order`; ties by sku, so the answer is the same each time.
pub fn rank(
    metric: RankMetric,
    order: RankOrder,
    period: Option<(NaiveDate, NaiveDate)>,
    mut values: Vec<(String, String, f64)>,
    limit: usize,
) -> Ranking {
    values.sort_by(|a, b| {
        let by_value = match order {
            RankOrder::Top => b.2.total_cmp(&a.2),
            RankOrder::Bottom => a.2.total_cmp(&b.2),
        };
        by_value.then_with(|| a.0.cmp(&b.0))
    });
    Ranking {
        metric,
        order,
        from: period.map(|p| p.0),
        to: period.map(|p| p.1),
        items: values
            .into_iter()
            .take(limit)
            .enumerate()
            .map(|(i, (sku, name, value))| RankedProduct {
                rank: i + 1,
                sku,
                name,
                value,
            })
            .collect(),
    }
}

/// `stock_outlook`: one product's stock going forward on its stored demand forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outlook {
    pub sku: String,
    pub name: String,
    pub available: i64,
    /// Mean forecast units a day over the forecast's horizon; null without a forecast.
    pub daily_forecast: Option<f64>,
    /// Available stock over the daily forecast; null when nothing is forecast to sell.
    pub days_of_cover: Option<f64>,
    /// The first day the forecast demand from today on exceeds the available stock; null when
    /// that is beyond the forecast's horizon (or there is no forecast).
    pub runs_out_on: Option<NaiveDate>,
    pub open_refill: Option<OpenRefill>,
    /// An open refill is expected before the stock runs out (or it does not run out in the
    /// horizon).
    pub covered_by_refill: bool,
    /// The minimum, and the stock projected per day (on hand going forward, the open refill
    /// added on its expected day), for the chart of projected stock.
    pub min_stock: Option<i64>,
    /// Only for an outlook of one product.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projection: Vec<ProjectedDay>,
}

/// `stock_outlook`'s answer: the day it was computed for, and each product's outlook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outlooks {
    pub as_of: NaiveDate,
    pub items: Vec<Outlook>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenRefill {
    pub id: String,
    pub quantity: i64,
    /// Ordered day plus the product's lead time.
    pub expected_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectedDay {
    pub date: NaiveDate,
    pub stock: f64,
}

pub fn outlook(
    product: &ProductView,
    forecast: Option<&[ForecastPoint]>,
    refill: Option<&RefillView>,
    today: NaiveDate,
) -> Outlook {
    let open_refill = refill.map(|r| OpenRefill {
        id: r.id.clone(),
        quantity: r.quantity,
        expected_on: Some(r.created_at.date_naive() + Duration::days(product.lead_time_days)),
    });
    // Days from today on: a forecast computed yesterday still speaks for today onwards.
    let days: Vec<(NaiveDate, f64)> = forecast
        .map(|f| {
            f.iter()
                .filter(|p| p.date >= today)
                .map(|p| (p.date, p.mean.max(0.0)))
                .collect()
        })
        .unwrap_or_default();
    let daily_forecast = (!days.is_empty())
        .then(|| round(days.iter().map(|d| d.1).sum::<f64>() / days.len() as f64, 2));
    let available = product.available;
    let days_of_cover = daily_forecast
        .filter(|&d| d > 0.0)
        .map(|d| round(available.max(0) as f64 / d, 1));
    let mut left = available as f64;
    let mut runs_out_on = None;
    let mut projected = available as f64;
    let mut projection = Vec::with_capacity(days.len());
    for &(date, mean) in &days {
        left -= mean;
        if runs_out_on.is_none() && left < 0.0 {
            runs_out_on = Some(date);
        }
        projected -= mean;
        if let Some(r) = &open_refill {
            if r.expected_on == Some(date) {
                projected += r.quantity as f64;
            }
        }
        projection.push(ProjectedDay {
            date,
            stock: round(projected, 1),
        });
    }
    if available <= 0 && !days.is_empty() {
        runs_out_on = Some(today);
    }
    let covered_by_refill = match (&open_refill, runs_out_on) {
        (Some(r), Some(out)) => r.expected_on.is_some_and(|e| e <= out),
        (Some(_), None) => true,
        (None, _) => false,
    };
    Outlook {
        sku: product.sku.clone(),
        name: product.name.clone(),
        available,
        daily_forecast,
        days_of_cover,
        runs_out_on,
        open_refill,
        covered_by_refill,
        min_stock: product.min_stock,
        projection,
    }
}

/// `product_timeline`: one event as a person reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub version: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    /// `user:<sub>`, `agent:<decider>` or `system:<job>`.
    pub actor: String,
    pub summary: String,
}

/// Who did it, as the timeline names it: the events' metadata says `user:<sub>` for people;
/// a refill decided by the agent names its decider; a recomputed minimum is the forecast job's
/// even when a manager started the job (the number is the forecast's, not theirs).
pub fn actor_of(event: &ProductEvent, recorded_actor: &str) -> String {
    match event {
        ProductEvent::RefillRequested { decided_by, .. } => match decided_by {
            Decider::User(_) => recorded_actor.to_owned(),
            other => format!("agent:{other}"),
        },
        // The forecast computed it, whoever started the job.
        ProductEvent::ReorderPointRecalculated { .. } => "system:forecast".into(),
        _ if recorded_actor.contains(':') => recorded_actor.to_owned(),
        _ => format!("system:{recorded_actor}"),
    }
}

/// A one-line summary in English (tool results are data; the chat renders its own text).
pub fn summary(event: &ProductEvent, actor: &str) -> String {
    use ProductEvent as E;
    let what = match event {
        E::ProductRegistered { details, .. } => format!("registered as {:?}", details.name),
        E::ProductDetailsChanged { details } => {
            format!("details changed (name {:?})", details.name)
        }
        E::StockReceived { quantity, .. } => format!("{} units received", quantity.get()),
        E::StockSold { quantity, .. } => format!("{} units sold", quantity.get()),
        E::StockCounted {
            counted,
            previous_on_hand,
            ..
        } => format!("counted {} (was {previous_on_hand})", counted.get()),
        E::MinimumSet { quantity } => format!("minimum set to {}", quantity.get()),
        E::MinimumCleared => "minimum given back to the forecast".into(),
        E::DemandHistoryImported { days } => format!("{} days of demand imported", days.len()),
        E::StockReserved { quantity, .. } => format!("{} units reserved", quantity.get()),
        E::ReservationConfirmed { quantity, .. } => {
            format!("reservation of {} confirmed", quantity.get())
        }
        E::ReservationReleased { quantity, .. } => {
            format!("reservation of {} released", quantity.get())
        }
        E::ReservationExpired { quantity, .. } => {
            format!("reservation of {} expired", quantity.get())
        }
        E::ReorderPointRecalculated { point } => {
            format!("minimum recomputed to {}", point.reorder_point.get())
        }
        E::RefillRequested { quantity, .. } => format!("refill of {} requested", quantity.get()),
        E::RefillReceived { quantity, .. } => format!("refill of {} received", quantity.get()),
        E::RefillCancelled { .. } => "refill cancelled".into(),
        E::SupplierPricesRecorded { prices } => {
            format!("{} days of supplier prices recorded", prices.len())
        }
    };
    format!("{what} by {actor}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::StoredForecast;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    #[test]
    fn a_summary_averages_over_every_day_and_counts_products_without_sales() {
        let products = vec![
            ("MUG".to_owned(), "Mug".to_owned()),
            ("TEA".to_owned(), "Tea".to_owned()),
        ];
        let totals = HashMap::from([(
            "MUG".to_owned(),
            DemandTotal {
                units: 12,
                stockout_days: 1,
            },
        )]);
        let s = sales_summary(&products, &totals, d("2026-12-01"), d("2026-12-07"));
        assert_eq!(s.total_units, 12);
        assert_eq!(
            (
                s.products[0].units,
                s.products[0].days,
                s.products[0].stockout_days
            ),
            (12, 7, 1)
        );
        assert_eq!(s.products[0].daily_average, 1.71);
        assert_eq!((s.products[1].units, s.products[1].daily_average), (0, 0.0));
    }

    #[test]
    fn a_ranking_is_ordered_both_ways_with_ties_by_sku() {
        let values = vec![
            ("B".into(), "b".into(), 5.0),
            ("A".into(), "a".into(), 5.0),
            ("C".into(), "c".into(), 1.0),
            ("D".into(), "d".into(), 9.0),
        ];
        let top = rank(
            RankMetric::UnitsSold,
            RankOrder::Top,
            None,
            values.clone(),
            3,
        );
        let skus: Vec<&str> = top.items.iter().map(|i| i.sku.as_str()).collect();
        assert_eq!(skus, ["D", "A", "B"]);
        let bottom = rank(RankMetric::UnitsSold, RankOrder::Bottom, None, values, 2);
        let skus: Vec<&str> = bottom.items.iter().map(|i| i.sku.as_str()).collect();
        assert_eq!(skus, ["C", "A"]);
        assert_eq!(bottom.items[1].rank, 2);
    }

    fn product(available: i64) -> ProductView {
        ProductView {
            sku: "MUG".into(),
            name: "Mug".into(),
            on_hand: available,
            reserved: 0,
            available,
            min_stock: Some(10),
            min_stock_source: "forecast".into(),
            lead_time_days: 3,
            service_level: 0.95,
            below_min: false,
            open_refill_id: None,
            unit: None,
            supplier: None,
            reorder_quantity: None,
            version: 1,
            updated_at: DateTime::from_timestamp(1_796_637_600, 0).expect("an instant"),
        }
    }

    fn forecast(from: &str, means: &[f64]) -> StoredForecast {
        StoredForecast {
            sku: "MUG".into(),
            model: "ets".into(),
            computed_at: DateTime::from_timestamp(1_796_637_600, 0).expect("an instant"),
            history: vec![],
            forecast: means
                .iter()
                .enumerate()
                .map(|(i, &mean)| ForecastPoint {
                    date: d(from) + Duration::days(i as i64),
                    mean,
                    lower: 0.0,
                    upper: mean * 2.0,
                })
                .collect(),
            lead_time_demand: 0.0,
            safety_stock: 0.0,
            reorder_point: 10,
            service_level: 0.95,
            lead_time_days: 3,
        }
    }

    #[test]
    fn stock_runs_out_on_the_first_day_demand_exceeds_it() {
        // 10 available, 4 a day: 6 left after the 7th, 2 after the 8th, short on the 9th.
        let f = forecast("2026-12-06", &[4.0; 10]);
        let o = outlook(&product(10), Some(&f.forecast), None, d("2026-12-07"));
        assert_eq!(o.runs_out_on, Some(d("2026-12-09")));
        assert_eq!((o.daily_forecast, o.days_of_cover), (Some(4.0), Some(2.5)));
        assert!(!o.covered_by_refill);
        assert_eq!(o.projection[0].stock, 6.0);

        let plenty = outlook(&product(1000), Some(&f.forecast), None, d("2026-12-07"));
        assert_eq!(plenty.runs_out_on, None, "beyond the horizon");
        let none = outlook(&product(10), None, None, d("2026-12-07"));
        assert_eq!(
            (none.daily_forecast, none.days_of_cover, none.runs_out_on),
            (None, None, None)
        );
        let idle = outlook(
            &product(10),
            Some(&forecast("2026-12-07", &[0.0; 5]).forecast),
            None,
            d("2026-12-07"),
        );
        assert_eq!((idle.daily_forecast, idle.days_of_cover), (Some(0.0), None));
    }

    #[test]
    fn a_summary_names_the_actor() {
        let e = ProductEvent::MinimumSet {
            quantity: restock_domain::Quantity::new(80).expect("a quantity"),
        };
        let actor = actor_of(&e, "user:ana");
        assert_eq!(summary(&e, &actor), "minimum set to 80 by user:ana");
    }
}
