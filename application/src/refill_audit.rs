//! Explaining a refill after the fact (docs/api.md `GET /v1/refills/{id}/audit`, `restock replay`).
//!
//! Everything but the decision comes from the event store, not from read models, so an audit
//! is right the moment the refill exists: the refill and its lifecycle, the trigger event, the
//! product folded up to and including the trigger, the threshold in force then, and every event
//! the decision caused (`causation_id` = the trigger). The decision comes from the ledger, and
//! the policy is re-run on the context recorded with it.

use crate::agent::decision::replay;
use crate::agent::{AgentContext, ReplayedDecision, Threshold, TriggerRef};
use crate::ports::{
    DecisionLedger, EventStore, RecordedDecision, RecordedEvent, StoreError, StreamId,
};
use crate::product_state::decode;
use crate::views::{DecisionView, EventView, RefillAuditView, RefillView as RefillShape};
use crate::ProductView;
use chrono::{DateTime, Utc};
use restock_domain::{Decider, Product, ProductEvent, RefillId, RefillStatus, Sku, TenantId};
use serde::Serialize;
use uuid::Uuid;

const PAGE: i64 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("alias names an invalid sku: {0}")]
    BadSku(String),
}

/// docs/api.md "Refill", plus the request's reason and its lifecycle times.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefillView {
    pub id: Uuid,
    pub sku: String,
    pub quantity: i64,
    pub status: RefillStatus,
    pub decided_by: Decider,
    pub trigger_event_id: Option<Uuid>,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub received_at: Option<DateTime<Utc>>,
    pub received_quantity: Option<i64>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// The purchase plan's day and expected unit price (or the person's day).
    pub buy_on: Option<chrono::NaiveDate>,
    pub expected_unit_price: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct RefillAudit {
    pub refill: RefillView,
    pub trigger: Option<RecordedEvent>,
    pub state_at_trigger: Option<ProductView>,
    pub threshold: Option<Threshold>,
    pub decision: Option<RecordedDecision>,
    pub events: Vec<RecordedEvent>,
    pub replayed: Option<ReplayedDecision>,
}

impl RefillAudit {
    /// The audit as docs/api.md shows it (`GET /v1/refills/{id}/audit`, `restock replay`, the
    /// `explain_refill` tool).
    pub fn view(&self) -> RefillAuditView {
        let a = self;
        let r = &a.refill;
        let decision = a.decision.as_ref().map(|d| {
            let x = &d.decision;
            DecisionView {
                decider: x.decider.clone(),
                model: x.model.clone(),
                tool_calls: x.tool_calls.clone(),
                rationale: x.rationale.clone(),
                fallback_reason: x.fallback_reason.clone(),
                fallback_detail: x.fallback_detail.clone(),
                prompt_sha256: x.prompt_sha256.clone(),
                prompt_version: x.prompt_version.clone(),
                usage: x.usage,
                latency_ms: x.latency_ms,
                decided_at: d.decided_at,
                llm: x.llm.clone(),
                context: x.context.clone(),
            }
        });
        RefillAuditView {
            refill: RefillShape {
                id: r.id.to_string(),
                sku: r.sku.clone(),
                quantity: r.quantity,
                status: r.status,
                decided_by: r.decided_by.clone(),
                reason: r.reason.clone(),
                trigger_event_id: r.trigger_event_id.map(|id| id.to_string()),
                received_quantity: r.received_quantity,
                created_at: r.created_at,
                received_at: r.received_at,
                cancelled_at: r.cancelled_at,
                buy_on: r.buy_on,
                expected_unit_price: r.expected_unit_price,
            },
            trigger: a.trigger.as_ref().map(EventView::from),
            state_at_trigger: a.state_at_trigger.clone(),
            threshold: a.threshold.clone(),
            decision,
            events: a.events.iter().map(EventView::from).collect(),
            replayed_decision: a.replayed.clone(),
        }
    }
}

/// The product a refill belongs to, within the tenant (`None`: no such refill for this tenant).
pub async fn refill_sku(
    store: &dyn EventStore,
    tenant: &TenantId,
    refill_id: Uuid,
) -> Result<Option<Sku>, AuditError> {
    match store.resolve_alias(tenant, "refill", refill_id).await? {
        Some(sku) => Sku::parse(&sku)
            .map(Some)
            .map_err(|e| AuditError::BadSku(e.to_string())),
        None => Ok(None),
    }
}

/// Visit a stream's events in order, a page at a time (memory stays bounded on long streams).
async fn each_event(
    store: &dyn EventStore,
    stream: &StreamId,
    mut visit: impl FnMut(&RecordedEvent) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut after = 0;
    loop {
        let page = store.read_stream(stream, after, PAGE).await?;
        for e in &page {
            visit(e)?;
        }
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => after = last.sequence,
            _ => return Ok(()),
        }
    }
}

