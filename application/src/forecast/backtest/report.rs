//! The totals over all series, as JSON or a table; a sweep over target fill rates, with the
//! forecast's and the oracle's stock against the moving average's at the same fill.

use super::parallel::SeriesOutcome;
use super::WARMUP_DAYS;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Results of one policy over all series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyReport {
    pub fill_rate: f64,
    pub avg_on_hand: f64,
    pub orders: u64,
    pub stockout_days: u64,
    pub mase: Option<f64>,
    /// Root mean square error of each plan's demand forecast summed over the lead time: what
    /// the safety stock has to cover.
    pub lead_time_rmse: Option<f64>,
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
    /// The target fill rate of the forecast, moving-average and oracle policies.
    pub service_level: f64,
    /// The seed when the series were generated around their hindsight means.
    pub generated: Option<u64>,
    pub forecast: PolicyReport,
    pub static_policy: PolicyReport,
    pub movavg: PolicyReport,
    /// Knows each day's mean demand: the bound, not a policy (see `policy::OraclePlanner`).
    pub oracle: PolicyReport,
    /// How often each model was chosen by the forecast policy's refits.
    pub models: BTreeMap<&'static str, usize>,
}

/// What the oracle is, wherever it is printed.
const ORACLE_NOTE: &str = "oracle: knows each day's mean demand in hindsight; not a forecast, the most that knowing demand can buy under this ordering rule";

impl BacktestReport {
    fn policies(&self) -> [(&'static str, &PolicyReport); 4] {
        [
            ("forecast", &self.forecast),
            ("movavg", &self.movavg),
            ("static", &self.static_policy),
            ("oracle", &self.oracle),
        ]
    }

    /// The first line of the tables: what was replayed.
    fn heading(&self) -> String {
        let mut out = format!(
            "{} series, {} days scored after a {WARMUP_DAYS}-day warm-up; lead time {} days",
            self.series, self.days, self.lead_time_days
        );
        if let Some(seed) = self.generated {
            let _ = write!(
                out,
                "; generated: Poisson demand around each series' hindsight mean (seed {seed}), which the oracle knows"
            );
        }
        out
    }

    /// The target each policy was run for: the service level, except for `static`, which has
    /// none (a fixed minimum).
    fn target(&self, policy: &str) -> Option<f64> {
        (policy != "static").then_some(self.service_level)
    }

    /// `{ "series", "days", "lead_time_days", "service_level", "generated", "policies": { name:
    /// {.., "target"} } }`; `generated` is the seed, or null for the file's own demand.
    pub fn to_json(&self) -> serde_json::Value {
        let policies: serde_json::Map<String, serde_json::Value> = self
            .policies()
            .into_iter()
            .map(|(name, p)| {
                let mut value = serde_json::json!(p);
                value["target"] = serde_json::json!(self.target(name));
                (name.to_owned(), value)
            })
            .collect();
        serde_json::json!({
            "series": self.series,
            "days": self.days,
            "lead_time_days": self.lead_time_days,
            "service_level": self.service_level,
            "generated": self.generated,
            "policies": policies,
        })
    }

    /// A plain-text table for people.
    pub fn to_table(&self) -> String {
        let mut out = format!(
            "{}; target fill rate {}\n",
            self.heading(),
            self.service_level
        );
        let _ = writeln!(
            out,
            "{:<10}{:>8}{:>11}{:>13}{:>9}{:>15}{:>8}{:>13}",
            "policy",
            "target",
            "fill rate",
            "avg on hand",
            "orders",
            "stockout days",
            "MASE",
            "lead RMSE"
        );
        for (name, p) in self.policies() {
            let mase = p.mase.map_or_else(|| "-".to_owned(), |m| format!("{m:.3}"));
            let target = self
                .target(name)
                .map_or_else(|| "-".to_owned(), |t| format!("{t}"));
            let lead = p
                .lead_time_rmse
                .map_or_else(|| "-".to_owned(), |m| format!("{m:.1}"));
            let _ = writeln!(
                out,
                "{name:<10}{target:>8}{:>11.4}{:>13.1}{:>9}{:>15}{mase:>8}{lead:>13}",
                p.fill_rate, p.avg_on_hand, p.orders, p.stockout_days
            );
        }
        out.push_str("MASE: MAE of the 1-7 days ahead forecasts of each weekly plan / MAE of seasonal naive\n");
        out.push_str(
            "lead RMSE: root mean square error of each plan's lead-time demand, in units\n",
        );
        let _ = writeln!(out, "{ORACLE_NOTE}");
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

/// One backtest per target fill rate.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepReport {
    pub runs: Vec<BacktestReport>,
}

/// The moving average's stock and orders at the fill rate a policy (`forecast` or `oracle`)
/// reached.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EqualFill {
    pub policy: &'static str,
    pub target: f64,
    pub fill_rate: f64,
    pub avg_on_hand: f64,
    pub orders: u64,
    /// Interpolated between the moving average's runs; `None` outside the fills they reached.
    pub movavg_avg_on_hand: Option<f64>,
    pub movavg_orders: Option<f64>,
}

impl EqualFill {
    /// The policy's stock / moving-average stock at the same fill, minus 1 (negative: less
    /// stock).
    pub fn stock_change(&self) -> Option<f64> {
        self.movavg_avg_on_hand.map(|m| self.avg_on_hand / m - 1.0)
    }

