//! Resident memory of the server through a soak, sampled every few seconds, and what "flat after
//! warm-up" means in numbers: three points (start, after warm-up, end) cannot tell an allocator
//! filling up to its ceiling from a leak, a least-squares slope over the second half of a life
//! can.

use std::sync::Mutex;

/// One reading of the server's VmRSS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Seconds since the traffic started.
    pub at: f64,
    /// 1 for the first process, 2 after the restart.
    pub life: usize,
    pub mib: f64,
}

#[derive(Default)]
pub struct Samples(Mutex<Vec<Sample>>);

impl Samples {
    pub fn push(&self, sample: Sample) {
        if let Ok(mut v) = self.0.lock() {
            v.push(sample);
        }
    }

    pub fn take(&self) -> Vec<Sample> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

/// VmRSS of `pid` in MiB; `None` once the process is gone (the kill window).
pub fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib as f64 / 1024.0)
}

/// Least-squares slope of `(seconds, MiB)` points, in MiB per minute; `None` for fewer than two
/// distinct times.
pub fn slope_per_minute(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_t = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_m = points.iter().map(|p| p.1).sum::<f64>() / n;
    let var: f64 = points.iter().map(|p| (p.0 - mean_t).powi(2)).sum();
    if var == 0.0 {
        return None;
    }
    let cov: f64 = points.iter().map(|p| (p.0 - mean_t) * (p.1 - mean_m)).sum();
    Some(cov / var * 60.0)
}

/// One life of the server, after its warm-up.
#[derive(Debug, Clone, PartialEq)]
pub struct LifeMemory {
    pub life: usize,
    /// (seconds since the traffic started, MiB) at 25, 50, 75 and 100 % of the time after
    /// warm-up (the sample nearest each).
    pub checkpoints: Vec<(f64, f64)>,
    pub peak: f64,
    /// Over all samples after warm-up.
    pub slope_after_warm_up: Option<f64>,
    /// Over the second half of the time after warm-up: the figure "flat" is judged by, since
    /// an allocator still filling its arenas shows in the first half and a leak in both.
    pub slope_second_half: Option<f64>,
}

/// `warm_until`: per life, the time (seconds since the traffic started) its warm-up ended.
pub fn summarize(samples: &[Sample], life: usize, warm_until: f64) -> Option<LifeMemory> {
    let points: Vec<(f64, f64)> = samples
        .iter()
        .filter(|s| s.life == life && s.at >= warm_until)
        .map(|s| (s.at, s.mib))
        .collect();
    let (first, last) = (points.first()?.0, points.last()?.0);
    let nearest = |t: f64| {
        points
            .iter()
            .min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs()))
            .copied()
    };
    let checkpoints = [0.25, 0.5, 0.75, 1.0]
        .iter()
        .filter_map(|f| nearest(first + (last - first) * f))
        .collect();
    let middle = first + (last - first) / 2.0;
    let second_half: Vec<(f64, f64)> = points.iter().copied().filter(|p| p.0 >= middle).collect();
    Some(LifeMemory {
        life,
        checkpoints,
        peak: points.iter().map(|p| p.1).fold(f64::MIN, f64::max),
        slope_after_warm_up: slope_per_minute(&points),
        slope_second_half: slope_per_minute(&second_half),
    })
}

impl std::fmt::Display for LifeMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let slope = |s: Option<f64>| s.map_or("n/a".to_owned(), |s| format!("{s:+.2} MiB/min"));
        write!(
            f,
            "life {}, after warm-up: {}; peak {:.1} MiB; slope {} (second half {})",
            self.life,
            self.checkpoints
                .iter()
                .map(|(t, m)| format!("{m:.1} MiB at {t:.0} s"))
                .collect::<Vec<_>>()
                .join(", "),
            self.peak,
            slope(self.slope_after_warm_up),
            slope(self.slope_second_half),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_is_mib_per_minute() {
        let rising: Vec<(f64, f64)> = (0..10)
            .map(|i| (i as f64 * 6.0, 100.0 + i as f64))
            .collect();
        let s = slope_per_minute(&rising).expect("ten points");
        assert!((s - 10.0).abs() < 1e-9, "{s}");
        let flat: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 50.0)).collect();
        assert_eq!(slope_per_minute(&flat), Some(0.0));
        assert_eq!(slope_per_minute(&[(1.0, 2.0)]), None);
        assert_eq!(slope_per_minute(&[(1.0, 2.0), (1.0, 3.0)]), None);
    }

    #[test]
    fn a_plateau_after_a_climb_has_a_flat_second_half() {
        // Climbs 1 MiB/s for 60 s after warm-up, then stays at 160 MiB for 60 s.
        let samples: Vec<Sample> = (0..=120)
            .map(|i| Sample {
                at: 30.0 + i as f64,
                life: 1,
                mib: 100.0 + f64::from(i.min(60)),
            })
            .chain(std::iter::once(Sample {
                at: 200.0,
                life: 2,
                mib: 999.0,
            }))
            .collect();
        let life = summarize(&samples, 1, 30.0).expect("samples");
        assert_eq!(life.peak, 160.0);
        assert_eq!(life.checkpoints.last(), Some(&(150.0, 160.0)));
        assert!(life.slope_after_warm_up.expect("slope") > 10.0);
        assert_eq!(life.slope_second_half, Some(0.0));
        assert!(summarize(&samples, 3, 0.0).is_none());
    }
}
