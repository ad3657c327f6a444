//! A scripted OpenAI-compatible chat-completions server over real HTTP (an axum router on
//! 127.0.0.1:0 in the test's process), shared by the agent's and the chat's LLM tests: it answers
//! a queue of scripted replies and keeps every request it saw, so a test can check both what
//! Restock sent and what it did with each kind of answer.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use restock_application::agent::LlmConfig;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The model name the stub reports, with a dated suffix as real servers do.
pub const MODEL: &str = "stub-model";

/// One scripted reply.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Tool calls: (name, raw arguments string).
    Calls(Vec<(String, String)>),
    Text(String),
    /// This status with an OpenAI-style error body.
    Status(u16),
    /// A 200 whose body is not a chat completion.
    Garbage,
    /// This reply, after a delay.
    Late(Duration, Box<Reply>),
    /// Like llama.cpp's Python server: 500 to `tool_choice: "required"`, these calls otherwise.
    RefuseRequired(Vec<(String, String)>),
}

impl Reply {
    pub fn text(text: &str) -> Self {
        Reply::Text(text.to_owned())
    }
}

/// A tool call as the model would write it.
pub fn call(name: &str, args: Value) -> (String, String) {
    (name.to_owned(), args.to_string())
}

/// A request as the stub saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub authorization: Option<String>,
    pub body: Value,
}

#[derive(Clone)]
pub struct LlmStub {
    /// Replies in order; the last one repeats once the others are used.
    script: Arc<Mutex<VecDeque<Reply>>>,
    requests: Arc<Mutex<Vec<Seen>>>,
    /// The OpenAI base URL (`http://127.0.0.1:PORT/v1`).
    pub base: String,
}

impl LlmStub {
    /// Listening, answering 500 until scripted.
    pub async fn start() -> Self {
        let script = Arc::new(Mutex::new(VecDeque::from([Reply::Status(500)])));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the LLM stub");
        let addr = listener.local_addr().expect("the stub's address");
        let stub = LlmStub {
            script,
            requests,
            base: format!("http://{addr}/v1"),
        };
        let app = Router::new()
            .route("/v1/chat/completions", post(answer))
            .with_state(stub.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        stub
    }

    /// Answer these replies in order, the last one from then on.
    pub fn script(&self, replies: Vec<Reply>) {
        *self.script.lock().expect("script") = replies.into();
    }

    /// Answer this reply from now on.
    pub fn set(&self, reply: Reply) {
        self.script(vec![reply]);
    }

    /// Requests received so far.
    pub fn calls(&self) -> usize {
        self.requests.lock().expect("requests").len()
    }

    /// The body of request `i` (0-based).
    pub fn request(&self, i: usize) -> Value {
        self.requests.lock().expect("requests")[i].body.clone()
    }

    pub fn last_request(&self) -> Seen {
        self.requests
            .lock()
            .expect("requests")
            .last()
            .cloned()
            .expect("a request")
    }

    /// A client configuration for this stub: one retry, a breaker and an allowance that stay out
    /// of the way unless a test lowers them.
    pub fn config(&self, request_timeout: Duration, deadline: Duration) -> LlmConfig {
        LlmConfig {
            request_timeout,
            deadline,
            max_retries: 1,
            breaker_threshold: 100,
            breaker_cooldown: Duration::from_secs(60),
            calls_per_day: 1000,
            ..LlmConfig::new(self.base.clone(), Some("test-key".into()), MODEL.into())
        }
    }
}

fn completion(calls: &[(String, String)], content: Option<&str>) -> Value {
    let tool_calls: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (name, args))| {
            json!({ "id": format!("call_{i}"), "type": "function",
                    "function": { "name": name, "arguments": args } })
        })
        .collect();
    let mut message = json!({ "role": "assistant", "content": content });
    if !tool_calls.is_empty() {
        message["tool_calls"] = json!(tool_calls);
    }
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": format!("{MODEL}-2026"),
        "choices": [{ "index": 0, "message": message,
                      "finish_reason": if calls.is_empty() { "stop" } else { "tool_calls" } }],
        "usage": { "prompt_tokens": 321, "completion_tokens": 17, "total_tokens": 338 },
    })
}

fn failure(status: u16, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        Json(json!({ "error": { "message": message } })),
    )
        .into_response()
}

fn render(
    reply: Reply,
    tool_choice: Option<String>,
) -> Pin<Box<dyn Future<Output = Response> + Send>> {
    Box::pin(async move {
        match reply {
            Reply::Calls(calls) => Json(completion(&calls, None)).into_response(),
            Reply::Text(text) => Json(completion(&[], Some(&text))).into_response(),
            Reply::Status(code) => failure(code, "scripted failure"),
            Reply::Garbage => "<html>busy</html>".into_response(),
            Reply::Late(delay, reply) => {
                tokio::time::sleep(delay).await;
                render(*reply, tool_choice).await
            }
            Reply::RefuseRequired(_) if tool_choice.as_deref() == Some("required") => {
                failure(500, "tool_choice required is not supported")
            }
            Reply::RefuseRequired(calls) => Json(completion(&calls, None)).into_response(),
        }
    })
}

async fn answer(
    State(stub): State<LlmStub>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let tool_choice = body["tool_choice"].as_str().map(str::to_owned);
    stub.requests.lock().expect("requests").push(Seen {
        authorization,
        body,
    });
    let reply = {
        let mut script = stub.script.lock().expect("script");
        if script.len() > 1 {
            script.pop_front()
        } else {
            script.front().cloned()
        }
    };
    render(reply.unwrap_or(Reply::Status(500)), tool_choice).await
}
