//! Plan and render the asks of [`super::query`]: which tools answer a parsed question, and the
//! text in the question's language from their results only. Results are read into typed
//! shapes (the tool layer's own types where it has them), so a renamed field fails the answer
//! instead of printing a zero. Every answer states the dates it used.

use super::interpreter::{Answer, Proposal, Session};
use super::period::DateRange;
use super::proposals;
use super::query::{Ask, Change, Query};
use super::text::{t, Lang};
use crate::ports::ForecastPoint;
use crate::product_view::ProductView;
use crate::tools::insight::{Outlook, Outlooks, RankMetric, RankOrder, Ranking, SalesSummary};
use crate::tools::{ToolError, ToolName, ToolRequest};
use chrono::{Duration, NaiveDate};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

/// The period of a sales question that names none.
const DEFAULT_SALES_DAYS: i64 = 30;
/// The period of an average that names none: four whole weeks, so weekdays weigh alike.
const DEFAULT_AVERAGE_DAYS: i64 = 28;
/// Products listed by name in an answer about all of them.
const LISTED: usize = 10;
/// Rows of a ranking when the question gives no number.
const RANKED: usize = 5;

/// The product a question is about, when it names one.
pub(super) struct Target {
    pub sku: String,
    pub name: String,
}

/// A figure as the tool gave it: `3`, `1.71` (never more decimals than the tool's rounding).
fn num(x: f64) -> String {
    format!("{}", crate::tools::insight::round(x, 2))
}

impl Session<'_> {
    /// Call a read tool and read its result as `T`.
    async fn read<T: DeserializeOwned>(
        &mut self,
        tool: ToolName,
        args: Value,
    ) -> Result<T, ToolError> {
        let v = self.call(tool.as_str(), args).await?;
        serde_json::from_value(v)
            .map_err(|e| ToolError::Store(format!("{tool} answered in an unexpected shape: {e}")))
    }
}

#[derive(Deserialize)]
struct Timeline {
    name: String,
    items: Vec<crate::tools::insight::TimelineEntry>,
}

/// The fields of a purchase plan an answer states.
#[derive(Deserialize)]
struct Plan {
    order_by: NaiveDate,
    best_day: NaiveDate,
    expected_unit_price: f64,
    expected_saving_pct: f64,
    recommendation: String,
    price_forecast: Vec<ForecastPoint>,
}

fn range_text(lang: Lang, r: DateRange) -> String {
    if r.from == r.to {
        t(lang, format!("on {}", r.from), format!("em {}", r.from))
    } else {
        t(
            lang,
            format!("from {} to {}", r.from, r.to),
            format!("de {} a {}", r.from, r.to),
        )
    }
}