    pub fn orders_change(&self) -> Option<f64> {
        self.movavg_orders.map(|m| self.orders as f64 / m - 1.0)
    }
}

impl SweepReport {
    /// For each run, the moving average at the forecast policy's fill, then the same at the
    /// oracle's.
    pub fn equal_fill(&self) -> Vec<EqualFill> {
        let curve: Vec<(f64, f64, f64)> = self
            .runs
            .iter()
            .map(|r| {
                (
                    r.movavg.fill_rate,
                    r.movavg.avg_on_hand,
                    r.movavg.orders as f64,
                )
            })
            .collect();
        let compared = |policy: &'static str, r: &BacktestReport| {
            let p = if policy == "oracle" {
                &r.oracle
            } else {
                &r.forecast
            };
            let at = interpolate(&curve, p.fill_rate);
            EqualFill {
                policy,
                target: r.service_level,
                fill_rate: p.fill_rate,
                avg_on_hand: p.avg_on_hand,
                orders: p.orders,
                movavg_avg_on_hand: at.map(|(stock, _)| stock),
                movavg_orders: at.map(|(_, orders)| orders),
            }
        };
        ["forecast", "oracle"]
            .into_iter()
            .flat_map(|policy| self.runs.iter().map(move |r| compared(policy, r)))
            .collect()
    }

    /// `{ "runs": [<run>..], "equal_fill": [..] }`, each run as [`BacktestReport::to_json`].
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "runs": self.runs.iter().map(BacktestReport::to_json).collect::<Vec<_>>(),
            "equal_fill": self.equal_fill(),
        })
    }

    pub fn to_table(&self) -> String {
        let mut out = String::new();
        if let Some(first) = self.runs.first() {
            let _ = writeln!(out, "{}", first.heading());
        }
        let _ = writeln!(
            out,
            "{:>7} | {:>25} | {:>25} | {:>17} | {:>25}",
            "target", "forecast", "movavg", "static", "oracle"
        );
        let columns = format!("{:>7} {:>9} {:>7}", "fill", "avg stock", "orders");
        let _ = writeln!(
            out,
            "{:>7} | {columns} | {columns} | {:>7} {:>9} | {columns}",
            "", "fill", "avg stock"
        );
        let cells = |p: &PolicyReport| {
            format!(
                "{:>7.4} {:>9.1} {:>7}",
                p.fill_rate, p.avg_on_hand, p.orders
            )
        };
        for r in &self.runs {
            let s = &r.static_policy;
            let _ = writeln!(
                out,
                "{:>7} | {} | {} | {:>7.4} {:>9.1} | {}",
                r.service_level,
                cells(&r.forecast),
                cells(&r.movavg),
                s.fill_rate,
                s.avg_on_hand,
                cells(&r.oracle)
            );
        }
        if let Some(first) = self.runs.first() {
            let show = |m: Option<f64>| m.map_or_else(|| "-".to_owned(), |m| format!("{m:.3}"));
            let rmse = |m: Option<f64>| m.map_or_else(|| "-".to_owned(), |m| format!("{m:.1}"));
            let _ = writeln!(
                out,
                "MASE (1-7 days ahead, vs seasonal naive): forecast {}, movavg {}, oracle {}",
                show(first.forecast.mase),
                show(first.movavg.mase),
                show(first.oracle.mase)
            );
            let _ = writeln!(
                out,
                "lead-time demand RMSE (units): forecast {}, movavg {}, oracle {}",
                rmse(first.forecast.lead_time_rmse),
                rmse(first.movavg.lead_time_rmse),
                rmse(first.oracle.lead_time_rmse)
            );
        }
        out.push_str("At the fill each policy reached, the moving average (interpolated between its runs):\n");
        let _ = writeln!(
            out,
            "{:<9} {:>7} {:>7} {:>10} {:>13} {:>7} {:>8} {:>13} {:>7}",
            "policy",
            "target",
            "fill",
            "its stock",
            "movavg stock",
            "stock",
            "orders",
            "movavg orders",
            "orders"
        );
        for e in self.equal_fill() {
            let pct = |c: Option<f64>| {
                c.map_or_else(|| "-".to_owned(), |c| format!("{:+.1}%", 100.0 * c))
            };
            let num = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"));
            let _ = writeln!(
                out,
                "{:<9} {:>7} {:>7.4} {:>10.1} {:>13} {:>7} {:>8} {:>13} {:>7}",
                e.policy,
                e.target,
                e.fill_rate,
                e.avg_on_hand,
                num(e.movavg_avg_on_hand),
                pct(e.stock_change()),
                e.orders,
                num(e.movavg_orders.map(f64::round)),
                pct(e.orders_change())
            );
        }
        let _ = writeln!(out, "{ORACLE_NOTE}");
        out
    }
}

/// Stock and orders at `fill`, linearly between the two points of `curve` (fill, stock,
/// orders) whose fills enclose it; `None` outside.
pub(super) fn interpolate(curve: &[(f64, f64, f64)], fill: f64) -> Option<(f64, f64)> {
    let mut points = curve.to_vec();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points.windows(2).find_map(|w| {
        let ((f0, s0, o0), (f1, s1, o1)) = (w[0], w[1]);
        if !(f0 <= fill && fill <= f1) {
            return None;
        }
        let t = if f1 > f0 {
            (fill - f0) / (f1 - f0)
        } else {
            0.0
        };
        Some((s0 + t * (s1 - s0), o0 + t * (o1 - o0)))
    })
}

pub(super) fn count_models(outcomes: &[SeriesOutcome]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for model in outcomes.iter().flat_map(|o| &o.models) {
        *counts.entry(model.name()).or_insert(0) += 1;
    }
    counts
}
