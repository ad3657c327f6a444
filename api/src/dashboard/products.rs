//! The products page: stock, reserved, available, minimum and its source, open refill; products
//! below their minimum first; search by name or sku (htmx swaps the table as you type); quick
//! actions for managers, loaded into the row on demand.

use super::layout::{self, notice, Page};
use super::{text, Session};
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};

/// Rows on the page (below-minimum ones first); a search narrows them.
const ROWS: i64 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

pub async fn page(
    State(app): State<AppState>,
    session: Session,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|q| q.0).unwrap_or_default();
    let search = query.q.unwrap_or_default();
    let (table, problem) = match rows(&app, &session, &search).await {
        Ok(rows) => (table_markup(&rows, &session), None),
        Err(message) => (html! {}, Some(message)),
    };
    let body = html! {
        h1 { "Products" }
        @if let Some(done) = query.done.as_deref().and_then(done_message) { (notice("ok", done)) }
        @if let Some(m) = &problem { (notice("error", m)) }
        form.search method="get" action="/" role="search" {
            label for="q" { "Search by name or sku" }
            input #q type="search" name="q" value=(search) maxlength="200"
                hx-get="/ui/products" hx-trigger="input changed delay:250ms, search"
                hx-target="#products" hx-push-url="false";
            button type="submit" { "Search" }
        }
        div #products { (table) }
    };
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    layout::respond(
        status,
        layout::page("Products", Page::Products, Some(&session), body),
    )
}

/// The table alone, for htmx's search-as-you-type.
pub async fn table(
    State(app): State<AppState>,
    session: Session,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let search = query.ok().and_then(|q| q.0.q).unwrap_or_default();
    match rows(&app, &session, &search).await {
        Ok(rows) => layout::respond(StatusCode::OK, table_markup(&rows, &session)),
        Err(message) => layout::respond(StatusCode::BAD_REQUEST, notice("error", &message)),
    }
}

/// Fixed texts for `?done=`: the page never echoes free text from the address bar.
pub fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "receive" => "Receipt recorded.",
        "sell" => "Sale recorded.",
        "count" => "Count recorded.",
        "min" => "Minimum saved.",
        "refill" => "Refill ordered.",
        "refill-received" => "Refill received.",
        "refill-cancelled" => "Refill cancelled.",
        _ => return None,
    })
}

/// Below-minimum products first, then the rest, through `list_products`.
async fn rows(app: &AppState, session: &Session, search: &str) -> Result<Vec<Value>, String> {
    let search = search.trim();
    let mut out = Vec::new();
    for below in [true, false] {
        let mut args = json!({ "below_min": below, "limit": ROWS });
        if !search.is_empty() {
            args["query"] = json!(search);
        }
        let found = app
            .tools
            .call(&session.caller(), "list_products", &args)
            .await
            .map_err(|e| match e {
                restock_application::tools::ToolError::Store(detail) => {
                    tracing::error!(error = %detail, "dashboard: listing products failed");
                    "The products could not be read. Try again in a moment.".to_owned()
                }
                other => other.to_string(),
            })?;
        if let Some(items) = found["items"].as_array() {
            out.extend(items.iter().cloned());
        }
        if out.len() as i64 >= ROWS {
            out.truncate(ROWS as usize);
            break;
        }
    }
    Ok(out)
}

pub fn table_markup(rows: &[Value], session: &Session) -> Markup {
    html! {
        @if rows.is_empty() {
            p.muted #no-products { "No products match." }
        } @else {
            div.scroll tabindex="0" role="region" aria-label="Products" {
            table.products {
                thead { tr {
                    th { "SKU" } th { "Name" } th.num { "On hand" } th.num { "Reserved" }
                    th.num { "Available" } th.num { "Minimum" } th { "Source" } th { "Open refill" }
                    @if session.is_manager() { th { "Actions" } }
                } }
                tbody {
                    @for p in rows {
                        @let sku = text(&p["sku"]);
                        @let below = p["below_min"].as_bool().unwrap_or(false);
                        tr class=[below.then_some("below")] data-sku=(sku) {
                            td { a href={"/ui/products/" (sku)} { (sku) } }
                            td.name { (text(&p["name"])) @if below { " " span.badge { "below minimum" } } }
                            td.num { (text(&p["on_hand"])) }
                            td.num { (text(&p["reserved"])) }
                            td.num { (text(&p["available"])) }
                            td.num { @if p["min_stock"].is_null() { "—" } @else { (text(&p["min_stock"])) } }
                            td { (text(&p["min_stock_source"])) }
                            td { @if let Some(id) = p["open_refill_id"].as_str() {
                                a href={"/ui/refills/" (id)} { "open" }
                            } }
                            @if session.is_manager() {
                                td {
                                    button.small type="button" hx-get={"/ui/products/" (sku) "/actions"}
                                        hx-target="next .actions" hx-swap="innerHTML" { "Act" }
                                    div.actions {}
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

/// The quick-action forms of one product (a fragment). Viewers get a refusal: the forms are
/// for managers, and the server refuses a viewer's POST anyway.
pub async fn actions(
    State(app): State<AppState>,
    session: Session,
    Path(sku): Path<String>,
) -> Response {
    if let Err(refused) = session.require_manager() {
        return refused;
    }
    match session
        .tool(&app, "check_stock", json!({ "sku": sku }))
        .await
    {
        Ok(p) => layout::respond(StatusCode::OK, action_forms(&text(&p["sku"]), "list")),
        Err(page) => page,
    }
}

/// Receive, sell, count, set or clear the minimum, order a refill. `back` says which page to
/// return to (`list` or `product`).
pub fn action_forms(sku: &str, back: &str) -> Markup {
    let base = format!("/ui/products/{sku}");
    html! {
        div.forms {
            form method="post" action={(base) "/receive"} {
                input type="hidden" name="back" value=(back);
                input type="number" name="quantity" min="1" required placeholder="qty" aria-label="Quantity received";
                input type="text" name="reference" maxlength="200" placeholder="reference" aria-label="Reference";
                button type="submit" { "Receive" }
            }
            form method="post" action={(base) "/sell"} {
                input type="hidden" name="back" value=(back);
                input type="number" name="quantity" min="1" required placeholder="qty" aria-label="Quantity sold";
                input type="text" name="reference" maxlength="200" placeholder="reference" aria-label="Reference";
                button type="submit" { "Sell" }
            }
            form method="post" action={(base) "/count"} {
                input type="hidden" name="back" value=(back);
                input type="number" name="counted" min="0" required placeholder="counted" aria-label="Units counted";
                input type="text" name="reason" maxlength="200" required placeholder="reason" aria-label="Reason";
                button type="submit" { "Count" }
            }
            form method="post" action={(base) "/min-stock"} {
                input type="hidden" name="back" value=(back);
                input type="number" name="quantity" min="0" placeholder="minimum (empty: forecast)" aria-label="Minimum";
                button type="submit" { "Set minimum" }
                button type="submit" name="clear" value="1" formnovalidate { "Clear minimum" }
            }
            form method="post" action={(base) "/refill"} {
                input type="hidden" name="back" value=(back);
                input type="number" name="quantity" min="1" required placeholder="qty" aria-label="Quantity to order";
                input type="text" name="reason" maxlength="500" required placeholder="why" aria-label="Why";
                button type="submit" { "Order refill" }
            }
        }
    }
}
