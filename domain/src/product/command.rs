//! What can be asked of a product. Every command is already validated: its fields are domain
//! types, so `decide` only checks the rules that depend on the product's state.

use super::event::{DailyDemand, DailyPrice, ReorderPoint};
use crate::decider::Decider;
use crate::ids::{RefillId, ReservationId, Sku, ValueError};
use crate::quantity::{Quantity, ServiceLevel, UnitPrice};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The descriptive part of a product, set by `PUT /v1/products/{sku}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductDetails {
    pub name: String,
    pub lead_time_days: u16,
    pub service_level: ServiceLevel,
    pub unit: Option<String>,
    pub supplier: Option<String>,
    pub reorder_quantity: Option<Quantity>,
}

impl ProductDetails {
    pub const DEFAULT_LEAD_TIME_DAYS: u16 = 7;
    pub const MAX_LEAD_TIME_DAYS: i64 = 365;
    pub const MAX_NAME_CHARS: usize = 200;

    pub fn new(
        name: String,
        lead_time_days: Option<i64>,
        service_level: Option<f64>,
        unit: Option<String>,
        supplier: Option<String>,
        reorder_quantity: Option<i64>,
    ) -> Result<Self, ValueError> {
        let name_chars = name.chars().count();
        if name.trim().is_empty() || name_chars > Self::MAX_NAME_CHARS {
            return Err(ValueError::new("name", "must be 1 to 200 characters"));
        }
        let lead_time_days = match lead_time_days {
            None => Self::DEFAULT_LEAD_TIME_DAYS,
            Some(d) if (0..=Self::MAX_LEAD_TIME_DAYS).contains(&d) => d as u16,
            Some(_) => {
                return Err(ValueError::new(
                    "lead_time_days",
                    "must be an integer between 0 and 365",
                ))
            }
        };
        let service_level = service_level
            .map(ServiceLevel::new)
            .transpose()?
            .unwrap_or_default();
        for (field, value) in [("unit", &unit), ("supplier", &supplier)] {
            if value.as_ref().is_some_and(|v| v.chars().count() > 200) {
                return Err(ValueError::new(field, "must be at most 200 characters"));
            }
        }
        let reorder_quantity = reorder_quantity
            .map(|q| {
                Quantity::positive(q).map_err(|_| {
                    ValueError::new(
                        "reorder_quantity",
                        "must be an integer between 1 and 1000000000",
                    )
                })
            })
            .transpose()?;
        Ok(Self {
            name,
            lead_time_days,
            service_level,
            unit,
            supplier,
            reorder_quantity,
        })
    }

    /// Details given to a sku that first appears in imported demand history or prices.
    pub fn defaults_for(sku: &Sku) -> Self {
        Self {
            name: sku.to_string(),
            lead_time_days: Self::DEFAULT_LEAD_TIME_DAYS,
            service_level: ServiceLevel::DEFAULT,
            unit: None,
            supplier: None,
            reorder_quantity: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProductCommand {
    /// Create the product, or change its details (an upsert, like the `PUT` that sends it).
    Register {
        sku: Sku,
        details: ProductDetails,
    },
    Receive {
        quantity: Quantity,
        reference: Option<String>,
    },
    Sell {
        quantity: Quantity,
        reference: Option<String>,
    },
    /// A physical count: the counted number becomes on_hand.
    Count {
        counted: Quantity,
        reason: String,
    },
    /// `Some` pins a manual minimum; `None` hands the minimum back to the forecast.
    SetMinimum {
        quantity: Option<Quantity>,
    },
    /// Past demand for forecasting. Registers the sku with default details when it is new.
    ImportDemand {
        sku: Sku,
        days: Vec<DailyDemand>,
    },
    /// Supplier prices. Like demand history, registers the sku with default details when new.
    RecordPrices {
        sku: Sku,
        prices: Vec<DailyPrice>,
    },
    Reserve {
        reservation_id: ReservationId,
        quantity: Quantity,
        expires_at: DateTime<Utc>,
    },
    ConfirmReservation {
        reservation_id: ReservationId,
        now: DateTime<Utc>,
    },
    ReleaseReservation {
        reservation_id: ReservationId,
    },
    /// Sent by the engine's expiry sweeper; a no-op unless the reservation is active and due.
    ExpireReservation {
        reservation_id: ReservationId,
        now: DateTime<Utc>,
    },
    /// A freshly computed forecast minimum; recorded only when it differs from the one in force.
    RecalculateReorderPoint {
        point: ReorderPoint,
    },
    RequestRefill {
        refill_id: RefillId,
        quantity: Quantity,
        reason: String,
        decided_by: Decider,
        trigger_event_id: Option<Uuid>,
        /// The day the person (or a purchase plan) says to buy on, when one was given.
        buy_on: Option<NaiveDate>,
        /// The unit price the purchase plan expects on `buy_on`, when a plan gave the day.
        expected_unit_price: Option<UnitPrice>,
    },
    /// `None` receives the quantity that was requested.
    ReceiveRefill {
        refill_id: RefillId,
        quantity: Option<Quantity>,
    },
    CancelRefill {
        refill_id: RefillId,
    },
}
