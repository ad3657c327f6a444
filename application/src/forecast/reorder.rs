//! Reorder point from a forecast, and the refill trigger.
//!
//! reorder point = lead-time demand + safety stock, where
//! - lead-time demand = the sum of the daily forecasts over the lead time L;
//! - safety stock = what it takes to serve the service level's share of demand (a fill rate,
//!   not the chance of no stockout), sized by [`super::fill_rate`]; negative when a low target
//!   lets the reorder point sit below the lead-time demand.
//!
//! Stock is reviewed once a day, so an order placed today can at best arrive tomorrow: a lead
//! time of 0 is treated as 1 day (otherwise the reorder point would be 0 and a product with
//! demand would never be reordered).

use super::fill_rate::{reorder_level, Sizing, Spread};
use restock_domain::Quantity;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReorderError {
    #[error("service level must be strictly between 0 and 1, got {0}")]
    BadServiceLevel(f64),
    #[error("the {what} is not a finite number >= 0 (got {value})")]
    NotFinite { what: &'static str, value: f64 },
    #[error("the forecast covers {got} days but the lead time needs {needed}")]
    ForecastTooShort { got: usize, needed: usize },
    #[error("reorder point {value:.0} exceeds the largest quantity ({max})", max = Quantity::MAX)]
    TooLarge { value: f64 },
}

/// The parts of a reorder point, kept for explaining it later.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReorderCalc {
    pub lead_time_demand: f64,
    pub safety_stock: f64,
    pub reorder_point: Quantity,
}

/// Days of demand the reorder point must cover (see the module documentation).
pub fn effective_lead_time(lead_time_days: u16) -> usize {
    usize::from(lead_time_days.max(1))
}

/// The reorder point for a target fill rate `service_level` (see [`super::fill_rate`]): the
/// lead-time demand is the sum of the first L daily forecasts, the order quantity the whole
/// units of it (what the agent and the backtest order on top of the reorder point), and
/// `undershoot` the expected depth below the reorder point when an order is placed.
pub fn compute_reorder_point(
    daily_mean: &[f64],
    spread: Spread<'_>,
    undershoot: f64,
    lead_time_days: u16,
    service_level: f64,
) -> Result<ReorderCalc, ReorderError> {
    let days = effective_lead_time(lead_time_days);
    let covered = daily_mean
        .get(..days)
        .ok_or(ReorderError::ForecastTooShort {
            got: daily_mean.len(),
            needed: days,
        })?;
    let lead_time_demand = finite("lead-time demand", covered.iter().sum())?;
    if let Spread::Normal { sigma } = spread {
        finite("lead-time forecast error", sigma)?;
    }
    let undershoot = finite("review undershoot", undershoot)?;
    if !(service_level > 0.0 && service_level < 1.0) {
        return Err(ReorderError::BadServiceLevel(service_level));
    }
    let order_quantity = whole_units(lead_time_demand)?.get() as f64;
    let sizing = Sizing {
        lead_time_demand,
        spread,
        daily_demand: lead_time_demand / days as f64,
        undershoot,
        order_quantity,
    };
    let level = finite("reorder point", reorder_level(&sizing, service_level))?;
    Ok(ReorderCalc {
        lead_time_demand,
        // Negative when a low fill target lets the reorder point sit below the lead-time demand.
        safety_stock: level - lead_time_demand,
        reorder_point: whole_units(level)?,
    })
}

/// The z-value of a cycle service level.
pub fn service_level_z(service_level: f64) -> Result<f64, ReorderError> {
    inverse_normal_cdf(service_level).ok_or(ReorderError::BadServiceLevel(service_level))
}

/// Units up, so that 12.3 units of demand are covered by 13 units. A tolerance absorbs float
/// noise: 7 days * 1.0 summing to 7.000000000001 must stay 7.
pub fn whole_units(value: f64) -> Result<Quantity, ReorderError> {
    let units = (value - 1e-9).ceil().max(0.0);
    if units > f64::from(Quantity::MAX) {
        return Err(ReorderError::TooLarge { value });
    }
    Quantity::new(units as i64).map_err(|_| ReorderError::TooLarge { value })
}

fn finite(what: &'static str, value: f64) -> Result<f64, ReorderError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(ReorderError::NotFinite { what, value })
    }
}

/// Stock position: what can be sold now plus what is already on its way. Counting open
/// refills keeps an order that is already placed from being placed again.
pub fn position(available: i64, incoming: impl IntoIterator<Item = Quantity>) -> i64 {
    incoming
        .into_iter()
        .fold(available, |sum, q| sum.saturating_add(q.get()))
}

/// A refill is due when the position is below the reorder point (the domain's
/// `below_minimum` uses the same strict comparison).
pub fn needs_refill(position: i64, reorder_point: Quantity) -> bool {
    position < reorder_point.get()
}

