//! Reproducible synthetic demand for the tests: a tiny LCG, so that no random crate is needed
//! and every run sees the same numbers.

use super::series::DemandSeries;
use chrono::NaiveDate;

/// Knuth's MMIX linear congruential generator.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Self(
            seed.wrapping_mul(2_862_933_555_777_941_757)
                .wrapping_add(3_037_000_493),
        )
    }

    /// Uniform in [0, 1), from the high bits (the low bits of an LCG are poor).
    pub fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Approximately standard normal (Irwin-Hall: sum of 12 uniforms minus 6).
    pub fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
    }

    /// Poisson by Knuth's multiplication method (fine for small means).
    pub fn poisson(&mut self, mean: f64) -> u32 {
        let limit = (-mean).exp();
        let (mut k, mut p) = (0, 1.0);
        loop {
            p *= self.uniform();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
}

pub fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 1, 2).unwrap_or_default()
}

/// A strong weekday pattern (weekends busy) around 20 units a day, with noise.
pub fn weekly_values(days: usize, seed: u64) -> Vec<f64> {
    const PATTERN: [f64; 7] = [-6.0, -4.0, -2.0, 0.0, 4.0, 12.0, 8.0];
    let mut rng = Lcg::new(seed);
    (0..days)
        .map(|i| {
            (20.0 + PATTERN[i % 7] + 2.0 * rng.normal())
                .round()
                .max(0.0)
        })
        .collect()
}

pub fn weekly_series(days: usize, seed: u64) -> DemandSeries {
    from_values(weekly_values(days, seed))
}

/// Demand on about one day in eight, of 1 to a few units.
pub fn intermittent_values(days: usize, seed: u64) -> Vec<f64> {
    let mut rng = Lcg::new(seed);
    (0..days)
        .map(|_| {
            if rng.uniform() < 0.12 {
                f64::from(1 + rng.poisson(2.0))
            } else {
                0.0
            }
        })
        .collect()
}

pub fn intermittent_series(days: usize, seed: u64) -> DemandSeries {
    from_values(intermittent_values(days, seed))
}

pub fn from_values(values: Vec<f64>) -> DemandSeries {
    let censored = vec![false; values.len()];
    DemandSeries::from_days(start(), values, censored).unwrap()
}

/// The day after the last day of `series`: when a forecast made from it starts.
pub fn day_after(series: &DemandSeries) -> NaiveDate {
    series.last_date().and_then(|d| d.succ_opt()).unwrap()
}
