//! The built-in interpreter: deterministic, offline, the default. It reads a question (English
//! or Portuguese), decides which read tools answer it, calls them through the tool layer, and
//! writes the answer from their results only. A change asked for becomes a proposal, never a
//! call of a write tool.

use super::answers::{self, Target};
use super::period::{self, DateRange};
use super::query::{self, Ask, Query};
use super::text::{self, has_any, has_prefix, t, Lang, Period};
use super::ToolCallView;
use crate::tools::{ToolCaller, ToolError, Tools};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

/// What the interpreter answered, with every tool call it made.
#[derive(Debug, Clone)]
pub struct Answer {
    pub text: String,
    pub lang: Lang,
    pub tool_calls: Vec<ToolCallView>,
    pub data: Option<Value>,
    pub proposal: Option<Proposal>,
    /// What the next question's follow-up may lean on (stored with the turn).
    pub context: Value,
}

#[derive(Debug, Clone)]
pub struct Proposal {
    pub tool: &'static str,
    pub arguments: Value,
    pub summary: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Intent {
    Stock,
    BelowMin,
    Refills,
    Why,
    AsOf,
    Movements,
    Forecast,
    Notifications,
    Order,
    SetMin,
    Help,
}

impl Intent {
    fn needs_product(self) -> bool {
        matches!(
            self,
            Self::Stock
                | Self::AsOf
                | Self::Movements
                | Self::Forecast
                | Self::Order
                | Self::SetMin
        )
    }
}

/// The conversation so far, as the interpreter keeps it between turns.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Context {
    lang: Option<String>,
    intent: Option<Intent>,
    sku: Option<String>,
    refill_id: Option<Uuid>,
    refill_status: Option<String>,
    period: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The last question's ask, when [`super::query`] parsed it, and its period: a follow-up
    /// ("and milk?", "e no mês passado?") asks it again with what it changes.
    #[serde(default)]
    ask: Option<Ask>,
    #[serde(default)]
    range: Option<DateRange>,
}

/// The tool calls of one turn, each recorded with its arguments and result.
pub(super) struct Session<'a> {
    tools: &'a Tools,
    caller: &'a ToolCaller,
    pub(super) calls: Vec<ToolCallView>,
}

impl Session<'_> {
    pub(super) async fn call(&mut self, name: &str, arguments: Value) -> Result<Value, ToolError> {
        let result = self.tools.call(self.caller, name, &arguments).await;
        let recorded = match &result {
            Ok(v) => v.clone(),
            Err(e) => json!({ "error": e.code(), "message": e.to_string() }),
        };
        self.calls.push(ToolCallView {
            name: name.to_owned(),
            arguments,
            result: recorded,
        });
        result
    }
}

fn detect(words: &[String], has_number: bool) -> Option<Intent> {
    let w = words;
    let minimum = has_prefix(w, &["minim", "reorder"]);
    if has_number
        && minimum
        && has_any(
            w,
            &[
                "set", "change", "make", "put", "defina", "definir", "mude", "mudar", "coloque",
                "ponha", "altere", "alterar", "to", "para",
            ],
        )
    {
        return Some(Intent::SetMin);
    }
    if has_number
        && has_prefix(
            w,
            &[
                "order", "buy", "encomend", "pec", "pedir", "pede", "compr", "purchase", "request",
                "reponha", "solicit",
            ],
        )
    {
        return Some(Intent::Order);
    }
    if has_any(
        w,
        &["why", "porque", "explain", "explique", "motivo", "reason"],
    ) || w.windows(2).any(|p| p[0] == "por" && p[1] == "que")
    {
        return Some(Intent::Why);
    }
    if has_prefix(w, &["notific", "alert", "aviso", "warning"]) {
        return Some(Intent::Notifications);
    }
    if has_any(
        w,
        &["below", "abaixo", "under", "short", "falta", "faltando"],
    ) || (has_any(w, &["low", "baixo"])
        && has_any(w, &["running", "estoque", "stock", "what", "que"]))
    {
        return Some(Intent::BelowMin);
    }
    if has_prefix(
        w,
        &[
            "refill",
            "order",
            "pedido",
            "reposic",
            "encomenda",
            "purchase",
            "compra",
        ],
    ) {
        return Some(Intent::Refills);
    }
    if has_prefix(w, &["forecast", "previs", "demand", "demanda"]) || minimum {
        return Some(Intent::Forecast);
    }
    if has_prefix(
        w,
        &[
            "movement",
            "moviment",
            "sold",
            "sell",
            "sales",
            "venda",
            "vendemos",
            "vendid",
            "histor",
            "entrad",
            "saida",
            "happened",
            "aconteceu",
        ],
    ) {
        return Some(Intent::Movements);
    }
    if has_any(
        w,
        &[
            "was", "were", "had", "havia", "tinha", "tinhamos", "eram", "era",
        ],
    ) {
        return Some(Intent::AsOf);
    }
    if has_any(
        w,
        &[
            "much",
            "many",
            "stock",
            "estoque",
            "quanto",
            "quantos",
            "quantas",
            "have",
            "temos",
            "tem",
            "available",
            "disponivel",
            "on",
            "hand",
            "left",
            "sobrou",
            "resta",
            "restam",
            "check",
            "level",
        ],
    ) {
        return Some(Intent::Stock);
    }
    None
}

