//! Price forecasting models for supplier price series: small, closed-form, and each matching
//! a pattern suppliers have. Prices are daily, a missing day carries the last price forward
//! (a price holds until the supplier changes it).
//!
//! - `naive`: the last price holds (a list price that changes rarely);
//! - `mean`: the mean of the last four weeks (a flat price with noise);
//! - `seasonal_naive`: the price seven days earlier (a weekly promotion day);
//! - `weekday_profile`: the mean of the same weekday over the last four weeks (a weekly
//!   promotion, less noisy than one week);
//! - `drift`: the last price plus the average daily change over the last four weeks (a price
//!   creeping up or down).

use serde::{Deserialize, Serialize};

/// Days the mean and the drift look back, and weeks the weekday profile averages.
const WINDOW_DAYS: usize = 28;
const PROFILE_WEEKS: usize = 4;
const WEEK: usize = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriceModel {
    Naive,
    Mean,
    SeasonalNaive,
    WeekdayProfile,
    Drift,
}

impl PriceModel {
    /// In order of preference on a tie: the simpler model first.
    pub const ALL: [Self; 5] = [
        Self::Naive,
        Self::Mean,
        Self::SeasonalNaive,
        Self::WeekdayProfile,
        Self::Drift,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Naive => "naive",
            Self::Mean => "mean",
            Self::SeasonalNaive => "seasonal_naive",
            Self::WeekdayProfile => "weekday_profile",
            Self::Drift => "drift",
        }
    }

    /// Values needed to fit at all.
    pub fn min_history(self) -> usize {
        match self {
            Self::Naive | Self::Mean => 1,
            Self::SeasonalNaive | Self::WeekdayProfile => WEEK,
            Self::Drift => 2,
        }
    }

    /// Forecast `horizon` days after the last value of `y` (day 1 is the day after it).
    /// `None` when `y` is too short for the model.
    pub fn forecast(self, y: &[f64], horizon: usize) -> Option<Vec<f64>> {
        let n = y.len();
        if n < self.min_history() {
            return None;
        }
        let last = y[n - 1];
        let out = match self {
            Self::Naive => vec![last; horizon],
            Self::Mean => {
                let window = &y[n.saturating_sub(WINDOW_DAYS)..];
                vec![window.iter().sum::<f64>() / window.len() as f64; horizon]
            }
            // Day h repeats the same weekday of the last week: y[n - 7 + (h - 1) % 7].
            Self::SeasonalNaive => (1..=horizon)
                .map(|h| y[n - WEEK + (h - 1) % WEEK])
                .collect(),
            Self::WeekdayProfile => {
                let weeks = (n / WEEK).clamp(1, PROFILE_WEEKS);
                (1..=horizon)
                    .map(|h| {
                        let offset = (h - 1) % WEEK;
                        let sum: f64 = (1..=weeks).map(|k| y[n - k * WEEK + offset]).sum();
                        sum / weeks as f64
                    })
                    .collect()
            }
            Self::Drift => {
                let span = (n - 1).min(WINDOW_DAYS);
                let slope = (last - y[n - 1 - span]) / span as f64;
                (1..=horizon).map(|h| last + slope * h as f64).collect()
            }
        };
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_model_continues_its_own_pattern() {
        let weekly: Vec<f64> = (0..28)
            .map(|i| if i % 7 == 3 { 8.0 } else { 10.0 })
            .collect();
        // The last value is day 27 (weekday 6); day h = 4 is weekday 3, the promotion.
        let f = PriceModel::SeasonalNaive
            .forecast(&weekly, 8)
            .expect("fits");
        assert_eq!(f, [10.0, 10.0, 10.0, 8.0, 10.0, 10.0, 10.0, 10.0]);
        let f = PriceModel::WeekdayProfile
            .forecast(&weekly, 7)
            .expect("fits");
        assert_eq!(f[3], 8.0);
        assert_eq!(f[0], 10.0);
        let rising: Vec<f64> = (0..40).map(|i| 5.0 + 0.1 * i as f64).collect();
        let f = PriceModel::Drift.forecast(&rising, 2).expect("fits");
        assert!(
            (f[0] - 9.0).abs() < 1e-9 && (f[1] - 9.1).abs() < 1e-9,
            "{f:?}"
        );
        assert_eq!(
            PriceModel::Mean.forecast(&[1.0, 3.0], 2),
            Some(vec![2.0, 2.0])
        );
        assert_eq!(PriceModel::Naive.forecast(&[1.0, 3.0], 1), Some(vec![3.0]));
        assert_eq!(PriceModel::SeasonalNaive.forecast(&[1.0; 6], 1), None);
    }
}
