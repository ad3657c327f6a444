//! Executing commands on product streams: load, decide, append, and retry on a lost race.
//!
//! Concurrency is optimistic across processes (the store refuses an append whose expected
//! version moved) and orderly within one: commands on the same stream queue on a striped lock
//! instead of all racing and retrying, so a hot product under load degrades into a queue, not a
//! storm of conflicts.

use crate::ports::{
    AppendError, AppendRequest, Clock, CommitListener, EventMetadata, EventStore,
    IdempotencyRecord, NewEvent, RecordedEvent, ReplyStatus, StoreError, StreamAlias, StreamId,
};
use crate::product_state::{load_product, ProductState};
use chrono::{DateTime, SubsecRound, Utc};
use moka::future::Cache;
use restock_domain::{Product, ProductCommand, ProductError, ProductEvent, Sku, TenantId};
use serde_json::Value;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use uuid::Uuid;

/// Attempts per command before a conflict is reported to the caller.
const MAX_ATTEMPTS: usize = 8;
const LOCK_STRIPES: usize = 256;
/// A snapshot is stored every this many events of a stream.
const SNAPSHOT_EVERY: i64 = 32;
/// Product states kept in memory between commands.
const CACHED_STATES: u64 = 50_000;

/// Who is asking, and in answer to what. Built once per request.
#[derive(Debug, Clone)]
pub struct CommandContext {
    pub tenant: TenantId,
    pub actor: String,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    /// When it happened in the world; defaults to now.
    pub occurred_at: Option<DateTime<Utc>>,
    pub idempotency: Option<IdempotencyRequest>,
}

impl CommandContext {
    pub fn new(tenant: TenantId, actor: impl Into<String>) -> Self {
        Self {
            tenant,
            actor: actor.into(),
            correlation_id: Uuid::new_v4(),
            causation_id: None,
            occurred_at: None,
            idempotency: None,
        }
    }
}

