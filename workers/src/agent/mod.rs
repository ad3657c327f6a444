//! The agent worker and its settings.

pub mod config;
mod worker;

pub use config::AgentConfig;
#[cfg(feature = "fault-injection")]
pub use config::Fault;
pub use worker::{AgentWorker, WorkerError};
