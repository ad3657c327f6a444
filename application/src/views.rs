//! The API's response shapes (docs/api.md), each written once: the HTTP handlers serialize these,
//! the OpenAPI document is derived from them (`ToSchema`), and other front ends (tools) can show
//! the same JSON. Database rows are not API shapes: the api maps its read-model rows into these.
//!
//! `ProductView` lives in `product_view.rs`, next to the fold it comes from.

use crate::agent::decision::LlmAttempt;
use crate::agent::{AgentContext, RecordedCall, ReplayedDecision, Threshold, Usage};
use crate::ports::{ForecastPoint, PricePoint, RecordedEvent};
use crate::purchase::PlanDecision;
use crate::ProductView;
use chrono::{DateTime, Utc};
use restock_domain::{Decider, RefillStatus, ReservationStatus};
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};
use utoipa::ToSchema;
use uuid::Uuid;

/// A page of a list: `next_cursor` continues it, `null` on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Opaque; pass it back as `?cursor=` for the next page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// `GET /v1/products/{sku}`: the Product, plus `as_of` on a read folded as of a past instant.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProductRead {
    #[serde(flatten)]
    pub product: ProductView,
    /// Present on `?as_of=` reads: the instant the product was folded at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<DateTime<Utc>>,
}

/// The answer to a stock movement (receipt, sale, count): the stream's version after it and the
/// product as the command left it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CommandResult {
    pub version: i64,
    #[schema(required = true)]
    pub product: Option<ProductView>,
}

/// An event of a product's stream.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventView {
    pub event_id: Uuid,
    /// The stream's version after this event (1-based).
    pub version: i64,
    /// The event's type, e.g. `StockReceived`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub recorded_at: DateTime<Utc>,
    pub occurred_at: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub payload: Value,
    pub metadata: EventMetadataView,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventMetadataView {
    pub correlation_id: Uuid,
    #[schema(required = true)]
    pub causation_id: Option<Uuid>,
    /// `user:<sub>`, `agent`, `system`, ...
    pub actor: String,
}

impl From<&RecordedEvent> for EventView {
    fn from(e: &RecordedEvent) -> Self {
        Self {
            event_id: e.event_id,
            version: e.sequence,
            event_type: e.event_type.clone(),
            recorded_at: e.recorded_at,
            occurred_at: e.occurred_at,
            payload: e.payload.clone(),
            metadata: EventMetadataView {
                correlation_id: e.metadata.correlation_id,
                causation_id: e.metadata.causation_id,
                actor: e.metadata.actor.clone(),
            },
        }
    }
}

/// A row of the stock ledger: one per event that changed on_hand.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MovementView {
    pub version: i64,
    /// The event type that moved stock.
    #[serde(rename = "type")]
    pub kind: String,
    pub delta_on_hand: i64,
    pub on_hand_after: i64,
    #[schema(required = true)]
    pub reference: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

/// A reservation as a command left it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReservationView {
    pub id: Uuid,
    pub sku: String,
    #[schema(required = true)]
    pub quantity: Option<i64>,
    #[schema(required = true, schema_with = reservation_status)]
    pub status: Option<ReservationStatus>,
    #[schema(required = true)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A refill: a purchase request opened by the agent or a person.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RefillView {
    #[schema(format = Uuid)]
    pub id: String,
    pub sku: String,
    /// Units requested.
    pub quantity: i64,
    #[schema(schema_with = refill_status)]
    pub status: RefillStatus,
    /// `policy`, `llm:<model>` or `user:<sub>`.
    #[schema(value_type = String)]
    pub decided_by: Decider,
    pub reason: String,
    #[schema(required = true, format = Uuid)]
    pub trigger_event_id: Option<String>,
    #[schema(required = true)]
    pub received_quantity: Option<i64>,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub received_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// The day to buy on: given by the person, else the purchase plan's, when there was one.
    #[schema(required = true)]
    pub buy_on: Option<chrono::NaiveDate>,
    /// The unit price the purchase plan expected on `buy_on`.
    #[schema(required = true)]
    pub expected_unit_price: Option<f64>,
}