/// Answer `query` about `target` (or every product). `question` is kept in a proposal's
/// reason.
pub(super) async fn answer(
    session: &mut Session<'_>,
    lang: Lang,
    query: &Query,
    target: Option<&Target>,
    today: NaiveDate,
    question: &str,
) -> Result<(String, Option<Value>, Option<Proposal>), ToolError> {
    let sku = target.map(|p| p.sku.as_str());
    match query.ask {
        Ask::UnitsSold | Ask::DailyAverage => {
            let default_days = if query.ask == Ask::DailyAverage {
                DEFAULT_AVERAGE_DAYS
            } else {
                DEFAULT_SALES_DAYS
            };
            let asked = query.period.unwrap_or(DateRange {
                from: today - Duration::days(default_days - 1),
                to: today,
            });
            let Some(range) = asked.until(today) else {
                return Ok((not_yet(lang, asked), None, None));
            };
            let mut args = json!({ "from": range.from, "to": range.to });
            if let Some(sku) = sku {
                args["sku"] = json!(sku);
            }
            let s: SalesSummary = session.read(ToolName::SalesSummary, args).await?;
            let text = sales_text(
                lang,
                &s,
                range,
                query.ask == Ask::DailyAverage,
                target.is_some(),
            );
            Ok((text, Some(json!({ "kind": "sales", "summary": s })), None))
        }
        Ask::Rank { order } => {
            let asked = query.period.unwrap_or(DateRange {
                from: today - Duration::days(DEFAULT_SALES_DAYS - 1),
                to: today,
            });
            let Some(range) = asked.until(today) else {
                return Ok((not_yet(lang, asked), None, None));
            };
            let limit = query.limit.unwrap_or(RANKED);
            let r: Ranking = session
                .read(
                    ToolName::RankProducts,
                    json!({ "metric": RankMetric::UnitsSold, "order": order, "from": range.from,
                            "to": range.to, "limit": limit }),
                )
                .await?;
            Ok((
                rank_text(lang, &r, range),
                Some(json!({ "kind": "ranking", "ranking": r })),
                None,
            ))
        }
        Ask::RunOut | Ask::DaysOfCover => {
            let mut args = json!({});
            if let Some(sku) = sku {
                args["sku"] = json!(sku);
            }
            let o: Outlooks = session.read(ToolName::StockOutlook, args).await?;
            let text = match (target, query.ask) {
                (Some(_), _) => o
                    .items
                    .first()
                    .map(|p| one_outlook(lang, p))
                    .unwrap_or_default(),
                (None, Ask::RunOut) => {
                    // This week unless the question says; a past period means from today.
                    let horizon = query
                        .period
                        .filter(|p| p.to >= o.as_of)
                        .map(|p| DateRange {
                            from: o.as_of.max(p.from),
                            to: p.to,
                        })
                        .unwrap_or(DateRange {
                            from: o.as_of,
                            to: o.as_of
                                + Duration::days(
                                    6 - i64::from(
                                        chrono::Datelike::weekday(&o.as_of).num_days_from_monday(),
                                    ),
                                ),
                        });
                    runs_out_text(lang, &o.items, horizon)
                }
                (None, _) => least_cover_text(lang, &o.items),
            };
            Ok((
                text,
                Some(json!({ "kind": "outlook", "items": o.items })),
                None,
            ))
        }
        Ask::WhenToBuy | Ask::PriceAhead => {
            let Some(p) = target else {
                return Ok((needs_product(lang), None, None));
            };
            match session
                .read::<Plan>(ToolName::PurchasePlan, json!({ "sku": p.sku }))
                .await
            {
                Ok(plan) => {
                    let text = if query.ask == Ask::WhenToBuy {
                        buy_text(lang, p, &plan)
                    } else {
                        price_text(lang, p, &plan, query.period)
                    };
                    Ok((
                        text,
                        Some(json!({ "kind": "purchase_plan", "sku": p.sku })),
                        None,
                    ))
                }
                Err(ToolError::NotFound(_)) => {
                    // No supplier prices: the stock outlook still says when it runs short.
                    let o: Outlooks = session
                        .read(ToolName::StockOutlook, json!({ "sku": p.sku }))
                        .await?;
                    let product: ProductView = session
                        .read(ToolName::CheckStock, json!({ "sku": p.sku }))
                        .await?;
                    let out = o
                        .items
                        .first()
                        .map(|x| one_outlook(lang, x))
                        .unwrap_or_default();
                    let text = t(
                        lang,
                        format!("There are no supplier prices for {} ({}), so I have no price plan. {out} Its lead time is {} days: order at least that long before it runs out.", p.name, p.sku, product.lead_time_days),
                        format!("Não há preços de fornecedor para {} ({}), então não tenho plano de compra. {out} O prazo de entrega é de {} dias: encomende pelo menos isso antes de acabar.", p.name, p.sku, product.lead_time_days),
                    );
                    Ok((
                        text,
                        Some(json!({ "kind": "outlook", "items": o.items })),
                        None,
                    ))
                }
                Err(e) => Err(e),
            }
        }
        Ask::WhoChanged => {
            let Some(p) = target else {
                return Ok((needs_product(lang), None, None));
            };
            let tl: Timeline = session
                .read(ToolName::ProductTimeline, json!({ "sku": p.sku }))
                .await?;
            let about_minimum = question_mentions_minimum(question);
            let text = timeline_text(lang, &tl, &p.sku, about_minimum);
            Ok((
                text,
                Some(json!({ "kind": "timeline", "sku": p.sku, "items": tl.items })),
                None,
            ))
        }
        Ask::Supplier => {
            let Some(p) = target else {
                return Ok((needs_product(lang), None, None));
            };
            let product: ProductView = session
                .read(ToolName::CheckStock, json!({ "sku": p.sku }))
                .await?;
            let text = match &product.supplier {
                Some(s) => t(
                    lang,
                    format!("{} ({}) is bought from {s}; its lead time is {} days.", product.name, product.sku, product.lead_time_days),
                    format!("{} ({}) é comprado de {s}; o prazo de entrega é de {} dias.", product.name, product.sku, product.lead_time_days),
                ),
                None => t(
                    lang,
                    format!("No supplier is recorded for {} ({}); its lead time is {} days.", product.name, product.sku, product.lead_time_days),
                    format!("Não há fornecedor registrado para {} ({}); o prazo de entrega é de {} dias.", product.name, product.sku, product.lead_time_days),
                ),
            };
            Ok((
                text,
                Some(json!({ "kind": "supplier", "product": product })),
                None,
            ))
        }
        Ask::Propose { change } => propose(session, lang, change, target, question).await,
    }
}

