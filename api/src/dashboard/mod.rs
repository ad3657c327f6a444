//! The web dashboard (docs/api.md "Web dashboard"): server-rendered HTML pages over the tool layer.
//!
//! Pages are rendered with maud, whose `html!` escapes every interpolated value unless it is
//! explicitly marked `PreEscaped`, so tenant-supplied text (product names, reasons, notes) is
//! inert by construction. Every byte the browser loads comes from this binary: the pages, htmx
//! and uPlot (vendored from npm into `api/assets/`), and the page script `dashboard.js`; the
//! Content-Security-Policy (`default-src 'self'`, no inline script or style) makes the browser
//! refuse anything else.
//!
//! Reads go through `AppState.tools` (the same tools chat and MCP call); writes through the same
//! commands as the API: `Tools::call` for `refill_stock`/`set_min_stock`, `ProductCommands` for
//! receipts, sales, counts and refill receipts/cancellations. No page reads a table.
//!
//! Routes: `/`, `/login`, `/logout`, and everything else under `/ui/`, so `tests/ops.rs` can
//! tell the HTML surface from the documented JSON API by prefix.

// Handlers return early with a finished page (`Result<_, Response>`): a refusal is rare and is
// the response itself, so boxing it would only add an allocation to every refusal.
#![allow(clippy::result_large_err)]

mod actions;
mod assets;
mod auth;
mod chat;
mod layout;
mod notifications;
mod product;
mod products;
mod refills;
mod sales;
#[cfg(test)]
mod tests;

use crate::state::AppState;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use restock_application::tools::{ToolCaller, ToolError};
use restock_domain::TenantId;
use restock_infrastructure::tokens::Role;
use serde_json::Value;
use uuid::Uuid;

pub use layout::Page;

/// The session cookie: the login token itself, HttpOnly so page script cannot read it.
pub const SESSION_COOKIE: &str = "restock_session";

/// `default-src 'self'` and nothing inline: a script or style injected into a page would not
/// run. `frame-ancestors 'none'` stops the pages being framed (clickjacking of the forms).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// The dashboard's routes. Every response gets the security headers; every POST is checked for
/// a same-origin `Origin` before its handler runs.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(products::page))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/ui/products", get(products::table))
        .route("/ui/products/{sku}", get(product::page))
        .route("/ui/products/{sku}/actions", get(products::actions))
        .route("/ui/products/{sku}/receive", post(actions::receive))
        .route("/ui/products/{sku}/sell", post(actions::sell))
        .route("/ui/products/{sku}/count", post(actions::count))
        .route("/ui/products/{sku}/min-stock", post(actions::set_min_stock))
        .route("/ui/products/{sku}/refill", post(actions::order_refill))
        .route("/ui/sales", get(sales::page))
        .route("/ui/refills", get(refills::list))
        .route("/ui/refills/{id}", get(refills::audit))
        .route("/ui/refills/{id}/receive", post(refills::receive))
        .route("/ui/refills/{id}/cancel", post(refills::cancel))
        .route("/ui/notifications", get(notifications::page))
        .route("/ui/chat", post(chat::ask))
        .route(
            "/ui/chat/{conversation}/actions/{action}/confirm",
            post(chat::confirm),
        )
        .route("/ui/assets/{file}", get(assets::serve))
        .layer(axum::middleware::from_fn(same_origin_posts))
        .layer(axum::middleware::from_fn(security_headers))
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A form that changes something must come from one of our own pages: SameSite=Strict already
/// keeps the cookie off cross-site requests, and this refuses the rest (a sibling subdomain, a
/// browser without SameSite). Browsers send `Origin` on every POST; a request with neither
/// `Origin` nor `Referer` is refused too.
async fn same_origin_posts(request: Request, next: Next) -> Response {
    if request.method() == Method::POST && !is_same_origin(request.headers()) {
        return layout::error_page(
            StatusCode::FORBIDDEN,
            "Refused",
            "This form was sent from another site, so nothing was changed. Reload the page and try again.",
            None,
        );
    }
    next.run(request).await
}

