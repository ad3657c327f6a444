//! Sizing the reorder point for a target fill rate: the share of demand served from stock.
//!
//! A reorder point R is the stock position below which an order is placed, for the quantity
//! that brings the position back up to R + Q. Each order starts a cycle that sells about Q + U
//! units, where U is the undershoot below R at the moment the order is placed. What is short in
//! a cycle is the demand during the order's exposure that exceeds the position at ordering:
//! `E[(X - R)^+]` with X = demand over the exposure + U. So the fill rate is about
//! `1 - E[(X - R)^+] / (Q + U)`, and for a target fill f, R solves
//! `E[(X - R)^+] = (1 - f) (Q + U)` (the "Type 2" service level of Silver, Pyke & Peterson).
//!
//! Exposure. Stock is reviewed once a day, after the day's sales; an order placed then arrives
//! before the sales of the day a lead time later. So it is exposed to L - 1 days of demand, and
//! the position it was placed at is already U below R: X = D(L) - d + U, where D(L) is demand over
//! the lead time (what the forecast sums up) and d one day's demand.
//!
//! The expectation `E[(X - R)^+]` is computed one of two ways ([`Spread`]):
//! - normal X with the lead-time forecast error as its spread: `sigma G((R - mu) / sigma)`, G
//!   being the standard normal loss function; for regular demand, where lead-time sums of
//!   daily errors are close to normal;
//! - the mean over lead-time demand scenarios (a bootstrap of the product's own history), for
//!   intermittent demand, whose lead-time demand is mostly zero with a long right tail: a normal
//!   curve there puts stock where no demand ever comes and misses the lumps.
//!
//! R may fall below the lead-time demand (a negative safety stock): with a large Q, a fill of
//! 90% allows a shortfall in most cycles. This is why a cycle service level (the chance of no
//! stockout in a cycle, `z = Phi^-1(level)`) overshoots the fill rate a manager asks for.

/// How uncertain the demand over the lead time is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spread<'a> {
    /// Normal, with this standard deviation of the lead-time demand.
    Normal { sigma: f64 },
    /// Equally likely lead-time demands, already at the forecast's level.
    Scenarios(&'a [f64]),
}

/// What the sizing needs to know about one product, all in units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sizing<'a> {
    /// Expected demand over the lead time.
    pub lead_time_demand: f64,
    pub spread: Spread<'a>,
    /// Expected demand on one day of the lead time (the day the order arrives before).
    pub daily_demand: f64,
    /// Expected undershoot below the reorder point when an order is placed ([`undershoot`]).
    pub undershoot: f64,
    /// Units ordered on top of the reorder point (order up to R + Q).
    pub order_quantity: f64,
}

/// The reorder point (in units, not rounded, never negative) at which the expected fill rate is
/// `fill`. A target of 1 or more asks for no shortage at all (the largest scenario, or 8 sigma).
pub fn reorder_level(sizing: &Sizing<'_>, fill: f64) -> f64 {
    let shift = sizing.undershoot - sizing.daily_demand;
    let allowed = (1.0 - fill).max(0.0) * (sizing.order_quantity + sizing.undershoot).max(0.0);
    let level = match sizing.spread {
        Spread::Normal { sigma } => {
            let mean = sizing.lead_time_demand + shift;
            if sigma > 0.0 {
                mean + sigma * normal_loss_inverse(allowed / sigma)
            } else {
                // No uncertainty: short exactly by what the position lacks.
                mean - allowed
            }
        }
        Spread::Scenarios(scenarios) => {
            let shifted: Vec<f64> = scenarios.iter().map(|x| (x + shift).max(0.0)).collect();
            empirical_level(&shifted, allowed)
        }
    };
    if level.is_finite() {
        level.max(0.0)
    } else {
        0.0
    }
}

/// Expected undershoot below the reorder point when daily demands `d` cross it: for integer
/// quantities and a strict "below", `(E[d^2] / E[d] + 1) / 2` (the mean ladder height of a
/// renewal process). It depends on the size of a day's demand, not on how often there is one:
/// an item selling 3 units once a week crosses 2 units deep on average, like one selling 3
/// every day. 0 without demand.
pub fn undershoot(daily: &[f64]) -> f64 {
    let sum: f64 = daily.iter().sum();
    if sum <= 0.0 {
        return 0.0;
    }
    let squares: f64 = daily.iter().map(|d| d * d).sum();
    (squares / sum + 1.0) / 2.0
}

/// The standard normal loss function `G(k) = E[(Z - k)^+] = phi(k) - k (1 - Phi(k))`.
pub fn normal_loss(k: f64) -> f64 {
    normal_pdf(k) - k * normal_sf(k)
}