fn question_mentions_minimum(question: &str) -> bool {
    let folded = super::text::fold(question);
    super::text::words(&folded)
        .iter()
        .any(|w| w.starts_with("minim") || w.starts_with("reorder"))
}

fn not_yet(lang: Lang, r: DateRange) -> String {
    t(
        lang,
        format!(
            "That period ({} to {}) has not started yet: there are no sales to count.",
            r.from, r.to
        ),
        format!(
            "Esse período ({} a {}) ainda não começou: não há vendas para contar.",
            r.from, r.to
        ),
    )
}

fn needs_product(lang: Lang) -> String {
    t(
        lang,
        "Which product? Name it or give its sku, e.g. \"when should I buy coffee?\".".into(),
        "Qual produto? Diga o nome ou o sku, por exemplo \"quando devo comprar café?\".".into(),
    )
}

fn sales_text(lang: Lang, s: &SalesSummary, range: DateRange, average: bool, one: bool) -> String {
    let when = range_text(lang, range);
    if one {
        let Some(p) = s.products.first() else {
            return String::new();
        };
        let stockouts = if p.stockout_days > 0 {
            t(
                lang,
                format!(
                    " It was out of stock on {} of those days, so demand was higher than sales.",
                    p.stockout_days
                ),
                format!(
                    " Faltou estoque em {} desses dias, então a demanda foi maior que as vendas.",
                    p.stockout_days
                ),
            )
        } else {
            String::new()
        };
        return if average {
            t(
                lang,
                format!("{} ({}) sold {} a day on average {when} ({} units over {} days).{stockouts}", p.name, p.sku, num(p.daily_average), p.units, p.days),
                format!("{} ({}) vendeu em média {} por dia {when} ({} unidades em {} dias).{stockouts}", p.name, p.sku, num(p.daily_average), p.units, p.days),
            )
        } else {
            t(
                lang,
                format!(
                    "{} ({}) sold {} units {when} ({} a day over {} days).{stockouts}",
                    p.name,
                    p.sku,
                    p.units,
                    num(p.daily_average),
                    p.days
                ),
                format!(
                    "{} ({}) vendeu {} unidades {when} ({} por dia em {} dias).{stockouts}",
                    p.name,
                    p.sku,
                    p.units,
                    num(p.daily_average),
                    p.days
                ),
            )
        };
    }
    let mut sold: Vec<_> = s.products.iter().filter(|p| p.units > 0).collect();
    sold.sort_by(|a, b| b.units.cmp(&a.units).then(a.sku.cmp(&b.sku)));
    let listed: Vec<String> = sold
        .iter()
        .take(LISTED)
        .map(|p| {
            if average {
                format!("{} ({}) {}", p.name, p.sku, num(p.daily_average))
            } else {
                format!("{} ({}) {}", p.name, p.sku, p.units)
            }
        })
        .collect();
    let more = sold.len().saturating_sub(LISTED);
    let rest = match (more, lang) {
        (0, _) => String::new(),
        (n, Lang::En) => format!(" and {n} more"),
        (n, Lang::Pt) => format!(" e mais {n}"),
    };
    if sold.is_empty() {
        return t(
            lang,
            format!("Nothing was sold {when}."),
            format!("Nada foi vendido {when}."),
        );
    }
    if average {
        let days = range.days();
        t(
            lang,
            format!(
                "{} units sold {when} ({days} days). A day on average: {}{rest}.",
                s.total_units,
                listed.join(", ")
            ),
            format!(
                "{} unidades vendidas {when} ({days} dias). Média por dia: {}{rest}.",
                s.total_units,
                listed.join(", ")
            ),
        )
    } else {
        t(
            lang,
            format!(
                "{} units sold {when}: {}{rest}.",
                s.total_units,
                listed.join(", ")
            ),
            format!(
                "{} unidades vendidas {when}: {}{rest}.",
                s.total_units,
                listed.join(", ")
            ),
        )
    }
}

