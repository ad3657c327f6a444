//! Projections: the projection runner and the projectors that turn the event log into read
//! tables. Each projector owns its tables; each runner owns one checkpoint. How the tables are
//! written and queried lives with the other adapters (`restock_infrastructure::read_models`);
//! what acts on the tables (the agent worker, the expiry sweeper) lives in `restock_workers`.
//!
//! - [`runner`]: reads the log in commit order, applies a batch, moves the checkpoint.
//! - [`projector`]: the trait a projector implements.
//! - [`stock_levels`], [`reservations`], [`refills`], [`prices`], [`agent`]: the projectors.
//! - [`wake`]: waking runners (here and in other processes) when events are committed.

pub mod agent;
mod agent_state;
pub mod prices;
pub mod projector;
pub mod refills;
pub mod reservations;
pub mod runner;
pub mod stock_levels;
pub mod wake;

pub use projector::{ProjectionError, Projector, Replay};
pub use runner::{ProjectionRunner, ProjectionStatus};
pub use wake::Wakeup;

use std::sync::Arc;

/// Every projection this build runs, in the order they are reported.
pub fn all() -> Vec<Arc<dyn Projector>> {
    with_agent(Arc::default())
}

/// [`all`], with an agent projector whose trigger signal a worker listens to.
pub fn with_agent(agent: Arc<agent::AgentProjector>) -> Vec<Arc<dyn Projector>> {
    vec![
        Arc::new(stock_levels::StockLevels),
        Arc::new(reservations::Reservations),
        Arc::new(refills::Refills),
        Arc::new(prices::Prices),
        agent,
    ]
}
