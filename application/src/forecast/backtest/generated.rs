//! Generated demand with a known mean (`restock backtest --generated SEED`): each series is
//! replaced by Poisson draws around its own hindsight mean, so the data keeps the sample's
//! weekday x yearly x level structure, and the oracle then knows the exact mean. On such data
//! the oracle's only error is Poisson noise, the least any forecast of count demand can have.

use super::hindsight::hindsight_mean;
use super::history::SkuSeries;

/// Poisson demand around each series' hindsight mean; the mean goes with it as `known_mean`.
/// Series are drawn in order from one generator, so the result depends only on `seed`.
pub(super) fn poisson_around_hindsight(series: &[SkuSeries], seed: u64) -> Vec<SkuSeries> {
    let mut rng = SplitMix64(seed);
    series
        .iter()
        .map(|s| {
            let mean = hindsight_mean(&s.demand, s.start);
            SkuSeries {
                sku: s.sku.clone(),
                start: s.start,
                demand: poisson_draws(&mean, &mut rng),
                known_mean: Some(mean),
            }
        })
        .collect()
}

/// One Poisson draw per day, around each day's mean.
pub(super) fn poisson_draws(mean: &[f64], rng: &mut SplitMix64) -> Vec<u64> {
    mean.iter().map(|&m| rng.poisson(m)).collect()
}

/// Steele, Lea and Flood's SplitMix64: small, fast and good enough for demand draws; no random
/// crate needed, and every run with the same seed sees the same numbers.
pub(super) struct SplitMix64(pub(super) u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Knuth's multiplication method; a mean above 30 is split in two halves (a sum of
    /// independent Poisson draws is Poisson), so that exp(-mean) never underflows and the
    /// loop stays short.
    pub(super) fn poisson(&mut self, mean: f64) -> u64 {
        if !mean.is_finite() || mean <= 0.0 {
            return 0;
        }
        if mean > 30.0 {
            return self.poisson(mean / 2.0) + self.poisson(mean / 2.0);
        }
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