fn rank_text(lang: Lang, r: &Ranking, range: DateRange) -> String {
    let when = range_text(lang, range);
    if r.items.is_empty() {
        return t(
            lang,
            "There are no products to rank.".into(),
            "Não há produtos para classificar.".into(),
        );
    }
    let rows: Vec<String> = r
        .items
        .iter()
        .map(|i| format!("{}. {} ({}) {}", i.rank, i.name, i.sku, num(i.value)))
        .collect();
    let (en, pt) = match r.order {
        RankOrder::Top => ("Best sellers", "Mais vendidos"),
        RankOrder::Bottom => ("Least sold", "Menos vendidos"),
    };
    t(
        lang,
        format!("{en} {when} (units): {}.", rows.join("; ")),
        format!("{pt} {when} (unidades): {}.", rows.join("; ")),
    )
}

/// "a refill of 50 is expected on 2026-12-13, too late", when the product has an open refill.
fn refill_clause(lang: Lang, p: &Outlook) -> Option<String> {
    let r = p.open_refill.as_ref()?;
    let on = r
        .expected_on
        .map(|d| d.to_string())
        .unwrap_or_else(|| "?".into());
    let timely = match (p.covered_by_refill, lang) {
        (true, Lang::En) => "in time",
        (false, Lang::En) => "too late",
        (true, Lang::Pt) => "a tempo",
        (false, Lang::Pt) => "tarde demais",
    };
    Some(t(
        lang,
        format!("a refill of {} is expected on {on}, {timely}", r.quantity),
        format!(
            "uma reposição de {} é esperada em {on}, {timely}",
            r.quantity
        ),
    ))
}

/// The refill clause as a sentence of its own, after an answer's last one.
fn refill_note(lang: Lang, p: &Outlook) -> String {
    refill_clause(lang, p).map_or_else(String::new, |c| {
        let mut chars = c.chars();
        let first: String = chars
            .next()
            .map(|f| f.to_uppercase().collect())
            .unwrap_or_default();
        format!(" {first}{}.", chars.as_str())
    })
}

fn one_outlook(lang: Lang, p: &Outlook) -> String {
    let Some(daily) = p.daily_forecast else {
        return t(
            lang,
            format!("{} ({}): {} available; there is no forecast yet, so I cannot say when it runs out.", p.name, p.sku, p.available),
            format!("{} ({}): {} disponíveis; ainda não há previsão, então não sei dizer quando acaba.", p.name, p.sku, p.available),
        );
    };
    let cover = match p.days_of_cover {
        Some(d) => t(
            lang,
            format!("{} days of cover", num(d)),
            format!("{} dias de cobertura", num(d)),
        ),
        None => t(
            lang,
            "no demand forecast".into(),
            "nenhuma demanda prevista".into(),
        ),
    };
    let out = match (p.runs_out_on, p.projection.last()) {
        (Some(d), _) => t(lang, format!("it runs out on {d}"), format!("acaba em {d}")),
        (None, Some(last)) => t(
            lang,
            format!(
                "it does not run out within the forecast (up to {})",
                last.date
            ),
            format!("não acaba dentro da previsão (até {})", last.date),
        ),
        (None, None) => t(lang, "it does not run out".into(), "não acaba".into()),
    };
    t(
        lang,
        format!(
            "{} ({}): {} available, about {} a day forecast, {cover}; {out}.{}",
            p.name,
            p.sku,
            p.available,
            num(daily),
            refill_note(lang, p)
        ),
        format!(
            "{} ({}): {} disponíveis, cerca de {} por dia previstos, {cover}; {out}.{}",
            p.name,
            p.sku,
            p.available,
            num(daily),
            refill_note(lang, p)
        ),
    )
}

