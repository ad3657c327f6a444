use crate::quantity::Quantity;

/// A command the product refuses in its current state. Nothing is recorded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProductError {
    #[error("product is not registered")]
    NotRegistered,
    #[error("insufficient stock: requested {requested}, available {available}")]
    InsufficientStock { requested: Quantity, available: i64 },
    #[error("reservation not found")]
    ReservationNotFound,
    #[error("reservation has expired")]
    ReservationExpired,
    #[error("reservation was released")]
    ReservationReleased,
    #[error("reservation was already confirmed")]
    ReservationConfirmed,
    #[error("refill not found")]
    RefillNotFound,
    #[error("a refill is already open for this product")]
    RefillAlreadyOpen,
    #[error("refill is {0} and cannot change")]
    RefillClosed(&'static str),
}
