//! Loading a product's state from the event store: snapshot plus tail, never the whole stream.

use crate::ports::{EventStore, RecordedEvent, Snapshot, StoreError, StreamId};
use chrono::{DateTime, Utc};
use restock_domain::{Product, ProductEvent};
use serde::{Deserialize, Serialize};

/// Bump when `Product`'s serialized shape changes: older snapshots are then ignored and the
/// state is folded from events again (and re-snapshotted by the next command).
pub const PRODUCT_SNAPSHOT_SCHEMA: i32 = 1;

/// The aggregate plus when it last changed; this is what a snapshot holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductState {
    pub product: Product,
    pub updated_at: Option<DateTime<Utc>>,
}

impl ProductState {
    pub fn apply(&mut self, event: &ProductEvent, recorded_at: DateTime<Utc>) {
        self.product.apply_event(event);
        self.updated_at = Some(recorded_at);
    }

    pub fn version(&self) -> i64 {
        i64::try_from(self.product.version).unwrap_or(i64::MAX)
    }

    pub fn to_snapshot(&self) -> Result<Snapshot, StoreError> {
        Ok(Snapshot {
            version: self.version(),
            schema: PRODUCT_SNAPSHOT_SCHEMA,
            state: serde_json::to_value(self).map_err(StoreError::new)?,
        })
    }

    /// Fold recorded events (oldest first) onto this state.
    pub fn fold(mut self, events: &[RecordedEvent]) -> Result<Self, StoreError> {
        for recorded in events {
            let event = decode(recorded)?;
            self.apply(&event, recorded.recorded_at);
        }
        Ok(self)
    }
}

/// Decode a stored product event. A failure means the log holds something this build cannot
/// read: surfaced as a store error, never skipped.
pub fn decode(recorded: &RecordedEvent) -> Result<ProductEvent, StoreError> {
    // From a reference: `from_value` would need an owned copy of every payload.
    ProductEvent::deserialize(&recorded.payload).map_err(|e| {
        StoreError(format!(
            "event {} ({}) does not decode: {e}",
            recorded.event_id, recorded.event_type
        ))
    })
}

pub async fn load_product(
    store: &dyn EventStore,
    stream: &StreamId,
) -> Result<ProductState, StoreError> {
    let loaded = store.load(stream, PRODUCT_SNAPSHOT_SCHEMA).await?;
    let base = match loaded.snapshot {
        Some(snapshot) => serde_json::from_value(snapshot.state).map_err(StoreError::new)?,
        None => ProductState::default(),
    };
    base.fold(&loaded.events)
}

/// The state as the system knew it at `as_of`: folded from the events recorded by then.
pub async fn load_product_as_of(
    store: &dyn EventStore,
    stream: &StreamId,
    as_of: DateTime<Utc>,
) -> Result<ProductState, StoreError> {
    let events = store.read_stream_until(stream, as_of).await?;
    ProductState::default().fold(&events)
}
