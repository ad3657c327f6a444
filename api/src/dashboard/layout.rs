//! The page shell every dashboard page shares: head (our own assets only), navigation, the chat
//! panel, and error pages.

use super::Session;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

/// Which navigation entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Products,
    Sales,
    Refills,
    Notifications,
    Other,
}

/// A full HTML page. Pages are per-person and change with every command: never cached.
pub fn page(title: &str, current: Page, session: Option<&Session>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // htmx must not inject its own <style> (refused by the CSP) nor eval anything.
                meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}"#;
                title { (title) " · Restock" }
                link rel="stylesheet" href="/ui/assets/uPlot.min.css";
                link rel="stylesheet" href="/ui/assets/dashboard.css";
                script src="/ui/assets/htmx.min.js" defer {}
                script src="/ui/assets/uPlot.iife.min.js" defer {}
                script src="/ui/assets/dashboard.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { "Restock" }
                    @if let Some(s) = session {
                        nav aria-label="Pages" {
                            a href="/" class=[(current == Page::Products).then_some("current")] { "Products" }
                            a href="/ui/sales" class=[(current == Page::Sales).then_some("current")] { "Sales" }
                            a href="/ui/refills" class=[(current == Page::Refills).then_some("current")] { "Refills" }
                            a href="/ui/notifications" class=[(current == Page::Notifications).then_some("current")] { "Notifications" }
                        }
                        div.who {
                            span #who { (s.user) " · " (s.tenant.as_str()) " · " strong.role { (role_name(s)) } }
                            form method="post" action="/logout" {
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                div.layout {
                    main { (body) }
                    @if session.is_some() { (super::chat::panel()) }
                }
            }
        }
    }
}

fn role_name(s: &Session) -> &'static str {
    if s.is_manager() {
        "manager"
    } else {
        "viewer"
    }
}

/// An HTML response with the status given; pages are not cached.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A readable refusal: a title, a sentence, and the way back. Never a stack trace or JSON.
pub fn error_page(
    status: StatusCode,
    title: &str,
    message: &str,
    session: Option<&Session>,
) -> Response {
    let body = html! {
        section.error role="alert" {
            h1 { (title) }
            p #error-message { (message) }
            p { a href="/" { "Back to the products" } }
        }
    };
    respond(status, page(title, Page::Other, session, body))
}

/// A one-line notice at the top of a page (after an action, or about a bad input).
pub fn notice(kind: &str, message: &str) -> Markup {
    html! { p class={"notice " (kind)} role="status" { (message) } }
}