#[tracing::instrument(skip(ledger, store))]
pub async fn refill_audit(
    ledger: &dyn DecisionLedger,
    store: &dyn EventStore,
    tenant: &TenantId,
    refill_id: Uuid,
) -> Result<Option<RefillAudit>, AuditError> {
    let Some(sku) = refill_sku(store, tenant, refill_id).await? else {
        return Ok(None);
    };
    let stream = StreamId::product(tenant, &sku);
    let id = RefillId(refill_id);

    // Pass 1: the refill's own lifecycle, which names the trigger.
    let mut refill: Option<RefillView> = None;
    each_event(store, &stream, |e| {
        if !e.event_type.starts_with("Refill") {
            return Ok(());
        }
        match decode(e)? {
            ProductEvent::RefillRequested {
                refill_id,
                quantity,
                reason,
                decided_by,
                trigger_event_id,
                buy_on,
                expected_unit_price,
            } if refill_id == id => {
                refill = Some(RefillView {
                    id: refill_id.as_uuid(),
                    sku: sku.to_string(),
                    quantity: quantity.get(),
                    status: RefillStatus::Requested,
                    decided_by,
                    trigger_event_id,
                    reason,
                    created_at: e.recorded_at,
                    received_at: None,
                    received_quantity: None,
                    cancelled_at: None,
                    buy_on,
                    expected_unit_price: expected_unit_price.map(|p| p.get()),
                });
            }
            ProductEvent::RefillReceived {
                refill_id,
                quantity,
            } if refill_id == id => {
                if let Some(r) = refill.as_mut() {
                    r.status = RefillStatus::Received;
                    r.received_at = Some(e.recorded_at);
                    r.received_quantity = Some(quantity.get());
                }
            }
            ProductEvent::RefillCancelled { refill_id } if refill_id == id => {
                if let Some(r) = refill.as_mut() {
                    r.status = RefillStatus::Cancelled;
                    r.cancelled_at = Some(e.recorded_at);
                }
            }
            _ => {}
        }
        Ok(())
    })
    .await?;
    let Some(refill) = refill else {
        return Ok(None);
    };
    let mut audit = RefillAudit {
        refill,
        trigger: None,
        state_at_trigger: None,
        threshold: None,
        decision: None,
        events: vec![],
        replayed: None,
    };
    let Some(trigger_id) = audit.refill.trigger_event_id else {
        // A refill nobody's decision caused (none can be made that way today): nothing more.
        return Ok(Some(audit));
    };

    // Pass 2: fold up to and including the trigger; collect what the decision caused.
    let mut product = Product::default();
    let mut manual_set_at = None;
    let mut trigger: Option<RecordedEvent> = None;
    let mut at_trigger: Option<(Product, Option<DateTime<Utc>>)> = None;
    each_event(store, &stream, |e| {
        if trigger.is_none() {
            let event = decode(e)?;
            product.apply_event(&event);
            match event {
                ProductEvent::MinimumSet { .. } => manual_set_at = Some(e.recorded_at),
                ProductEvent::MinimumCleared => manual_set_at = None,
                _ => {}
            }
            if e.event_id == trigger_id {
                trigger = Some(e.clone());
                at_trigger = Some((product.clone(), manual_set_at));
            }
        } else if e.metadata.causation_id == Some(trigger_id) {
            audit.events.push(e.clone());
        }
        Ok(())
    })
    .await?;
    if let (Some(t), Some((product, manual_set_at))) = (&trigger, &at_trigger) {
        audit.state_at_trigger = ProductView::from_state(product, t.recorded_at);
        let tref = TriggerRef {
            event_id: t.event_id,
            event_type: t.event_type.clone(),
            sequence: t.sequence,
            recorded_at: t.recorded_at,
        };
        audit.threshold =
            AgentContext::from_product(tenant.as_str(), product, *manual_set_at, tref)
                .map(|c| c.threshold);
    }
    audit.trigger = trigger;

    if let Some(recorded) = ledger.decision(tenant, trigger_id).await? {
        audit.replayed = Some(replay(&recorded.decision));
        audit.decision = Some(recorded);
    }
    Ok(Some(audit))
}

/// Refills of a product requested at or before `as_of` (for `restock replay`).
pub async fn refills_until(
    store: &dyn EventStore,
    tenant: &TenantId,
    sku: &Sku,
    as_of: DateTime<Utc>,
) -> Result<Vec<Uuid>, AuditError> {
    let stream = StreamId::product(tenant, sku);
    let mut ids = Vec::new();
    for e in store.read_stream_until(&stream, as_of).await? {
        if e.event_type == "RefillRequested" {
            if let ProductEvent::RefillRequested { refill_id, .. } = decode(&e)? {
                ids.push(refill_id.as_uuid());
            }
        }
    }
    Ok(ids)
}
