//! Adapters: databases, the event store, configuration, auth tokens, the LLM client.

pub mod db;
pub mod direct_pool;
pub mod event_store;
pub mod llm;
pub mod notifier;
pub mod read_models;
pub mod testing;
pub mod tokens;

pub use db::{Backend, Db, DbError, DbTx, COMMITS_CHANNEL};
