use async_trait::async_trait;
use restock_application::ports::{Position, RecordedEvent, StoreError};
use restock_infrastructure::{DbError, DbTx};

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("projection {0}: {1}")]
    Other(&'static str, String),
}

/// Whether a batch is history being replayed after a rebuild. Projectors with effects outside
/// their own tables (the agent) must not act on replayed events.
#[derive(Debug, Clone, Copy)]
pub struct Replay {
    /// Events at or before this position are replayed history.
    pub until: Position,
}

impl Replay {
    pub fn is_replayed(&self, event: &RecordedEvent) -> bool {
        event.position <= self.until
    }
}

/// Turns events into rows. `apply` runs inside the runner's transaction, which also moves the
/// checkpoint: rows and checkpoint commit together or not at all, so every event is applied
/// exactly once.
#[async_trait]
pub trait Projector: Send + Sync + 'static {
    /// Stable name: the checkpoint's key and the `--name` of `restock projections`.
    fn name(&self) -> &'static str;

    /// The tables this projector owns; a rebuild empties them.
    fn tables(&self) -> &'static [&'static str];

    /// Apply a batch of events (global commit order, oldest first).
    async fn apply(
        &self,
        tx: &mut DbTx,
        events: &[RecordedEvent],
        replay: Replay,
    ) -> Result<(), ProjectionError>;

    /// Called after a batch's transaction committed, for a projector whose rows someone waits
    /// on (the agent worker waits for triggers).
    fn committed(&self) {}
}
