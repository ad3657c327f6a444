//! Bounded numbers of the domain.

use crate::ids::ValueError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A count of units: an integer in `0..=1_000_000_000`.
///
/// The bound keeps every sum of a few quantities far inside `i64`, so stock arithmetic never
/// overflows and every value round-trips through both databases' integer columns.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Quantity(u32);

impl Quantity {
    pub const MAX: u32 = 1_000_000_000;
    pub const ZERO: Quantity = Quantity(0);

    pub fn new(raw: i64) -> Result<Self, ValueError> {
        if (0..=i64::from(Self::MAX)).contains(&raw) {
            Ok(Self(raw as u32))
        } else {
            Err(ValueError::new(
                "quantity",
                format!("must be an integer between 0 and {}", Self::MAX),
            ))
        }
    }

    /// A quantity that must be at least one unit (receipts, sales, reservations).
    pub fn positive(raw: i64) -> Result<Self, ValueError> {
        match Self::new(raw)? {
            q if q.0 == 0 => Err(ValueError::new("quantity", "must be at least 1")),
            q => Ok(q),
        }
    }

    /// `raw` brought into `1..=MAX`: for quantities the engine computes itself (a policy's
    /// order size), whose bounds were already applied, so there is no error to report.
    pub fn clamped_positive(raw: i64) -> Self {
        Self(raw.clamp(1, i64::from(Self::MAX)) as u32)
    }

    pub fn get(self) -> i64 {
        i64::from(self.0)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl TryFrom<i64> for Quantity {
    type Error = ValueError;
    fn try_from(raw: i64) -> Result<Self, Self::Error> {
        Self::new(raw)
    }
}

impl From<Quantity> for i64 {
    fn from(q: Quantity) -> i64 {
        q.get()
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Target cycle service level: the chance of not running out within one replenishment cycle.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct ServiceLevel(f64);

impl ServiceLevel {
    pub const DEFAULT: ServiceLevel = ServiceLevel(0.95);

    pub fn new(raw: f64) -> Result<Self, ValueError> {
        if (0.5..=0.999).contains(&raw) {
            Ok(Self(raw))
        } else {
            Err(ValueError::new(
                "service_level",
                "must be between 0.5 and 0.999",
            ))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl Default for ServiceLevel {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TryFrom<f64> for ServiceLevel {
    type Error = ValueError;
    fn try_from(raw: f64) -> Result<Self, Self::Error> {
        Self::new(raw)
    }
}

impl From<ServiceLevel> for f64 {
    fn from(s: ServiceLevel) -> f64 {
        s.0
    }
}

/// A supplier's price for one unit: finite and above zero. Prices are in the supplier's
/// currency, whatever it is; only their comparison over time matters here.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct UnitPrice(f64);

impl UnitPrice {
    /// A bound far above any real unit price that keeps sums of a year of prices finite and
    /// exact enough in `f64`.
    pub const MAX: f64 = 1e12;

    pub fn new(raw: f64) -> Result<Self, ValueError> {
        if raw.is_finite() && raw > 0.0 && raw <= Self::MAX {
            Ok(Self(raw))
        } else {
            Err(ValueError::new(
                "unit_price",
                "must be a number above 0 and at most 1e12",
            ))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for UnitPrice {
    type Error = ValueError;
    fn try_from(raw: f64) -> Result<Self, Self::Error> {
        Self::new(raw)
    }
}

impl From<UnitPrice> for f64 {
    fn from(p: UnitPrice) -> f64 {
        p.0
    }
}

impl fmt::Display for UnitPrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_price_bounds() {
        assert!(UnitPrice::new(0.01).is_ok());
        assert!(UnitPrice::new(1e12).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1.1e12] {
            assert!(UnitPrice::new(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<UnitPrice>("0").is_err());
        assert_eq!(
            serde_json::to_string(&UnitPrice::new(2.5).ok()).ok(),
            Some("2.5".into())
        );
    }

    #[test]
    fn quantity_bounds() {
        assert!(Quantity::new(0).is_ok());
        assert!(Quantity::new(1_000_000_000).is_ok());
        assert!(Quantity::new(1_000_000_001).is_err());
        assert!(Quantity::new(-1).is_err());
        assert!(Quantity::positive(0).is_err());
        assert!(serde_json::from_str::<Quantity>("-3").is_err());
    }

    #[test]
    fn service_level_bounds() {
        assert!(ServiceLevel::new(0.5).is_ok());
        assert!(ServiceLevel::new(0.999).is_ok());
        assert!(ServiceLevel::new(0.4999).is_err());
        assert!(ServiceLevel::new(1.0).is_err());
        assert!(ServiceLevel::new(f64::NAN).is_err());
    }
}
