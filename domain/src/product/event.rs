//! What happened to a product. Events are facts: `apply` never fails on them, and old events
//! must keep deserializing, so fields are only ever added with defaults.

use super::command::ProductDetails;
use crate::decider::Decider;
use crate::ids::{RefillId, ReservationId, Sku};
use crate::quantity::{Quantity, UnitPrice};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Units of demand on one day, from imported history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyDemand {
    pub date: NaiveDate,
    pub quantity: Quantity,
}

/// A supplier's unit price on one day, from an imported price list.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DailyPrice {
    pub date: NaiveDate,
    pub unit_price: UnitPrice,
}

/// A minimum computed by the forecast engine, with what is needed to explain it later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReorderPoint {
    pub reorder_point: Quantity,
    pub lead_time_demand: f64,
    pub safety_stock: f64,
    pub model: String,
    pub service_level: f64,
    pub lead_time_days: u16,
    pub computed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ProductEvent {
    ProductRegistered {
        sku: Sku,
        #[serde(flatten)]
        details: ProductDetails,
    },
    ProductDetailsChanged {
        #[serde(flatten)]
        details: ProductDetails,
    },
    StockReceived {
        quantity: Quantity,
        reference: Option<String>,
    },
    StockSold {
        quantity: Quantity,
        reference: Option<String>,
    },
    StockCounted {
        counted: Quantity,
        previous_on_hand: i64,
        reason: String,
    },
    MinimumSet {
        quantity: Quantity,
    },
    MinimumCleared,
    DemandHistoryImported {
        days: Vec<DailyDemand>,
    },
    StockReserved {
        reservation_id: ReservationId,
        quantity: Quantity,
        expires_at: DateTime<Utc>,
    },
    ReservationConfirmed {
        reservation_id: ReservationId,
        quantity: Quantity,
    },
    ReservationReleased {
        reservation_id: ReservationId,
        quantity: Quantity,
    },
    ReservationExpired {
        reservation_id: ReservationId,
        quantity: Quantity,
    },
    ReorderPointRecalculated {
        #[serde(flatten)]
        point: ReorderPoint,
    },
    RefillRequested {
        refill_id: RefillId,
        quantity: Quantity,
        reason: String,
        decided_by: Decider,
        trigger_event_id: Option<Uuid>,
        /// Added after the first release: older events read as `None`, and `None` is not
        /// written, so events without it keep their exact bytes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        buy_on: Option<NaiveDate>,
        /// The unit price the purchase plan expected on `buy_on`; added with supplier prices,
        /// absent (and not written) like `buy_on`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_unit_price: Option<UnitPrice>,
    },
    RefillReceived {
        refill_id: RefillId,
        quantity: Quantity,
    },
    RefillCancelled {
        refill_id: RefillId,
    },
    /// Supplier unit prices for some days (one upload's days for this product, in date order);
    /// a later price for the same day replaces the earlier one.
    SupplierPricesRecorded {
        prices: Vec<DailyPrice>,
    },
}

impl ProductEvent {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::ProductRegistered { .. } => "ProductRegistered",
            Self::ProductDetailsChanged { .. } => "ProductDetailsChanged",
            Self::StockReceived { .. } => "StockReceived",
            Self::StockSold { .. } => "StockSold",
            Self::StockCounted { .. } => "StockCounted",
            Self::MinimumSet { .. } => "MinimumSet",
            Self::MinimumCleared => "MinimumCleared",
            Self::DemandHistoryImported { .. } => "DemandHistoryImported",
            Self::StockReserved { .. } => "StockReserved",
            Self::ReservationConfirmed { .. } => "ReservationConfirmed",
            Self::ReservationReleased { .. } => "ReservationReleased",
            Self::ReservationExpired { .. } => "ReservationExpired",
            Self::ReorderPointRecalculated { .. } => "ReorderPointRecalculated",
            Self::RefillRequested { .. } => "RefillRequested",
            Self::RefillReceived { .. } => "RefillReceived",
            Self::RefillCancelled { .. } => "RefillCancelled",
            Self::SupplierPricesRecorded { .. } => "SupplierPricesRecorded",
        }
    }

    /// The change this event makes to on_hand, for the movements ledger. `None` for events
    /// that do not touch on_hand.
    pub fn on_hand_delta(&self) -> Option<i64> {
        match self {
            Self::StockReceived { quantity, .. } | Self::RefillReceived { quantity, .. } => {
                Some(quantity.get())
            }
            Self::StockSold { quantity, .. } | Self::ReservationConfirmed { quantity, .. } => {
                Some(-quantity.get())
            }
            Self::StockCounted {
                counted,
                previous_on_hand,
                ..
            } => Some(counted.get() - previous_on_hand),
            _ => None,
        }
    }

    /// Units that left as real demand on the day the event occurred (feeds the forecast).
    pub fn demand(&self) -> Option<Quantity> {
        match self {
            Self::StockSold { quantity, .. } | Self::ReservationConfirmed { quantity, .. } => {
                Some(*quantity)
            }
            _ => None,
        }
    }
}

impl cqrs_es::DomainEvent for ProductEvent {
    fn event_type(&self) -> String {
        self.type_name().to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
