//! One product: its numbers, a chart of daily demand with the forecast and its interval band
//! (units a day), apart from it a chart of the stock projected forward (units on hand, with the
//! minimum, the run-out day and the open refill's arrival, and the days of cover and run-out day
//! in words), both uPlot with values on hover and as a table; the event timeline with who caused
//! each event, the purchase plan when the product has supplier prices (price history and
//! forecast, the day to buy), and the product "as of" a chosen time. Data:
//! `check_stock`/`stock_history`, `get_forecast`, `stock_outlook` and `purchase_plan`.

use super::layout::{self, notice, Page};
use super::products::{action_forms, done_message};
use super::{text, tool_error_page, Session};
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime, Utc};
use maud::{html, Markup};
use restock_application::ports::StoredForecast;
use restock_application::tools::insight::Outlook;
use restock_application::tools::ToolError;
use restock_domain::Sku;
use serde::Deserialize;
use serde_json::{json, Value};

/// Days of history drawn before the forecast: enough to see seasonality, few enough to read.
const HISTORY_DAYS: usize = 90;
/// Events shown on the timeline (the most recent).
const TIMELINE: i64 = 100;

#[derive(Debug, Default, Deserialize)]
pub struct ProductQuery {
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

/// `as_of` as typed: RFC 3339, or the `datetime-local` form (`2026-05-01T14:30`), read as UTC.
pub fn parse_as_of(raw: &str) -> Result<DateTime<Utc>, String> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, format) {
            return Ok(t.and_utc());
        }
    }
    Err(format!(
        "\"{raw}\" is not a time: use a date and time like 2026-05-01T14:30 (UTC)."
    ))
}

pub async fn page(
    State(app): State<AppState>,
    session: Session,
    Path(sku): Path<String>,
    query: Result<Query<ProductQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|q| q.0).unwrap_or_default();
    let mut problems = Vec::new();
    let as_of = match query.as_of.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => match parse_as_of(raw) {
            Ok(t) => Some(t),
            Err(m) => {
                problems.push(m);
                None
            }
        },
    };
    let mut args = json!({ "sku": sku, "limit": TIMELINE });
    if let Some(t) = as_of {
        args["as_of"] = json!(t.to_rfc3339());
    }
    let history = match app
        .tools
        .call(&session.caller(), "stock_history", &args)
        .await
    {
        Ok(h) => h,
        // Before the product existed: say so, and show it as it is now.
        Err(ToolError::NotFound(m)) if as_of.is_some() => {
            problems.push(format!(
                "{m}: it did not exist yet. Showing it as it is now."
            ));
            args.as_object_mut().map(|a| a.remove("as_of"));
            match session.tool(&app, "stock_history", args).await {
                Ok(h) => h,
                Err(page) => return page,
            }
        }
        Err(e) => return tool_error_page(&e, &session),
    };
    let as_of = if history["as_of"].is_null() {
        None
    } else {
        as_of
    };
    let forecast = match app
        .tools
        .call(&session.caller(), "get_forecast", &json!({ "sku": sku }))
        .await
    {
        Ok(v) => serde_json::from_value::<StoredForecast>(v).ok(),
        Err(ToolError::NotFound(_)) => None,
        Err(e) => return tool_error_page(&e, &session),
    };
    let plan = match app
        .tools
        .call(&session.caller(), "purchase_plan", &json!({ "sku": sku }))
        .await
    {
        Ok(v) => Some(v),
        Err(ToolError::NotFound(_)) => None,
        Err(e) => return tool_error_page(&e, &session),
    };
    let p = &history["product"];
    let sku = text(&p["sku"]);
    // The stock going forward is today's: not shown for a past instant.
    let outlook = match Sku::parse(&sku) {
        Ok(parsed) if as_of.is_none() => {
            match app
                .tools
                .stock_outlook(&session.caller(), Some(&parsed))
                .await
            {
                Ok(o) => o.items.into_iter().next(),
                Err(ToolError::NotFound(_)) => None,
                Err(e) => return tool_error_page(&e, &session),
            }
        }
        _ => None,
    };
    let body = html! {
        h1 { (text(&p["name"])) " " span.muted { (sku) } }
        @if let Some(done) = query.done.as_deref().and_then(done_message) { (notice("ok", done)) }
        @for m in &problems { (notice("error", m)) }
        section #as-of {
            form.inline method="get" action={"/ui/products/" (sku)} {
                label for="as_of" { "As of (UTC)" }
                input #as_of type="datetime-local" name="as_of" step="1"
                    value=[as_of.map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())];
                button type="submit" { "Show" }
                @if as_of.is_some() { " " a href={"/ui/products/" (sku)} { "Back to now" } }
            }
            @if let Some(t) = as_of {
                p.asof-banner #as-of-banner { "As the system knew it at " (t.to_rfc3339()) "." }
            }
        }
        (facts(p))
        @if session.is_manager() && as_of.is_none() {
            section #actions { h2 { "Actions" } (action_forms(&sku, "product")) }
        }
        (chart(forecast.as_ref()))
        @if let Some(o) = &outlook { (projected_stock(o)) }
        @if let Some(plan) = &plan { (purchase_plan(plan)) }
        (timeline(&history["events"]))
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    layout::respond(
        status,
        layout::page(&text(&p["name"]), Page::Products, Some(&session), body),
    )
}

