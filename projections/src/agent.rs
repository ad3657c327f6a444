//! The agent projection: folds product events into its own per-product state and records a
//! trigger row when a product crosses its minimum (`application::agent::crossing`), inside the
//! runner's transaction and never for replayed history.
//!
//! Deciding and acting on a trigger is the agent worker's job (`restock_workers::agent`). It is
//! separate from this projector because the projector runs inside the runner's write
//! transaction, and on SQLite that transaction holds the only write connection: executing a
//! command from `apply` would wait on itself forever.

use crate::agent_state::{self as state, AgentState};
use crate::projector::{ProjectionError, Projector, Replay};
use crate::wake::Wakeup;
use async_trait::async_trait;
use restock_application::agent::crossing::{is_crossing, needs_refill};
use restock_application::agent::{AgentContext, TriggerRef};
use restock_application::ports::RecordedEvent;
use restock_application::product_state::decode;
use restock_infrastructure::read_models::decisions::{self, NewTrigger};
use restock_infrastructure::DbTx;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

pub const NAME: &str = "agent";

/// Detects crossings and records them as triggers for the agent worker.
#[derive(Debug, Default)]
pub struct AgentProjector {
    /// A batch in progress inserted triggers; told to `triggers` once it commits.
    inserted: AtomicBool,
    triggers: Wakeup,
}

impl AgentProjector {
    /// Bumped after each committed batch that recorded triggers: what the worker waits on, so
    /// it looks for work when there is some rather than after every append.
    pub fn triggers(&self) -> &Wakeup {
        &self.triggers
    }
}

#[async_trait]
impl Projector for AgentProjector {
    fn name(&self) -> &'static str {
        NAME
    }

    /// Only its own fold. The trigger and decision ledgers survive a rebuild on purpose: they
    /// are the record of what was asked and done, and the replay flag keeps a rebuild from
    /// adding to them.
    fn tables(&self) -> &'static [&'static str] {
        &["agent_products"]
    }

    async fn apply(
        &self,
        tx: &mut DbTx,
        events: &[RecordedEvent],
        replay: Replay,
    ) -> Result<(), ProjectionError> {
        let product_events = || events.iter().filter(|e| e.aggregate_type == "product");
        let keys: BTreeSet<(&str, &str)> = product_events()
            .map(|e| (e.tenant_id.as_str(), e.aggregate_id.as_str()))
            .collect();
        let keys: Vec<(&str, &str)> = keys.into_iter().collect();
        let mut states: HashMap<(String, String), AgentState> = state::load_all(tx, &keys).await?;
        for recorded in product_events() {
            let key = (recorded.tenant_id.clone(), recorded.aggregate_id.clone());
            let state = states.entry(key.clone()).or_default();
            let event = decode(recorded)?;
            let before = needs_refill(&state.product);
            state.apply(&event, recorded.recorded_at);
            if !is_crossing(before, &state.product, &event) || replay.is_replayed(recorded) {
                continue;
            }
            let trigger = TriggerRef {
                event_id: recorded.event_id,
                event_type: recorded.event_type.clone(),
                sequence: recorded.sequence,
                recorded_at: recorded.recorded_at,
            };
            let Some(context) =
                AgentContext::from_product(&key.0, &state.product, state.manual_set_at, trigger)
            else {
                continue;
            };
            decisions::insert_trigger(
                tx,
                &NewTrigger {
                    tenant: &key.0,
                    trigger_event_id: recorded.event_id.to_string(),
                    sku: &key.1,
                    position: recorded.position,
                    context: &context,
                    created_at: recorded.recorded_at,
                },
            )
            .await?;
            self.inserted.store(true, Ordering::Relaxed);
            tracing::debug!(tenant = %key.0, sku = %key.1, event = %recorded.event_id, "minimum crossed");
        }
        let touched: Vec<(&str, &str, &AgentState)> = states
            .iter()
            .map(|((tenant, sku), state)| (tenant.as_str(), sku.as_str(), state))
            .collect();
        state::upsert_all(tx, &touched).await?;
        Ok(())
    }

    fn committed(&self) {
        // A batch that rolled back leaves the flag set: the next commit then wakes the worker
        // once for nothing, which costs one query.
        if self.inserted.swap(false, Ordering::Relaxed) {
            self.triggers.wake();
        }
    }
}
