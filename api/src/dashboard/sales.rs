//! The sales page: units sold over a period the manager picks (two dates, or a quick link: the
//! last 7 or 30 days, this month, last month), the total, the best and the worst sellers
//! (`rank_products` top and bottom by units sold) and every product's units (`sales_summary`).
//! A period the tools refuse (to before from, longer than they allow) or a date that is not one
//! is said on the page, with the form to fix it.

use super::layout::{self, notice, Page};
use super::{tool_error_page, Session};
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, Duration, NaiveDate};
use maud::{html, Markup};
use restock_application::tools::insight::{RankMetric, RankOrder, Ranking, SalesSummary};
use restock_application::tools::ToolError;
use serde::Deserialize;

/// The period shown when none is asked for: the last 30 days, like `rank_products`' own default.
const DEFAULT_DAYS: i64 = 30;
/// Best and worst sellers shown.
const RANKED: i64 = 5;

#[derive(Debug, Default, Deserialize)]
pub struct SalesQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// A date as a `<input type="date">` sends it (YYYY-MM-DD).
pub fn parse_day(field: &str, raw: &str) -> Result<NaiveDate, String> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        let shown: String = raw.chars().take(40).collect();
        format!("The {field} date \"{shown}\" is not a date: use YYYY-MM-DD, like 2026-12-01.")
    })
}

/// The quick periods, ending today: (label, from, to).
pub fn quick_periods(today: NaiveDate) -> Vec<(&'static str, NaiveDate, NaiveDate)> {
    let month_start = today.with_day(1).unwrap_or(today);
    let last_month_end = month_start - Duration::days(1);
    let last_month_start = last_month_end.with_day(1).unwrap_or(last_month_end);
    vec![
        ("Last 7 days", today - Duration::days(6), today),
        (
            "Last 30 days",
            today - Duration::days(DEFAULT_DAYS - 1),
            today,
        ),
        ("This month", month_start, today),
        ("Last month", last_month_start, last_month_end),
    ]
}

/// A field that was filled in (an empty date input is sent as `from=`).
fn given(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|r| !r.is_empty())
}

struct Figures {
    summary: SalesSummary,
    best: Ranking,
    worst: Ranking,
}

pub async fn page(
    State(app): State<AppState>,
    session: Session,
    query: Result<Query<SalesQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|q| q.0).unwrap_or_default();
    let today = app.clock.now().date_naive();
    let (raw_from, raw_to) = (given(&query.from), given(&query.to));
    let mut problems = Vec::new();
    let to = match raw_to.map(|r| parse_day("to", r)) {
        None => Some(today),
        Some(Ok(d)) => Some(d),
        Some(Err(m)) => {
            problems.push(m);
            None
        }
    };
    let from = match raw_from.map(|r| parse_day("from", r)) {
        None => to.map(|t| t - Duration::days(DEFAULT_DAYS - 1)),
        Some(Ok(d)) => Some(d),
        Some(Err(m)) => {
            problems.push(m);
            None
        }
    };
    let mut figures = None;
    if let (Some(from), Some(to)) = (from, to) {
        match figures_for(&app, &session, from, to).await {
            Ok(f) => figures = Some(f),
            // The tools' own rule, in their words: "from (…) must not be after to (…)", "a
            // period may span at most 731 days, got 800".
            Err(ToolError::InvalidArguments(m)) => {
                problems.push(format!("This period cannot be shown: {m}."))
            }
            Err(e) => return tool_error_page(&e, &session),
        }
    }
    // The form keeps what was typed, so a mistake can be corrected in place.
    let shown = |raw: Option<&str>, parsed: Option<NaiveDate>| {
        raw.map(str::to_owned)
            .or_else(|| parsed.map(|d| d.to_string()))
            .unwrap_or_default()
    };
    let body = html! {
        h1 { "Sales" }
        @for m in &problems { (notice("error", m)) }
        section #period {
            form.inline method="get" action="/ui/sales" {
                label for="from" { "From" }
                input #from type="date" name="from" value=(shown(raw_from, from));
                label for="to" { "To" }
                input #to type="date" name="to" value=(shown(raw_to, to));
                button type="submit" { "Show" }
            }
            nav.filters #quick-periods aria-label="Quick periods" {
                @for (label, qf, qt) in quick_periods(today) {
                    @let current = from == Some(qf) && to == Some(qt);
                    a href={"/ui/sales?from=" (qf) "&to=" (qt)} class=[current.then_some("current")]
                        aria-current=[current.then_some("true")] { (label) }
                }
            }
        }
        @if let Some(f) = &figures { (figures_markup(f)) }
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    layout::respond(
        status,
        layout::page("Sales", Page::Sales, Some(&session), body),
    )
}

async fn figures_for(
    app: &AppState,
    session: &Session,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Figures, ToolError> {
    let caller = session.caller();
    let summary = app.tools.sales_summary(&caller, None, from, to).await?;
    let rank = |order| {
        app.tools.rank_products(
            &caller,
            RankMetric::UnitsSold,
            order,
            Some((from, to)),
            Some(RANKED),
        )
    };
    let best = rank(RankOrder::Top).await?;
    let worst = rank(RankOrder::Bottom).await?;
    Ok(Figures {
        summary,
        best,
        worst,
    })
}

fn figures_markup(f: &Figures) -> Markup {
    let s = &f.summary;
    let days = (s.to - s.from).num_days() + 1;
    let mut rows: Vec<_> = s.products.iter().collect();
    rows.sort_by(|a, b| b.units.cmp(&a.units).then_with(|| a.sku.cmp(&b.sku)));
    html! {
        p #total-units {
            strong { (s.total_units) " units" } " sold from " (s.from) " to " (s.to)
            " (" (days) @if days == 1 { " day" } @else { " days" } ", both included)."
        }
        @if s.products.is_empty() {
            p.muted #no-products { "No products yet." }
        } @else {
            div.rankings {
                (ranking("best-sellers", "Best sellers", &f.best))
                (ranking("worst-sellers", "Worst sellers", &f.worst))
            }
            section #per-product {
                h2 { "Every product" }
                div.scroll tabindex="0" role="region" aria-label="Units sold per product" {
                    table.sales #sales-table {
                        thead { tr {
                            th { "SKU" } th { "Name" } th.num { "Units" } th.num { "Per day" }
                            th.num { "Days out of stock" }
                        } }
                        tbody {
                            @for p in rows {
                                tr data-sku=(p.sku) {
                                    td { a href={"/ui/products/" (p.sku)} { (p.sku) } }
                                    td { (p.name) }
                                    td.num.units { (p.units) }
                                    td.num { (p.daily_average) }
                                    td.num { (p.stockout_days) }
                                }
                            }
                        }
                    }
                }
                p.muted { "Units are daily demand: sales, confirmed reservations and imported history. On a day out of stock, sales understate demand." }
            }
        }
    }
}

fn ranking(id: &str, title: &str, r: &Ranking) -> Markup {
    html! {
        section.ranking id=(id) {
            h2 { (title) }
            ol {
                @for item in &r.items {
                    li data-sku=(item.sku) {
                        a href={"/ui/products/" (item.sku)} { (item.name) } " "
                        span.muted { (item.sku) } ": "
                        span.units { (item.value) } " units"
                    }
                }
            }
        }
    }
}
