//! Restock's domain: value types parsed once at the edge, and the Product aggregate.
//!
//! Pure code: no I/O, no clock, no async runtime. Time comes in through commands so that a
//! decision can be re-run later on the same inputs and give the same answer.

pub mod decider;
pub mod ids;
pub mod product;
pub mod quantity;

pub use decider::Decider;
pub use ids::{RefillId, ReservationId, Sku, TenantId, ValueError};
pub use product::{
    command::{ProductCommand, ProductDetails},
    error::ProductError,
    event::{DailyDemand, DailyPrice, ProductEvent, ReorderPoint},
    MinimumSource, Product, RefillStatus, ReservationStatus, CLOSED_RESERVATIONS_KEPT,
};
pub use quantity::{Quantity, ServiceLevel, UnitPrice};
