//! Tests of the public entry point, `forecast_product`.

use super::test_data::{
    day_after, from_values, intermittent_series, intermittent_values, weekly_series, weekly_values,
};
use super::*;

fn sl(level: f64) -> ServiceLevel {
    ServiceLevel::new(level).unwrap()
}

fn run(series: &DemandSeries, lead_time: u16, level: f64) -> ForecastResult {
    forecast_product(series, lead_time, sl(level), day_after(series))
        .unwrap()
        .unwrap()
}

#[test]
fn weekly_series_uses_mstl_and_a_sane_reorder_point() {
    let series = weekly_series(365, 1);
    let r = run(&series, 7, 0.95);
    assert_eq!(r.model, ModelKind::MstlEts);
    assert_eq!(r.forecast.len(), MIN_HORIZON_DAYS);
    assert_eq!(r.forecast[0].date, day_after(&series));
    // A week of ~20 a day: about 140 units. The safety stock of a 95% fill rate is negative
    // here: an order of a week's demand allows 7 units short per cycle, more than the expected
    // shortfall at the lead-time demand itself, and the order arrives before the seventh day's
    // sales. It stays within a few sigma either way.
    assert!(
        (125.0..=160.0).contains(&r.lead_time_demand),
        "{}",
        r.lead_time_demand
    );
    assert!(
        r.safety_stock.abs() < 3.0 * r.sigma_lead_time + 20.0,
        "{} {}",
        r.safety_stock,
        r.sigma_lead_time
    );
    let expected = (r.lead_time_demand + r.safety_stock - 1e-9).ceil();
    assert_eq!(r.reorder_point.get() as f64, expected);
    assert!(r
        .forecast
        .iter()
        .all(|d| d.lower <= d.mean && d.mean <= d.upper));
    assert!(
        r.holdout_mase.is_some_and(|m| m < 1.0),
        "{:?}",
        r.holdout_mase
    );
}

#[test]
fn intermittent_series_gets_a_croston_model_and_a_modest_reorder_point() {
    let values = intermittent_values(365, 3);
    let max_daily = values.iter().copied().fold(0.0, f64::max);
    let r = run(&from_values(values), 7, 0.95);
    assert!(r.intermittent);
    assert!(
        matches!(
            r.model,
            ModelKind::Croston | ModelKind::Sba | ModelKind::Tsb
        ),
        "{:?}",
        r.model
    );
    let rop = r.reorder_point.get() as f64;
    assert!(rop > 0.0, "an item that sells needs some stock");
    assert!(rop < max_daily * 8.0, "rop {rop}, max daily {max_daily}");
    assert!(r.lead_time_demand.is_finite() && r.safety_stock.is_finite());
}

#[test]
fn higher_service_level_raises_the_reorder_point() {
    for series in [weekly_series(200, 5), intermittent_series(200, 5)] {
        let low = run(&series, 7, 0.80).reorder_point;
        let high = run(&series, 7, 0.99).reorder_point;
        assert!(high > low, "{high} <= {low}");
    }
}

#[test]
fn longer_lead_time_raises_the_reorder_point() {
    for series in [weekly_series(200, 6), intermittent_series(200, 6)] {
        let short = run(&series, 3, 0.95);
        let long = run(&series, 21, 0.95);
        assert!(long.reorder_point > short.reorder_point);
        assert_eq!(long.forecast.len(), 21, "the forecast covers the lead time");
    }
}

#[test]
fn short_history_uses_the_flagged_mean_fallback() {
    let series = from_values(vec![3.0, 5.0, 4.0, 0.0, 6.0, 2.0, 4.0, 5.0, 3.0, 4.0]);
    let r = run(&series, 7, 0.95);
    assert_eq!(r.model, ModelKind::MeanFallback);
    assert_eq!(r.model_name(), "mean_fallback");
    assert!((r.forecast[0].mean - 3.6).abs() < 1e-9);
    assert!((r.lead_time_demand - 25.2).abs() < 1e-9);
    assert!(r.safety_stock > 0.0);
    assert_eq!(r.holdout_mae, None);
}

#[test]
fn no_history_means_no_forecast() {
    let today = super::test_data::start();
    assert_eq!(
        forecast_product(&DemandSeries::default(), 7, sl(0.95), today),
        Ok(None)
    );
    // History that lies entirely in the future of `today` is ignored too.
    let later = weekly_series(30, 1);
    assert_eq!(forecast_product(&later, 7, sl(0.95), today), Ok(None));
}

#[test]
fn a_today_at_the_end_of_the_calendar_is_an_error_not_a_panic() {
    let today = NaiveDate::MAX;
    let series = DemandSeries::from_points([(today - Days::new(3), 2.0)]).unwrap();
    assert_eq!(
        forecast_product(&series, 7, sl(0.95), today),
        Err(ForecastError::DateOutOfRange { today })
    );
}

#[test]
fn days_since_the_last_sale_count_as_zero_demand() {
    let series = weekly_series(200, 8);
    let fresh = run(&series, 7, 0.95);
    let month_later = day_after(&series) + Days::new(30);
    let stale = forecast_product(&series, 7, sl(0.95), month_later)
        .unwrap()
        .unwrap();
    assert!(stale.lead_time_demand < fresh.lead_time_demand / 2.0);
    assert_eq!(stale.forecast[0].date, month_later);
}

#[test]
fn censored_stockout_days_do_not_drag_the_forecast_down() {
    let mut values = weekly_values(120, 9);
    let n = values.len();
    values[n - 7..].fill(0.0); // out of stock for the last week: nothing sold
    let as_zeros = from_values(values.clone());
    let last_week = (n - 7..n).map(|i| super::test_data::start() + Days::new(i as u64));
    let as_censored = from_values(values).with_censored(last_week).unwrap();
    let zeros = run(&as_zeros, 7, 0.95);
    let censored = run(&as_censored, 7, 0.95);
    assert!(
        censored.lead_time_demand > zeros.lead_time_demand * 1.5,
        "censored {} vs zeros {}",
        censored.lead_time_demand,
        zeros.lead_time_demand
    );
    // And close to the true level of about 140 a week.
    assert!(
        censored.lead_time_demand > 110.0,
        "{}",
        censored.lead_time_demand
    );
}

#[test]
fn all_zero_history_gives_a_zero_reorder_point() {
    let r = run(&from_values(vec![0.0; 60]), 7, 0.95);
    assert_eq!(r.reorder_point.get(), 0);
    assert_eq!(r.lead_time_demand, 0.0);
}

#[test]
fn result_converts_to_the_domain_record() {
    let r = run(&weekly_series(100, 2), 7, 0.95);
    let now = chrono::DateTime::from_timestamp(1_796_637_600, 0).expect("an instant");
    let point = r.to_reorder_point(now);
    assert_eq!(point.reorder_point, r.reorder_point);
    assert_eq!(point.model, r.model_name());
    assert_eq!(point.lead_time_days, 7);
    assert_eq!(point.computed_at, now);
}
