//! The tools offered to the agent, their JSON schemas (OpenAI function format), and the checks
//! every proposed call passes before anything runs: first the schema (types, required fields,
//! no unknown fields), then the business rules (the trigger's own sku, a quantity in bounds).

use super::context::AgentContext;
use restock_domain::{Quantity, Sku};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fmt;

pub const CHECK_STOCK: &str = "check_stock";
pub const REFILL_STOCK: &str = "refill_stock";
pub const NOTIFY_MANAGER: &str = "notify_manager";

/// More calls than this in one decision is not a decision but a loop.
pub const MAX_CALLS: usize = 4;
const MAX_REASON_CHARS: usize = 500;
const MAX_MESSAGE_CHARS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// A validated tool call.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolCall {
    CheckStock {
        sku: Sku,
    },
    RefillStock {
        sku: Sku,
        quantity: Quantity,
        reason: String,
    },
    NotifyManager {
        sku: Option<Sku>,
        message: String,
        severity: Severity,
    },
}

/// A tool call as recorded and shown in the audit: `{ "name", "arguments" }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordedCall {
    pub name: String,
    #[schema(value_type = Object)]
    pub arguments: Value,
}

impl ToolCall {
    pub fn name(&self) -> &'static str {
        match self {
            Self::CheckStock { .. } => CHECK_STOCK,
            Self::RefillStock { .. } => REFILL_STOCK,
            Self::NotifyManager { .. } => NOTIFY_MANAGER,
        }
    }

    pub fn arguments(&self) -> Value {
        match self {
            Self::CheckStock { sku } => json!({ "sku": sku }),
            Self::RefillStock {
                sku,
                quantity,
                reason,
            } => json!({ "sku": sku, "quantity": quantity, "reason": reason }),
            Self::NotifyManager {
                sku,
                message,
                severity,
            } => {
                let mut args = json!({ "message": message, "severity": severity.as_str() });
                if let Some(sku) = sku {
                    args["sku"] = json!(sku);
                }
                args
            }
        }
    }

    pub fn record(&self) -> RecordedCall {
        RecordedCall {
            name: self.name().to_owned(),
            arguments: self.arguments(),
        }
    }
}

/// Why a proposal was refused; the code is what `fallback_reason` records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: &'static str,
    pub detail: String,
}

