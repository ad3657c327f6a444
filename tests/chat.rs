//! Conversations through HTTP: the interpreter's answers checked against the read models (the
//! GET endpoints), follow-ups inside a conversation and across a restart, tenancy, and proposed
//! actions that change nothing until a manager confirms them.

mod common;

use chrono::{Duration as ChronoDuration, Utc};
use common::{eventually, token_for, Backend, TestApp, SECRET};
use reqwest::StatusCode;
use restock_application::chat::HISTORY_MESSAGES;
use restock_domain::TenantId;
use restock_infrastructure::tokens::{Role, TokenKeys};
use restock_infrastructure::Db;
use serde_json::{json, Value};
use sqlx::Row;
use std::time::{Duration, Instant};

const SHOP: &str = "shop";
const OTHER: &str = "other-shop";

async fn open_triggers(db: &Db) -> i64 {
    let sql = "SELECT count(*) AS n FROM agent_triggers WHERE status <> 'done'";
    match db {
        Db::Postgres(pool) => sqlx::query(sql)
            .fetch_one(pool)
            .await
            .expect("count")
            .get::<i64, _>("n"),
        Db::Sqlite { read, .. } => sqlx::query(sql)
            .fetch_one(read)
            .await
            .expect("count")
            .get::<i64, _>("n"),
    }
}

async fn idle(app: &TestApp) {
    eventually("the agent is idle", || async {
        open_triggers(&app.server.state.db).await == 0
    })
    .await;
    app.settle().await;
}

fn token_as(user: &str, tenant: &str, role: Role) -> String {
    let keys = TokenKeys::new(SECRET.as_bytes()).expect("keys");
    keys.issue(
        user,
        &TenantId::parse(tenant).expect("tenant"),
        role,
        Utc::now() + ChronoDuration::hours(1),
    )
    .expect("token")
}

async fn ok(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let r = app.post(path, token, body.clone()).await;
    assert!(r.status.is_success(), "POST {path} {body}: {:?}", r.body);
    r.body
}

