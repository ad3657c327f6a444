//! Ports: what the application needs from the outside world, as traits.

pub mod clock;
pub mod commits;
pub mod decisions;
pub mod demand;
pub mod event_store;
pub mod read_models;

pub use clock::{Clock, ShiftedClock, SystemClock};
pub use commits::CommitListener;
pub use decisions::{DecisionLedger, LlmBudget, RecordedDecision};
pub use demand::*;
pub use event_store::*;
pub use read_models::{PageRequest, PricePoint, ProductFilter, ReadModels};