/// "and the mugs?", "e o feijão?", "what about milk?": a question that leans on the last one.
fn follow_up(words: &[String]) -> bool {
    let first = words.first().map(String::as_str);
    matches!(first, Some("and" | "e" | "also" | "tambem"))
        || words
            .windows(2)
            .next()
            .is_some_and(|p| matches!((p[0].as_str(), p[1].as_str()), ("what" | "how", "about")))
}

/// What a question the interpreter could not place did say, before the examples.
fn understood(lang: Lang, named: Option<&(String, String)>, period: Option<Period>) -> String {
    let mut parts = Vec::new();
    if let Some((sku, name)) = named {
        parts.push(t(
            lang,
            format!("the product {name} ({sku})"),
            format!("o produto {name} ({sku})"),
        ));
    }
    if let Some(p) = period {
        parts.push(t(
            lang,
            format!("the period from {}", day(p.from)),
            format!("o período a partir de {}", day(p.from)),
        ));
    }
    if parts.is_empty() {
        return t(
            lang,
            "I did not understand the question. ".into(),
            "Não entendi a pergunta. ".into(),
        );
    }
    t(
        lang,
        format!(
            "I understood {}, but not what you want to know about it. ",
            parts.join(" and ")
        ),
        format!(
            "Entendi {}, mas não o que você quer saber. ",
            parts.join(" e ")
        ),
    )
}

fn refill_status(words: &[String]) -> Option<&'static str> {
    if has_prefix(
        words,
        &[
            "open",
            "abert",
            "pending",
            "pendent",
            "request",
            "solicitad",
        ],
    ) {
        Some("requested")
    } else if has_prefix(
        words,
        &[
            "received", "recebid", "arrived", "chegar", "chegou", "chegaram",
        ],
    ) {
        Some("received")
    } else if has_prefix(words, &["cancel"]) {
        Some("cancelled")
    } else {
        None
    }
}

/// A product in the tenant's list, scored against the question's words.
struct Candidate {
    sku: String,
    name: String,
    score: f64,
}

/// A word and its stems in both languages.
type Stemmed = (String, [String; 2]);

fn score_products(words: &[String], catalog: &[(String, String)]) -> Vec<Candidate> {
    // Each question word's forms and stems once, then each product word's stems once.
    let asked: Vec<(String, Vec<Stemmed>)> = words
        .iter()
        .filter(|w| !text::is_stop_word(w))
        .map(|w| {
            let forms = text::variants(w)
                .into_iter()
                .map(|v| {
                    let stems = text::stems(&v);
                    (v, stems)
                })
                .collect();
            (w.clone(), forms)
        })
        .collect();
    let mut found: Vec<Candidate> = catalog
        .iter()
        .filter_map(|(sku, name)| {
            let sku_folded = text::fold(sku).trim().to_owned();
            let name_words: Vec<Stemmed> = text::words(&text::fold(name))
                .into_iter()
                .map(|n| {
                    let stems = text::stems(&n);
                    (n, stems)
                })
                .collect();
            let mut score = 0.0_f64;
            for (q, forms) in &asked {
                if *q == sku_folded {
                    score = score.max(1.5);
                }
                for (word, word_stems) in forms {
                    for (n, n_stems) in &name_words {
                        score = score.max(text::word_score_stemmed(word, word_stems, n, n_stems));
                    }
                }
            }
            (score > 0.0).then(|| Candidate {
                sku: sku.clone(),
                name: name.clone(),
                score,
            })
        })
        .collect();
    found.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.sku.cmp(&b.sku)));
    found
}