fn runs_out_text(lang: Lang, items: &[Outlook], horizon: DateRange) -> String {
    let mut out: Vec<&Outlook> = items
        .iter()
        .filter(|p| p.runs_out_on.is_some_and(|d| d <= horizon.to))
        .collect();
    out.sort_by(|a, b| a.runs_out_on.cmp(&b.runs_out_on).then(a.sku.cmp(&b.sku)));
    let unknown = items.iter().filter(|p| p.daily_forecast.is_none()).count();
    let unknown = match (unknown, lang) {
        (0, _) => String::new(),
        (n, Lang::En) => format!(" {n} product(s) have no forecast yet."),
        (n, Lang::Pt) => format!(" {n} produto(s) ainda sem previsão."),
    };
    let when = range_text(lang, horizon);
    if out.is_empty() {
        return t(
            lang,
            format!("No product is expected to run out {when}.{unknown}"),
            format!("Nenhum produto deve acabar {when}.{unknown}"),
        );
    }
    let rows: Vec<String> = out
        .iter()
        .map(|p| {
            let on = p.runs_out_on.map(|d| d.to_string()).unwrap_or_default();
            t(
                lang,
                format!("{} ({}) on {on}, {} available", p.name, p.sku, p.available),
                format!(
                    "{} ({}) em {on}, {} disponíveis",
                    p.name, p.sku, p.available
                ),
            ) + &refill_clause(lang, p).map_or_else(String::new, |c| format!(" ({c})"))
        })
        .collect();
    t(
        lang,
        format!(
            "{} product(s) are expected to run out {when}: {}.{unknown}",
            out.len(),
            rows.join("; ")
        ),
        format!(
            "{} produto(s) devem acabar {when}: {}.{unknown}",
            out.len(),
            rows.join("; ")
        ),
    )
}

fn least_cover_text(lang: Lang, items: &[Outlook]) -> String {
    let mut covered: Vec<&Outlook> = items.iter().filter(|p| p.days_of_cover.is_some()).collect();
    covered.sort_by(|a, b| {
        a.days_of_cover
            .unwrap_or(f64::MAX)
            .total_cmp(&b.days_of_cover.unwrap_or(f64::MAX))
            .then(a.sku.cmp(&b.sku))
    });
    if covered.is_empty() {
        return t(
            lang,
            "No product has a demand forecast yet, so there is no days-of-cover figure.".into(),
            "Nenhum produto tem previsão de demanda ainda, então não há dias de cobertura.".into(),
        );
    }
    let rows: Vec<String> = covered
        .iter()
        .take(LISTED)
        .map(|p| {
            format!(
                "{} ({}) {}",
                p.name,
                p.sku,
                num(p.days_of_cover.unwrap_or_default())
            )
        })
        .collect();
    t(
        lang,
        format!("Days of cover, least first: {}.", rows.join("; ")),
        format!("Dias de cobertura, do menor: {}.", rows.join("; ")),
    )
}