fn facts(p: &Value) -> Markup {
    html! {
        dl.facts #facts {
            dt { "On hand" } dd #on-hand { (text(&p["on_hand"])) }
            dt { "Reserved" } dd { (text(&p["reserved"])) }
            dt { "Available" } dd { (text(&p["available"])) }
            dt { "Minimum" } dd #minimum {
                @if p["min_stock"].is_null() { "none" } @else { (text(&p["min_stock"])) }
                " (" (text(&p["min_stock_source"])) ")"
                @if p["below_min"].as_bool() == Some(true) { " " span.badge { "below minimum" } }
            }
            dt { "Lead time" } dd { (text(&p["lead_time_days"])) " days" }
            dt { "Open refill" } dd {
                @if let Some(id) = p["open_refill_id"].as_str() {
                    a href={"/ui/refills/" (id)} { (id) }
                } @else { "none" }
            }
            dt { "Version" } dd { (text(&p["version"])) " · updated " (text(&p["updated_at"])) }
        }
    }
}

/// The chart's data as one JSON attribute (escaped by maud, read by `dashboard.js`): days as
/// unix seconds, then demand, forecast mean, lower, upper; `null` where a series has no value
/// that day. Units a day only: the minimum is stock, drawn on the projected-stock chart.
fn chart(forecast: Option<&StoredForecast>) -> Markup {
    let Some(f) = forecast else {
        return html! {
            section #demand {
                h2 { "Demand and forecast" }
                p.muted #no-forecast { "No forecast yet: import demand history and recompute thresholds." }
            }
        };
    };
    let start = f.history.len().saturating_sub(HISTORY_DAYS);
    let history = &f.history[start..];
    let mut days = Vec::new();
    let (mut demand, mut mean, mut lower, mut upper) = (vec![], vec![], vec![], vec![]);
    for h in history {
        days.push(day_seconds(h.date));
        demand.push(json!(h.quantity));
        mean.push(Value::Null);
        lower.push(Value::Null);
        upper.push(Value::Null);
    }
    for point in &f.forecast {
        days.push(day_seconds(point.date));
        demand.push(Value::Null);
        mean.push(json!(round2(point.mean)));
        lower.push(json!(round2(point.lower)));
        upper.push(json!(round2(point.upper)));
    }
    let data = json!([days, demand, mean, lower, upper]).to_string();
    html! {
        section #demand {
            h2 { "Demand and forecast" }
            p.muted {
                "Model " (f.model) ", computed " (f.computed_at.to_rfc3339())
                ". Reorder point " (f.reorder_point) " (lead-time demand "
                (round2(f.lead_time_demand)) (safety_stock_term(f.safety_stock)) ")."
            }
            div #demand-chart.chart data-series=(data)
                role="img" aria-label="Daily demand, and the forecast with its interval, in units a day" {}
            details {
                summary { "Values as a table" }
                div.scroll tabindex="0" role="region" aria-label="Demand and forecast values" {
                    table.values #forecast-table {
                        thead { tr { th { "Date" } th.num { "Demand" } th.num { "Forecast" } th.num { "Lower" } th.num { "Upper" } } }
                        tbody {
                            @for h in history {
                                tr { td { (h.date) } td.num { (h.quantity) } td {} td {} td {} }
                            }
                            @for point in &f.forecast {
                                tr.forecast { td { (point.date) } td {} td.num { (round2(point.mean)) }
                                    td.num { (round2(point.lower)) } td.num { (round2(point.upper)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The stock going forward (`stock_outlook`), in words and in its own chart: stock on hand by
/// day (the open refill added on its expected day), the minimum as a line, and markers on the
/// run-out day and the refill's arrival. Units on hand, so apart from demand's units a day.
fn projected_stock(o: &Outlook) -> Markup {
    let horizon_end = o.projection.last().map(|d| d.date);
    let refill_on = o.open_refill.as_ref().and_then(|r| r.expected_on);
    let mut days = Vec::with_capacity(o.projection.len());
    let (mut stock, mut minimum, mut out, mut arrival) = (vec![], vec![], vec![], vec![]);
    for d in &o.projection {
        days.push(day_seconds(d.date));
        stock.push(json!(d.stock));
        minimum.push(json!(o.min_stock));
        out.push(if o.runs_out_on == Some(d.date) {
            json!(d.stock)
        } else {
            Value::Null
        });
        arrival.push(if refill_on == Some(d.date) {
            json!(d.stock)
        } else {
            Value::Null
        });
    }
    let data = json!([days, stock, minimum, out, arrival]).to_string();
    html! {
        section #projected-stock {
            h2 { "Projected stock" }
            @if o.projection.is_empty() {
                p.muted #no-projection { "No forecast yet, so no projection: import demand history and recompute thresholds." }
            }
            dl.facts #outlook {
                dt { "Available now" } dd #outlook-available { (o.available) }
                dt { "Forecast demand" } dd #daily-forecast {
                    @match o.daily_forecast { Some(d) => { (d) " a day" } None => { "no forecast" } }
                }
                dt { "Days of cover" } dd #days-of-cover {
                    @match o.days_of_cover {
                        Some(d) => { (d) " days" }
                        None => { @if o.daily_forecast.is_some() { "nothing is forecast to sell" } @else { "unknown (no forecast)" } }
                    }
                }
                dt { "Runs out" } dd #runs-out {
                    @match (o.runs_out_on, horizon_end) {
                        (Some(day), _) => { "on " (day) }
                        (None, Some(end)) => { "not within the forecast horizon (to " (end) ")" }
                        (None, None) => { "unknown (no forecast)" }
                    }
                }
                dt { "Open refill" } dd #outlook-refill {
                    @if let Some(r) = &o.open_refill {
                        (r.quantity) " units, "
                        @if let Some(on) = r.expected_on { "expected on " (on) } @else { "arrival unknown" }
                        @if o.runs_out_on.is_some() {
                            @if o.covered_by_refill { ": before the stock runs out" }
                            @else { ": after the stock runs out" }
                        }
                        " (" a href={"/ui/refills/" (r.id)} { "refill" } ")"
                    } @else { "none" }
                }
            }
            @if !o.projection.is_empty() {
                div #stock-chart.chart data-chart="stock" data-series=(data)
                    role="img" aria-label="Stock on hand projected by day, the minimum, the run-out day and the open refill's arrival, in units" {}
                details {
                    summary { "Projection as a table" }
                    div.scroll tabindex="0" role="region" aria-label="Projected stock values" {
                        table.values #projection-table {
                            thead { tr { th { "Date" } th.num { "Projected stock" } th.num { "Minimum" } th { "Note" } } }
                            tbody {
                                @for d in &o.projection {
                                    tr {
                                        td { (d.date) } td.num { (d.stock) }
                                        td.num { @match o.min_stock { Some(m) => { (m) } None => { "—" } } }
                                        td {
                                            @if o.runs_out_on == Some(d.date) { "runs out" }
                                            @if o.runs_out_on == Some(d.date) && refill_on == Some(d.date) { "; " }
                                            @if refill_on == Some(d.date) { "refill arrives" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The purchase plan: the decision in words, and a chart of recorded prices, the 14-day price
/// forecast with its interval, and today's price as a reference line (same script as demand).
fn purchase_plan(plan: &Value) -> Markup {
    let empty = Vec::new();
    let history = plan["history"].as_array().unwrap_or(&empty);
    let forecast = plan["price_forecast"].as_array().unwrap_or(&empty);
    let today_price = plan["unit_price_today"].as_f64().unwrap_or_default();
    let mut days = Vec::new();
    let (mut price, mut mean, mut lower, mut upper, mut now) =
        (vec![], vec![], vec![], vec![], vec![]);
    let date_of = |v: &Value| v.as_str().and_then(|d| d.parse::<chrono::NaiveDate>().ok());
    let first_forecast = forecast.first().and_then(|f| date_of(&f["date"]));
    for h in history {
        let Some(d) = date_of(&h["date"]) else {
            continue;
        };
        // Today's recorded price is also the forecast's first day: drawn once, as forecast.
        if first_forecast.is_some_and(|f| d >= f) {
            continue;
        }
        days.push(day_seconds(d));
        price.push(json!(h["unit_price"].as_f64().map(round2)));
        mean.push(Value::Null);
        lower.push(Value::Null);
        upper.push(Value::Null);
        now.push(json!(round2(today_price)));
    }
    for f in forecast {
        let Some(d) = date_of(&f["date"]) else {
            continue;
        };
        days.push(day_seconds(d));
        price.push(Value::Null);
        mean.push(json!(f["mean"].as_f64().map(round2)));
        lower.push(json!(f["lower"].as_f64().map(round2)));
        upper.push(json!(f["upper"].as_f64().map(round2)));
        now.push(json!(round2(today_price)));
    }
    let data = json!([days, price, mean, lower, upper, now]).to_string();
    let labels = json!(["Price", "Forecast", "Lower", "Upper", "Price today"]).to_string();
    let wait = plan["recommendation"] == "wait";
    html! {
        section #purchase-plan {
            h2 { "Purchase plan" }
            p #plan-decision {
                strong { @if wait { "Wait until " (text(&plan["best_day"])) } @else { "Buy now" } }
                ": expected " (round2(plan["expected_unit_price"].as_f64().unwrap_or_default()))
                " a unit (today " (round2(today_price)) ", saving "
                (round2(plan["expected_saving_pct"].as_f64().unwrap_or_default())) "%); order by "
                (text(&plan["order_by"])) "."
            }
            p.muted #plan-reason { (text(&plan["reason"])) }
            div #price-chart.chart data-series=(data) data-labels=(labels) data-axis="unit price"
                role="img" aria-label="Supplier prices, the price forecast with its interval, and today's price" {}
            details {
                summary { "Forecast as a table" }
                div.scroll tabindex="0" role="region" aria-label="Price forecast values" {
                    table.values #price-table {
                        thead { tr { th { "Date" } th.num { "Expected" } th.num { "Lower" } th.num { "Upper" } } }
                        tbody {
                            @for f in forecast {
                                tr.forecast { td { (text(&f["date"])) }
                                    td.num { (round2(f["mean"].as_f64().unwrap_or_default())) }
                                    td.num { (round2(f["lower"].as_f64().unwrap_or_default())) }
                                    td.num { (round2(f["upper"].as_f64().unwrap_or_default())) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn day_seconds(date: chrono::NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp())
        .unwrap_or_default()
}

/// A low fill target can be met below the expected lead-time demand (the fill-rate sizing lets
/// the safety stock go negative): say so instead of printing "+ safety stock -3".
fn safety_stock_term(safety_stock: f64) -> String {
    if safety_stock < 0.0 {
        format!(
            " less {} the fill target does not need",
            round2(-safety_stock)
        )
    } else {
        format!(" + safety stock {}", round2(safety_stock))
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The events, newest first, each with its actor and what caused it.
fn timeline(events: &Value) -> Markup {
    let empty = Vec::new();
    let events = events.as_array().unwrap_or(&empty);
    html! {
        section #timeline {
            h2 { "Timeline" }
            div.scroll tabindex="0" role="region" aria-label="Timeline events" {
                table.events {
                    thead { tr { th { "#" } th { "When" } th { "Event" } th { "Who" } th { "Caused by" } th { "Details" } } }
                    tbody {
                        @for e in events.iter().rev() {
                            tr {
                                td.num { (text(&e["version"])) }
                                td { (text(&e["occurred_at"])) }
                                td { (text(&e["type"])) }
                                td.actor { (text(&e["metadata"]["actor"])) }
                                td.mono { @if e["metadata"]["causation_id"].is_null() { "—" } @else { (text(&e["metadata"]["causation_id"])) } }
                                td.mono.payload { (summary(&e["payload"])) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The payload's fields, short: enough to read what happened without opening the JSON.
fn summary(payload: &Value) -> String {
    let Some(fields) = payload.as_object() else {
        return text(payload);
    };
    let mut out = Vec::new();
    for (k, v) in fields {
        // The type is its own column; empty fields say nothing.
        let v = match v {
            Value::Object(_) | Value::Array(_) | Value::Null => continue,
            _ if k == "type" => continue,
            other => text(other),
        };
        out.push(format!("{k}: {v}"));
    }
    let s = out.join(", ");
    if s.chars().count() > 160 {
        s.chars().take(160).chain("…".chars()).collect()
    } else {
        s
    }
}
