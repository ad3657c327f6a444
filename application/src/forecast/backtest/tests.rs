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
    for p in [
        &report.forecast,
        &report.static_policy,
        &report.movavg,
        &report.oracle,
    ] {
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
    assert_eq!(
        keys(&json),
        [
            "days",
            "generated",
            "lead_time_days",
            "policies",
            "series",
            "service_level"
        ]
    );
    assert_eq!(json["generated"], serde_json::Value::Null);
    assert_eq!(
        keys(&json["policies"]),
        ["forecast", "movavg", "oracle", "static"]
    );
    assert_eq!(json["policies"]["forecast"]["target"], 0.95);
    assert_eq!(json["policies"]["oracle"]["target"], 0.95);
    assert_eq!(
        json["policies"]["static"]["target"],
        serde_json::Value::Null
    );
    assert_eq!(
        keys(&json["policies"]["forecast"]),
        [
            "avg_on_hand",
            "fill_rate",
            "lead_time_rmse",
            "mase",
            "orders",
            "stockout_days",
            "target"
        ]
    );
    let table = report.to_table();
    assert!(
        table.contains("forecast")
            && table.contains("movavg")
            && table.contains("static")
            && table.contains("oracle: knows each day's mean demand in hindsight")
            && table.contains("target"),
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

/// Intermittent demand of three kinds, `n` series each, `days` long: lumpy (a demand on about
/// one day in eight, of 1 to about 12 units), slow movers (Poisson with a mean of 0.3 a day)
/// and items that stop selling (lumpy, then nothing for the last 40% of the days).
fn intermittent_kinds(n: u64, days: usize) -> Vec<(String, Vec<f64>)> {
    use super::super::test_data::Lcg;
    let mut all = Vec::new();
    for seed in 0..n {
        let mut rng = Lcg::new(1000 + seed);
        let lumpy: Vec<f64> = (0..days)
            .map(|_| {
                if rng.uniform() < 0.12 {
                    f64::from(1 + rng.poisson(3.0) + rng.poisson(1.0) * 3)
                } else {
                    0.0
                }
            })
            .collect();
        let slow: Vec<f64> = (0..days).map(|_| f64::from(rng.poisson(0.3))).collect();
        let stops = days * 3 / 5;
        let dying: Vec<f64> = (0..days)
            .map(|i| {
                if i < stops && rng.uniform() < 0.2 {
                    f64::from(1 + rng.poisson(2.0))
                } else {
                    0.0
                }
            })
            .collect();
        all.push((format!("lumpy{seed}"), lumpy));
        all.push((format!("slow{seed}"), slow));
        all.push((format!("dying{seed}"), dying));
    }
    all
}

#[test]
fn intermittent_demand_meets_its_fill_target_with_less_stock_than_the_moving_average() {
    let kinds = intermittent_kinds(8, 500);
    let refs: Vec<(&str, Vec<f64>)> = kinds.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let text = csv(&refs);
    let targets: Vec<ServiceLevel> = [0.8, 0.9, 0.95, 0.97, 0.99, 0.999]
        .iter()
        .map(|&t| ServiceLevel::new(t).unwrap())
        .collect();
    let sweep = run_sweep(&text, today(), BacktestOptions::default(), &targets).unwrap();
    let at_95 = &sweep.runs[2];
    assert_eq!(at_95.service_level, 0.95);
    let fill = at_95.forecast.fill_rate;
    assert!((0.92..=0.98).contains(&fill), "{}", sweep.to_table());
    // Less stock than the moving average at the same fill: interpolated between its runs, or,
    // when no run of it reaches this fill, less stock than its run with the highest fill.
    let equal = sweep
        .equal_fill()
        .into_iter()
        .find(|e| e.policy == "forecast" && e.target == 0.95)
        .unwrap();
    let best_movavg = sweep
        .runs
        .iter()
        .map(|r| &r.movavg)
        .max_by(|a, b| a.fill_rate.total_cmp(&b.fill_rate))
        .unwrap();
    let less = match equal.stock_change() {
        Some(change) => change < 0.0,
        None => {
            fill > best_movavg.fill_rate && at_95.forecast.avg_on_hand < best_movavg.avg_on_hand
        }
    };
    assert!(less, "{}", sweep.to_table());
    // Higher targets reach higher fills, for both policies.
    for pair in sweep.runs.windows(2) {
        assert!(pair[1].forecast.fill_rate >= pair[0].forecast.fill_rate - 0.005);
        assert!(pair[1].movavg.fill_rate >= pair[0].movavg.fill_rate - 0.005);
    }
}

#[test]
fn equal_fill_interpolates_between_the_moving_average_runs() {
    let curve = [(0.95, 100.0, 50.0), (0.90, 80.0, 40.0)];
    let (stock, orders) = report::interpolate(&curve, 0.925).unwrap();
    assert!((stock - 90.0).abs() < 1e-9 && (orders - 45.0).abs() < 1e-9);
    assert_eq!(report::interpolate(&curve, 0.96), None);
}

const WEEKDAY: [f64; 7] = [0.8, 0.85, 0.9, 1.0, 1.1, 1.3, 1.05];

/// Each day's mean demand: a weekday profile (busy weekends) times a yearly season of +-35%
/// around `level`.
fn weekday_yearly_mean(days: usize, level: f64) -> Vec<f64> {
    (0..days)
        .map(|i| {
            let season = 1.0 + 0.35 * (2.0 * std::f64::consts::PI * i as f64 / 365.25).sin();
            level * WEEKDAY[i % 7] * season
        })
        .collect()
}

/// Poisson demand around [`weekday_yearly_mean`], with that mean known, for levels from 4 to
/// about 60 units a day.
fn poisson_series(n: usize, days: usize) -> Vec<SkuSeries> {
    let mut rng = generated::SplitMix64(20261129);
    (0..n)
        .map(|i| {
            let mean = weekday_yearly_mean(days, 4.0 + 5.0 * i as f64);
            SkuSeries {
                sku: format!("p{i}"),
                start: start(),
                demand: generated::poisson_draws(&mean, &mut rng),
                known_mean: Some(mean),
            }
        })
        .collect()
}

/// The oracle (with each series' known mean) or the moving average over all series, for one
/// target; no forecast fitting, so that many targets stay cheap.
fn known_mean_policy(series: &[SkuSeries], oracle: bool, target: f64) -> PolicyReport {
    let options = BacktestOptions {
        service_level: ServiceLevel::new(target).unwrap(),
        ..Default::default()
    };
    let totals: Vec<_> = series
        .iter()
        .map(|s| {
            let mut planner: Box<dyn policy::Planner> = if oracle {
                Box::new(policy::OraclePlanner {
                    options,
                    mean: s.known_mean.clone().unwrap(),
                })
            } else {
                Box::new(policy::MovingAveragePlanner { options })
            };
            simulation::simulate(s, options, planner.as_mut()).unwrap()
        })
        .collect();
    PolicyTotals::sum(totals.iter())
}

#[test]
fn oracle_with_a_known_mean_hits_its_fill_target_with_less_stock_than_the_moving_average() {
    let series = poisson_series(12, 730);
    let curve: Vec<(f64, f64, f64)> = [0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998]
        .iter()
        .map(|&t| {
            let m = known_mean_policy(&series, false, t);
            (m.fill_rate, m.avg_on_hand, m.orders as f64)
        })
        .collect();
    for target in [0.9, 0.95, 0.98] {
        let oracle = known_mean_policy(&series, true, target);
        assert!(
            (oracle.fill_rate - target).abs() <= 0.015,
            "target {target}: {oracle:?}"
        );
        let (movavg_stock, _) = report::interpolate(&curve, oracle.fill_rate)
            .unwrap_or_else(|| panic!("no moving-average run around {oracle:?}: {curve:?}"));
        assert!(
            oracle.avg_on_hand < movavg_stock,
            "target {target}: oracle {oracle:?}, moving average {movavg_stock}"
        );
    }
}

#[test]
fn the_oracle_plans_with_the_mean_it_is_handed() {
    let series = poisson_series(6, 400);
    let oracle = known_mean_policy(&series, true, 0.95);
    // Its only error is the Poisson noise of lead-time demand: variance = the lead-time mean.
    let lead = 7;
    let (mut squares, mut plans) = (0.0, 0.0);
    for s in &series {
        let mean = s.known_mean.as_ref().unwrap();
        for today in (WARMUP_DAYS..mean.len() - lead).step_by(REFIT_EVERY_DAYS) {
            squares += mean[today..today + lead].iter().sum::<f64>();
            plans += 1.0;
        }
    }
    let poisson_rmse = (squares / plans).sqrt();
    let rmse = oracle.lead_time_rmse.unwrap();
    assert!(
        (rmse / poisson_rmse - 1.0).abs() < 0.1,
        "{rmse} against {poisson_rmse}"
    );
    // Handed a mean 30% too low, it orders too little and serves less.
    let low: Vec<SkuSeries> = series
        .iter()
        .map(|s| SkuSeries {
            known_mean: s
                .known_mean
                .as_ref()
                .map(|m| m.iter().map(|x| 0.7 * x).collect()),
            ..s.clone()
        })
        .collect();
    let short = known_mean_policy(&low, true, 0.95);
    assert!(
        short.fill_rate < oracle.fill_rate - 0.03,
        "{short:?} against {oracle:?}"
    );
}

#[test]
fn hindsight_mean_recovers_a_weekday_profile_and_follows_the_season() {
    // No noise: a flat level times the weekday profile comes back exactly.
    let whole: Vec<u64> = (0..364)
        .map(|i| (1000.0 * WEEKDAY[i % 7]).round() as u64)
        .collect();
    let mean = hindsight::hindsight_mean(&whole, start());
    for (m, x) in mean.iter().zip(&whole) {
        assert!((m - *x as f64).abs() < 1e-6, "{m} against {x}");
    }
    // A yearly season of +-35% is followed to within a few percent away from the ends.
    let truth = weekday_yearly_mean(730, 1000.0);
    let demand: Vec<u64> = truth.iter().map(|x| x.round() as u64).collect();
    let mean = hindsight::hindsight_mean(&demand, start());
    for (m, t) in mean.iter().zip(&truth).skip(28).take(730 - 56) {
        assert!((m / t - 1.0).abs() < 0.03, "{m} against {t}");
    }
}

#[test]
fn generated_demand_keeps_each_series_total_and_hands_its_mean_to_the_oracle() {
    let text = csv(&[("a", weekly_values(200, 5)), ("b", weekly_values(150, 6))]);
    let (real, _) = read_series(&text, today(), None).unwrap();
    let (generated, _) = read_series(&text, today(), Some(3)).unwrap();
    assert_eq!(read_series(&text, today(), Some(3)).unwrap().0, generated);
    assert_ne!(read_series(&text, today(), Some(4)).unwrap().0, generated);
    for (r, g) in real.iter().zip(&generated) {
        assert_eq!(
            (&r.sku, r.start, r.demand.len()),
            (&g.sku, g.start, g.demand.len())
        );
        assert_ne!(r.demand, g.demand);
        let total = |d: &[u64]| d.iter().sum::<u64>() as f64;
        assert!(
            (total(&g.demand) / total(&r.demand) - 1.0).abs() < 0.05,
            "{} against {}",
            total(&g.demand),
            total(&r.demand)
        );
        let mean = g.known_mean.as_ref().unwrap();
        assert_eq!(mean, &hindsight::hindsight_mean(&r.demand, r.start));
    }
    assert!(real.iter().all(|s| s.known_mean.is_none()));

    let options = BacktestOptions {
        generated: Some(3),
        ..Default::default()
    };
    let report = run_backtest(&text, today(), options).unwrap();
    assert_eq!(report.generated, Some(3));
    assert_eq!(report.to_json()["generated"], 3);
    assert!(
        report.to_table().contains("generated"),
        "{}",
        report.to_table()
    );
}