/// Names like the unknown word, for "did you mean".
fn suggestions(words: &[String], catalog: &[(String, String)]) -> Vec<String> {
    let asked: Vec<&String> = words.iter().filter(|w| !text::is_stop_word(w)).collect();
    let mut scored: Vec<(f64, String)> = catalog
        .iter()
        .map(|(_, name)| {
            let folded = text::fold(name);
            let best = asked
                .iter()
                .map(|q| strsim::jaro_winkler(q, folded.trim()))
                .fold(0.0, f64::max);
            (best, name.clone())
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn date(at: &Value) -> String {
    at.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| {
            d.with_timezone(&Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|| "?".into())
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

fn source(lang: Lang, s: &str) -> &'static str {
    match (lang, s) {
        (Lang::En, "manual") => "set by hand",
        (Lang::En, "forecast") => "from the forecast",
        (Lang::En, _) => "none",
        (Lang::Pt, "manual") => "definido à mão",
        (Lang::Pt, "forecast") => "da previsão",
        (Lang::Pt, _) => "nenhum",
    }
}

/// "Milk (MILK): 40 on hand, 5 reserved, 35 available; minimum 20 (set by hand), not below it."
fn describe_product(lang: Lang, p: &Value) -> String {
    let name = p["name"].as_str().unwrap_or_default();
    let sku = p["sku"].as_str().unwrap_or_default();
    let (on_hand, reserved, available) = (
        int(&p["on_hand"]),
        int(&p["reserved"]),
        int(&p["available"]),
    );
    let src = source(lang, p["min_stock_source"].as_str().unwrap_or("none"));
    let below = p["below_min"].as_bool().unwrap_or(false);
    let minimum = match (lang, p["min_stock"].as_i64()) {
        (Lang::En, Some(m)) => format!(
            "minimum {m} ({src}), {}",
            if below { "below it" } else { "not below it" }
        ),
        (Lang::Pt, Some(m)) => format!(
            "mínimo {m} ({src}), {}",
            if below {
                "abaixo dele"
            } else {
                "não está abaixo"
            }
        ),
        (Lang::En, None) => "no minimum".into(),
        (Lang::Pt, None) => "sem mínimo".into(),
    };
    t(
        lang,
        format!("{name} ({sku}): {on_hand} on hand, {reserved} reserved, {available} available; {minimum}."),
        format!("{name} ({sku}): {on_hand} em estoque, {reserved} reservadas, {available} disponíveis; {minimum}."),
    )
}

const HELP_EN: &str = "I can tell you: the stock of a product (\"how much milk do we have?\"), units sold over a period (\"how many mugs did we sell last month?\"), the best and worst sellers, what runs out this week and how many days of stock are left, when to buy and what it will cost, who changed a minimum, the supplier, what is below its minimum, the refills and why one was made, and the forecast. I can also prepare an order, a receipt, a sale, a count or a new minimum (\"order 20 units of milk\") for a manager to confirm.";
const HELP_PT: &str = "Posso dizer: o estoque de um produto (\"quanto leite temos?\"), quanto vendemos num período (\"quantas canecas vendemos no mês passado?\"), os mais e menos vendidos, o que acaba esta semana e quantos dias de estoque restam, quando comprar e quanto vai custar, quem mudou um mínimo, o fornecedor, o que está abaixo do mínimo, as reposições e por que uma foi feita, e a previsão. Também preparo um pedido, uma entrada, uma venda, uma contagem ou um novo mínimo (\"encomende 20 unidades de leite\") para um gerente confirmar.";

/// Words that name no product here: say so, with names it does know, and never a figure.
fn unknown_product(
    lang: Lang,
    words: &[String],
    items: &[(String, String)],
    unknown_words: &[&String],
    calls: Vec<ToolCallView>,
    ctx: &Context,
) -> Answer {
    let asked = unknown_words
        .iter()
        .map(|w| w.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let names = suggestions(words, items);
    let suggest = names.join(", ");
    let text = t(
        lang,
        format!("I don't know a product called \"{asked}\" in this shop. Products I know include: {suggest}. Ask again with one of them or its sku."),
        format!("Não conheço nenhum produto chamado \"{asked}\" nesta loja. Alguns que conheço: {suggest}. Pergunte de novo com um deles ou o sku."),
    );
    Answer {
        text,
        lang,
        tool_calls: calls,
        data: Some(json!({ "kind": "unknown_product", "asked": asked, "suggestions": names })),
        proposal: None,
        context: json!(ctx),
    }
}

/// Answer `question` with read tools only. `previous` is the context stored with the last turn.
pub async fn answer(
    tools: &Tools,
    caller: &ToolCaller,
    question: &str,
    previous: Option<&Value>,
    now: DateTime<Utc>,
) -> Result<Answer, ToolError> {
    let prev: Context = previous
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let folded = text::fold(question);
    let words = text::words(&folded);
    let lang = text::language(&words, prev.lang.as_deref().and_then(Lang::parse));
    let number = text::first_number(&words);
    let period = text::period(&words, now);
    let mut session = Session {
        tools,
        caller,
        calls: Vec::new(),
    };
    let mut ctx = Context {
        lang: Some(lang.as_str().into()),
        ..prev.clone()
    };

    let detected = detect(&words, number.is_some());
    // Names are matched against all of the tenant's own products (sku and name only, through
    // the tool layer; not a tool call of the turn, since no figure comes from it). Reading 500
    // whole product rows as a tool result here was most of every question's time, and left
    // the 501st product unknown.
    let items = tools.product_names(caller).await?;
    let candidates = score_products(&words, &items);
    let named = candidates.first().map(|c| (c.sku.clone(), c.name.clone()));
    let unknown_words: Vec<&String> = words
        .iter()
        .filter(|w| !text::is_stop_word(w) && !query::is_query_word(w))
        .collect();

    // The kinds of question [`query`] knows come first, but for orders, minimums and "why",
    // which the older intents answer; a question that asks nothing new but names another
    // product or period follows up on the last one that did.
    let today = now.date_naive();
    let parsed = query::parse(&words, today).or_else(|| {
        let range = period::parse(&words, today);
        let follows = detected.is_none() && (named.is_some() || range.is_some());
        prev.ask.filter(|_| follows).map(|ask| Query {
            ask,
            period: range.or(prev.range),
            limit: None,
        })
    });
    // A proposal it parsed ("the milk order arrived, 50 units") wins over the older order
    // intent, which only looks for a number and the word "order".
    if let Some(q) = parsed.filter(|q| {
        matches!(q.ask, Ask::Propose { .. })
            || !matches!(detected, Some(Intent::Order | Intent::SetMin | Intent::Why))
    }) {
        let target = match &named {
            Some((sku, name)) => Some(Target {
                sku: sku.clone(),
                name: name.clone(),
            }),
            // Words that name nothing here: an unknown product, not every product.
            None if !unknown_words.is_empty() && !matches!(q.ask, Ask::Rank { .. }) => {
                return Ok(unknown_product(
                    lang,
                    &words,
                    &items,
                    &unknown_words,
                    session.calls,
                    &ctx,
                ));
            }
            None if q.ask.needs_product() => prev.sku.as_ref().and_then(|sku| {
                items
                    .iter()
                    .find(|(s, _)| s == sku)
                    .map(|(sku, name)| Target {
                        sku: sku.clone(),
                        name: name.clone(),
                    })
            }),
            None => None,
        };
        ctx.intent = None;
        ctx.ask = Some(q.ask);
        ctx.range = q.period;
        ctx.sku = target.as_ref().map(|p| p.sku.clone()).or(prev.sku.clone());
        let reply =
            answers::answer(&mut session, lang, &q, target.as_ref(), today, question).await?;
        return Ok(answers::into_answer(lang, session, reply, json!(ctx)));
    }
    ctx.ask = None;
    ctx.range = None;

    // A question without its own verb leans on the last one: "and the mugs?", "e ontem?".
    let intent = match detected {
        Some(i) => i,
        None if named.is_some() => match prev.intent {
            Some(
                i @ (Intent::Stock
                | Intent::AsOf
                | Intent::Movements
                | Intent::Forecast
                | Intent::Why),
            ) => {
                if period.is_some() && i == Intent::Stock {
                    Intent::AsOf
                } else {
                    i
                }
            }
            _ if period.is_some() => Intent::AsOf,
            _ => Intent::Stock,
        },
        None if period.is_some() && prev.sku.is_some() => match prev.intent {
            Some(Intent::Movements) => Intent::Movements,
            Some(Intent::Refills) => Intent::Refills,
            _ => Intent::AsOf,
        },
        // "e o feijão?" where no feijão is sold: the last question again, about a product it
        // does not know, so the answer says so (and never gives a number).
        None if !unknown_words.is_empty()
            && follow_up(&words)
            && prev.intent.is_some_and(Intent::needs_product) =>
        {
            prev.intent.unwrap_or(Intent::Stock)
        }
        // Nothing it recognises: say what it can do rather than guess.
        None => Intent::Help,
    };
    // The past tense with a day is a past state; "sales last week" stays movements.
    let intent = if intent == Intent::Stock && period.is_some() {
        Intent::AsOf
    } else {
        intent
    };
    ctx.intent = Some(intent);

    // No product named: a question with no other words leans on the last product ("why?",
    // "e ontem?"); one with words that name nothing here is about an unknown product.
    let product = match &named {
        Some((sku, _)) => Some(sku.clone()),
        None if unknown_words.is_empty() => prev.sku.clone(),
        None => None,
    };
    if intent.needs_product() && product.is_none() {
        return Ok(unknown_product(
            lang,
            &words,
            &items,
            &unknown_words,
            session.calls,
            &ctx,
        ));
    }
    ctx.sku = product.clone();
    if let Some(p) = period {
        ctx.period = Some((p.from, p.to));
    }

    let mut proposal = None;
    let (text, data) = match intent {
        Intent::Help => {
            let understood = understood(lang, named.as_ref(), text::period(&words, now));
            (
                t(
                    lang,
                    format!("{understood}{HELP_EN}"),
                    format!("{understood}{HELP_PT}"),
                ),
                Some(json!({ "kind": "help", "product": named.as_ref().map(|n| &n.0) })),
            )
        }
        Intent::Stock => {
            let sku = product.unwrap_or_default();
            let p = session.call("check_stock", json!({ "sku": sku })).await?;
            (
                describe_product(lang, &p),
                Some(json!({ "kind": "stock", "product": p })),
            )
        }
        Intent::BelowMin => {
            let found = session
                .call("list_products", json!({ "below_min": true }))
                .await?;
            let items = found["items"].as_array().cloned().unwrap_or_default();
            let list: Vec<String> = items
                .iter()
                .map(|p| {
                    t(
                        lang,
                        format!(
                            "{} ({}): {} available, minimum {}",
                            p["name"].as_str().unwrap_or_default(),
                            p["sku"].as_str().unwrap_or_default(),
                            int(&p["available"]),
                            int(&p["min_stock"])
                        ),
                        format!(
                            "{} ({}): {} disponíveis, mínimo {}",
                            p["name"].as_str().unwrap_or_default(),
                            p["sku"].as_str().unwrap_or_default(),
                            int(&p["available"]),
                            int(&p["min_stock"])
                        ),
                    )
                })
                .collect();
            let text = if list.is_empty() {
                t(
                    lang,
                    "Nothing is below its minimum.".into(),
                    "Nada está abaixo do mínimo.".into(),
                )
            } else {
                t(
                    lang,
                    format!("{} below the minimum: {}.", list.len(), list.join("; ")),
                    format!("{} abaixo do mínimo: {}.", list.len(), list.join("; ")),
                )
            };
            (text, Some(json!({ "kind": "below_min", "items": items })))
        }
        Intent::Refills => {
            let status = refill_status(&words).map(str::to_owned).or_else(|| {
                if detected.is_none() {
                    prev.refill_status.clone()
                } else {
                    None
                }
            });
            ctx.refill_status = status.clone();
            let mut args = json!({});
            if let Some(s) = &status {
                args["status"] = json!(s);
            }
            let found = session.call("list_refills", args).await?;
            let mut items = found["items"].as_array().cloned().unwrap_or_default();
            if let Some(sku) = &named.as_ref().map(|n| n.0.clone()) {
                items.retain(|r| r["sku"].as_str() == Some(sku));
            }
            if let Some(last) = items.last() {
                ctx.refill_id = last["id"].as_str().and_then(|s| Uuid::parse_str(s).ok());
                ctx.sku = last["sku"].as_str().map(str::to_owned);
            }
            let list: Vec<String> = items
                .iter()
                .map(|r| {
                    let (sku, q, by) = (
                        r["sku"].as_str().unwrap_or_default(),
                        int(&r["quantity"]),
                        r["decided_by"].as_str().unwrap_or_default(),
                    );
                    let st = r["status"].as_str().unwrap_or_default();
                    t(
                        lang,
                        format!(
                            "{sku}: {q} units, {st}, decided by {by} on {}",
                            date(&r["created_at"])
                        ),
                        format!(
                            "{sku}: {q} unidades, {}, decidida por {by} em {}",
                            match st {
                                "requested" => "aberta",
                                "received" => "recebida",
                                _ => "cancelada",
                            },
                            date(&r["created_at"])
                        ),
                    )
                })
                .collect();
            let label_en = status
                .as_deref()
                .map(|s| match s {
                    "requested" => "open ",
                    "received" => "received ",
                    _ => "cancelled ",
                })
                .unwrap_or("");
            let label_pt = status
                .as_deref()
                .map(|s| match s {
                    "requested" => " abertas",
                    "received" => " recebidas",
                    _ => " canceladas",
                })
                .unwrap_or("");
            let text = if list.is_empty() {
                t(
                    lang,
                    format!("There are no {label_en}refills."),
                    format!("Não há reposições{label_pt}."),
                )
            } else {
                t(
                    lang,
                    format!("{} {label_en}refill(s): {}.", list.len(), list.join("; ")),
                    format!(
                        "{} reposição(ões){label_pt}: {}.",
                        list.len(),
                        list.join("; ")
                    ),
                )
            };
            (
                text,
                Some(json!({ "kind": "refills", "status": status, "items": items })),
            )
        }
        Intent::Why => {
            let refill_id = match named.as_ref().map(|n| n.0.clone()) {
                Some(sku) => {
                    let found = session.call("list_refills", json!({})).await?;
                    found["items"]
                        .as_array()
                        .and_then(|items| {
                            items
                                .iter()
                                .rev()
                                .find(|r| r["sku"].as_str() == Some(&sku))
                                .cloned()
                        })
                        .and_then(|r| r["id"].as_str().and_then(|s| Uuid::parse_str(s).ok()))
                }
                None => match prev.refill_id {
                    Some(id) => Some(id),
                    None => {
                        let found = session.call("list_refills", json!({})).await?;
                        found["items"]
                            .as_array()
                            .and_then(|items| {
                                items
                                    .iter()
                                    .rev()
                                    .find(|r| {
                                        prev.sku.is_none()
                                            || r["sku"].as_str() == prev.sku.as_deref()
                                    })
                                    .cloned()
                            })
                            .and_then(|r| r["id"].as_str().and_then(|s| Uuid::parse_str(s).ok()))
                    }
                },
            };
            match refill_id {
                None => (
                    t(lang, "I found no refill to explain. Ask about the refills first, or name the product.".into(), "Não encontrei reposição para explicar. Pergunte pelas reposições ou diga o produto.".into()),
                    None,
                ),
                Some(id) => {
                    ctx.refill_id = Some(id);
                    let audit = session.call("explain_refill", json!({ "refill_id": id })).await?;
                    ctx.sku = audit["refill"]["sku"].as_str().map(str::to_owned);
                    (explain(lang, &audit), Some(json!({ "kind": "explain_refill", "audit": audit })))
                }
            }
        }
        Intent::AsOf => {
            let sku = product.unwrap_or_default();
            let at = period
                .map(|p| p.to.min(now))
                .or(prev.period.map(|p| p.1.min(now)))
                .unwrap_or(now)
                - Duration::seconds(1);
            let h = session
                .call(
                    "stock_history",
                    json!({ "sku": sku, "as_of": at, "limit": 1 }),
                )
                .await;
            match h {
                Ok(h) => {
                    let p = &h["product"];
                    let text = t(
                        lang,
                        format!(
                            "As of {}: {}",
                            at.format("%Y-%m-%d %H:%M UTC"),
                            describe_product(lang, p)
                        ),
                        format!(
                            "Em {}: {}",
                            at.format("%Y-%m-%d %H:%M UTC"),
                            describe_product(lang, p)
                        ),
                    );
                    (
                        text,
                        Some(json!({ "kind": "as_of", "as_of": at, "product": p })),
                    )
                }
                Err(ToolError::NotFound(_)) => (
                    t(
                        lang,
                        format!("The product did not exist yet on {}.", day(at)),
                        format!("O produto ainda não existia em {}.", day(at)),
                    ),
                    Some(json!({ "kind": "as_of", "as_of": at, "product": null })),
                ),
                Err(e) => return Err(e),
            }
        }
        Intent::Movements => {
            let sku = product.unwrap_or_default();
            let p = period
                .or(prev
                    .period
                    .filter(|_| detected.is_none())
                    .map(|(from, to)| Period { from, to }))
                .unwrap_or(Period {
                    from: now - Duration::days(7),
                    to: now,
                });
            ctx.period = Some((p.from, p.to));
            let h = session
                .call(
                    "stock_history",
                    json!({ "sku": sku, "limit": crate::tools::request::MAX_LIMIT }),
                )
                .await?;
            let moves: Vec<Value> = h["movements"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|m| {
                    m["occurred_at"]
                        .as_str()
                        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                        .is_some_and(|at| {
                            let at = at.with_timezone(&Utc);
                            at >= p.from && at < p.to
                        })
                })
                .collect();
            let inflow: i64 = moves
                .iter()
                .map(|m| int(&m["delta_on_hand"]))
                .filter(|d| *d > 0)
                .sum();
            let outflow: i64 = -moves
                .iter()
                .map(|m| int(&m["delta_on_hand"]))
                .filter(|d| *d < 0)
                .sum::<i64>();
            let name = h["product"]["name"].as_str().unwrap_or_default();
            let on_hand = int(&h["product"]["on_hand"]);
            let text = t(
                lang,
                format!("{name} from {} to {}: {} movement(s), {inflow} in, {outflow} out. On hand now: {on_hand}.", day(p.from), day(p.to), moves.len()),
                format!("{name} de {} a {}: {} movimento(s), {inflow} entraram, {outflow} saíram. Em estoque agora: {on_hand}.", day(p.from), day(p.to), moves.len()),
            );
            (
                text,
                Some(
                    json!({ "kind": "movements", "from": p.from, "to": p.to, "in": inflow, "out": outflow, "movements": moves }),
                ),
            )
        }
        Intent::Forecast => {
            let sku = product.unwrap_or_default();
            let p = session.call("check_stock", json!({ "sku": sku })).await?;
            let f = session.call("get_forecast", json!({ "sku": sku })).await;
            let name = p["name"].as_str().unwrap_or_default();
            let minimum = match p["min_stock"].as_i64() {
                Some(m) => t(
                    lang,
                    format!(
                        "The minimum in force is {m} ({}).",
                        source(lang, p["min_stock_source"].as_str().unwrap_or("none"))
                    ),
                    format!(
                        "O mínimo em vigor é {m} ({}).",
                        source(lang, p["min_stock_source"].as_str().unwrap_or("none"))
                    ),
                ),
                None => t(
                    lang,
                    "There is no minimum in force.".into(),
                    "Não há mínimo em vigor.".into(),
                ),
            };
            match f {
                Ok(f) => {
                    let text = t(
                        lang,
                        format!("Forecast for {name} (model {}, computed {}): lead-time demand {:.1}, safety stock {:.1}, reorder point {}. {minimum}", f["model"].as_str().unwrap_or_default(), date(&f["computed_at"]), f["lead_time_demand"].as_f64().unwrap_or(0.0), f["safety_stock"].as_f64().unwrap_or(0.0), int(&f["reorder_point"])),
                        format!("Previsão de {name} (modelo {}, calculada {}): demanda no prazo de entrega {:.1}, estoque de segurança {:.1}, ponto de pedido {}. {minimum}", f["model"].as_str().unwrap_or_default(), date(&f["computed_at"]), f["lead_time_demand"].as_f64().unwrap_or(0.0), f["safety_stock"].as_f64().unwrap_or(0.0), int(&f["reorder_point"])),
                    );
                    (
                        text,
                        Some(json!({ "kind": "forecast", "forecast": f, "product": p })),
                    )
                }
                Err(ToolError::NotFound(_)) => (
                    t(
                        lang,
                        format!("No forecast has been computed for {name} yet. {minimum}"),
                        format!("Ainda não há previsão calculada para {name}. {minimum}"),
                    ),
                    Some(json!({ "kind": "forecast", "forecast": null, "product": p })),
                ),
                Err(e) => return Err(e),
            }
        }
        Intent::Notifications => {
            let found = session.call("list_notifications", json!({})).await?;
            let items = found["items"].as_array().cloned().unwrap_or_default();
            let latest: Vec<String> = items
                .iter()
                .rev()
                .take(5)
                .map(|n| n["message"].as_str().unwrap_or_default().to_owned())
                .collect();
            let text = if items.is_empty() {
                t(
                    lang,
                    "There are no notifications.".into(),
                    "Não há notificações.".into(),
                )
            } else {
                t(
                    lang,
                    format!(
                        "{} notification(s); the latest: {}",
                        items.len(),
                        latest.join(" | ")
                    ),
                    format!(
                        "{} notificação(ões); as mais recentes: {}",
                        items.len(),
                        latest.join(" | ")
                    ),
                )
            };
            (
                text,
                Some(json!({ "kind": "notifications", "items": items })),
            )
        }
        Intent::Order | Intent::SetMin => {
            let sku = product.unwrap_or_default();
            let p = session.call("check_stock", json!({ "sku": sku })).await?;
            let name = p["name"].as_str().unwrap_or_default().to_owned();
            let n = number.unwrap_or(0);
            let (tool, arguments, summary) = if intent == Intent::Order {
                let reason: String = format!("asked in chat: {question}")
                    .chars()
                    .take(500)
                    .collect();
                (
                    "refill_stock",
                    json!({ "sku": sku, "quantity": n, "reason": reason }),
                    t(
                        lang,
                        format!("Order {n} units of {name} ({sku})"),
                        format!("Encomendar {n} unidades de {name} ({sku})"),
                    ),
                )
            } else {
                (
                    "set_min_stock",
                    json!({ "sku": sku, "quantity": n }),
                    t(
                        lang,
                        format!("Set the minimum of {name} ({sku}) to {n}"),
                        format!("Definir o mínimo de {name} ({sku}) em {n}"),
                    ),
                )
            };
            proposal = Some(Proposal {
                tool,
                arguments: arguments.clone(),
                summary: summary.clone(),
            });
            let text = t(
                lang,
                format!("{summary}? Nothing has changed yet: a manager must confirm this action. Now: {}", describe_product(lang, &p)),
                format!("{summary}? Nada mudou ainda: um gerente precisa confirmar esta ação. Agora: {}", describe_product(lang, &p)),
            );
            (
                text,
                Some(
                    json!({ "kind": "proposal", "tool": tool, "arguments": arguments, "product": p }),
                ),
            )
        }
    };
    Ok(Answer {
        text,
        lang,
        tool_calls: session.calls,
        data,
        proposal,
        context: json!(ctx),
    })
}

/// The audit in a sentence or three: trigger, the state then, the minimum and its source, the
/// decision.
fn explain(lang: Lang, a: &Value) -> String {
    let r = &a["refill"];
    let (sku, q, by) = (
        r["sku"].as_str().unwrap_or_default(),
        int(&r["quantity"]),
        r["decided_by"].as_str().unwrap_or_default(),
    );
    let when = date(&r["created_at"]);
    let mut out = t(
        lang,
        format!("The refill of {q} units of {sku} was requested on {when}, decided by {by}."),
        format!("A reposição de {q} unidades de {sku} foi pedida em {when}, decidida por {by}."),
    );
    if let Some(trigger) = a["trigger"].as_object() {
        let s = &a["state_at_trigger"];
        out.push(' ');
        out.push_str(&t(
            lang,
            format!(
                "It was triggered by a {} on {}, which left {} available ({} on hand).",
                trigger
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
                date(trigger.get("occurred_at").unwrap_or(&Value::Null)),
                int(&s["available"]),
                int(&s["on_hand"])
            ),
            format!(
                "Foi disparada por um {} em {}, que deixou {} disponíveis ({} em estoque).",
                trigger
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
                date(trigger.get("occurred_at").unwrap_or(&Value::Null)),
                int(&s["available"]),
                int(&s["on_hand"])
            ),
        ));
    }
    if let Some(th) = a["threshold"].as_object() {
        let src = source(
            lang,
            th.get("source").and_then(Value::as_str).unwrap_or("none"),
        );
        out.push(' ');
        out.push_str(&t(
            lang,
            format!(
                "The minimum then was {} ({src}).",
                th.get("reorder_point").and_then(Value::as_i64).unwrap_or(0)
            ),
            format!(
                "O mínimo era {} ({src}).",
                th.get("reorder_point").and_then(Value::as_i64).unwrap_or(0)
            ),
        ));
    }
    if let Some(d) = a["decision"].as_object() {
        out.push(' ');
        out.push_str(&t(
            lang,
            format!(
                "Decision: {}",
                d.get("rationale")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            ),
            format!(
                "Decisão: {}",
                d.get("rationale")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            ),
        ));
    } else if let Some(reason) = r["reason"].as_str().filter(|s| !s.is_empty()) {
        out.push(' ');
        out.push_str(&t(
            lang,
            format!("Reason given: {reason}"),
            format!("Motivo dado: {reason}"),
        ));
    }
    out
}
