//! Workers: what acts on its own, outside any request. Each runs as one task until shutdown,
//! reads what the projections wrote, and changes state only through ordinary commands.
//!
//! - [`agent`]: decides on the triggers the agent projection recorded and executes the decision.
//! - [`delivery`]: posts notifications to the configured webhook, with retries.
//! - [`expiry`]: releases reservations whose time ran out.
//! - [`scheduler`]: recomputes every tenant's minimums on an interval.

pub mod agent;
pub mod delivery;
pub mod expiry;
pub mod scheduler;

// The crash-test hooks abort the process on purpose; they belong to the test suite's debug
// builds only, so an optimised build that carries them is refused outright.
#[cfg(all(feature = "fault-injection", not(debug_assertions)))]
compile_error!("the fault-injection feature is for test builds only, never a release build");
