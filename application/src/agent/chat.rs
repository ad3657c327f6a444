//! The OpenAI-compatible chat-completions exchange, as a port: the request the agent sends, the
//! reply it understands, and the failures it tells apart. The HTTP adapter lives in
//! `infrastructure::llm`; tests script a stub server speaking the same wire format.

use super::context::AgentContext;
use super::tools::tool_schemas;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

/// Bumped whenever the prompt's wording or shape changes; recorded with every decision.
pub const PROMPT_VERSION: &str = "agent-v2";

const SYSTEM_PROMPT: &str = "You are the replenishment agent of Restock, an inventory system. \
A product has just fallen below its minimum stock and no purchase request is open for it. \
Decide what to do by calling tools; do not answer with text. \
Use refill_stock to open one purchase request: order enough to cover the minimum plus the demand \
expected during the supplier's lead time, within the stated maximum. \
Use notify_manager when a human should know (the product is out of stock, or the minimum looks unreliable). \
The current stock is given below, so check_stock is rarely needed.";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// A tool call as the model sent it: `arguments` is a JSON string that may be anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatReply {
    pub tool_calls: Vec<RawToolCall>,
    pub content: Option<String>,
    pub usage: Option<Usage>,
    /// The model the server says answered (may differ from the one asked).
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChatError {
    #[error("no reply before the deadline")]
    Timeout,
    #[error("HTTP {0}")]
    Status(u16),
    #[error("transport: {0}")]
    Transport(String),
    #[error("unreadable reply: {0}")]
    Malformed(String),
}

impl ChatError {
    /// The `fallback_reason` code.
    pub fn code(&self) -> String {
        match self {
            Self::Timeout => "timeout".to_owned(),
            Self::Status(s) => format!("http_{s}"),
            Self::Transport(_) => "transport".to_owned(),
            Self::Malformed(_) => "malformed_response".to_owned(),
        }
    }

    /// Failures that say the provider is unhealthy (not that one reply was odd) count towards
    /// opening the circuit breaker.
    pub fn trips_breaker(&self) -> bool {
        match self {
            Self::Timeout | Self::Transport(_) => true,
            Self::Status(s) => *s == 429 || *s >= 500,
            Self::Malformed(_) => false,
        }
    }
}

/// One chat completion. Implementations may retry at most once and must give up by `deadline`.
#[async_trait]
pub trait ChatModel: Send + Sync + 'static {
    /// The model asked for.
    fn model(&self) -> &str;

    async fn complete(&self, request: &Value, deadline: Instant) -> Result<ChatReply, ChatError>;
}

/// One message of a multi-turn exchange (the chat's tool rounds). Strict servers differ on
/// what they accept, so every message is written in the form all of them take: an assistant
/// message's `content` is always a string (`""` beside tool calls; llama.cpp's server refuses
/// `null`), and a `tool` message names the call it answers by `tool_call_id`.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatMessage {
    System(String),
    User(String),
    Assistant {
        content: String,
        tool_calls: Vec<RawToolCall>,
    },
    Tool {
        tool_call_id: String,
        content: String,
    },
}

impl ChatMessage {
    /// The OpenAI chat-completions wire form.
    pub fn to_wire(&self) -> Value {
        match self {
            Self::System(text) => json!({ "role": "system", "content": text }),
            Self::User(text) => json!({ "role": "user", "content": text }),
            Self::Assistant {
                content,
                tool_calls,
            } if tool_calls.is_empty() => json!({ "role": "assistant", "content": content }),
            Self::Assistant {
                content,
                tool_calls,
            } => json!({
                "role": "assistant",
                "content": content,
                "tool_calls": tool_calls.iter().map(|c| json!({
                    "id": c.id,
                    "type": "function",
                    "function": { "name": c.name, "arguments": c.arguments },
                })).collect::<Vec<_>>(),
            }),
            Self::Tool {
                tool_call_id,
                content,
            } => json!({ "role": "tool", "tool_call_id": tool_call_id, "content": content }),
        }
    }
}

/// A request carrying a whole message list and the tools offered (OpenAI `tools` entries).
/// As with [`chat_request`], the adapter adds `tool_choice`, except on a `last` request, which
/// says `"none"`: the exchange's rounds are spent and only a text answer is wanted now.
/// The most a chat reply may generate. A manager's answer is a few sentences; without a bound a
/// small model on a CPU server can write until its context is full (SmolLM2 on llama.cpp did, and
/// one reply outlasted a 120 s request timeout in tests/llm_real.rs).
pub const CHAT_MAX_TOKENS: u32 = 512;

