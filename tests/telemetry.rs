//! Logs a person operating Restock relies on: every request's log line carries its request id,
//! the same id the request's events carry as `correlation_id`; secrets never reach a log.

mod common;

use common::{token_for, SECRET};
use restock_infrastructure::tokens::Role;
use restock_infrastructure::Backend;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

struct LoggedServer {
    _child: tokio::process::Child,
    base: String,
    logs: Arc<Mutex<Vec<String>>>,
}

async fn spawn_with_json_logs(extra_env: &[(&str, &str)]) -> LoggedServer {
    let url = restock_infrastructure::testing::fresh_database_url(Backend::Sqlite)
        .await
        .expect("db");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_restock"));
    command
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &url])
        .env("RESTOCK_JWT_SECRET", SECRET)
        .env("RESTOCK_LOG", "info")
        .env("RESTOCK_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in extra_env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("spawn restock");
    let logs = Arc::new(Mutex::new(Vec::new()));
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let sink = logs.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            sink.lock().expect("log sink").push(line);
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = stdout.next_line().await {
            if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                return url.to_owned();
            }
        }
        panic!("restock exited before listening");
    })
    .await
    .expect("listening within 30 s");
    tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
    LoggedServer {
        _child: child,
        base,
        logs,
    }
}

impl LoggedServer {
    /// The JSON log lines that mention `needle`, waiting up to 10 s for the first.
    async fn lines_with(&self, needle: &str) -> Vec<serde_json::Value> {
        for _ in 0..100 {
            let found: Vec<serde_json::Value> = self
                .logs
                .lock()
                .expect("logs")
                .iter()
                .filter(|l| l.contains(needle))
                .map(|l| serde_json::from_str(l).expect("every log line is JSON"))
                .collect();
            if !found.is_empty() {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no log line mentions {needle}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requests_log_line_and_its_events_carry_its_id() {
    let server = spawn_with_json_logs(&[]).await;
    let token = token_for("shop", Role::Manager);
    let client = reqwest::Client::new();

    // A client's own id is kept, echoed, logged and recorded on the events it caused.
    let id = uuid::Uuid::now_v7().to_string();
    let res = client
        .put(format!("{}/v1/products/MILK", server.base))
        .bearer_auth(&token)
        .header("x-request-id", &id)
        .json(&serde_json::json!({ "name": "Milk" }))
        .send()
        .await
        .expect("put");
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["x-request-id"], id.as_str());
    let lines = server.lines_with(&id).await;
    let answered = lines
        .iter()
        .find(|l| l["span"]["request_id"] == id.as_str() && l["fields"]["status"] == 201)
        .unwrap_or_else(|| panic!("no response line with the id and status: {lines:?}"));
    assert_eq!(answered["span"]["method"], "PUT");
    assert_eq!(answered["span"]["path"], "/v1/products/MILK");
    let events: serde_json::Value = client
        .get(format!("{}/v1/products/MILK/events", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("events")
        .json()
        .await
        .expect("json");
    assert_eq!(
        events["items"][0]["metadata"]["correlation_id"],
        id.as_str()
    );

    // Without one, the server makes one, answers with it and logs it.
    let res = client
        .get(format!("{}/v1/products", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    let made = res.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(uuid::Uuid::parse_str(&made).is_ok(), "{made}");
    assert_ne!(made, id);
    server.lines_with(&made).await;

    // The signing secret is in the environment, never in the logs.
    let logs = server.logs.lock().expect("logs").join("\n");
    assert!(!logs.is_empty());
    assert!(!logs.contains(SECRET), "the JWT secret reached a log line");
}