/// An `Idempotency-Key` and the hash of the request it was sent with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRequest {
    pub key: String,
    pub request_hash: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Rejected(#[from] ProductError),
    #[error("the product changed concurrently too many times; retry")]
    Conflict,
    #[error("idempotency key reused with a different request")]
    IdempotencyKeyReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct Executed {
    /// State after the command (equal to before when it recorded nothing).
    pub state: ProductState,
    /// The events the command decided on, in order.
    pub events: Vec<ProductEvent>,
    /// The same events as stored (empty until the append succeeded, and for no-op commands).
    pub recorded: Vec<RecordedEvent>,
}

impl Executed {
    pub fn product(&self) -> &Product {
        &self.state.product
    }
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Executed(Box<Executed>),
    /// The same idempotency key was seen with the same request: here is the first answer.
    Replayed(IdempotencyRecord),
}

/// The reply stored with an idempotency key: what kind of success, and the body. Rendered by
/// the caller, which owns the wire format, and stored atomically with the events.
pub type Render<'a> = &'a (dyn Fn(&Executed) -> (ReplyStatus, Value) + Send + Sync);

pub struct ProductCommands {
    store: Arc<dyn EventStore>,
    clock: Arc<dyn Clock>,
    stripes: Vec<Mutex<()>>,
    states: Cache<StreamId, ProductState>,
    listener: Option<Arc<dyn CommitListener>>,
}

impl ProductCommands {
    pub fn new(store: Arc<dyn EventStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            stripes: (0..LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
            states: Cache::new(CACHED_STATES),
            listener: None,
        }
    }

    /// Tell `listener` after every append that recorded events.
    pub fn with_commit_listener(mut self, listener: Arc<dyn CommitListener>) -> Self {
        self.listener = Some(listener);
        self
    }

    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Run `command` against the product `sku`, re-deciding on fresh state after a lost race.
    /// `render` is called only when an idempotency key must store the response.
    // At debug level: this is the hot path of every command, and an enabled span costs the
    // fmt subscriber a formatting pass per call; the request's span already names the request.
    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %ctx.tenant, sku = %sku))]
    pub async fn execute(
        &self,
        ctx: &CommandContext,
        sku: &Sku,
        command: ProductCommand,
        render: Render<'_>,
    ) -> Result<Outcome, CommandError> {
        if let Some(replayed) = self.replay_idempotent(ctx).await? {
            return Ok(replayed);
        }
        let stream = StreamId::product(&ctx.tenant, sku);
        let _queue = self.stripe(&stream).lock().await;
        for attempt in 0..MAX_ATTEMPTS {
            let state = self.current_state(&stream).await?;
            match self
                .try_once(ctx, &stream, state, command.clone(), render)
                .await
            {
                Ok(outcome) => {
                    if let Outcome::Executed(executed) = &outcome {
                        self.states
                            .insert(stream.clone(), executed.state.clone())
                            .await;
                    }
                    return Ok(outcome);
                }
                Err(Attempt::Lost) => {
                    // Someone else (most likely another process) appended: our copy is stale.
                    self.states.invalidate(&stream).await;
                    backoff(attempt).await
                }
                // A concurrent request with the same key committed first: answer as it did.
                Err(Attempt::IdempotencyKeyTaken) => {
                    return self
                        .replay_idempotent(ctx)
                        .await?
                        .ok_or(CommandError::Conflict)
                }
                Err(Attempt::Failed(e)) => return Err(e),
            }
        }
        Err(CommandError::Conflict)
    }

    async fn try_once(
        &self,
        ctx: &CommandContext,
        stream: &StreamId,
        before: ProductState,
        command: ProductCommand,
        render: Render<'_>,
    ) -> Result<Outcome, Attempt> {
        let expected_version = before.version();
        let decided = before
            .product
            .decide(command)
            .map_err(|e| Attempt::Failed(e.into()))?;
        // Microseconds: what both databases store, so a response equals a later read.
        let now = self.clock.now().trunc_subsecs(6);
        let mut after = before;
        let mut new_events = Vec::with_capacity(decided.len());
        for event in &decided {
            after.apply(event, now);
            new_events.push(self.new_event(ctx, event, now).map_err(Attempt::store)?);
        }
        let mut executed = Executed {
            state: after,
            events: decided,
            recorded: vec![],
        };
        let idempotency = ctx.idempotency.as_ref().map(|req| {
            let (status, body) = render(&executed);
            IdempotencyRecord {
                key: req.key.clone(),
                request_hash: req.request_hash.clone(),
                status,
                body,
            }
        });
        if new_events.is_empty() && idempotency.is_none() {
            return Ok(Outcome::Executed(Box::new(executed)));
        }
        let request = AppendRequest {
            stream: stream.clone(),
            expected_version,
            aliases: executed.events.iter().filter_map(alias_of).collect(),
            snapshot: if crosses_snapshot_boundary(expected_version, executed.state.version()) {
                Some(executed.state.to_snapshot().map_err(Attempt::store)?)
            } else {
                None
            },
            events: new_events,
            idempotency,
        };
        match self.store.append(request).await {
            Ok(recorded) => {
                if let Some(listener) = self.listener.as_ref().filter(|_| !recorded.is_empty()) {
                    listener.committed();
                }
                executed.recorded = recorded;
                Ok(Outcome::Executed(Box::new(executed)))
            }
            Err(AppendError::Conflict) => Err(Attempt::Lost),
            Err(AppendError::IdempotencyKeyTaken) => Err(Attempt::IdempotencyKeyTaken),
            Err(AppendError::Store(e)) => Err(Attempt::store(e)),
        }
    }

    /// The product's state: the cached copy, else snapshot plus tail from the store.
    ///
    /// The cache is only a guess at the current version. It is updated under the stream's lock
    /// after each successful append, and a stale copy (another process appended) costs one
    /// refused append and a reload, never a wrong decision.
    pub async fn current_state(&self, stream: &StreamId) -> Result<ProductState, StoreError> {
        if let Some(state) = self.states.get(stream).await {
            return Ok(state);
        }
        let state = load_product(self.store.as_ref(), stream).await?;
        self.states.insert(stream.clone(), state.clone()).await;
        Ok(state)
    }

    /// The stored answer for this request's idempotency key, if there is one.
    async fn replay_idempotent(
        &self,
        ctx: &CommandContext,
    ) -> Result<Option<Outcome>, CommandError> {
        let Some(req) = &ctx.idempotency else {
            return Ok(None);
        };
        match self.store.find_idempotency(&ctx.tenant, &req.key).await? {
            Some(record) if record.request_hash == req.request_hash => {
                Ok(Some(Outcome::Replayed(record)))
            }
            Some(_) => Err(CommandError::IdempotencyKeyReused),
            None => Ok(None),
        }
    }

    fn new_event(
        &self,
        ctx: &CommandContext,
        event: &ProductEvent,
        now: DateTime<Utc>,
    ) -> Result<NewEvent, StoreError> {
        Ok(NewEvent {
            event_id: Uuid::now_v7(),
            event_type: event.type_name().to_owned(),
            event_version: 1,
            payload: serde_json::to_value(event).map_err(StoreError::new)?,
            occurred_at: ctx.occurred_at.unwrap_or(now),
            recorded_at: now,
            metadata: EventMetadata {
                correlation_id: ctx.correlation_id,
                causation_id: ctx.causation_id,
                actor: ctx.actor.clone(),
            },
        })
    }

    fn stripe(&self, stream: &StreamId) -> &Mutex<()> {
        let mut hasher = DefaultHasher::new();
        stream.hash(&mut hasher);
        // The modulo keeps the index in range; truncation of the hash is intended.
        &self.stripes[(hasher.finish() as usize) % self.stripes.len()]
    }
}