/// The seeded shop: milk (sold, reserved), coffee (a manual minimum, sold below it: the agent
/// orders), a mug (a refill cancelled), black beans in Portuguese (a receipt days ago), paper
/// filters (a refill by hand, received). Another tenant sells tea.
async fn seed(app: &TestApp) -> Value {
    let m = app.manager(SHOP);
    for (sku, name) in [
        ("MILK", "Milk"),
        ("COFFEE", "Coffee"),
        ("MUG", "Mug"),
        ("FEIJAO", "Feijão Preto"),
        ("FILTER", "Paper Filters"),
    ] {
        let r = app
            .put(&format!("/v1/products/{sku}"), &m, json!({ "name": name }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    let three_days_ago = (common::now() - ChronoDuration::days(3)).to_rfc3339();
    ok(
        app,
        "/v1/products/MILK/receipts",
        &m,
        json!({ "quantity": 40 }),
    )
    .await;
    ok(app, "/v1/products/MILK/sales", &m, json!({ "quantity": 8 })).await;
    ok(
        app,
        "/v1/products/MILK/reservations",
        &m,
        json!({ "quantity": 5 }),
    )
    .await;
    ok(
        app,
        "/v1/products/COFFEE/receipts",
        &m,
        json!({ "quantity": 30 }),
    )
    .await;
    let r = app
        .put(
            "/v1/products/COFFEE/min-stock",
            &m,
            json!({ "quantity": 20 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    ok(
        app,
        "/v1/products/MUG/receipts",
        &m,
        json!({ "quantity": 12 }),
    )
    .await;
    ok(
        app,
        "/v1/products/FEIJAO/receipts",
        &m,
        json!({ "quantity": 25, "occurred_at": three_days_ago }),
    )
    .await;
    ok(
        app,
        "/v1/products/FEIJAO/sales",
        &m,
        json!({ "quantity": 3 }),
    )
    .await;
    ok(
        app,
        "/v1/products/FILTER/receipts",
        &m,
        json!({ "quantity": 6 }),
    )
    .await;
    let filters = ok(
        app,
        "/v1/products/FILTER/refills",
        &m,
        json!({ "quantity": 50, "reason": "the supplier has a promotion" }),
    )
    .await;
    ok(
        app,
        &format!(
            "/v1/refills/{}/receive",
            filters["id"].as_str().expect("id")
        ),
        &m,
        json!({}),
    )
    .await;
    let mugs = ok(
        app,
        "/v1/products/MUG/refills",
        &m,
        json!({ "quantity": 10, "reason": "christmas" }),
    )
    .await;
    ok(
        app,
        &format!("/v1/refills/{}/cancel", mugs["id"].as_str().expect("id")),
        &m,
        json!({}),
    )
    .await;
    // Coffee goes below its manual minimum: the agent (policy) orders.
    ok(
        app,
        "/v1/products/COFFEE/sales",
        &m,
        json!({ "quantity": 15 }),
    )
    .await;
    let o = app.manager(OTHER);
    let r = app
        .put("/v1/products/TEA", &o, json!({ "name": "Green Tea" }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    ok(
        app,
        "/v1/products/TEA/receipts",
        &o,
        json!({ "quantity": 77 }),
    )
    .await;
    idle(app).await;
    let before = common::now().to_rfc3339();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    ok(app, "/v1/products/MILK/sales", &m, json!({ "quantity": 2 })).await;
    idle(app).await;
    json!({ "before_last_milk_sale": before })
}

#[derive(Debug, Clone, Copy)]
enum Check {
    Stock(&'static str),
    BelowMin,
    Refills(Option<&'static str>),
    Why(&'static str),
    AsOf(&'static str),
    Moves(&'static str),
    /// Units sold of one product over the period the answer states.
    Sold(&'static str),
    Forecast(&'static str),
    Notifications,
    Unknown,
    Help,
    Propose(&'static str, &'static str, i64),
}

struct Asker<'a> {
    app: &'a TestApp,
    token: String,
    conversation: String,
    failures: Vec<String>,
    asked: usize,
    latencies: Vec<Duration>,
}

impl Asker<'_> {
    async fn ask(&mut self, question: &str, lang: &str, check: Check) -> Value {
        let started = Instant::now();
        let r = self
            .app
            .post(
                &format!("/v1/conversations/{}/messages", self.conversation),
                &self.token,
                json!({ "text": question }),
            )
            .await;
        self.latencies.push(started.elapsed());
        self.asked += 1;
        assert_eq!(r.status, StatusCode::CREATED, "{question}: {:?}", r.body);
        let turn = r.body;
        if let Err(why) = self.verify(&turn, lang, check).await {
            self.failures.push(format!(
                "{question:?} ({check:?}): {why}\n  answer: {}",
                turn["text"]
            ));
        }
        turn
    }

    async fn get(&self, path: &str) -> Value {
        let r = self.app.get(path, &self.token).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.body);
        r.body
    }

    async fn verify(&self, turn: &Value, lang: &str, check: Check) -> Result<(), String> {
        let text = turn["text"].as_str().unwrap_or_default().to_owned();
        let data = &turn["data"];
        let expect = |cond: bool, what: String| if cond { Ok(()) } else { Err(what) };
        expect(turn["lang"] == lang, format!("lang {}", turn["lang"]))?;
        expect(turn["answered_by"] == "interpreter", "answered_by".into())?;
        expect(
            turn["tool_calls"].as_array().is_some_and(|c| !c.is_empty()),
            "no tool calls".into(),
        )?;
        let has = |n: i64| {
            text.split(|c: char| !c.is_ascii_digit())
                .any(|w| w == n.to_string())
        };
        match check {
            Check::Stock(sku) => {
                let p = self.get(&format!("/v1/products/{sku}")).await;
                expect(
                    data["product"]["sku"] == sku,
                    format!("product {}", data["product"]["sku"]),
                )?;
                for f in ["on_hand", "reserved", "available"] {
                    let n = p[f].as_i64().unwrap_or(-1);
                    expect(data["product"][f] == p[f] && has(n), format!("{f} {n}"))?;
                }
            }
            Check::BelowMin => {
                let list = self.get("/v1/products?below_min=true").await;
                let skus = |v: &Value| {
                    let mut s: Vec<String> = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|p| p["sku"].as_str().map(str::to_owned))
                        .collect();
                    s.sort();
                    s
                };
                let expected = skus(&list["items"]);
                expect(
                    !expected.is_empty(),
                    "nothing below its minimum in the seed".into(),
                )?;
                expect(
                    skus(&data["items"]) == expected,
                    format!("below min {:?}", skus(&data["items"])),
                )?;
                for p in list["items"].as_array().into_iter().flatten() {
                    expect(
                        text.contains(p["sku"].as_str().unwrap_or("?")),
                        format!("{} named", p["sku"]),
                    )?;
                    expect(
                        has(p["available"].as_i64().unwrap_or(-1)),
                        "available stated".into(),
                    )?;
                }
            }
            Check::Refills(status) => {
                let path = match status {
                    Some(s) => format!("/v1/refills?status={s}"),
                    None => "/v1/refills".into(),
                };
                let list = self.get(&path).await;
                let ids = |v: &Value| -> Vec<String> {
                    v.as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|r| r["id"].as_str().map(str::to_owned))
                        .collect()
                };
                expect(
                    !ids(&list["items"]).is_empty(),
                    format!("no {status:?} refills seeded"),
                )?;
                expect(
                    ids(&data["items"]) == ids(&list["items"]),
                    "refill ids".into(),
                )?;
                for r in list["items"].as_array().into_iter().flatten() {
                    expect(
                        has(r["quantity"].as_i64().unwrap_or(-1)),
                        "quantity stated".into(),
                    )?;
                }
            }
            Check::Why(sku) => {
                let refill = &data["audit"]["refill"];
                expect(refill["sku"] == sku, format!("explained {}", refill["sku"]))?;
                let audit = self
                    .get(&format!(
                        "/v1/refills/{}/audit",
                        refill["id"].as_str().unwrap_or("-")
                    ))
                    .await;
                expect(audit["refill"] == *refill, "audit differs".into())?;
                expect(
                    has(refill["quantity"].as_i64().unwrap_or(-1)),
                    "quantity".into(),
                )?;
                if let Some(kind) = audit["trigger"]["type"].as_str() {
                    expect(text.contains(kind), format!("trigger {kind} not stated"))?;
                }
                if let Some(rp) = audit["threshold"]["reorder_point"].as_i64() {
                    expect(has(rp), "minimum then".into())?;
                    let avail = audit["state_at_trigger"]["available"]
                        .as_i64()
                        .unwrap_or(-1);
                    expect(has(avail), "stock then".into())?;
                }
            }
            Check::AsOf(sku) => {
                let at = data["as_of"].as_str().unwrap_or_default();
                let r = self
                    .app
                    .get(
                        &format!("/v1/products/{sku}?as_of={}", urlencode(at)),
                        &self.token,
                    )
                    .await;
                if r.status == StatusCode::NOT_FOUND {
                    // Not registered yet then: the answer says so and states no stock.
                    return expect(
                        data["product"].is_null(),
                        "a product that did not exist".into(),
                    );
                }
                let p = r.body;
                expect(
                    data["product"]["on_hand"] == p["on_hand"],
                    format!(
                        "as_of on_hand {} vs {}",
                        data["product"]["on_hand"], p["on_hand"]
                    ),
                )?;
                expect(
                    data["product"]["available"] == p["available"],
                    "as_of available".into(),
                )?;
                expect(
                    has(p["on_hand"].as_i64().unwrap_or(-1)),
                    "on_hand stated".into(),
                )?;
            }
            Check::Moves(sku) => {
                let from = data["from"]
                    .as_str()
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
                let to = data["to"]
                    .as_str()
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
                let (Some(from), Some(to)) = (from, to) else {
                    return Err(format!("no period in {data}"));
                };
                let list = self.get(&format!("/v1/products/{sku}/movements")).await;
                let (mut inflow, mut outflow) = (0, 0);
                for m in list["items"].as_array().into_iter().flatten() {
                    let at = m["occurred_at"]
                        .as_str()
                        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
                    if at.is_some_and(|at| at >= from && at < to) {
                        let d = m["delta_on_hand"].as_i64().unwrap_or(0);
                        if d > 0 {
                            inflow += d
                        } else {
                            outflow -= d
                        }
                    }
                }
                expect(
                    data["in"] == inflow && data["out"] == outflow,
                    format!(
                        "in/out {}/{} vs {inflow}/{outflow}",
                        data["in"], data["out"]
                    ),
                )?;
                expect(has(inflow) && has(outflow), "in/out stated".into())?;
            }
            Check::Sold(sku) => {
                expect(data["kind"] == "sales", format!("kind {}", data["kind"]))?;
                let summary = &data["summary"];
                let day = |k: &str| {
                    summary[k]
                        .as_str()
                        .and_then(|s| s.parse::<chrono::NaiveDate>().ok())
                };
                let (Some(from), Some(to)) = (day("from"), day("to")) else {
                    return Err(format!("no period in {data}"));
                };
                // Sold units from the movements, independently of the sales tool.
                let list = self
                    .get(&format!("/v1/products/{sku}/movements?limit=500"))
                    .await;
                let sold: i64 = list["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|m| m["type"] == "StockSold" || m["type"] == "ReservationConfirmed")
                    .filter(|m| {
                        m["occurred_at"]
                            .as_str()
                            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                            .is_some_and(|at| {
                                let d = at.date_naive();
                                d >= from && d <= to
                            })
                    })
                    .map(|m| -m["delta_on_hand"].as_i64().unwrap_or(0))
                    .sum();
                let product = &summary["products"][0];
                expect(
                    product["sku"] == sku && product["units"] == sold,
                    format!("units {} vs {sold} sold", product["units"]),
                )?;
                expect(has(sold), "units stated".into())?;
                expect(
                    text.contains(&from.to_string()) && text.contains(&to.to_string()),
                    "the dates used are stated".into(),
                )?;
            }
            Check::Forecast(sku) => {
                let p = self.get(&format!("/v1/products/{sku}")).await;
                expect(
                    data["product"]["min_stock"] == p["min_stock"],
                    "minimum".into(),
                )?;
                if let Some(m) = p["min_stock"].as_i64() {
                    expect(has(m), "minimum stated".into())?;
                }
                let f = self
                    .app
                    .get(&format!("/v1/products/{sku}/forecast"), &self.token)
                    .await;
                if f.status == StatusCode::OK {
                    expect(
                        data["forecast"]["reorder_point"] == f.body["reorder_point"],
                        "reorder point".into(),
                    )?;
                } else {
                    expect(
                        data["forecast"].is_null(),
                        "a forecast that does not exist".into(),
                    )?;
                }
            }
            Check::Notifications => {
                let list = self.get("/v1/notifications").await;
                let n = list["items"].as_array().map(Vec::len).unwrap_or(0);
                expect(
                    data["items"].as_array().map(Vec::len) == Some(n),
                    "count".into(),
                )?;
                if n > 0 {
                    expect(has(n as i64), "count stated".into())?;
                }
            }
            Check::Unknown => {
                expect(
                    data["kind"] == "unknown_product",
                    format!("kind {}", data["kind"]),
                )?;
                expect(
                    !text.chars().any(|c| c.is_ascii_digit()),
                    "a number for an unknown product".into(),
                )?;
            }
            Check::Help => {
                expect(
                    text.contains("I can") || text.contains("Posso"),
                    "help".into(),
                )?;
            }
            Check::Propose(tool, sku, n) => {
                let a = &turn["proposed_action"];
                expect(
                    a["tool"] == tool
                        && a["arguments"]["sku"] == sku
                        && a["arguments"]["quantity"] == n,
                    format!("action {a}"),
                )?;
                expect(
                    turn["tool_calls"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .all(|c| c["name"] != "refill_stock" && c["name"] != "set_min_stock"),
                    "a write tool was called".into(),
                )?;
            }
        }
        Ok(())
    }
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

/// The question table: (question, language, what the answer must state).
fn table(before_last_milk_sale: &str) -> Vec<(String, &'static str, Check)> {
    use Check::*;
    let at = before_last_milk_sale;
    let q = |s: &str, l: &'static str, c: Check| (s.to_owned(), l, c);
    vec![
        q("How much milk do we have?", "en", Stock("MILK")),
        q("and the mugs?", "en", Stock("MUG")),
        q("Quanto Milk temos?", "pt", Stock("MILK")),
        q("e o feijão?", "pt", Stock("FEIJAO")),
        q("e o feijao preto?", "pt", Stock("FEIJAO")),
        q("quantos feijoes temos em estoque", "pt", Stock("FEIJAO")),
        q("stock of coffe", "en", Stock("COFFEE")),
        q(
            "how many paper filter do we have left",
            "en",
            Stock("FILTER"),
        ),
        q("FILTER stock", "en", Stock("FILTER")),
        q("qual o estoque do MUG?", "pt", Stock("MUG")),
        q("quanto tem de cafe?", "pt", Stock("COFFEE")),
        q("quanto leite temos?", "pt", Stock("MILK")),
        q("how much milkk is available?", "en", Stock("MILK")),
        q("What is below the minimum?", "en", BelowMin),
        q("o que está abaixo do mínimo?", "pt", BelowMin),
        q("o que esta abaixo do minimo", "pt", BelowMin),
        q("which products are running low?", "en", BelowMin),
        q("Show the open refills", "en", Refills(Some("requested"))),
        q(
            "quais reposições estão abertas?",
            "pt",
            Refills(Some("requested")),
        ),
        q(
            "which refills were received?",
            "en",
            Refills(Some("received")),
        ),
        q("reposições recebidas", "pt", Refills(Some("received"))),
        q("cancelled refills?", "en", Refills(Some("cancelled"))),
        q("pedidos cancelados", "pt", Refills(Some("cancelled"))),
        q("list all refills", "en", Refills(None)),
        q("Why did we order coffee?", "en", Why("COFFEE")),
        q("por que pedimos café?", "pt", Why("COFFEE")),
        q("why did we order paper filters?", "en", Why("FILTER")),
        q(
            "porque foi feita a reposição dos filtros de papel",
            "pt",
            Why("FILTER"),
        ),
        q("show the open refills", "en", Refills(Some("requested"))),
        q("why?", "en", Why("COFFEE")),
        q("pedidos recebidos", "pt", Refills(Some("received"))),
        q("por quê?", "pt", Why("FILTER")),
        q(
            &format!("how much milk did we have at {at}?"),
            "en",
            AsOf("MILK"),
        ),
        q(&format!("quanto Milk tinha em {at}?"), "pt", AsOf("MILK")),
        q("how much coffee was there yesterday?", "en", AsOf("COFFEE")),
        q("quanto café havia ontem?", "pt", AsOf("COFFEE")),
        q("milk movements today", "en", Moves("MILK")),
        q("movimentos do Milk hoje", "pt", Moves("MILK")),
        q("feijão movements last week", "en", Moves("FEIJAO")),
        q(
            "movimentos do feijão na semana passada",
            "pt",
            Moves("FEIJAO"),
        ),
        q("and the coffee?", "en", Moves("COFFEE")),
        q("e o Milk?", "pt", Moves("MILK")),
        q(
            "what did we sell of coffee in the last 7 days",
            "en",
            Sold("COFFEE"),
        ),
        q("vendas de cafe nos ultimos 2 dias", "pt", Sold("COFFEE")),
        q("What is the forecast for milk?", "en", Forecast("MILK")),
        q("qual a previsão do café?", "pt", Forecast("COFFEE")),
        q("what is the minimum of coffee?", "en", Forecast("COFFEE")),
        q("qual o mínimo do feijão?", "pt", Forecast("FEIJAO")),
        q("e da caneca mug?", "pt", Forecast("MUG")),
        q("Any notifications?", "en", Notifications),
        q("quais são as notificações?", "pt", Notifications),
        q("mostre os alertas", "pt", Notifications),
        q("How much caviar do we have?", "en", Unknown),
        q("quanto salmão temos?", "pt", Unknown),
        q("e o caviar?", "pt", Unknown),
        q("how much green tea do we have?", "en", Unknown),
        q("quanto TEA temos?", "pt", Unknown),
        q("how much green tea do we have left?", "en", Unknown),
        q("hello", "en", Help),
        q("olá, tudo bem?", "pt", Help),
        q(
            "order 20 units of milk",
            "en",
            Propose("refill_stock", "MILK", 20),
        ),
        q(
            "encomende 15 unidades de feijão",
            "pt",
            Propose("refill_stock", "FEIJAO", 15),
        ),
        q(
            "set the minimum of coffee to 30",
            "en",
            Propose("set_min_stock", "COFFEE", 30),
        ),
        q(
            "defina o mínimo do leite Milk para 12",
            "pt",
            Propose("set_min_stock", "MILK", 12),
        ),
        q("how much milk do we have now", "en", Stock("MILK")),
    ]
}

async fn conversation(app: &TestApp, token: &str) -> String {
    let r = app.post("/v1/conversations", token, json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn question_table(backend: Backend) {
    let app = TestApp::start(backend).await;
    let seeded = seed(&app).await;
    let at = seeded["before_last_milk_sale"]
        .as_str()
        .expect("at")
        .to_owned();
    let token = app.manager(SHOP);
    let mut asker = Asker {
        conversation: conversation(&app, &token).await,
        app: &app,
        token: token.clone(),
        failures: Vec::new(),
        asked: 0,
        latencies: Vec::new(),
    };
    let questions = table(&at);
    let pt = questions.iter().filter(|q| q.1 == "pt").count();
    assert!(
        questions.len() >= 60 && pt * 2 >= questions.len(),
        "{} questions, {pt} in Portuguese",
        questions.len()
    );
    for (question, lang, check) in &questions {
        asker.ask(question, lang, *check).await;
    }
    let mut sorted = asker.latencies.clone();
    sorted.sort();
    // A figure for the report, not an assertion.
    eprintln!(
        "chat question table on {backend:?}: {} asked, {} right; p50 {:?}, p99 {:?}",
        asker.asked,
        asker.asked - asker.failures.len(),
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
    );
    assert!(
        asker.failures.is_empty(),
        "{} wrong:\n{}",
        asker.failures.len(),
        asker.failures.join("\n")
    );

    // The conversation is stored: every question and answer, oldest first.
    let stored = asker
        .get(&format!("/v1/conversations/{}", asker.conversation))
        .await;
    assert_eq!(
        stored["messages"].as_array().map(Vec::len),
        Some(2 * questions.len())
    );
    assert_eq!(stored["messages"][0]["text"], "How much milk do we have?");
    assert_eq!(stored["messages"][1]["role"], "assistant");
    let listed = asker.get("/v1/conversations").await;
    assert_eq!(listed["items"][0]["title"], "How much milk do we have?");

    // Follow-ups lean on the conversation after a restart, too.
    asker
        .ask("Why did we order coffee?", "en", Check::Why("COFFEE"))
        .await;
    let conversation_id = asker.conversation.clone();
    let url = app.database_url.clone();
    drop(asker);
    app.server.shutdown().await;
    let app = TestApp::start_on(&url).await;
    let mut asker = Asker {
        conversation: conversation_id.clone(),
        app: &app,
        token: token.clone(),
        failures: Vec::new(),
        asked: 0,
        latencies: Vec::new(),
    };
    asker.ask("por quê?", "pt", Check::Why("COFFEE")).await;
    // "and the mugs?" after "why?" asks why the mugs were ordered.
    asker.ask("and the mugs?", "en", Check::Why("MUG")).await;
    asker
        .ask("how much coffee do we have?", "en", Check::Stock("COFFEE"))
        .await;
    asker.ask("e ontem?", "pt", Check::AsOf("COFFEE")).await;
    assert!(
        asker.failures.is_empty(),
        "after the restart:\n{}",
        asker.failures.join("\n")
    );

    // Another tenant's conversation, and another user's, are not found; its products neither.
    let other = token_for(OTHER, Role::Manager);
    let r = app
        .get(&format!("/v1/conversations/{conversation_id}"), &other)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let colleague = token_as("colleague", SHOP, Role::Manager);
    let r = app
        .post(
            &format!("/v1/conversations/{conversation_id}/messages"),
            &colleague,
            json!({ "text": "how much milk?" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let theirs = conversation(&app, &other).await;
    let r = app
        .post(
            &format!("/v1/conversations/{theirs}/messages"),
            &other,
            json!({ "text": "how much milk do we have?" }),
        )
        .await;
    assert_eq!(r.body["data"]["kind"], "unknown_product", "{:?}", r.body);
    assert!(!r.body["text"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .any(|c| c.is_ascii_digit()));
    let r = app
        .post(
            &format!("/v1/conversations/{theirs}/messages"),
            &other,
            json!({ "text": "how much green tea do we have?" }),
        )
        .await;
    assert_eq!(r.body["data"]["product"]["on_hand"], 77, "{:?}", r.body);
    app.server.shutdown().await;
}

async fn proposed_actions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let m = app.manager(SHOP);
    let r = app
        .put("/v1/products/MILK", &m, json!({ "name": "Milk" }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    ok(
        &app,
        "/v1/products/MILK/receipts",
        &m,
        json!({ "quantity": 40 }),
    )
    .await;
    app.settle().await;
    let c = conversation(&app, &m).await;
    let turn = app
        .post(
            &format!("/v1/conversations/{c}/messages"),
            &m,
            json!({ "text": "order 20 units of milk" }),
        )
        .await
        .body;
    let action = turn["proposed_action"]["id"]
        .as_str()
        .expect("a proposal")
        .to_owned();
    assert_eq!(turn["proposed_action"]["arguments"]["quantity"], 20);
    // Nothing changed: no refill, no event.
    app.settle().await;
    assert_eq!(app.events_of_type(&m, "MILK", "RefillRequested").await, 0);
    assert_eq!(app.get("/v1/refills", &m).await.body["items"], json!([]));
    // A viewer may ask but not confirm.
    let viewer = token_for(SHOP, Role::Viewer);
    let path = format!("/v1/conversations/{c}/actions/{action}/confirm");
    let r = app.post(&path, &viewer, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.events_of_type(&m, "MILK", "RefillRequested").await, 0);
    // Confirmed twice: one command, one event, the same answer.
    let first = app.post(&path, &m, json!({})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let second = app.post(&path, &m, json!({})).await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(first.body, second.body);
    assert_eq!(app.events_of_type(&m, "MILK", "RefillRequested").await, 1);
    let events = app.get("/v1/products/MILK/events?limit=500", &m).await.body;
    let requested = events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["type"] == "RefillRequested")
        .cloned()
        .expect("the refill event");
    assert_eq!(requested["metadata"]["causation_id"], turn["id"]);
    assert_eq!(requested["metadata"]["actor"], "user:tester");
    assert_eq!(first.body["result"]["refill"]["decided_by"], "user:tester");
    // A second order while one is open: the rules refuse it at confirmation, nothing changes.
    let turn = app
        .post(
            &format!("/v1/conversations/{c}/messages"),
            &m,
            json!({ "text": "encomende 5 unidades de milk" }),
        )
        .await
        .body;
    let again = turn["proposed_action"]["id"]
        .as_str()
        .expect("proposal")
        .to_owned();
    let r = app
        .post(
            &format!("/v1/conversations/{c}/actions/{again}/confirm"),
            &m,
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "conflict"),
        "{:?}",
        r.body
    );
    assert_eq!(app.events_of_type(&m, "MILK", "RefillRequested").await, 1);
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("metrics");
    let metrics = metrics.text().await.expect("metrics text");
    assert!(
        metrics.contains("restock_chat_turns_total{answered_by=\"interpreter\"} 2\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("restock_chat_tool_calls_total{tool=\"check_stock\"} 2\n"),
        "{metrics}"
    );
    app.server.shutdown().await;

    // An expired proposal is refused and changes nothing.
    let app = TestApp::start_configured(&app.database_url, |c| {
        c.chat_action_ttl = ChronoDuration::zero();
    })
    .await;
    let turn = app
        .post(
            &format!("/v1/conversations/{c}/messages"),
            &m,
            json!({ "text": "set the minimum of milk to 30" }),
        )
        .await
        .body;
    let late = turn["proposed_action"]["id"]
        .as_str()
        .expect("proposal")
        .to_owned();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let r = app
        .post(
            &format!("/v1/conversations/{c}/actions/{late}/confirm"),
            &m,
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "conflict"),
        "{:?}",
        r.body
    );
    assert_eq!(app.events_of_type(&m, "MILK", "MinimumSet").await, 0);
    assert_eq!(app.product(&m, "MILK").await["min_stock"], Value::Null);
    app.server.shutdown().await;
}

/// `POST /v1/products/{sku}/refills`: 201 Refill by `user:<sub>`, idempotent, 409 when open.
async fn manual_refill(backend: Backend) {
    let app = TestApp::start(backend).await;
    let m = app.manager(SHOP);
    app.register(&m, "A").await;
    let body = json!({ "quantity": 12, "reason": "promotion", "buy_on": "2030-01-02" });
    let first = app
        .send(
            reqwest::Method::POST,
            "/v1/products/A/refills",
            Some(&m),
            Some(&body),
            &[("Idempotency-Key", "k1")],
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_eq!(first.body["decided_by"], "user:tester");
    assert_eq!(first.body["quantity"], 12);
    assert_eq!(first.body["status"], "requested");
    assert_eq!(first.body["buy_on"], "2030-01-02");
    let again = app
        .send(
            reqwest::Method::POST,
            "/v1/products/A/refills",
            Some(&m),
            Some(&body),
            &[("Idempotency-Key", "k1")],
        )
        .await;
    assert_eq!(
        (again.status, &again.body),
        (StatusCode::CREATED, &first.body)
    );
    let other = json!({ "quantity": 13, "reason": "promotion" });
    let r = app
        .send(
            reqwest::Method::POST,
            "/v1/products/A/refills",
            Some(&m),
            Some(&other),
            &[("Idempotency-Key", "k1")],
        )
        .await;
    assert_eq!(r.code(), "idempotency_key_reused");
    let r = app.post("/v1/products/A/refills", &m, other.clone()).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"));
    let r = app
        .post(
            "/v1/products/A/refills",
            &m,
            json!({ "quantity": 0, "reason": "x" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .post(
            "/v1/products/A/refills",
            &m,
            json!({ "quantity": 1, "reason": "" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .post(
            "/v1/products/A/refills",
            &token_for(SHOP, Role::Viewer),
            other.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.post("/v1/products/NOPE/refills", &m, other).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.events_of_type(&m, "A", "RefillRequested").await, 1);
    app.settle().await;
    let listed = app.get("/v1/refills", &m).await.body;
    assert_eq!(listed["items"][0]["id"], first.body["id"]);
    assert_eq!(listed["items"][0]["decided_by"], "user:tester");
    app.server.shutdown().await;
}

/// Turn the stored answer at `position` into text that does not decode.
async fn break_message(db: &Db, conversation: &str, position: i64) {
    let sql = "UPDATE conversation_messages SET turn = '{not json' \
               WHERE conversation_id = $1 AND position = $2";
    let changed = match db {
        Db::Postgres(pool) => sqlx::query(sql)
            .bind(conversation)
            .bind(position)
            .execute(pool)
            .await
            .expect("update")
            .rows_affected(),
        Db::Sqlite { write, .. } => sqlx::query(sql)
            .bind(conversation)
            .bind(position)
            .execute(write)
            .await
            .expect("update")
            .rows_affected(),
    };
    assert_eq!(changed, 1);
}

/// A question reads the end of its conversation, never all of it: reading everything made each
/// question cost its conversation's length, and the soak's server grew with its conversations.
/// An old answer that no longer decodes shows which messages are read: the whole conversation
/// cannot be shown any more, but new questions are still answered.
async fn a_question_reads_only_the_end_of_its_conversation(backend: Backend) {
    let app = TestApp::start(backend).await;
    let m = app.manager(SHOP);
    // Two products: the follow-up below needs its context to know which one.
    app.register(&m, "MILK").await;
    app.register(&m, "COFFEE").await;
    // The interpreter reads the products read model, which follows the events.
    eventually("both products are listed", || async {
        app.get("/v1/products", &m).await.body["items"]
            .as_array()
            .is_some_and(|items| items.len() == 2)
    })
    .await;
    let id = conversation(&app, &m).await;
    let path = format!("/v1/conversations/{id}/messages");
    let question = json!({ "text": "how much MILK do we have?" });
    // One question and one answer per turn: the first answer falls out of the window.
    for _ in 0..HISTORY_MESSAGES / 2 + 1 {
        ok(&app, &path, &m, question.clone()).await;
    }
    break_message(&app.server.state.db, &id, 2).await;
    let whole = app.get(&format!("/v1/conversations/{id}"), &m).await;
    assert_eq!(
        whole.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{:?}",
        whole.body
    );
    let answer = ok(&app, &path, &m, question.clone()).await;
    assert_eq!(answer["data"]["product"]["sku"], "MILK", "{answer}");
    // A follow-up still finds its context at the end of the conversation.
    let follow_up = ok(&app, &path, &m, json!({ "text": "and yesterday?" })).await;
    assert_eq!(follow_up["data"]["kind"], "as_of", "{follow_up}");
    let history_of = |t: &Value| t["name"] == "stock_history" && t["arguments"]["sku"] == "MILK";
    assert!(
        follow_up["tool_calls"]
            .as_array()
            .is_some_and(|calls| calls.iter().any(history_of)),
        "{follow_up}"
    );
    app.server.shutdown().await;
}

on_both_stores!(
    question_table,
    proposed_actions,
    manual_refill,
    a_question_reads_only_the_end_of_its_conversation
);
