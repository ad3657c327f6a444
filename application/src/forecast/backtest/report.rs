//! The totals over all series, as JSON or a table.

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

pub(super) fn count_models(outcomes: &[SeriesOutcome]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for model in outcomes.iter().flat_map(|o| &o.models) {
        *counts.entry(model.name()).or_insert(0) += 1;
    }
    counts
}