/// Why one attempt did not produce an outcome.
enum Attempt {
    /// Another writer appended first; decide again on fresh state.
    Lost,
    IdempotencyKeyTaken,
    Failed(CommandError),
}

impl Attempt {
    fn store(e: StoreError) -> Self {
        Attempt::Failed(CommandError::Store(e))
    }
}

/// Whether an append from `before` to `after` passes a multiple of [`SNAPSHOT_EVERY`].
///
/// Snapshotting every N events instead of every command saves a write per command while a load
/// still reads at most N - 1 events past the snapshot, however long the stream grows.
fn crosses_snapshot_boundary(before: i64, after: i64) -> bool {
    after > before && after / SNAPSHOT_EVERY > before / SNAPSHOT_EVERY
}

/// Secondary ids that must resolve to this stream as soon as the command answers.
fn alias_of(event: &ProductEvent) -> Option<StreamAlias> {
    match event {
        ProductEvent::StockReserved { reservation_id, .. } => Some(StreamAlias {
            kind: "reservation",
            id: reservation_id.as_uuid(),
        }),
        ProductEvent::RefillRequested { refill_id, .. } => Some(StreamAlias {
            kind: "refill",
            id: refill_id.as_uuid(),
        }),
        _ => None,
    }
}

/// Jittered exponential backoff: spreads retrying processes apart.
async fn backoff(attempt: usize) {
    let base_ms = 2u64 << attempt.min(6);
    let jitter = u64::from(Uuid::new_v4().as_bytes()[0]) % base_ms.max(1);
    tokio::time::sleep(Duration::from_millis(base_ms + jitter)).await;
}

#[cfg(test)]
mod tests {
    use super::crosses_snapshot_boundary as crosses;

    #[test]
    fn snapshots_are_taken_once_per_boundary_crossed() {
        assert!(!crosses(0, 1));
        assert!(!crosses(30, 31));
        assert!(crosses(31, 32));
        assert!(crosses(30, 33), "a multi-event append across the boundary");
        assert!(!crosses(32, 33));
        assert!(!crosses(64, 64), "no events, no snapshot");
    }
}
