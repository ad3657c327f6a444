//! The plan on generated series with a known structure: a weekly promotion day, a drift, flat
//! prices with noise.

use super::plan::{order_by, DemandOutlook, StockOutlook};
use super::*;
use chrono::{Datelike, Weekday};

/// Deterministic noise in [-1, 1] (an LCG: the tests must not depend on a seed's luck).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

fn day(n: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 5)
        .and_then(|d| d.checked_add_days(Days::new(n)))
        .expect("date")
}

/// `days` daily prices ending on `today`, each `price(date, noise)`.
fn series(
    today: NaiveDate,
    days: u64,
    seed: u64,
    price: impl Fn(NaiveDate, u64, f64) -> f64,
) -> Vec<(NaiveDate, f64)> {
    let mut noise = Noise(seed);
    (0..days)
        .rev()
        .map(|back| {
            let d = today - Days::new(back);
            (d, price(d, days - 1 - back, noise.next()))
        })
        .collect()
}

/// 10.00 with 1% noise, 15% off on Thursdays.
fn promotion(seed: u64, today: NaiveDate) -> Vec<(NaiveDate, f64)> {
    series(today, 120, seed, |d, _, e| {
        let base = 10.0 * (1.0 + 0.01 * e);
        if d.weekday() == Weekday::Thu {
            base * 0.85
        } else {
            base
        }
    })
}

fn flat(seed: u64, today: NaiveDate) -> Vec<(NaiveDate, f64)> {
    series(today, 120, seed, |_, _, e| 10.0 * (1.0 + 0.02 * e))
}

/// Stock that lasts: the plan may wait to the end of its horizon.
fn plenty() -> StockOutlook {
    StockOutlook {
        available: 1_000,
        lead_time_days: 2,
        demand: Some(DemandOutlook {
            daily: vec![1.0; 14],
            safety_stock: 5.0,
            model: "mstl_ets".into(),
        }),
    }
}

/// Stock for an order by `today + days` (lead time 2, safety stock 5, 10 a day).
fn lasting(days: i64) -> StockOutlook {
    StockOutlook {
        available: 10 * (days + 2) + 5 + 5,
        lead_time_days: 2,
        demand: Some(DemandOutlook {
            daily: vec![10.0; 30],
            safety_stock: 5.0,
            model: "mstl_ets".into(),
        }),
    }
}

#[test]
fn order_by_is_the_last_day_an_order_arrives_before_stock_falls_short() {
    let today = day(0);
    // 100 - 10 a day falls below 5 at the end of day 9 (offset 9); lead 3: order by day 6.
    let stock = StockOutlook {
        available: 100,
        lead_time_days: 3,
        demand: Some(DemandOutlook {
            daily: vec![10.0; 5],
            safety_stock: 5.0,
            model: "ets".into(),
        }),
    };
    assert_eq!(order_by(today, &stock).0, day(6));
    for d in 0..10 {
        assert_eq!(order_by(today, &lasting(d)).0, day(d as u64), "{d}");
    }
    // Already short, or short within the lead time: today.
    let short = StockOutlook {
        available: 3,
        ..stock.clone()
    };
    assert_eq!(order_by(today, &short).0, today);
    // No demand forecast: no day to wait for.
    let unknown = StockOutlook {
        demand: None,
        ..stock
    };
    assert_eq!(order_by(today, &unknown).0, today);
}

#[test]
fn finds_the_weekly_promotion_day_when_it_comes_before_order_by() {
    for (seed, offset) in (0..28u64).map(|i| (i + 1, i)) {
        let today = day(offset);
        let prices = promotion(seed, today);
        let (forecast, plan) = plan_prices(&prices, today, &plenty()).expect("a plan");
        assert!(
            matches!(
                forecast.model,
                PriceModel::SeasonalNaive | PriceModel::WeekdayProfile
            ),
            "{:?}",
            forecast.model
        );
        assert_eq!(
            plan.best_day.weekday(),
            Weekday::Thu,
            "today {today}: {plan:?}"
        );
        assert!(
            plan.best_day < today + Days::new(7),
            "the next Thursday: {plan:?}"
        );
        if today.weekday() == Weekday::Thu {
            assert_eq!(plan.recommendation, Recommendation::BuyNow, "{plan:?}");
        } else {
            assert_eq!(plan.recommendation, Recommendation::Wait, "{plan:?}");
            assert!(
                plan.expected_saving_pct > 12.0 && plan.expected_saving_pct < 18.0,
                "{plan:?}"
            );
            assert!(plan.reason.starts_with("wait until"), "{}", plan.reason);
        }
    }
}

#[test]
fn does_not_wait_for_a_promotion_after_order_by() {
    // Mondays: the next Thursday is three days away; order by tomorrow.
    let today = day(0);
    assert_eq!(today.weekday(), Weekday::Mon);
    let prices = promotion(7, today);
    let (_, plan) = plan_prices(&prices, today, &lasting(1)).expect("a plan");
    assert_eq!(plan.order_by, day(1));
    assert!(plan.best_day <= plan.order_by, "{plan:?}");
    assert_eq!(plan.recommendation, Recommendation::BuyNow, "{plan:?}");
    // With stock until Thursday it waits for it.
    let (_, plan) = plan_prices(&prices, today, &lasting(3)).expect("a plan");
    assert_eq!(
        (plan.best_day, plan.recommendation),
        (day(3), Recommendation::Wait)
    );
}