fn buy_text(lang: Lang, p: &Target, plan: &Plan) -> String {
    let now = plan.recommendation == "buy_now";
    t(
        lang,
        format!(
            "{} ({}): {}. Order by {} at the latest; the cheapest expected day up to then is {} at {} a unit (saving {}%).",
            p.name, p.sku,
            if now { "buy now" } else { "wait" },
            plan.order_by, plan.best_day, num(plan.expected_unit_price), num(plan.expected_saving_pct)
        ),
        format!(
            "{} ({}): {}. Encomende até {} no máximo; o dia mais barato esperado até lá é {} a {} a unidade (economia de {}%).",
            p.name, p.sku,
            if now { "compre agora" } else { "espere" },
            plan.order_by, plan.best_day, num(plan.expected_unit_price), num(plan.expected_saving_pct)
        ),
    )
}

fn price_text(lang: Lang, p: &Target, plan: &Plan, period: Option<DateRange>) -> String {
    let days: Vec<&ForecastPoint> = plan
        .price_forecast
        .iter()
        .filter(|d| period.is_none_or(|r| d.date >= r.from && d.date <= r.to))
        .collect();
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        let until = plan
            .price_forecast
            .last()
            .map(|d| d.date.to_string())
            .unwrap_or_default();
        return t(
            lang,
            format!(
                "The price forecast of {} ({}) does not reach that period (it goes up to {until}).",
                p.name, p.sku
            ),
            format!(
                "A previsão de preço de {} ({}) não chega a esse período (vai até {until}).",
                p.name, p.sku
            ),
        );
    };
    let low = days
        .iter()
        .min_by(|a, b| a.mean.total_cmp(&b.mean))
        .copied()
        .unwrap_or(first);
    let high = days
        .iter()
        .max_by(|a, b| a.mean.total_cmp(&b.mean))
        .copied()
        .unwrap_or(first);
    t(
        lang,
        format!(
            "Expected unit price of {} ({}) from {} to {}: lowest {} on {}, highest {} on {}.",
            p.name,
            p.sku,
            first.date,
            last.date,
            num(low.mean),
            low.date,
            num(high.mean),
            high.date
        ),
        format!(
            "Preço unitário esperado de {} ({}) de {} a {}: menor {} em {}, maior {} em {}.",
            p.name,
            p.sku,
            first.date,
            last.date,
            num(low.mean),
            low.date,
            num(high.mean),
            high.date
        ),
    )
}

fn timeline_text(lang: Lang, tl: &Timeline, sku: &str, about_minimum: bool) -> String {
    let minimum_events = ["MinimumSet", "MinimumCleared", "ReorderPointRecalculated"];
    let picked: Vec<_> = tl
        .items
        .iter()
        .filter(|e| !about_minimum || minimum_events.contains(&e.event_type.as_str()))
        .take(5)
        .collect();
    let Some(latest) = picked.first() else {
        return t(
            lang,
            format!(
                "The minimum of {} ({sku}) has never been set or computed.",
                tl.name
            ),
            format!(
                "O mínimo de {} ({sku}) nunca foi definido nem calculado.",
                tl.name
            ),
        );
    };
    let day = |e: &crate::tools::insight::TimelineEntry| {
        e.occurred_at.format("%Y-%m-%d %H:%M UTC").to_string()
    };
    let earlier: Vec<String> = picked
        .iter()
        .skip(1)
        .map(|e| format!("{}: {}", day(e), e.summary))
        .collect();
    let earlier = if earlier.is_empty() {
        String::new()
    } else {
        t(
            lang,
            format!(" Before that: {}.", earlier.join("; ")),
            format!(" Antes: {}.", earlier.join("; ")),
        )
    };
    if about_minimum {
        t(
            lang,
            format!(
                "The minimum of {} ({sku}) was last changed by {} on {}: {}.{earlier}",
                tl.name,
                latest.actor,
                day(latest),
                latest.summary
            ),
            format!(
                "O mínimo de {} ({sku}) foi alterado por último por {} em {}: {}.{earlier}",
                tl.name,
                latest.actor,
                day(latest),
                latest.summary
            ),
        )
    } else {
        t(
            lang,
            format!(
                "The last change to {} ({sku}) was by {} on {}: {}.{earlier}",
                tl.name,
                latest.actor,
                day(latest),
                latest.summary
            ),
            format!(
                "A última mudança em {} ({sku}) foi de {} em {}: {}.{earlier}",
                tl.name,
                latest.actor,
                day(latest),
                latest.summary
            ),
        )
    }
}

