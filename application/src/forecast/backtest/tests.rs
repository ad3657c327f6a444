use super::super::test_data::{intermittent_values, start, weekly_values};
use super::*;
use chrono::Days;
use std::fmt::Write as _;

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

/// After every date in the tests.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default()
}

fn series(text: &str) -> Result<Vec<SkuSeries>, BacktestError> {
    series_by_sku(parse_demand_csv(text, today())?)
}

#[test]
fn csv_errors_are_the_readers() {
    let head = "date,sku,quantity\n2024-01-01,a,1\n";
    let err = run_backtest(
        &format!("{head}2024-01-02,a,-3\n"),
        today(),
        BacktestOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "line 3: quantity `-3` is negative");
}

#[test]
fn csv_sums_days_zero_fills_gaps_and_accepts_any_column_order() {
    let text = "\u{feff}sku,quantity,date\nb,2,2024-01-03\na,1,2024-01-01\na,4,2024-01-01\na,2,2024-01-03\n";
    let series = series(text).unwrap();
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
    let report = run_backtest(&text, today(), BacktestOptions::default()).unwrap();
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
        today(),
        BacktestOptions {
            threads: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let two = run_backtest(
        &text,
        today(),
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
        run_backtest(&text, today(), BacktestOptions::default()),
        Err(BacktestError::NothingToScore)
    );
}