/// The k with `G(k) = g`, for g > 0 (G falls strictly from +infinity to 0). Bisection: G(k)
/// is at least -k, so k = -g - 10 is below the answer, and G(10) is about 1e-24.
pub fn normal_loss_inverse(g: f64) -> f64 {
    if g.is_nan() || g <= 0.0 {
        return 10.0;
    }
    let (mut lo, mut hi) = (-g - 10.0, 10.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if normal_loss(mid) > g {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-10 {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// The level R with `mean((x - R)^+) = allowed` over the scenarios. The expected shortage is
/// piecewise linear and falling in R, so bisection between the smallest and largest scenario;
/// below the smallest it is `mean - R`, solved directly.
fn empirical_level(scenarios: &[f64], allowed: f64) -> f64 {
    let n = scenarios.len();
    if n == 0 {
        return 0.0;
    }
    let short = |r: f64| scenarios.iter().map(|x| (x - r).max(0.0)).sum::<f64>() / n as f64;
    let lowest = scenarios.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = scenarios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if allowed <= 0.0 {
        return highest;
    }
    if short(lowest) <= allowed {
        let mean = scenarios.iter().sum::<f64>() / n as f64;
        return mean - allowed;
    }
    let (mut lo, mut hi) = (lowest, highest);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if short(mid) > allowed {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-6 {
            break;
        }
    }
    0.5 * (lo + hi)
}

fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// `1 - Phi(x)`, from erfc.
fn normal_sf(x: f64) -> f64 {
    0.5 * erfc(x / std::f64::consts::SQRT_2)
}

/// Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7
/// everywhere): far finer than any stock decision needs.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_function_matches_the_tables() {
        // Standard tables (e.g. Silver, Pyke & Peterson, appendix B).
        for (k, g) in [
            (0.0, 0.3989),
            (1.0, 0.0833),
            (2.0, 0.008_491),
            (-1.0, 1.0833),
        ] {
            let got = normal_loss(k);
            assert!((got - g).abs() < 1e-4, "G({k}) = {got}, expected {g}");
        }
        for g in [2.5, 0.3989, 0.05, 1e-4] {
            let k = normal_loss_inverse(g);
            assert!((normal_loss(k) - g).abs() < 1e-7 * g.max(1.0), "{g}: {k}");
        }
        assert!((normal_loss_inverse(0.3989) - 0.0).abs() < 1e-3);
    }

    fn normal(ltd: f64, sigma: f64, q: f64) -> Sizing<'static> {
        Sizing {
            lead_time_demand: ltd,
            spread: Spread::Normal { sigma },
            daily_demand: 0.0,
            undershoot: 0.0,
            order_quantity: q,
        }
    }

    #[test]
    fn normal_demand_known_answers() {
        // Textbook case: lead-time demand N(100, 20), Q = 200, fill 0.98: G(k) = 0.02 * 200 / 20
        // = 0.2, k = 0.4928, R = 100 + 0.4928 * 20 = 109.86.
        let r = reorder_level(&normal(100.0, 20.0, 200.0), 0.98);
        assert!((r - 109.86).abs() < 0.02, "{r}");
        // G(k) = 0.3989 at k = 0: a fill of 1 - 0.3989 * sigma / Q needs R = mean exactly.
        let fill = 1.0 - 0.398_942_3 * 20.0 / 200.0;
        assert!((reorder_level(&normal(100.0, 20.0, 200.0), fill) - 100.0).abs() < 1e-3);
        // A low fill with a large order quantity puts R below the mean: G(k) = 0.1 * 400 / 20
        // = 2, k = -1.9912 (G(k) ~ -k + small tail).
        let low = reorder_level(&normal(100.0, 20.0, 400.0), 0.9);
        assert!((low - (100.0 - 1.9912 * 20.0)).abs() < 0.05, "{low}");
        // Higher fill, more stock; no spread and fill 1, exactly the mean.
        assert!(
            reorder_level(&normal(100.0, 20.0, 200.0), 0.99)
                > reorder_level(&normal(100.0, 20.0, 200.0), 0.95)
        );
        assert_eq!(reorder_level(&normal(100.0, 0.0, 200.0), 1.0), 100.0);
        // Never negative.
        assert_eq!(reorder_level(&normal(1.0, 1.0, 1000.0), 0.5), 0.0);
    }

    #[test]
    fn the_review_shifts_the_exposure() {
        // Exposure of L - 1 days plus the undershoot: mean 100 - 15 + 8.
        let s = Sizing {
            daily_demand: 15.0,
            undershoot: 8.0,
            ..normal(100.0, 20.0, 200.0)
        };
        // G(k) = 0.02 * (200 + 8) / 20 = 0.208.
        let k = normal_loss_inverse(0.208);
        assert!((reorder_level(&s, 0.98) - (93.0 + 20.0 * k)).abs() < 1e-6);
        assert!((undershoot(&[3.0; 10]) - 2.0).abs() < 1e-12);
        // Three units once in four days undershoot as deep as three every day.
        assert!((undershoot(&[3.0, 0.0, 0.0, 0.0]) - 2.0).abs() < 1e-12);
        assert_eq!(undershoot(&[0.0; 5]), 0.0);
    }

    #[test]
    fn scenarios_meet_the_fill_they_are_sized_for() {
        // Lumpy lead-time demand: 0 in 70% of cycles, 10 in 20%, 40 in 10%.
        let mut scenarios = vec![0.0; 70];
        scenarios.extend([10.0; 20]);
        scenarios.extend([40.0; 10]);
        let q = 20.0;
        let sizing = Sizing {
            lead_time_demand: 6.0,
            spread: Spread::Scenarios(&scenarios),
            daily_demand: 0.0,
            undershoot: 0.0,
            order_quantity: q,
        };
        for fill in [0.8, 0.9, 0.95, 0.99] {
            let r = reorder_level(&sizing, fill);
            let short = scenarios.iter().map(|x| (x - r).max(0.0)).sum::<f64>() / 100.0;
            assert!((1.0 - short / q - fill).abs() < 1e-4, "{fill}: R {r}");
        }
        // E(short) at R = 10 is 0.1 * 30 = 3: fill 0.85 exactly.
        assert!((reorder_level(&sizing, 0.85) - 10.0).abs() < 1e-4);
        assert_eq!(reorder_level(&sizing, 1.0), 40.0);
    }
}