/// A change asked for: checked against the product (it must be the caller's, a refill must be
/// open) and proposed; nothing runs until a manager confirms it.
async fn propose(
    session: &mut Session<'_>,
    lang: Lang,
    change: Change,
    target: Option<&Target>,
    question: &str,
) -> Result<(String, Option<Value>, Option<Proposal>), ToolError> {
    let Some(p) = target else {
        return Ok((
            t(
                lang,
                "Which product? Name it or give its sku, e.g. \"receive 30 units of coffee\"."
                    .into(),
                "Qual produto? Diga o nome ou o sku, por exemplo \"receba 30 unidades de café\"."
                    .into(),
            ),
            None,
            None,
        ));
    };
    let product: ProductView = session
        .read(ToolName::CheckStock, json!({ "sku": p.sku }))
        .await?;
    let reason: String = format!("asked in chat: {question}")
        .chars()
        .take(500)
        .collect();
    let (tool, arguments) = match change {
        Change::Receive { quantity } => (
            ToolName::ReceiveStock,
            json!({ "sku": p.sku, "quantity": quantity }),
        ),
        Change::Sale { quantity } => (
            ToolName::RecordSale,
            json!({ "sku": p.sku, "quantity": quantity }),
        ),
        Change::Count { counted } => (
            ToolName::CountStock,
            json!({ "sku": p.sku, "counted": counted, "reason": reason }),
        ),
        Change::CancelRefill | Change::ReceiveRefill { .. } => {
            let Some(id) = product.open_refill_id else {
                return Ok((
                    t(
                        lang,
                        format!(
                            "{} ({}) has no open refill, so there is nothing to {}.",
                            product.name,
                            product.sku,
                            if change == Change::CancelRefill {
                                "cancel"
                            } else {
                                "receive"
                            }
                        ),
                        format!(
                            "{} ({}) não tem reposição aberta, então não há o que {}.",
                            product.name,
                            product.sku,
                            if change == Change::CancelRefill {
                                "cancelar"
                            } else {
                                "receber"
                            }
                        ),
                    ),
                    Some(json!({ "kind": "no_open_refill", "product": product })),
                    None,
                ));
            };
            match change {
                Change::ReceiveRefill { quantity: Some(q) } => (
                    ToolName::ReceiveRefill,
                    json!({ "refill_id": id, "quantity": q }),
                ),
                Change::ReceiveRefill { quantity: None } => {
                    (ToolName::ReceiveRefill, json!({ "refill_id": id }))
                }
                _ => (ToolName::CancelRefill, json!({ "refill_id": id })),
            }
        }
    };
    // Validated now as the confirm will run it, so a proposal a manager sees is one that can run.
    let request = ToolRequest::parse(tool.as_str(), &arguments)?;
    let summary = proposals::summary(lang, &request, &product.name, &product.sku);
    let proposal = Proposal {
        tool: tool.as_str(),
        arguments: arguments.clone(),
        summary: summary.clone(),
    };
    let text = t(
        lang,
        format!("{summary}? Nothing has changed yet: a manager must confirm this action. Now: {} on hand, {} available.", product.on_hand, product.available),
        format!("{summary}? Nada mudou ainda: um gerente precisa confirmar esta ação. Agora: {} em estoque, {} disponíveis.", product.on_hand, product.available),
    );
    Ok((
        text,
        Some(
            json!({ "kind": "proposal", "tool": tool.as_str(), "arguments": arguments, "product": product }),
        ),
        Some(proposal),
    ))
}

/// What an [`Answer`] needs besides the text: kept here so the interpreter builds it once.
pub(super) fn into_answer(
    lang: Lang,
    session: Session<'_>,
    (text, data, proposal): (String, Option<Value>, Option<Proposal>),
    context: Value,
) -> Answer {
    Answer {
        text,
        lang,
        tool_calls: session.calls,
        data,
        proposal,
        context,
    }
}
