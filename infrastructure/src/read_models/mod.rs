//! Read tables: how each is written by its projector and how the API queries it.
//! Every query filters on `tenant_id`; on Postgres row-level security backs that up.

pub mod conversations;
pub mod daily_demand;
mod daily_rows;
pub mod decisions;
pub mod forecasts;
pub mod movements;
pub mod notifications;
pub mod prices;
pub mod products;
pub mod queries;
pub mod refills;
pub mod reservations;