impl Rejection {
    fn new(code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

/// The tools in OpenAI's `tools` format. The refill schema carries this decision's bound, so a
/// model that reads schemas is told the limit instead of discovering it by being refused.
pub fn tool_schemas(ctx: &AgentContext) -> Value {
    json!([
        {
            "type": "function",
            "function": {
                "name": CHECK_STOCK,
                "description": "Read the product's current stock, minimum and open refill. Read-only.",
                "parameters": {
                    "type": "object",
                    "properties": { "sku": { "type": "string", "description": "The product's sku" } },
                    "required": ["sku"],
                    "additionalProperties": false
                }
            }
        },
        {
            "type": "function",
            "function": {
                "name": REFILL_STOCK,
                "description": "Open a purchase request (refill) for the product. At most one per decision.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "sku": { "type": "string", "description": "The product's sku" },
                        "quantity": { "type": "integer", "minimum": 1, "maximum": ctx.max_refill(),
                                      "description": "Units to order" },
                        "reason": { "type": "string", "maxLength": MAX_REASON_CHARS,
                                    "description": "Why this quantity, in one sentence" }
                    },
                    "required": ["sku", "quantity", "reason"],
                    "additionalProperties": false
                }
            }
        },
        {
            "type": "function",
            "function": {
                "name": NOTIFY_MANAGER,
                "description": "Tell the store manager about something that needs a human.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "sku": { "type": "string", "description": "The product concerned, if any" },
                        "message": { "type": "string", "maxLength": MAX_MESSAGE_CHARS },
                        "severity": { "type": "string", "enum": ["info", "warning", "critical"] }
                    },
                    "required": ["message", "severity"],
                    "additionalProperties": false
                }
            }
        }
    ])
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckArgs {
    sku: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefillArgs {
    sku: String,
    quantity: i64,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyArgs {
    sku: Option<String>,
    message: String,
    severity: Severity,
}

fn schema<T: serde::de::DeserializeOwned>(name: &str, args: &Value) -> Result<T, Rejection> {
    serde_json::from_value(args.clone())
        .map_err(|e| Rejection::new("invalid_arguments", format!("{name}: {e}")))
}

fn text(name: &str, field: &str, value: &str, max: usize) -> Result<(), Rejection> {
    let chars = value.chars().count();
    if value.trim().is_empty() || chars > max {
        return Err(Rejection::new(
            "invalid_arguments",
            format!("{name}.{field} must be 1 to {max} characters"),
        ));
    }
    Ok(())
}

/// The sku a call names, parsed, and only if it is the trigger's own product.
fn own_sku(name: &str, raw: &str, ctx: &AgentContext) -> Result<Sku, Rejection> {
    if raw == ctx.sku.as_str() {
        Ok(ctx.sku.clone())
    } else {
        // The trigger's product is the only one this decision may touch, in this tenant.
        Err(Rejection::new(
            "wrong_sku",
            format!(
                "{name} names sku {raw:?}, the decision is about {:?}",
                ctx.sku.as_str()
            ),
        ))
    }
}

/// Parse a call's raw `arguments` (a JSON string, as OpenAI sends it) into a validated call.
pub fn validate_raw(
    name: &str,
    arguments: &str,
    ctx: &AgentContext,
) -> Result<ToolCall, Rejection> {
    if ![CHECK_STOCK, REFILL_STOCK, NOTIFY_MANAGER].contains(&name) {
        return Err(Rejection::new(
            "unknown_tool",
            format!("no tool named {name:?}"),
        ));
    }
    // Some servers send `""` for a call without arguments; that is an empty object.
    let raw = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    let args: Value = serde_json::from_str(raw).map_err(|e| {
        Rejection::new(
            "invalid_arguments",
            format!("{name}: arguments are not JSON: {e}"),
        )
    })?;
    validate(name, &args, ctx)
}

/// Validate parsed arguments: schema, then business rules.
pub fn validate(name: &str, args: &Value, ctx: &AgentContext) -> Result<ToolCall, Rejection> {
    match name {
        CHECK_STOCK => {
            let a: CheckArgs = schema(name, args)?;
            let sku = own_sku(name, &a.sku, ctx)?;
            Ok(ToolCall::CheckStock { sku })
        }
        REFILL_STOCK => {
            let a: RefillArgs = schema(name, args)?;
            text(name, "reason", &a.reason, MAX_REASON_CHARS)?;
            let sku = own_sku(name, &a.sku, ctx)?;
            let max = ctx.max_refill();
            if !(1..=max).contains(&a.quantity) {
                return Err(Rejection::new(
                    "out_of_bounds",
                    format!("refill_stock.quantity {} is outside 1..={max}", a.quantity),
                ));
            }
            Ok(ToolCall::RefillStock {
                sku,
                quantity: Quantity::clamped_positive(a.quantity),
                reason: a.reason,
            })
        }
        NOTIFY_MANAGER => {
            let a: NotifyArgs = schema(name, args)?;
            text(name, "message", &a.message, MAX_MESSAGE_CHARS)?;
            let sku = a
                .sku
                .as_deref()
                .map(|s| own_sku(name, s, ctx))
                .transpose()?;
            Ok(ToolCall::NotifyManager {
                sku,
                message: a.message,
                severity: a.severity,
            })
        }
        other => Err(Rejection::new(
            "unknown_tool",
            format!("no tool named {other:?}"),
        )),
    }
}

/// Rules over the whole set of calls: a bounded number, at most one refill, and at least one
/// call with an effect (a lone `check_stock` answers nothing: the prompt already holds the
/// stock, and one round is all a decision gets).
pub fn validate_set(calls: &[ToolCall]) -> Result<(), Rejection> {
    if calls.is_empty() {
        return Err(Rejection::new("no_tool_call", "the reply called no tool"));
    }
    if calls.len() > MAX_CALLS {
        return Err(Rejection::new(
            "too_many_calls",
            format!("{} calls, at most {MAX_CALLS}", calls.len()),
        ));
    }
    let refills = calls
        .iter()
        .filter(|c| matches!(c, ToolCall::RefillStock { .. }))
        .count();
    if refills > 1 {
        return Err(Rejection::new(
            "too_many_calls",
            "more than one refill_stock",
        ));
    }
    if calls
        .iter()
        .all(|c| matches!(c, ToolCall::CheckStock { .. }))
    {
        return Err(Rejection::new("no_action", "only check_stock was called"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::context::{Threshold, TriggerRef};
    use chrono::Utc;
    use uuid::Uuid;

    fn ctx() -> AgentContext {
        AgentContext {
            tenant: "t".into(),
            sku: Sku::parse("A").expect("sku"),
            name: "A".into(),
            on_hand: 4,
            reserved: 0,
            available: 4,
            threshold: Threshold {
                reorder_point: 5,
                source: "manual".into(),
                model: None,
                computed_at: None,
            },
            forecast: None,
            lead_time_days: 7,
            reorder_quantity: None,
            unit: None,
            supplier: None,
            version: 4,
            trigger: TriggerRef {
                event_id: Uuid::nil(),
                event_type: "StockSold".into(),
                sequence: 4,
                recorded_at: Utc::now(),
            },
            purchase_plan: None,
        }
    }

    fn code(name: &str, args: &str) -> &'static str {
        match validate_raw(name, args, &ctx()) {
            Ok(_) => "ok",
            Err(e) => e.code,
        }
    }

    #[test]
    fn schema_then_business_rules() {
        let refill = |q: i64| json!({ "sku": "A", "quantity": q, "reason": "r" }).to_string();
        assert_eq!(ctx().max_refill(), 40);
        assert_eq!(code(REFILL_STOCK, &refill(40)), "ok");
        assert_eq!(code(REFILL_STOCK, &refill(41)), "out_of_bounds");
        assert_eq!(code(REFILL_STOCK, &refill(0)), "out_of_bounds");
        assert_eq!(
            code(REFILL_STOCK, "{\"sku\": \"A\", \"quantity\": "),
            "invalid_arguments"
        );
        assert_eq!(
            code(REFILL_STOCK, r#"{"sku":"A","quantity":"5","reason":"r"}"#),
            "invalid_arguments"
        );
        assert_eq!(
            code(REFILL_STOCK, r#"{"sku":"A","quantity":5}"#),
            "invalid_arguments"
        );
        assert_eq!(
            code(
                REFILL_STOCK,
                r#"{"sku":"A","quantity":5,"reason":"r","x":1}"#
            ),
            "invalid_arguments"
        );
        assert_eq!(
            code(REFILL_STOCK, r#"{"sku":"B","quantity":5,"reason":"r"}"#),
            "wrong_sku"
        );
        assert_eq!(
            code(NOTIFY_MANAGER, r#"{"message":"m","severity":"loud"}"#),
            "invalid_arguments"
        );
        assert_eq!(
            code(NOTIFY_MANAGER, r#"{"message":"m","severity":"info"}"#),
            "ok"
        );
        assert_eq!(code(CHECK_STOCK, ""), "invalid_arguments");
        assert_eq!(code("drop_table", "{}"), "unknown_tool");
    }

    #[test]
    fn the_set_needs_an_effect_and_at_most_one_refill() {
        let a = Sku::parse("A").expect("sku");
        let check = ToolCall::CheckStock { sku: a.clone() };
        let refill = ToolCall::RefillStock {
            sku: a,
            quantity: Quantity::clamped_positive(1),
            reason: "r".into(),
        };
        let code = |calls: &[ToolCall]| validate_set(calls).err().map(|e| e.code);
        assert_eq!(code(&[]), Some("no_tool_call"));
        assert_eq!(code(std::slice::from_ref(&check)), Some("no_action"));
        assert_eq!(code(&[check.clone(), refill.clone()]), None);
        assert_eq!(
            code(&[refill.clone(), refill.clone()]),
            Some("too_many_calls")
        );
        assert_eq!(
            code(&[check.clone(), check.clone(), check.clone(), check, refill]),
            Some("too_many_calls")
        );
    }
}
