//! Sign in with a token (`restock token ...`, or the one `serve --demo` prints) and sign out.

use super::layout::{self, notice, Page};
use super::{cookie_flags, SESSION_COOKIE};
use crate::state::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

fn login_form(message: Option<&str>) -> Markup {
    html! {
        section.login {
            h1 { "Sign in" }
            @if let Some(m) = message { (notice("error", m)) }
            p.muted {
                "Paste a token made by " code { "restock token --tenant T --role manager" }
                " (or the one " code { "restock serve --demo" } " printed)."
            }
            form method="post" action="/login" {
                label for="token" { "Token" }
                textarea #token name="token" rows="4" required autocomplete="off" spellcheck="false" {}
                button type="submit" { "Sign in" }
            }
        }
    }
}

pub async fn login_page() -> Response {
    layout::respond(
        StatusCode::OK,
        layout::page("Sign in", Page::Other, None, login_form(None)),
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    token: String,
}

/// Check the token like the API does and keep it in an HttpOnly, SameSite=Strict cookie.
pub async fn login(
    State(app): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let token = form.map(|f| f.0.token).unwrap_or_default();
    let token = token.trim();
    let refused = |m: &str| {
        layout::respond(
            StatusCode::UNAUTHORIZED,
            layout::page("Sign in", Page::Other, None, login_form(Some(m))),
        )
    };
    if token.is_empty() {
        return refused("Paste a token to sign in.");
    }
    // A JWT is three base64url parts: anything else cannot be one, and must not reach the cookie
    // header unchecked.
    if !token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return refused("That is not a token: it has characters a token never has.");
    }
    let claims = match app.tokens.verify(token) {
        Ok(claims) => claims,
        Err(e) => return refused(&format!("This token was refused: {e}.")),
    };
    let max_age = (claims.exp - chrono::Utc::now().timestamp()).max(0);
    let flags = cookie_flags(&headers);
    let cookie = format!("{SESSION_COOKIE}={token}; {flags}; Max-Age={max_age}");
    let mut response = Redirect::to("/").into_response();
    match HeaderValue::from_str(&cookie) {
        Ok(value) => {
            response.headers_mut().insert(header::SET_COOKIE, value);
            response
        }
        Err(_) => refused("That token cannot be kept in a cookie."),
    }
}

pub async fn logout(headers: HeaderMap) -> Response {
    let mut response = Redirect::to("/login").into_response();
    let cookie = format!("{SESSION_COOKIE}=; {}; Max-Age=0", cookie_flags(&headers));
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
