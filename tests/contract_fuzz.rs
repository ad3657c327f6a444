//! The whole HTTP contract fuzzed from `/openapi.json` by schemathesis (a client we did not
//! write; tests/python/requirements.txt), against a server on PostgreSQL with a manager token:
//! no 5xx, every answer conforming to the document (status, content type, schema), every 4xx a
//! problem+json with a contract code (tests/python/schemathesis_hooks.py), and then, from the
//! store itself, no event appended by a request that was answered with an error.
//!
//! `scripts/test` creates the virtual environment and sets `RESTOCK_TEST_PYTHON`; without it (a
//! bare `cargo test`) this test says it was skipped; under `CI=true` it fails. `RESTOCK_FUZZ_EXAMPLES` (default 60 per
//! operation, about 3,000 cases) and `RESTOCK_FUZZ_SEED` (default fixed, so a failure repeats)
//! tune a run.

mod common;

use common::{Backend, TestApp};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use uuid::Uuid;

const HOOKS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/python/schemathesis_hooks.py"
);
const CHECKS: &str = "not_a_server_error,response_schema_conformance,status_code_conformance,\
    content_type_conformance,problem_json_with_a_contract_code";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Ids that exist, so the fuzzer gets past 404 on the operations that take one (it still
/// generates its own half of the time).
struct Seeded {
    ids: Vec<String>,
    action_ids: Vec<String>,
}

async fn seed(app: &TestApp, token: &str) -> Seeded {
    for sku in ["fuzz-milk", "fuzz-coffee"] {
        app.register(token, sku).await;
        let r = app
            .post(
                &format!("/v1/products/{sku}/receipts"),
                token,
                json!({ "quantity": 50 }),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    // Below a manual minimum: the agent orders a refill, whose audit the fuzzer then reads.
    let r = app
        .put(
            "/v1/products/fuzz-milk/min-stock",
            token,
            json!({ "quantity": 60 }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let reservation = app
        .post(
            "/v1/products/fuzz-coffee/reservations",
            token,
            json!({ "quantity": 2 }),
        )
        .await;
    assert_eq!(reservation.status, 201, "{:?}", reservation.body);
    // The chat reads the read models: let the projections catch up with the writes above.
    app.settle().await;
    let conversation = app.post("/v1/conversations", token, json!({})).await;
    assert_eq!(conversation.status, 201, "{:?}", conversation.body);
    let conversation_id = conversation.body["id"].as_str().expect("id").to_owned();
    let turn = app
        .post(
            &format!("/v1/conversations/{conversation_id}/messages"),
            token,
            json!({ "text": "set the minimum of fuzz-coffee to 30" }),
        )
        .await;
    assert_eq!(turn.status, 201, "{:?}", turn.body);
    let action_id = turn.body["proposed_action"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("the chat proposes the change: {}", turn.body))
        .to_owned();
    common::eventually("the agent orders a refill", || async {
        let r = app.get("/v1/refills", token).await;
        r.body["items"][0]["id"].is_string()
    })
    .await;
    let refills = app.get("/v1/refills", token).await;
    let refill_id = refills.body["items"][0]["id"].as_str().expect("refill");
    Seeded {
        ids: vec![
            refill_id.to_owned(),
            reservation.body["id"].as_str().expect("id").to_owned(),
            conversation_id,
        ],
        action_ids: vec![action_id],
    }
}

fn toml_list(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

/// One line per answer, written by the hooks.
#[derive(Debug)]
struct Answer {
    request_id: Uuid,
    method: String,
    url: String,
    status: u16,
}

fn read_log(path: &PathBuf) -> Vec<Answer> {
    let text = std::fs::read_to_string(path).expect("the hooks wrote their log");
    text.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("a JSON line");
            Answer {
                request_id: v["request_id"]
                    .as_str()
                    .and_then(|id| Uuid::parse_str(id).ok())
                    .expect("every request carried its X-Request-Id"),
                method: v["method"].as_str().unwrap_or_default().to_owned(),
                url: v["url"].as_str().unwrap_or_default().to_owned(),
                status: v["status"]
                    .as_u64()
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or(0),
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schemathesis_finds_nothing_and_errors_append_nothing() {
    let Some(python) = std::env::var("RESTOCK_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
    else {
        common::cannot_run("RESTOCK_TEST_PYTHON is not set");
        return;
    };
    let schemathesis = PathBuf::from(&python).with_file_name("schemathesis");
    assert!(
        schemathesis.exists(),
        "{} is missing: scripts/test installs tests/python/requirements.txt",
        schemathesis.display()
    );
    let app = TestApp::start(Backend::Postgres).await;
    let token = app.manager("fuzz");
    let seeded = seed(&app, &token).await;

    let dir = std::env::temp_dir().join(format!("restock-fuzz-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("schemathesis.toml");
    let log = dir.join("answers.jsonl");
    std::fs::write(
        &config,
        format!(
            "[dictionaries]\n\
             skus = {{ values = [\"fuzz-milk\", \"fuzz-coffee\"] }}\n\
             ids = {{ values = {} }}\n\
             actions = {{ values = {} }}\n\n\
             [parameters]\n\
             \"path.sku\" = {{ dictionary = \"skus\", probability = 0.5 }}\n\
             \"path.id\" = {{ dictionary = \"ids\", probability = 0.5 }}\n\
             \"path.action_id\" = {{ dictionary = \"actions\", probability = 0.5 }}\n",
            toml_list(&seeded.ids),
            toml_list(&seeded.action_ids),
        ),
    )
    .expect("config written");

    let examples = env_or("RESTOCK_FUZZ_EXAMPLES", "60");
    let seed = env_or("RESTOCK_FUZZ_SEED", "17");
    let run = tokio::process::Command::new(&schemathesis)
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{}/openapi.json", app.base)])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", CHECKS])
        .args(["--max-examples", &examples, "--seed", &seed])
        .args(["--workers", "1", "--no-color", "--request-timeout", "30"])
        .env("SCHEMATHESIS_HOOKS", HOOKS)
        .env("RESTOCK_FUZZ_LOG", &log)
        .env("NO_COLOR", "1")
        // Its cache of crashes goes with the run, not into the repository.
        .current_dir(&dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(400), run)
        .await
        .expect("schemathesis finishes within 400 s")
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "schemathesis found problems ({}), seed {seed}:\n{stdout}\n{stderr}",
        output.status
    );
    // The summary, for the log of a passing run.
    let summary: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.contains("SUMMARY"))
        .collect();
    println!("{}", summary.join("\n"));

    let answers = read_log(&log);
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for a in &answers {
        *by_status.entry(a.status).or_default() += 1;
    }
    println!("answers by status: {by_status:?}");
    assert!(
        answers.len() >= 1000,
        "a real run: {} answers",
        answers.len()
    );
    assert!(
        !by_status.keys().any(|s| *s >= 500),
        "no 5xx: {by_status:?}"
    );

    // Every event the fuzzing appended carries the X-Request-Id of the request that appended it
    // (the correlation id): none may belong to an error answer.
    let failed: HashSet<Uuid> = answers
        .iter()
        .filter(|a| a.status >= 400)
        .map(|a| a.request_id)
        .collect();
    let succeeded: HashSet<Uuid> = answers
        .iter()
        .filter(|a| (200..300).contains(&a.status))
        .map(|a| a.request_id)
        .collect();
    let pool = sqlx::PgPool::connect(&app.database_url)
        .await
        .expect("the test database");
    let rows: Vec<(Uuid, String, String)> =
        sqlx::query_as("SELECT correlation_id, event_type, aggregate_id FROM events")
            .fetch_all(&pool)
            .await
            .expect("events");
    pool.close().await;
    let from_errors: Vec<String> = rows
        .iter()
        .filter(|(id, _, _)| failed.contains(id))
        .map(|(id, kind, stream)| {
            let answer = answers.iter().find(|a| a.request_id == *id);
            format!(
                "{kind} on {stream} from {:?}",
                answer.map(|a| (&a.method, &a.url, a.status))
            )
        })
        .collect();
    assert!(
        from_errors.is_empty(),
        "events appended by requests answered with an error:\n{}",
        from_errors.join("\n")
    );
    let from_fuzz = rows
        .iter()
        .filter(|(id, _, _)| succeeded.contains(id))
        .count();
    assert!(
        from_fuzz >= 20,
        "the fuzzer's successful commands appended events ({from_fuzz}), so the check above saw some"
    );
    println!(
        "{} events, {from_fuzz} from the fuzzer's successful commands, none from its {} error answers",
        rows.len(),
        failed.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
