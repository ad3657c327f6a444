//! The mean demand of each day as seen in hindsight: what the oracle policy knows.
//!
//! Each series' weekday profile (its mean per weekday over the whole series, relative to its
//! overall mean) times a 56-day centred average of the weekday-adjusted demand, future days
//! included: the level, trend and yearly season, known after the fact. No forecast made on
//! the day could know it; on real data it is the best guess of the mean there is, and its
//! remaining error is the demand's own noise (plus whatever swings faster than eight weeks).

use chrono::{Datelike, NaiveDate};

/// Days either side of a day in its centred average: eight weeks in all, long enough to
/// average out the daily noise, short enough to follow the yearly season.
const HALF_WINDOW: usize = 28;

/// The hindsight mean of each day of `demand`, which starts on `start`.
pub(super) fn hindsight_mean(demand: &[u64], start: NaiveDate) -> Vec<f64> {
    let n = demand.len();
    if n == 0 {
        return Vec::new();
    }
    let first = start.weekday().num_days_from_monday() as usize;
    let weekday = |i: usize| (first + i) % 7;
    let overall = demand.iter().sum::<u64>() as f64 / n as f64;
    let (mut sums, mut counts) = ([0.0; 7], [0usize; 7]);
    for (i, &d) in demand.iter().enumerate() {
        sums[weekday(i)] += d as f64;
        counts[weekday(i)] += 1;
    }
    let factor: Vec<f64> = (0..7)
        .map(|w| {
            if counts[w] > 0 && overall > 0.0 {
                sums[w] / counts[w] as f64 / overall
            } else {
                1.0
            }
        })
        .collect();
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0);
    for (i, &d) in demand.iter().enumerate() {
        let f = factor[weekday(i)];
        let adjusted = if f > 0.0 { d as f64 / f } else { 0.0 };
        prefix.push(prefix[i] + adjusted);
    }
    (0..n)
        .map(|t| {
            let (a, b) = (t.saturating_sub(HALF_WINDOW), (t + HALF_WINDOW).min(n));
            (prefix[b] - prefix[a]) / (b - a) as f64 * factor[weekday(t)]
        })
        .collect()
}