#[test]
fn recommends_buying_now_on_flat_prices_with_noise() {
    for seed in 1..40 {
        let today = day(seed);
        let (forecast, plan) = plan_prices(&flat(seed, today), today, &plenty()).expect("a plan");
        assert_eq!(
            plan.recommendation,
            Recommendation::BuyNow,
            "seed {seed}: {plan:?}"
        );
        assert_eq!(plan.best_day, today);
        assert_eq!(plan.expected_saving_pct, 0.0);
        assert_eq!(plan.expected_unit_price, plan.unit_price_today);
        assert!(
            forecast
                .days
                .iter()
                .all(|d| d.lower <= d.mean && d.mean <= d.upper),
            "intervals hold the mean"
        );
    }
}

#[test]
fn follows_a_drift_down_to_the_deadline_and_buys_now_on_a_rise() {
    let today = day(30);
    let falling = series(today, 90, 3, |_, i, e| 20.0 - 0.05 * i as f64 + 0.02 * e);
    let (forecast, plan) = plan_prices(&falling, today, &lasting(9)).expect("a plan");
    assert_eq!(forecast.model, PriceModel::Drift);
    assert_eq!(plan.order_by, day(39));
    assert_eq!(plan.best_day, plan.order_by, "{plan:?}");
    assert_eq!(plan.recommendation, Recommendation::Wait);
    let rising = series(today, 90, 4, |_, i, e| 10.0 + 0.05 * i as f64 + 0.02 * e);
    let (forecast, plan) = plan_prices(&rising, today, &plenty()).expect("a plan");
    assert_eq!(forecast.model, PriceModel::Drift);
    assert_eq!(plan.recommendation, Recommendation::BuyNow);
}

#[test]
fn best_day_is_never_after_order_by() {
    let mut checked = 0;
    for seed in 1..30u64 {
        let today = day(seed);
        for shape in 0..3 {
            let prices = match shape {
                0 => promotion(seed, today),
                1 => flat(seed, today),
                _ => series(today, 60, seed, |_, i, e| 15.0 - 0.1 * i as f64 + e),
            };
            for d in [0, 1, 2, 5, 9, 13, 20] {
                let (_, plan) = plan_prices(&prices, today, &lasting(d)).expect("a plan");
                assert!(plan.best_day <= plan.order_by, "{plan:?}");
                assert!(plan.best_day >= today);
                assert_eq!(
                    plan.recommendation == Recommendation::Wait,
                    plan.best_day > today
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 29 * 3 * 7);
}

#[test]
fn short_or_gappy_histories_still_plan_and_a_recorded_price_today_is_used() {
    let today = day(10);
    // Two prices a week apart: the last one holds (naive), no saving to wait for.
    let prices = [(day(1), 4.0), (day(8), 5.0)];
    let (forecast, plan) = plan_prices(&prices, today, &plenty()).expect("a plan");
    assert_eq!(forecast.model, PriceModel::Naive);
    assert_eq!(plan.unit_price_today, 5.0);
    assert_eq!(plan.recommendation, Recommendation::BuyNow);
    // A price recorded today is today's price.
    let prices = [(day(1), 4.0), (today, 6.0)];
    let (_, plan) = plan_prices(&prices, today, &plenty()).expect("a plan");
    assert_eq!(plan.unit_price_today, 6.0);
    // Prices after today are not known yet; none before it: no plan.
    assert!(plan_prices(&[(day(11), 1.0)], today, &plenty()).is_none());
}

/// `date,sku,unit_price` rows of a promotion series for a few skus.
fn promotion_csv(days: u64) -> String {
    let mut text = String::from("date,sku,unit_price\n");
    for (k, sku) in ["a", "b", "c"].iter().enumerate() {
        let end = day(days);
        for (d, p) in promotion(k as u64 + 11, end).iter().take(days as usize) {
            text.push_str(&format!("{d},{sku},{p:.4}\n"));
        }
    }
    text
}

#[test]
fn the_backtest_on_a_promotion_series_realises_most_of_the_possible_saving() {
    let report = run_price_backtest(&promotion_csv(120), day(400)).expect("a report");
    assert_eq!(report.series, 3);
    assert_eq!(report.plans, 3 * (120 - backtest::WARM_UP_DAYS - 13));
    assert!(report.possible_saving > 1.0, "{report:?}");
    assert!(report.realised_share > 0.8, "{report:?}");
    assert!(report.saving_vs_now > 0.0 && report.regret_vs_best >= 0.0);
    assert!(report.to_table().contains("realised"));
    // On flat prices there is nothing to gain: the plan almost never waits, and loses
    // nothing that matters when it does.
    let mut text = String::from("date,sku,unit_price\n");
    for (d, p) in flat(5, day(150)).iter() {
        text.push_str(&format!("{d},f,{p:.4}\n"));
    }
    let flat_report = run_price_backtest(&text, day(400)).expect("a report");
    assert!(
        flat_report.waits * 20 <= flat_report.plans,
        "{flat_report:?}"
    );
    assert!(flat_report.saving_vs_now_pct.abs() < 0.1, "{flat_report:?}");
    assert_eq!(
        run_price_backtest("date,sku,unit_price\n2026-01-01,a,1\n", day(400)),
        Err(backtest::PriceBacktestError::TooShort)
    );
}