/// `GET /v1/products/{sku}/purchase-plan`: when to buy, from the supplier price forecast and
/// the demand forecast.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = PurchasePlan)]
pub struct PurchasePlanView {
    pub sku: String,
    pub computed_at: DateTime<Utc>,
    /// Days the plan looks ahead, today included (14).
    pub horizon_days: usize,
    /// Recorded prices, the last 90 days with a price.
    pub history: Vec<PricePoint>,
    /// Today through the horizon: a recorded price has `lower = mean = upper`.
    pub price_forecast: Vec<ForecastPoint>,
    #[serde(flatten)]
    pub plan: PlanDecision,
}

/// The refill as a receive or cancel command left it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RefillState {
    pub id: Uuid,
    pub sku: String,
    #[schema(required = true)]
    pub quantity: Option<i64>,
    #[schema(required = true, schema_with = refill_status_or_null)]
    pub status: Option<&'static str>,
}

/// The answer to a refill command: the refill, the stream's version and the product.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RefillResult {
    pub refill: RefillState,
    pub version: i64,
    #[schema(required = true)]
    pub product: Option<ProductView>,
}

/// A notification the agent wrote for the tenant's manager.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NotificationView {
    #[schema(format = Uuid)]
    pub id: String,
    pub kind: String,
    #[schema(required = true)]
    pub sku: Option<String>,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    pub message: String,
    #[schema(required = true, format = Uuid)]
    pub trigger_event_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Webhook delivery: `none`, `pending`, `delivered` or `failed`.
    pub delivery: String,
    pub attempts: i32,
}

/// What a CSV import recorded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct ImportSummary {
    pub rows: usize,
    pub skus: usize,
}

/// Why a refill was opened: everything but the decision comes from the event store.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RefillAuditView {
    pub refill: RefillView,
    /// The event that took the product below its minimum.
    #[schema(required = true)]
    pub trigger: Option<EventView>,
    /// The product folded from its events up to and including the trigger.
    #[schema(required = true)]
    pub state_at_trigger: Option<ProductView>,
    /// The minimum in force at the trigger.
    #[schema(required = true)]
    pub threshold: Option<Threshold>,
    #[schema(required = true)]
    pub decision: Option<DecisionView>,
    /// Every event the decision caused (`causation_id` = the trigger).
    pub events: Vec<EventView>,
    /// The policy re-run now on the context recorded with the decision.
    #[schema(required = true)]
    pub replayed_decision: Option<ReplayedDecision>,
}

/// The agent's recorded decision.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DecisionView {
    /// `policy` or `llm:<model>`: whose calls were executed.
    #[schema(value_type = String)]
    pub decider: Decider,
    #[schema(required = true)]
    pub model: Option<String>,
    pub tool_calls: Vec<RecordedCall>,
    pub rationale: String,
    /// Why the policy decided instead of the LLM (`timeout`, `http_429`, `malformed_response`, ...).
    #[schema(required = true)]
    pub fallback_reason: Option<String>,
    #[schema(required = true)]
    pub fallback_detail: Option<String>,
    pub prompt_sha256: String,
    pub prompt_version: String,
    #[schema(required = true)]
    pub usage: Option<Usage>,
    pub latency_ms: f64,
    pub decided_at: DateTime<Utc>,
    /// What the LLM was asked and answered, kept even when its answer was refused.
    #[schema(required = true, value_type = Option<Object>)]
    pub llm: Option<LlmAttempt>,
    /// What the decision was made on.
    #[schema(value_type = Object)]
    pub context: AgentContext,
}

fn string_enum(values: &[&str], nullable: bool) -> Object {
    let ty = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::new(Type::String)
    };
    let mut values: Vec<Value> = values.iter().map(|v| Value::from(*v)).collect();
    if nullable {
        values.push(Value::Null);
    }
    ObjectBuilder::new()
        .schema_type(ty)
        .enum_values(Some(values))
        .build()
}

/// `manual`, `forecast` or `none` (`ProductView::min_stock_source`).
pub(crate) fn min_stock_source() -> Object {
    string_enum(&["manual", "forecast", "none"], false)
}

fn reservation_status() -> Object {
    string_enum(&["active", "confirmed", "released", "expired"], true)
}

fn refill_status() -> Object {
    string_enum(&["requested", "received", "cancelled"], false)
}

fn refill_status_or_null() -> Object {
    string_enum(&["requested", "received", "cancelled"], true)
}