pub(crate) fn is_same_origin(headers: &HeaderMap) -> bool {
    // Browsers that send Fetch Metadata say outright where the request came from: only our own
    // pages (or the person typing the address) may change anything.
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.to_str(), Ok("same-origin" | "none")) {
            return false;
        }
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            // No Origin: the Referer's scheme://host part stands in for it.
            let referer = headers.get(header::REFERER)?.to_str().ok()?;
            let (scheme, rest) = referer.split_once("://")?;
            let authority = rest.split('/').next()?;
            Some(format!("{scheme}://{authority}"))
        });
    match origin {
        Some(origin) => origin == format!("http://{host}") || origin == format!("https://{host}"),
        None => false,
    }
}

/// The signed-in person, from the session cookie (a token checked like the API's).
#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    pub tenant: TenantId,
    pub role: Role,
}

impl Session {
    pub fn is_manager(&self) -> bool {
        self.role == Role::Manager
    }

    pub fn caller(&self) -> ToolCaller {
        ToolCaller::new(self.tenant.clone(), self.user.clone(), self.is_manager())
    }

    /// Run a tool as this person; a refusal becomes a readable page.
    pub async fn tool(&self, app: &AppState, name: &str, args: Value) -> Result<Value, Response> {
        app.tools
            .call(&self.caller(), name, &args)
            .await
            .map_err(|e| tool_error_page(&e, self))
    }

    /// A command's context: the person as actor (`user:<sub>`), like the API's.
    pub fn command_context(&self) -> restock_application::CommandContext {
        restock_application::CommandContext {
            correlation_id: Uuid::now_v7(),
            ..restock_application::CommandContext::new(
                self.tenant.clone(),
                format!("user:{}", self.user),
            )
        }
    }

    /// Refuse a viewer: the server decides, not a hidden button.
    pub fn require_manager(&self) -> Result<(), Response> {
        if self.is_manager() {
            Ok(())
        } else {
            Err(layout::error_page(
                StatusCode::FORBIDDEN,
                "Not allowed",
                "You are signed in as a viewer: you can see everything but change nothing. Ask a manager.",
                Some(self),
            ))
        }
    }
}

/// Whether the browser reached us over https: directly (an `https` Origin) or through a
/// TLS-terminating proxy (`X-Forwarded-Proto: https`). The session cookie is then `Secure`, so
/// it never travels over plain http.
pub(crate) fn over_https(headers: &HeaderMap) -> bool {
    let header_is = |name: &str, prefix: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with(prefix))
    };
    header_is("x-forwarded-proto", "https") || header_is("origin", "https://")
}

/// The session cookie's attributes: script cannot read it, no other site's request carries it.
pub(crate) fn cookie_flags(headers: &HeaderMap) -> &'static str {
    if over_https(headers) {
        "HttpOnly; SameSite=Strict; Path=/; Secure"
    } else {
        "HttpOnly; SameSite=Strict; Path=/"
    }
}

pub(crate) fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

impl FromRequestParts<AppState> for Session {
    /// No session (or an expired one): the login page.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let claims = session_token(&parts.headers)
            .and_then(|token| state.tokens.verify(token).ok())
            .ok_or_else(|| Redirect::to("/login").into_response())?;
        Ok(Session {
            user: claims.sub,
            tenant: claims.tenant,
            role: claims.role,
        })
    }
}

/// A refused tool call as a page: the message names the problem; store failures are logged, not
/// shown (they may carry SQL).
pub(crate) fn tool_error_page(e: &ToolError, session: &Session) -> Response {
    let (status, title) = match e {
        ToolError::InvalidArguments(_) | ToolError::UnknownTool(_) => {
            (StatusCode::BAD_REQUEST, "Check your input")
        }
        ToolError::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
        ToolError::Forbidden(_) => (StatusCode::FORBIDDEN, "Not allowed"),
        ToolError::Refused(_) | ToolError::KeyReused => (StatusCode::CONFLICT, "Not done"),
        ToolError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong"),
    };
    let message = match e {
        ToolError::Store(detail) => {
            tracing::error!(error = %detail, "dashboard: the store failed");
            "The server could not complete this. Try again in a moment.".to_owned()
        }
        other => other.to_string(),
    };
    layout::error_page(status, title, &message, Some(session))
}

/// Fields of the JSON a tool answered, read leniently: a missing field shows as empty.
pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
