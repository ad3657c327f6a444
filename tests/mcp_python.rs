//! The MCP server driven by a real, independent MCP client: the official Python SDK (`mcp` 2.x,
//! tests/python/requirements.txt), over streamable HTTP against a server on PostgreSQL and over
//! stdio against `restock mcp` on the same database. The checks are in
//! tests/python/mcp_client.py; this test seeds the tenant, runs it and asserts it passed.
//!
//! `scripts/test` creates the virtual environment and sets `RESTOCK_TEST_PYTHON`; without it
//! (a bare `cargo test`) this test says it was skipped (under `CI=true` it fails), and tests/mcp.rs still checks MCP.

mod common;

use common::mcp_seed::seed;
use common::{token_for, Backend, TestApp};
use restock_infrastructure::tokens::Role;
use std::process::Stdio;
use std::time::Duration;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/mcp_client.py");

fn python() -> Option<String> {
    std::env::var("RESTOCK_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
}

/// Run the Python client with `args`; panic with its output unless every check held.
async fn run_client(python: &str, args: &[&str]) {
    let run = tokio::process::Command::new(python)
        .arg(SCRIPT)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the Python MCP client finishes within 120 s")
        .expect("the Python MCP client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("checks hold"),
        "mcp_client.py {args:?} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    println!("{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_official_python_client_over_http_and_stdio() {
    let Some(python) = python() else {
        common::cannot_run("RESTOCK_TEST_PYTHON is not set");
        return;
    };
    let app = TestApp::start(Backend::Postgres).await;
    let manager = app.manager("acme");
    seed(&app, &manager).await;
    let viewer = token_for("acme", Role::Viewer);
    let other = app.manager("globex");
    run_client(
        &python,
        &[
            "http",
            "--api",
            &app.base,
            "--manager-token",
            &manager,
            "--viewer-token",
            &viewer,
            "--other-token",
            &other,
            "--actor",
            "user:tester",
        ],
    )
    .await;
    run_client(
        &python,
        &[
            "stdio",
            "--api",
            &app.base,
            "--manager-token",
            &manager,
            "--restock",
            env!("CARGO_BIN_EXE_restock"),
            "--database-url",
            &app.database_url,
            "--tenant",
            "acme",
            "--other-tenant",
            "globex",
            "--actor",
            "user:mcp",
        ],
    )
    .await;
}