pub fn conversation_request(
    model: &str,
    messages: &[ChatMessage],
    tools: &[Value],
    last: bool,
) -> Value {
    let mut request = json!({
        "model": model,
        "messages": messages.iter().map(ChatMessage::to_wire).collect::<Vec<_>>(),
        "tools": tools,
        "temperature": 0,
        "max_tokens": CHAT_MAX_TOKENS,
    });
    if last {
        request["tool_choice"] = Value::from("none");
    }
    request
}

/// The facts the model decides on, as compact JSON in the user message.
fn facts(ctx: &AgentContext) -> Value {
    let mut facts = json!({
        "sku": ctx.sku,
        "name": ctx.name,
        "on_hand": ctx.on_hand,
        "reserved": ctx.reserved,
        "available": ctx.available,
        "minimum": ctx.minimum(),
        "minimum_source": ctx.threshold.source,
        "forecast_model": ctx.threshold.model,
        "lead_time_days": ctx.lead_time_days,
        "lead_time_demand": ctx.lead_time_demand(),
        "reorder_quantity": ctx.reorder_quantity,
        "supplier": ctx.supplier,
        "unit": ctx.unit,
        "max_refill_quantity": ctx.max_refill(),
        "trigger_event": ctx.trigger.event_type,
    });
    // When to buy: the refill carries the plan's day and price whatever quantity is decided.
    // Only when there is a plan, so prompts without prices stay as they were.
    if let (Some(plan), Some(map)) = (&ctx.purchase_plan, facts.as_object_mut()) {
        map.insert("purchase_plan".to_owned(), json!(plan));
    }
    facts
}

/// The request body for `POST {base}/chat/completions`.
pub fn chat_request(model: &str, ctx: &AgentContext) -> Value {
    json!({
        "model": model,
        "messages": [
            { "role": "system", "content": SYSTEM_PROMPT },
            { "role": "user", "content": format!("Product below its minimum:\n{}", facts(ctx)) },
        ],
        "tools": tool_schemas(ctx),
        // No `tool_choice` here: which value a server accepts is a property of the server, so
        // the adapter adds it (`LlmConfig::tool_choice`). The reply is checked either way.
        "parallel_tool_calls": true,
        "temperature": 0,
    })
}

/// JSON with object keys sorted at every level, so equal requests hash equal whatever map
/// order serde_json was built with.
pub fn canonical_json(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                let mut out = serde_json::Map::new();
                for (k, v) in entries {
                    out.insert(k.clone(), sorted(v));
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    // With serde_json's default BTreeMap the map is already sorted; with `preserve_order` the
    // explicit sort above is what makes this canonical.
    sorted(value).to_string()
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_ignores_key_order() {
        let a: Value =
            serde_json::from_str(r#"{"b":1,"a":{"y":2,"x":[{"q":1,"p":2}]}}"#).expect("a");
        let b: Value =
            serde_json::from_str(r#"{"a":{"x":[{"p":2,"q":1}],"y":2},"b":1}"#).expect("b");
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(sha256_hex(&canonical_json(&a)).len(), 64);
    }

    #[test]
    fn tool_exchange_messages_are_in_the_form_strict_servers_take() {
        let call = RawToolCall {
            id: "call_7".into(),
            name: "check_stock".into(),
            arguments: "{\"sku\":\"A\"}".into(),
        };
        let request = conversation_request(
            "m",
            &[
                ChatMessage::User("how many?".into()),
                ChatMessage::Assistant {
                    content: String::new(),
                    tool_calls: vec![call],
                },
                ChatMessage::Tool {
                    tool_call_id: "call_7".into(),
                    content: "{}".into(),
                },
            ],
            &[],
            false,
        );
        let messages = &request["messages"];
        assert_eq!(messages[1]["content"], json!(""), "never null");
        assert_eq!(messages[1]["tool_calls"][0]["id"], "call_7");
        assert_eq!(
            messages[1]["tool_calls"][0]["function"]["arguments"],
            "{\"sku\":\"A\"}"
        );
        assert_eq!(
            messages[2],
            json!({ "role": "tool", "tool_call_id": "call_7", "content": "{}" })
        );
    }

    #[test]
    fn error_codes() {
        assert_eq!(ChatError::Status(429).code(), "http_429");
        assert!(ChatError::Status(500).trips_breaker());
        assert!(!ChatError::Status(400).trips_breaker());
        assert!(!ChatError::Malformed("x".into()).trips_breaker());
    }
}
