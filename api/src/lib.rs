//! The HTTP API (docs/api.md) and the server that runs it with the projections.

pub mod dashboard;
pub mod extract;
pub mod mcp;
pub mod metrics;
pub mod problem;
pub mod rate_limit;
pub mod routes;
pub mod server;
pub mod state;
pub mod telemetry;

pub use server::{RunningServer, ServerConfig, StartError};
pub use state::AppState;
