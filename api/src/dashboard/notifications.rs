//! The agent's notifications to the tenant's managers (`list_notifications`).

use super::layout::{self, Page};
use super::{text, Session};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde_json::json;

pub async fn page(State(app): State<AppState>, session: Session) -> Response {
    let found = match session
        .tool(&app, "list_notifications", json!({ "limit": 200 }))
        .await
    {
        Ok(v) => v,
        Err(page) => return page,
    };
    let empty = Vec::new();
    let items = found["items"].as_array().unwrap_or(&empty);
    let body = html! {
        h1 { "Notifications" }
        @if items.is_empty() {
            p.muted { "No notifications." }
        } @else {
            div.scroll tabindex="0" role="region" aria-label="Notifications" {
            table.notifications {
                thead { tr { th { "When" } th { "Severity" } th { "Kind" } th { "SKU" } th { "Message" } th { "Delivery" } } }
                tbody {
                    @for n in items {
                        tr {
                            td { (text(&n["created_at"])) }
                            td { span class={"severity " (text(&n["severity"]))} { (text(&n["severity"])) } }
                            td { (text(&n["kind"])) }
                            td { @if let Some(sku) = n["sku"].as_str() { a href={"/ui/products/" (sku)} { (sku) } } }
                            td { (text(&n["message"])) }
                            td { (text(&n["delivery"])) }
                        }
                    }
                }
            }
            }
        }
    };
    layout::respond(
        StatusCode::OK,
        layout::page("Notifications", Page::Notifications, Some(&session), body),
    )
}