/// Inverse of the standard normal CDF by Acklam's rational approximation (relative error
/// below 1.2e-9, far finer than any service level). `None` outside (0, 1).
pub fn inverse_normal_cdf(p: f64) -> Option<f64> {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.024_25;

    if !(p > 0.0 && p < 1.0) {
        return None;
    }
    // The tails use a different rational function in sqrt(-2 ln p); the upper tail by symmetry.
    let tail = |p: f64| {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let x = if p < P_LOW {
        tail(p)
    } else if p > 1.0 - P_LOW {
        -tail(1.0 - p)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_matches_the_table() {
        for (p, z) in [
            (0.90, 1.2816),
            (0.95, 1.6449),
            (0.975, 1.96),
            (0.99, 2.3263),
        ] {
            let got = service_level_z(p).unwrap();
            assert!((got - z).abs() < 1e-3, "z({p}) = {got}, expected {z}");
        }
        assert!((inverse_normal_cdf(0.5).unwrap()).abs() < 1e-12);
        // Both tails, symmetric.
        let low = inverse_normal_cdf(0.001).unwrap();
        assert!(
            (low + 3.0902).abs() < 1e-3 && (inverse_normal_cdf(0.999).unwrap() + low).abs() < 1e-9
        );
        for bad in [0.0, 1.0, -0.1, f64::NAN] {
            assert!(service_level_z(bad).is_err());
        }
    }

    fn normal(sigma: f64) -> Spread<'static> {
        Spread::Normal { sigma }
    }

    #[test]
    fn reorder_point_is_sized_for_the_fill_rate_and_rounds_up() {
        // 7 days of 10: lead-time demand 70, order quantity 70, sigma 20 over the lead time, no
        // undershoot. Exposure 70 - 10 = 60; fill 0.95: G(k) = 0.05 * 70 / 20 = 0.175, k =
        // 0.5772, R = 60 + 11.54 = 71.54 -> 72.
        let calc = compute_reorder_point(&[10.0; 14], normal(20.0), 0.0, 7, 0.95).unwrap();
        assert!((calc.lead_time_demand - 70.0).abs() < 1e-9);
        assert!(
            (calc.safety_stock - 1.545).abs() < 0.01,
            "{}",
            calc.safety_stock
        );
        assert_eq!(calc.reorder_point.get(), 72);
        // Certain demand: exposure 6 days of 1 plus an undershoot of 1 is 7, less the allowed
        // shortfall 0.05 * (7 + 1) = 0.4: 6.6 -> 7.
        let exact = compute_reorder_point(&[1.0; 7], normal(0.0), 1.0, 7, 0.95).unwrap();
        assert_eq!(exact.reorder_point.get(), 7);
    }

    #[test]
    fn reorder_point_grows_with_fill_rate_and_lead_time() {
        let rop = |l, sl| {
            compute_reorder_point(&[5.0; 30], normal(3.0 * f64::from(l).sqrt()), 3.0, l, sl)
                .unwrap()
                .reorder_point
        };
        assert!(rop(7, 0.99) > rop(7, 0.90));
        assert!(rop(14, 0.95) > rop(7, 0.95));
        assert_eq!(rop(0, 0.5), rop(1, 0.5), "lead time 0 covers one day");
        // A low target with a large order quantity: below the lead-time demand.
        let low = compute_reorder_point(&[50.0; 7], normal(20.0), 0.0, 7, 0.8).unwrap();
        assert!(low.safety_stock < 0.0 && low.reorder_point.get() < 350);
    }

    #[test]
    fn absurd_inputs_are_errors() {
        assert!(matches!(
            compute_reorder_point(&[f64::NAN; 7], normal(1.0), 0.0, 7, 0.95),
            Err(ReorderError::NotFinite { .. })
        ));
        assert!(matches!(
            compute_reorder_point(&[1.0; 7], normal(f64::INFINITY), 0.0, 7, 0.95),
            Err(ReorderError::NotFinite { .. })
        ));
        assert!(matches!(
            compute_reorder_point(&[1e12; 7], normal(0.0), 0.0, 7, 0.95),
            Err(ReorderError::TooLarge { .. })
        ));
        assert!(matches!(
            compute_reorder_point(&[1.0; 3], normal(0.0), 0.0, 7, 0.95),
            Err(ReorderError::ForecastTooShort { got: 3, needed: 7 })
        ));
        assert!(matches!(
            compute_reorder_point(&[1.0; 7], normal(1.0), 0.0, 7, 1.0),
            Err(ReorderError::BadServiceLevel(_))
        ));
    }

    #[test]
    fn position_counts_open_refills() {
        let q = |n| Quantity::new(n).unwrap();
        let pos = position(-2, [q(5), q(10)]);
        assert_eq!(pos, 13);
        assert!(needs_refill(pos, q(14)));
        assert!(!needs_refill(pos, q(13)));
    }
}
