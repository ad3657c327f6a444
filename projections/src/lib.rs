//! Projections: the projection runner and the projectors that turn the event log into read
//! tables. Each projector owns its tables; each runner owns one checkpoint.

pub mod agent;
pub mod expiry;
pub mod projector;
pub mod read_models;
pub mod reservations;
pub mod runner;
pub mod scheduler;
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
        Arc::new(agent::refills::Refills),
        agent,
    ]
}
