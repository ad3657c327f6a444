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
        // An answer that states no figure (an unknown product, the help) calls no tool; every
        // other lists the calls its figures come from.
        let states_nothing = matches!(check, Check::Unknown | Check::Help);
        expect(
            turn["tool_calls"]
                .as_array()
                .is_some_and(|c| c.is_empty() == states_nothing),
            format!("tool calls {}", turn["tool_calls"]),
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

/// Bad input gets a clear problem+json or a clear answer, never a 500, and never another
/// tenant's data.
async fn bad_input_is_refused_or_answered_plainly(backend: Backend) {
    let app = TestApp::start(backend).await;
    let m = app.manager(SHOP);
    app.register(&m, "MILK").await;
    let theirs = app.manager(OTHER);
    let r = app
        .put(
            "/v1/products/SECRET-TEA",
            &theirs,
            json!({ "name": "Secret tea" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.settle().await;
    let raw = |body: &'static str| {
        app.client
            .post(format!("{}/v1/conversations", app.base))
            .bearer_auth(&m)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for (body, status) in [
        ("{not json", StatusCode::BAD_REQUEST),
        ("[1, 2]", StatusCode::BAD_REQUEST),
        ("{\"title\": 1}", StatusCode::BAD_REQUEST),
        ("{}", StatusCode::CREATED),
        ("", StatusCode::CREATED),
    ] {
        let r = common::read(raw(body).await.expect("sent")).await;
        assert_eq!(r.status, status, "{body:?}: {:?}", r.body);
        if status == StatusCode::BAD_REQUEST {
            assert_eq!(r.code(), "validation_failed", "{body:?}");
            assert!(
                r.content_type.starts_with("application/problem+json"),
                "{body:?}"
            );
        }
    }
    let c = ok(&app, "/v1/conversations", &m, json!({})).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let path = format!("/v1/conversations/{c}/messages");
    for text in [String::new(), "x".repeat(2001), "mi\u{0}lk".to_owned()] {
        let r = app.post(&path, &m, json!({ "text": text })).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
        assert_eq!(r.code(), "validation_failed");
    }
    let r = app
        .post(&path, &m, json!({ "text": "x".repeat(2000) }))
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "2,000 characters are accepted"
    );
    for text in [
        "🙂🙂🙂",
        "how many SECRET-TEA did we sell last month?",
        "quanto Secret tea temos?",
    ] {
        let r = app.post(&path, &m, json!({ "text": text })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{text}: {:?}", r.body);
        let answer = r.body["text"].as_str().unwrap_or_default();
        assert!(
            !answer.contains("Secret tea") && !answer.contains("SECRET-TEA ("),
            "{text}: another tenant's product in {answer}"
        );
        assert!(r.body["proposed_action"].is_null());
    }
}

on_both_stores!(
    bad_input_is_refused_or_answered_plainly,
    manager_questions,
    question_table,
    proposed_actions,
    manual_refill,
    a_question_reads_only_the_end_of_its_conversation
);

// ---------------------------------------------------------------------------------------------
// The questions managers ask: sales over periods, rankings, stock ahead, buying, who did what,
// suppliers and changes proposed, in both languages and as many people write them. Every
// expected figure is computed here from the seed (or from the HTTP API's forecast and plan),
// never read back from the answer.

/// Units imported for `sku` on the day `back` days before today (1..=60; TEA only 46..=60).
fn seeded_units(sku: &str, back: i64) -> i64 {
    match sku {
        "COFFEE" => 3 + back % 3,
        "MUG" => 1 + back % 2,
        "MILK" => 10,
        "BREAD" => 20,
        "TEA" if back > 45 => 2,
        _ => 0,
    }
}

/// Live sales today, after the import.
const MUG_SOLD_TODAY: i64 = 2;
const GROCER: &str = "grocer";
const GROCER_SKUS: [&str; 6] = ["COFFEE", "MUG", "MILK", "BREAD", "JAM", "TEA"];

fn sold_between(
    sku: &str,
    today: chrono::NaiveDate,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> i64 {
    let mut units = 0;
    for back in 1..=60 {
        let day = today - ChronoDuration::days(back);
        if day >= from && day <= to {
            units += seeded_units(sku, back);
        }
    }
    if sku == "MUG" && from <= today && today <= to {
        units += MUG_SOLD_TODAY;
    }
    units
}

async fn seed_grocer(app: &TestApp) -> chrono::NaiveDate {
    let m = app.manager(GROCER);
    let ana = token_as("ana", GROCER, Role::Manager);
    for (sku, name, supplier) in [
        ("COFFEE", "Coffee beans", Some("Aurora")),
        ("MUG", "Red mug", None),
        ("MILK", "Whole milk", None),
        ("BREAD", "Pão de forma", None),
        ("JAM", "Strawberry jam", None),
        ("TEA", "Green tea", None),
    ] {
        let r = app
            .put(
                &format!("/v1/products/{sku}"),
                &m,
                json!({ "name": name, "supplier": supplier }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    let today = app.today();
    let mut csv = String::from("date,sku,quantity\n");
    for back in 1..=60 {
        let day = today - ChronoDuration::days(back);
        for sku in GROCER_SKUS {
            let q = seeded_units(sku, back);
            if q > 0 {
                csv.push_str(&format!("{day},{sku},{q}\n"));
            }
        }
    }
    let r = app.import_csv(&m, csv).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    for (sku, q) in [
        ("COFFEE", 50),
        ("MUG", 40),
        ("MILK", 30),
        ("BREAD", 100),
        ("JAM", 10),
    ] {
        ok(
            app,
            &format!("/v1/products/{sku}/receipts"),
            &m,
            json!({ "quantity": q }),
        )
        .await;
    }
    ok(
        app,
        "/v1/products/MUG/sales",
        &m,
        json!({ "quantity": MUG_SOLD_TODAY }),
    )
    .await;
    ok(
        app,
        "/v1/products/MILK/refills",
        &m,
        json!({ "quantity": 50, "reason": "weekly milk" }),
    )
    .await;
    let r = app
        .import_prices(&m, common::promotion_prices_csv(today, "COFFEE", 120, 3))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    app.settle().await;
    let r = app
        .post("/v1/jobs/recompute-thresholds", &m, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // A manager pins coffee's minimum after the forecast: the last change is hers.
    let r = app
        .put(
            "/v1/products/COFFEE/min-stock",
            &ana,
            json!({ "quantity": 30 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    idle(app).await;
    today
}

#[derive(Debug, Clone)]
enum Expect {
    /// Units sold of one product (or all) over the period.
    Sold(Option<&'static str>, chrono::NaiveDate, chrono::NaiveDate),
    /// The daily average of one product over the period.
    Average(&'static str, chrono::NaiveDate, chrono::NaiveDate),
    /// The first product of a ranking by units sold over the period.
    First(&'static str, chrono::NaiveDate, chrono::NaiveDate),
    /// Every product that runs out by this day on its forecast is named, no other.
    RunsOutBy(chrono::NaiveDate),
    /// One product's run-out day and days of cover on its forecast.
    Outlook(&'static str),
    /// When to buy: the plan's order-by day (with prices) or the lead time (without).
    Buy(&'static str),
    /// The expected price over next week, from the plan.
    Price(&'static str),
    /// The latest actor of the product's minimum.
    Who(&'static str, &'static str),
    Supplier(&'static str, Option<&'static str>),
    /// A proposal: tool, sku and the named argument's value.
    Propose(&'static str, &'static str, &'static str, i64),
    /// A proposal on the product's open refill.
    ProposeRefill(&'static str, &'static str),
    Unknown,
    NotUnderstood,
}

/// A product's forecast means from today on.
type Means = Vec<(chrono::NaiveDate, f64)>;

struct Forecasts {
    /// (sku, available, forecast means from today on).
    rows: Vec<(String, f64, Means)>,
}

impl Forecasts {
    async fn read(app: &TestApp, token: &str, today: chrono::NaiveDate) -> Self {
        let mut rows = Vec::new();
        for sku in GROCER_SKUS {
            let p = app.get(&format!("/v1/products/{sku}"), token).await.body;
            let f = app
                .get(&format!("/v1/products/{sku}/forecast"), token)
                .await;
            let means = f.body["forecast"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| {
                    let d: chrono::NaiveDate = x["date"].as_str()?.parse().ok()?;
                    Some((d, x["mean"].as_f64()?.max(0.0)))
                })
                .filter(|(d, _)| *d >= today)
                .collect();
            rows.push((
                sku.to_owned(),
                p["available"].as_f64().unwrap_or(0.0),
                means,
            ));
        }
        Self { rows }
    }

    /// The first day cumulative forecast demand passes what is available.
    fn runs_out(&self, sku: &str) -> Option<chrono::NaiveDate> {
        let (_, available, means) = self.rows.iter().find(|r| r.0 == sku)?;
        let mut left = *available;
        means.iter().find_map(|(d, m)| {
            left -= m;
            (left < 0.0).then_some(*d)
        })
    }

    fn cover(&self, sku: &str) -> Option<f64> {
        let (_, available, means) = self.rows.iter().find(|r| r.0 == sku)?;
        if means.is_empty() {
            return None;
        }
        let daily =
            (means.iter().map(|m| m.1).sum::<f64>() / means.len() as f64 * 100.0).round() / 100.0;
        (daily > 0.0).then(|| (available / daily * 10.0).round() / 10.0)
    }
}

fn states(text: &str, figure: &str) -> bool {
    // As a whole token: "21" is not found in "210".
    text.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .any(|t| t.trim_end_matches('.') == figure)
}

fn fmt2(x: f64) -> String {
    format!("{}", (x * 100.0).round() / 100.0)
}

#[allow(clippy::too_many_lines)]
async fn verify_manager_answer(
    app: &TestApp,
    token: &str,
    today: chrono::NaiveDate,
    forecasts: &Forecasts,
    turn: &Value,
    lang: &str,
    expect: &Expect,
) -> Result<(), String> {
    let text = turn["text"].as_str().unwrap_or_default();
    let data = &turn["data"];
    let check = |cond: bool, what: String| if cond { Ok(()) } else { Err(what) };
    check(turn["lang"] == lang, format!("lang {}", turn["lang"]))?;
    check(turn["answered_by"] == "interpreter", "answered_by".into())?;
    let names = |sku: &str| -> String {
        match sku {
            "COFFEE" => "Coffee beans",
            "MUG" => "Red mug",
            "MILK" => "Whole milk",
            "BREAD" => "Pão de forma",
            "JAM" => "Strawberry jam",
            _ => "Green tea",
        }
        .to_owned()
    };
    match expect {
        Expect::Sold(sku, from, to) => {
            check(data["kind"] == "sales", format!("kind {}", data["kind"]))?;
            let s = &data["summary"];
            check(
                s["from"] == from.to_string() && s["to"] == to.to_string(),
                format!(
                    "period {} to {}, expected {from} to {to}",
                    s["from"], s["to"]
                ),
            )?;
            let expected = match sku {
                Some(sku) => sold_between(sku, today, *from, *to),
                None => GROCER_SKUS
                    .iter()
                    .map(|s| sold_between(s, today, *from, *to))
                    .sum(),
            };
            check(
                s["total_units"] == expected,
                format!("units {} vs {expected}", s["total_units"]),
            )?;
            check(
                states(text, &expected.to_string()),
                format!("{expected} not stated"),
            )?;
            check(
                text.contains(&from.to_string()) && text.contains(&to.to_string()),
                "the dates used are not stated".into(),
            )?;
        }
        Expect::Average(sku, from, to) => {
            check(data["kind"] == "sales", format!("kind {}", data["kind"]))?;
            let days = (*to - *from).num_days() + 1;
            let units = sold_between(sku, today, *from, *to);
            let avg = fmt2(units as f64 / days as f64);
            check(states(text, &avg), format!("average {avg} not stated"))?;
            check(text.contains(&from.to_string()), "dates".into())?;
        }
        Expect::First(sku, from, to) => {
            check(data["kind"] == "ranking", format!("kind {}", data["kind"]))?;
            let r = &data["ranking"];
            check(
                r["items"][0]["sku"] == *sku,
                format!("first {}", r["items"][0]["sku"]),
            )?;
            check(
                r["from"] == from.to_string() && r["to"] == to.to_string(),
                format!("period {} {}", r["from"], r["to"]),
            )?;
            let units = sold_between(sku, today, *from, *to);
            check(
                r["items"][0]["value"] == units as f64,
                format!("value {} vs {units}", r["items"][0]["value"]),
            )?;
            check(text.contains(&names(sku)), "first product not named".into())?;
        }
        Expect::RunsOutBy(by) => {
            check(data["kind"] == "outlook", format!("kind {}", data["kind"]))?;
            for sku in GROCER_SKUS {
                let out = forecasts.runs_out(sku).filter(|d| d <= by);
                let named = text.contains(&format!("({sku})"));
                check(
                    named == out.is_some(),
                    format!("{sku}: named {named}, runs out {out:?}"),
                )?;
                if let Some(d) = out {
                    check(text.contains(&d.to_string()), format!("{sku}'s day {d}"))?;
                }
            }
        }
        Expect::Outlook(sku) => {
            check(data["kind"] == "outlook", format!("kind {}", data["kind"]))?;
            match forecasts.runs_out(sku) {
                Some(d) => check(text.contains(&d.to_string()), format!("run-out day {d}"))?,
                None => check(
                    text.contains("does not run out") || text.contains("não acaba"),
                    "not running out".into(),
                )?,
            }
            if let Some(c) = forecasts.cover(sku) {
                check(states(text, &fmt2(c)), format!("cover {c}"))?;
            }
        }
        Expect::Buy(sku) => {
            let plan = app
                .get(&format!("/v1/products/{sku}/purchase-plan"), token)
                .await;
            if plan.status == StatusCode::OK {
                check(
                    data["kind"] == "purchase_plan",
                    format!("kind {}", data["kind"]),
                )?;
                let by = plan.body["order_by"].as_str().unwrap_or("?");
                check(text.contains(by), format!("order by {by}"))?;
                let best = plan.body["best_day"].as_str().unwrap_or("?");
                check(text.contains(best), format!("best day {best}"))?;
            } else {
                let p = app.get(&format!("/v1/products/{sku}"), token).await.body;
                let lead = p["lead_time_days"].as_i64().unwrap_or(-1);
                check(states(text, &lead.to_string()), format!("lead time {lead}"))?;
                check(
                    text.contains("no supplier prices") || text.contains("Não há preços"),
                    "no prices said".into(),
                )?;
            }
        }
        Expect::Price(sku) => {
            let plan = app
                .get(&format!("/v1/products/{sku}/purchase-plan"), token)
                .await
                .body;
            let monday = today
                + ChronoDuration::days(
                    7 - i64::from(chrono::Datelike::weekday(&today).num_days_from_monday()),
                );
            let sunday = monday + ChronoDuration::days(6);
            let week: Vec<f64> = plan["price_forecast"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| {
                    p["date"]
                        .as_str()
                        .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
                        .is_some_and(|d| d >= monday && d <= sunday)
                })
                .filter_map(|p| p["mean"].as_f64())
                .collect();
            let low = week.iter().copied().fold(f64::MAX, f64::min);
            check(
                !week.is_empty() && states(text, &fmt2(low)),
                format!("lowest {low} of {week:?}"),
            )?;
        }
        Expect::Who(sku, actor) => {
            check(data["kind"] == "timeline", format!("kind {}", data["kind"]))?;
            check(text.contains(actor), format!("{actor} not named"))?;
            check(text.contains(&format!("({sku})")), "product".into())?;
        }
        Expect::Supplier(sku, supplier) => {
            check(data["kind"] == "supplier", format!("kind {}", data["kind"]))?;
            check(text.contains(&format!("({sku})")), "product".into())?;
            match supplier {
                Some(s) => check(text.contains(s), format!("{s} not named"))?,
                None => check(
                    text.contains("No supplier") || text.contains("Não há fornecedor"),
                    "no supplier".into(),
                )?,
            }
        }
        Expect::Propose(tool, sku, field, value) => {
            let a = &turn["proposed_action"];
            check(
                a["tool"] == *tool
                    && a["arguments"]["sku"] == *sku
                    && a["arguments"][*field] == *value,
                format!("action {a}"),
            )?;
        }
        Expect::ProposeRefill(tool, sku) => {
            let p = app.get(&format!("/v1/products/{sku}"), token).await.body;
            let a = &turn["proposed_action"];
            check(
                a["tool"] == *tool && a["arguments"]["refill_id"] == p["open_refill_id"],
                format!("action {a} vs open refill {}", p["open_refill_id"]),
            )?;
        }
        Expect::Unknown => {
            check(
                data["kind"] == "unknown_product",
                format!("kind {}", data["kind"]),
            )?;
            check(
                !text.chars().any(|c| c.is_ascii_digit()),
                "a number for an unknown product".into(),
            )?;
        }
        Expect::NotUnderstood => {
            check(data["kind"] == "help", format!("kind {}", data["kind"]))?;
            check(turn["proposed_action"].is_null(), "a proposal".into())?;
        }
    }
    if !matches!(expect, Expect::Propose(..) | Expect::ProposeRefill(..)) {
        check(
            turn["proposed_action"].is_null(),
            "an unexpected proposal".into(),
        )?;
    }
    Ok(())
}

/// (question, language, expected). Periods as the contract defines them: weeks Monday to
/// Sunday, calendar months, rolling "last N days" ending today.
fn manager_table(today: chrono::NaiveDate) -> Vec<(&'static str, &'static str, Expect)> {
    use Expect::*;
    let d = |n: i64| today - ChronoDuration::days(n);
    let monday = today
        - ChronoDuration::days(i64::from(
            chrono::Datelike::weekday(&today).num_days_from_monday(),
        ));
    let first = chrono::Datelike::with_day(&today, 1).expect("the 1st");
    let last_month_end = first - ChronoDuration::days(1);
    let last_month = (
        chrono::Datelike::with_day(&last_month_end, 1).expect("the 1st"),
        last_month_end,
    );
    let last_week = (
        monday - ChronoDuration::days(7),
        monday - ChronoDuration::days(1),
    );
    let this_week = (monday, today);
    let this_month = (first, today);
    let thirty = (d(29), today);
    let seven = (d(6), today);
    let sunday = monday + ChronoDuration::days(6);
    // Days of the test clock's month (TEST_START is 2026-12-07).
    let dec = |day: u32| chrono::NaiveDate::from_ymd_opt(2026, 12, day).expect("a December day");
    vec![
        // Units sold over a period, one product.
        (
            "How many mugs did we sell last month?",
            "en",
            Sold(Some("MUG"), last_month.0, last_month.1),
        ),
        (
            "how many mugs did we sell last month",
            "en",
            Sold(Some("MUG"), last_month.0, last_month.1),
        ),
        (
            "mugs sold last month?",
            "en",
            Sold(Some("MUG"), last_month.0, last_month.1),
        ),
        (
            "how many red mugs were sold in the last 7 days?",
            "en",
            Sold(Some("MUG"), seven.0, seven.1),
        ),
        (
            "mug sales this week",
            "en",
            Sold(Some("MUG"), this_week.0, this_week.1),
        ),
        (
            "mug sales last week",
            "en",
            Sold(Some("MUG"), last_week.0, last_week.1),
        ),
        (
            "how many mugs did we sell today?",
            "en",
            Sold(Some("MUG"), today, today),
        ),
        (
            "how many mugs did we sell yesterday",
            "en",
            Sold(Some("MUG"), d(1), d(1)),
        ),
        (
            "total coffee sold this month",
            "en",
            Sold(Some("COFFEE"), this_month.0, this_month.1),
        ),
        (
            "how much coffee did we sell in the past 30 days",
            "en",
            Sold(Some("COFFEE"), thirty.0, thirty.1),
        ),
        (
            "coffee sales since monday",
            "en",
            Sold(Some("COFFEE"), monday - ChronoDuration::days(7), today),
        ),
        (
            "how much milk have we sold last week?",
            "en",
            Sold(Some("MILK"), last_week.0, last_week.1),
        ),
        (
            "how many units of bread did we sell yesterday?",
            "en",
            Sold(Some("BREAD"), d(1), d(1)),
        ),
        (
            "how many coffe did we sell last month",
            "en",
            Sold(Some("COFFEE"), last_month.0, last_month.1),
        ),
        (
            "how many mugs did we sell",
            "en",
            Sold(Some("MUG"), thirty.0, thirty.1),
        ),
        (
            "sales of green tea last month",
            "en",
            Sold(Some("TEA"), last_month.0, last_month.1),
        ),
        (
            "how many jams did we sell this week",
            "en",
            Sold(Some("JAM"), this_week.0, this_week.1),
        ),
        (
            "quantas canecas vendemos no mês passado?",
            "pt",
            Sold(Some("MUG"), last_month.0, last_month.1),
        ),
        (
            "quantas canecas vendemos no mes passado",
            "pt",
            Sold(Some("MUG"), last_month.0, last_month.1),
        ),
        (
            "quanto pão vendemos ontem?",
            "pt",
            Sold(Some("BREAD"), d(1), d(1)),
        ),
        (
            "quanto pao vendemos ontem",
            "pt",
            Sold(Some("BREAD"), d(1), d(1)),
        ),
        (
            "quantos pães foram vendidos na semana passada?",
            "pt",
            Sold(Some("BREAD"), last_week.0, last_week.1),
        ),
        (
            "vendas de café esta semana",
            "pt",
            Sold(Some("COFFEE"), this_week.0, this_week.1),
        ),
        (
            "vendas de cafe nos ultimos 7 dias",
            "pt",
            Sold(Some("COFFEE"), seven.0, seven.1),
        ),
        (
            "quanto leite vendemos nos últimos 30 dias?",
            "pt",
            Sold(Some("MILK"), thirty.0, thirty.1),
        ),
        (
            "quanto de leite foi vendido este mês",
            "pt",
            Sold(Some("MILK"), this_month.0, this_month.1),
        ),
        (
            "quantas canecas vendemos hoje?",
            "pt",
            Sold(Some("MUG"), today, today),
        ),
        (
            "quanto cafe vendemos desde segunda",
            "pt",
            Sold(Some("COFFEE"), monday - ChronoDuration::days(7), today),
        ),
        (
            "vendas do chá verde no mês passado",
            "pt",
            Sold(Some("TEA"), last_month.0, last_month.1),
        ),
        (
            "quantas geleias vendemos esta semana",
            "pt",
            Sold(Some("JAM"), this_week.0, this_week.1),
        ),
        // Units sold, every product.
        (
            "how many units did we sell last week?",
            "en",
            Sold(None, last_week.0, last_week.1),
        ),
        ("total sales yesterday", "en", Sold(None, d(1), d(1))),
        (
            "what did we sell last month?",
            "en",
            Sold(None, last_month.0, last_month.1),
        ),
        ("quanto vendemos ontem?", "pt", Sold(None, d(1), d(1))),
        (
            "quanto vendemos na semana passada",
            "pt",
            Sold(None, last_week.0, last_week.1),
        ),
        (
            "total de vendas do mês passado",
            "pt",
            Sold(None, last_month.0, last_month.1),
        ),
        // Averages.
        (
            "how much bread do we sell per day on average?",
            "en",
            Average("BREAD", d(27), today),
        ),
        (
            "average daily sales of milk",
            "en",
            Average("MILK", d(27), today),
        ),
        (
            "how many mugs do we sell a day?",
            "en",
            Average("MUG", d(27), today),
        ),
        (
            "coffee sold per day last month",
            "en",
            Average("COFFEE", last_month.0, last_month.1),
        ),
        (
            "quanto pão vendemos por dia em média?",
            "pt",
            Average("BREAD", d(27), today),
        ),
        (
            "media diaria de vendas do leite",
            "pt",
            Average("MILK", d(27), today),
        ),
        (
            "quantas canecas vendemos por dia",
            "pt",
            Average("MUG", d(27), today),
        ),
        (
            "média de café vendido por dia no mês passado",
            "pt",
            Average("COFFEE", last_month.0, last_month.1),
        ),
        // Best and worst sellers.
        (
            "qual produto mais vendeu no último mês?",
            "pt",
            First("BREAD", last_month.0, last_month.1),
        ),
        (
            "qual produto mais vendeu no ultimo mes",
            "pt",
            First("BREAD", last_month.0, last_month.1),
        ),
        (
            "quais os produtos mais vendidos?",
            "pt",
            First("BREAD", thirty.0, thirty.1),
        ),
        (
            "o que vendeu mais na semana passada",
            "pt",
            First("BREAD", last_week.0, last_week.1),
        ),
        (
            "qual o produto menos vendido do mês passado?",
            "pt",
            First("JAM", last_month.0, last_month.1),
        ),
        // JAM and TEA both sold nothing then: the tie goes by sku.
        (
            "o que vendeu menos na semana passada",
            "pt",
            First("JAM", last_week.0, last_week.1),
        ),
        (
            "what was our best seller last month?",
            "en",
            First("BREAD", last_month.0, last_month.1),
        ),
        // This week is today so far: only the mugs sold.
        (
            "best sellers this week",
            "en",
            First("MUG", this_week.0, this_week.1),
        ),
        (
            "top 3 products by sales last week",
            "en",
            First("BREAD", last_week.0, last_week.1),
        ),
        (
            "which product sold the most?",
            "en",
            First("BREAD", thirty.0, thirty.1),
        ),
        (
            "what sells the least?",
            "en",
            First("JAM", thirty.0, thirty.1),
        ),
        (
            "worst sellers last month",
            "en",
            First("JAM", last_month.0, last_month.1),
        ),
        (
            "which products sold the least last week",
            "en",
            First("JAM", last_week.0, last_week.1),
        ),
        ("bestsellers yesterday", "en", First("BREAD", d(1), d(1))),
        // Running out, every product.
        (
            "which products will run out this week?",
            "en",
            RunsOutBy(sunday),
        ),
        ("what will run out this week", "en", RunsOutBy(sunday)),
        (
            "what runs out in the next 7 days?",
            "en",
            RunsOutBy(today + ChronoDuration::days(6)),
        ),
        (
            "anything running out soon this week?",
            "en",
            RunsOutBy(sunday),
        ),
        (
            "which products are going to run out next week",
            "en",
            RunsOutBy(sunday + ChronoDuration::days(7)),
        ),
        ("o que vai acabar esta semana?", "pt", RunsOutBy(sunday)),
        (
            "quais produtos vão esgotar essa semana",
            "pt",
            RunsOutBy(sunday),
        ),
        (
            "o que acaba nos próximos 7 dias?",
            "pt",
            RunsOutBy(today + ChronoDuration::days(6)),
        ),
        (
            "quais produtos vao acabar nesta semana",
            "pt",
            RunsOutBy(sunday),
        ),
        (
            "o que vai esgotar na próxima semana?",
            "pt",
            RunsOutBy(sunday + ChronoDuration::days(7)),
        ),
        // One product ahead: run-out day and days of cover.
        ("when will milk run out?", "en", Outlook("MILK")),
        ("when do we run out of coffee", "en", Outlook("COFFEE")),
        (
            "how many days of coffee do we have left?",
            "en",
            Outlook("COFFEE"),
        ),
        ("how many days of milk are left", "en", Outlook("MILK")),
        ("how long will the bread last?", "en", Outlook("BREAD")),
        ("days of cover for mugs", "en", Outlook("MUG")),
        (
            "how many days until the mugs run out?",
            "en",
            Outlook("MUG"),
        ),
        ("quando o leite vai acabar?", "pt", Outlook("MILK")),
        ("quando acaba o café?", "pt", Outlook("COFFEE")),
        ("quantos dias de café temos?", "pt", Outlook("COFFEE")),
        ("quantos dias de leite restam", "pt", Outlook("MILK")),
        ("para quantos dias temos pão?", "pt", Outlook("BREAD")),
        ("quando vamos ficar sem canecas", "pt", Outlook("MUG")),
        ("cobertura de estoque do leite", "pt", Outlook("MILK")),
        // Buying.
        ("when should I buy coffee?", "en", Buy("COFFEE")),
        ("when should we order coffee beans", "en", Buy("COFFEE")),
        ("best day to buy coffee?", "en", Buy("COFFEE")),
        ("when should I buy milk?", "en", Buy("MILK")),
        ("quando devo comprar café?", "pt", Buy("COFFEE")),
        ("quando comprar cafe", "pt", Buy("COFFEE")),
        ("qual o melhor dia para comprar café?", "pt", Buy("COFFEE")),
        ("quando devo encomendar leite", "pt", Buy("MILK")),
        ("what will coffee cost next week?", "en", Price("COFFEE")),
        ("coffee price next week", "en", Price("COFFEE")),
        (
            "quanto vai custar o café na próxima semana?",
            "pt",
            Price("COFFEE"),
        ),
        ("preço do café semana que vem", "pt", Price("COFFEE")),
        // Who did what.
        (
            "who changed the minimum of coffee?",
            "en",
            Who("COFFEE", "user:ana"),
        ),
        (
            "who set the coffee minimum",
            "en",
            Who("COFFEE", "user:ana"),
        ),
        (
            "who changed the minimum of mugs?",
            "en",
            Who("MUG", "system:forecast"),
        ),
        ("who changed coffee?", "en", Who("COFFEE", "user:ana")),
        (
            "quem mudou o mínimo do café?",
            "pt",
            Who("COFFEE", "user:ana"),
        ),
        (
            "quem alterou o minimo do cafe",
            "pt",
            Who("COFFEE", "user:ana"),
        ),
        (
            "quem definiu o mínimo das canecas?",
            "pt",
            Who("MUG", "system:forecast"),
        ),
        ("quem mexeu no leite?", "pt", Who("MILK", "user:tester")),
        // Suppliers.
        (
            "who supplies our coffee?",
            "en",
            Supplier("COFFEE", Some("Aurora")),
        ),
        (
            "what is the supplier of coffee beans",
            "en",
            Supplier("COFFEE", Some("Aurora")),
        ),
        ("who supplies the milk?", "en", Supplier("MILK", None)),
        (
            "qual o fornecedor do café?",
            "pt",
            Supplier("COFFEE", Some("Aurora")),
        ),
        (
            "quem fornece o cafe",
            "pt",
            Supplier("COFFEE", Some("Aurora")),
        ),
        ("fornecedor do leite", "pt", Supplier("MILK", None)),
        // Changes: always proposals.
        (
            "receive 30 units of coffee",
            "en",
            Propose("receive_stock", "COFFEE", "quantity", 30),
        ),
        (
            "we received 12 red mugs",
            "en",
            Propose("receive_stock", "MUG", "quantity", 12),
        ),
        (
            "add 5 jams to stock, we received them",
            "en",
            Propose("receive_stock", "JAM", "quantity", 5),
        ),
        (
            "recebemos 24 pães",
            "pt",
            Propose("receive_stock", "BREAD", "quantity", 24),
        ),
        (
            "dar entrada de 10 leites",
            "pt",
            Propose("receive_stock", "MILK", "quantity", 10),
        ),
        (
            "registre a venda de 2 canecas",
            "pt",
            Propose("record_sale", "MUG", "quantity", 2),
        ),
        (
            "registrar venda de 3 cafés",
            "pt",
            Propose("record_sale", "COFFEE", "quantity", 3),
        ),
        (
            "vendemos 4 pães agora",
            "pt",
            Propose("record_sale", "BREAD", "quantity", 4),
        ),
        (
            "record a sale of 4 mugs",
            "en",
            Propose("record_sale", "MUG", "quantity", 4),
        ),
        (
            "we sold 3 jams",
            "en",
            Propose("record_sale", "JAM", "quantity", 3),
        ),
        (
            "log a sale of 1 coffee",
            "en",
            Propose("record_sale", "COFFEE", "quantity", 1),
        ),
        (
            "we counted 11 mugs",
            "en",
            Propose("count_stock", "MUG", "counted", 11),
        ),
        (
            "count: 7 jams on the shelf",
            "en",
            Propose("count_stock", "JAM", "counted", 7),
        ),
        (
            "contamos 9 canecas",
            "pt",
            Propose("count_stock", "MUG", "counted", 9),
        ),
        (
            "contagem do leite: 25",
            "pt",
            Propose("count_stock", "MILK", "counted", 25),
        ),
        (
            "cancel the milk order",
            "en",
            ProposeRefill("cancel_refill", "MILK"),
        ),
        (
            "cancel the refill of milk",
            "en",
            ProposeRefill("cancel_refill", "MILK"),
        ),
        (
            "cancele o pedido de leite",
            "pt",
            ProposeRefill("cancel_refill", "MILK"),
        ),
        (
            "cancelar a reposição do leite",
            "pt",
            ProposeRefill("cancel_refill", "MILK"),
        ),
        (
            "receive the milk order",
            "en",
            ProposeRefill("receive_refill", "MILK"),
        ),
        (
            "receba o pedido de leite",
            "pt",
            ProposeRefill("receive_refill", "MILK"),
        ),
        (
            "the milk order arrived, 50 units",
            "en",
            ProposeRefill("receive_refill", "MILK"),
        ),
        (
            "chegaram 50 do pedido de leite",
            "pt",
            ProposeRefill("receive_refill", "MILK"),
        ),
        // Short forms, typos and no accents.
        ("mug sales?", "en", Sold(Some("MUG"), thirty.0, thirty.1)),
        (
            "sold bread yesterday?",
            "en",
            Sold(Some("BREAD"), d(1), d(1)),
        ),
        (
            "how many mugz did we sel last week",
            "en",
            Sold(Some("MUG"), last_week.0, last_week.1),
        ),
        (
            "vendas de leite ontem",
            "pt",
            Sold(Some("MILK"), d(1), d(1)),
        ),
        (
            "qnto cafe vendemos semana passada",
            "pt",
            Sold(Some("COFFEE"), last_week.0, last_week.1),
        ),
        (
            "campeao de vendas do mes passado",
            "pt",
            First("BREAD", last_month.0, last_month.1),
        ),
        (
            "top sellers last month",
            "en",
            First("BREAD", last_month.0, last_month.1),
        ),
        ("leite acaba quando?", "pt", Outlook("MILK")),
        ("milk run out when?", "en", Outlook("MILK")),
        ("days left of bread", "en", Outlook("BREAD")),
        (
            "supplier for coffee?",
            "en",
            Supplier("COFFEE", Some("Aurora")),
        ),
        (
            "quem mudou o minimo do cafe",
            "pt",
            Who("COFFEE", "user:ana"),
        ),
        (
            "vendi 2 geleias",
            "pt",
            Propose("record_sale", "JAM", "quantity", 2),
        ),
        (
            "contei 30 cafes",
            "pt",
            Propose("count_stock", "COFFEE", "counted", 30),
        ),
        // Other ways of asking.
        (
            "mugs sold in November?",
            "en",
            Sold(Some("MUG"), last_month.0, last_month.1),
        ),
        (
            "how much bread did we sell between 1 and 5 December?",
            "en",
            Sold(Some("BREAD"), dec(1), dec(5)),
        ),
        (
            "What's selling best?",
            "en",
            First("BREAD", thirty.0, thirty.1),
        ),
        (
            "top 5 products this month",
            "en",
            First("BREAD", this_month.0, this_month.1),
        ),
        ("How long until we run out of milk?", "en", Outlook("MILK")),
        (
            "do we have enough milk for the week?",
            "en",
            Outlook("MILK"),
        ),
        (
            "Who sells us coffee?",
            "en",
            Supplier("COFFEE", Some("Aurora")),
        ),
        (
            "de quem compramos café?",
            "pt",
            Supplier("COFFEE", Some("Aurora")),
        ),
        (
            "stop the milk order",
            "en",
            ProposeRefill("cancel_refill", "MILK"),
        ),
        (
            "a entrega do leite chegou",
            "pt",
            ProposeRefill("receive_refill", "MILK"),
        ),
        (
            "we just got 20 bags of coffee",
            "en",
            Propose("receive_stock", "COFFEE", "quantity", 20),
        ),
        // Unknown products: said so, never a figure.
        ("how many caviar did we sell last month?", "en", Unknown),
        ("when will the salmon run out?", "en", Unknown),
        ("quanto salmão vendemos ontem?", "pt", Unknown),
        ("quando devo comprar lagosta?", "pt", Unknown),
        ("who supplies the caviar?", "en", Unknown),
        // Not understood: what was understood and examples, no product lookup, no proposal.
        ("what is the meaning of life?", "en", NotUnderstood),
        ("tell me a joke", "en", NotUnderstood),
        ("qual é o sentido da vida?", "pt", NotUnderstood),
        ("me conte uma piada", "pt", NotUnderstood),
        ("🙂🙂🙂", "en", NotUnderstood),
    ]
}

async fn grocer_versions(app: &TestApp, token: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for sku in GROCER_SKUS {
        out.push(app.get(&format!("/v1/products/{sku}"), token).await.body["version"].clone());
    }
    out
}

async fn manager_questions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let today = seed_grocer(&app).await;
    let token = app.manager(GROCER);
    let forecasts = Forecasts::read(&app, &token, today).await;
    let before = grocer_versions(&app, &token).await;
    let table = manager_table(today);
    let pt = table.iter().filter(|q| q.1 == "pt").count();
    assert!(
        table.len() >= 150 && pt * 5 >= table.len() * 2,
        "{} questions, {pt} in Portuguese",
        table.len()
    );
    let mut failures = Vec::new();
    let mut latencies = Vec::new();
    for (question, lang, expect) in &table {
        // A conversation each: no answer leans on the one before.
        let c = ok(&app, "/v1/conversations", &token, json!({})).await["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let started = Instant::now();
        let r = app
            .post(
                &format!("/v1/conversations/{c}/messages"),
                &token,
                json!({ "text": question }),
            )
            .await;
        latencies.push(started.elapsed());
        assert_eq!(r.status, StatusCode::CREATED, "{question}: {:?}", r.body);
        if let Err(why) =
            verify_manager_answer(&app, &token, today, &forecasts, &r.body, lang, expect).await
        {
            failures.push(format!(
                "{question:?} ({expect:?}): {why}\n  answer: {}",
                r.body["text"]
            ));
        }
    }
    latencies.sort();
    eprintln!(
        "manager questions on {backend:?}: {} asked, {} right; p50 {:?}, p99 {:?}",
        table.len(),
        table.len() - failures.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
    );
    assert!(
        failures.is_empty(),
        "{} wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // No message changed stock: every change was only proposed.
    assert_eq!(
        grocer_versions(&app, &token).await,
        before,
        "a question changed a product"
    );
}
