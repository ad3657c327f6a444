//! Identifiers that are validated once, where they enter the system, and trusted afterwards.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Why a raw value was refused. The `field` names what the user sent, for error messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValueError {
    pub field: &'static str,
    pub reason: String,
}

impl ValueError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// A tenant (one store manager's account): `[a-z0-9][a-z0-9-]{0,62}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let mut chars = raw.chars();
        let first_ok =
            matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if first_ok && rest_ok && raw.len() <= 63 {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValueError::new(
                "tenant",
                "must match [a-z0-9][a-z0-9-]{0,62}",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stock keeping unit, unique within a tenant: `[A-Za-z0-9._-]{1,64}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValueError::new("sku", "must match [A-Za-z0-9._-]{1,64}"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype_conversions {
    ($t:ty) => {
        impl TryFrom<String> for $t {
            type Error = ValueError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
string_newtype_conversions!(TenantId);
string_newtype_conversions!(Sku);

macro_rules! uuid_id {
    ($(#[$doc:meta])* $t:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $t(pub Uuid);

        impl $t {
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}
uuid_id!(
    /// A reservation of units of one product.
    ReservationId
);
uuid_id!(
    /// A purchase request for one product, opened by a manager or by the agent.
    RefillId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_accepts_the_documented_shape_only() {
        assert!(TenantId::parse("acme").is_ok());
        assert!(TenantId::parse("0-shop-9").is_ok());
        assert!(TenantId::parse(&"a".repeat(63)).is_ok());
        for bad in ["", "-acme", "Acme", "ac_me", "ac me", &"a".repeat(64)] {
            assert!(TenantId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn sku_accepts_the_documented_shape_only() {
        assert!(Sku::parse("A-1.b_2").is_ok());
        assert!(Sku::parse(&"x".repeat(64)).is_ok());
        for bad in ["", "a/b", "a b", "é", &"x".repeat(65)] {
            assert!(Sku::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn ids_refuse_invalid_values_when_deserialized() {
        assert!(serde_json::from_str::<Sku>("\"a b\"").is_err());
        assert_eq!(
            serde_json::from_str::<Sku>("\"ab\"")
                .ok()
                .map(|s| s.to_string()),
            Some("ab".to_string())
        );
    }
}
