//! Use cases and ports. Knows the domain; knows nothing of HTTP or SQL.

pub mod agent;
pub mod chat;
pub(crate) mod dated_csv;
pub mod demand_csv;
pub mod demand_import;
pub mod forecast;
pub mod ports;
pub mod price_csv;
pub mod price_import;
pub mod product_commands;
pub mod product_state;
pub mod product_view;
pub mod purchase;
pub mod refill_audit;
pub mod thresholds;
pub mod tools;
pub mod views;

pub use product_commands::{
    CommandContext, CommandError, Executed, IdempotencyRequest, Outcome, ProductCommands,
};
pub use product_state::{load_product, load_product_as_of, ProductState};
pub use product_view::ProductView;
