//! The dashboard's handlers through the real router over a fresh SQLite database: what a browser
//! would get back (status, headers, HTML), and that refused writes change nothing.

use super::{CONTENT_SECURITY_POLICY, SESSION_COOKIE};
use crate::server::{RunningServer, ServerConfig};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::{Duration, Utc};
use restock_domain::TenantId;
use restock_infrastructure::testing::fresh_database_url;
use restock_infrastructure::tokens::Role;
use restock_infrastructure::Backend;
use serde_json::Value;
use tower::ServiceExt;

const HOST: &str = "dash.test";
const ORIGIN: &str = "http://dash.test";
const EVIL: &str = "<script>alert(1)</script>";

struct Dash {
    server: RunningServer,
    router: Router,
    manager: String,
    viewer: String,
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Dash {
    async fn start() -> Self {
        let url = fresh_database_url(Backend::Sqlite)
            .await
            .expect("test database");
        let config = ServerConfig {
            jwt_secret: Some("dashboard-unit-test-secret-0123456789abcdef".into()),
            ..ServerConfig::new(url)
        };
        let server = RunningServer::start(&config).await.expect("server starts");
        let router = crate::routes::router(server.state.clone());
        let tenant = TenantId::parse("shop").expect("tenant");
        let token = |role| {
            server
                .state
                .tokens
                .issue("ann", &tenant, role, Utc::now() + Duration::hours(1))
                .expect("token")
        };
        let (manager, viewer) = (token(Role::Manager), token(Role::Viewer));
        let dash = Dash {
            router,
            manager,
            viewer,
            server,
        };
        // A product whose name is a script: it must be shown, never run.
        let put = Request::put("/v1/products/EVIL-1")
            .header(header::AUTHORIZATION, format!("Bearer {}", dash.manager))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                serde_json::json!({ "name": EVIL, "lead_time_days": 3 }).to_string(),
            ))
            .expect("request");
        let r = dash.call(put).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        dash.wait_for(|p| p["name"] == EVIL).await;
        dash
    }

    async fn call(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut request = Request::get(path).header(header::HOST, HOST);
        if let Some(t) = token {
            request = request.header(header::COOKIE, format!("{SESSION_COOKIE}={t}"));
        }
        self.call(request.body(Body::empty()).expect("request"))
            .await
    }

    async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        origin: Option<&str>,
        form: &str,
    ) -> Reply {
        let mut request = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(t) = token {
            request = request.header(header::COOKIE, format!("{SESSION_COOKIE}={t}"));
        }
        if let Some(o) = origin {
            request = request.header(header::ORIGIN, o);
        }
        self.call(request.body(Body::from(form.to_owned())).expect("request"))
            .await
    }

    /// The product as the API's read model shows it.
    async fn product(&self) -> Value {
        let r = self
            .call(
                Request::get("/v1/products/EVIL-1")
                    .header(header::AUTHORIZATION, format!("Bearer {}", self.manager))
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        serde_json::from_str(&r.body).unwrap_or(Value::Null)
    }

    async fn wait_for(&self, check: impl Fn(&Value) -> bool) {
        for _ in 0..200 {
            if check(&self.product().await) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the product never became {:?}", self.product().await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_escape_tenant_text_and_carry_the_security_headers() {
    let dash = Dash::start().await;
    let r = dash.get("/", Some(&dash.manager)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        r.body
    );
    assert!(!r.body.contains(EVIL), "the name is rendered inert");
    assert_eq!(
        r.headers[header::CONTENT_SECURITY_POLICY],
        CONTENT_SECURITY_POLICY
    );
    let csp = r.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii");
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    // Every script the page loads is one of ours; none is inline.
    for chunk in r.body.split("<script").skip(1) {
        assert!(
            chunk.starts_with(" src=\"/ui/assets/"),
            "inline or foreign script: {chunk:.80}"
        );
    }
    // The product page too (its title, heading and timeline all carry the name).
    let r = dash.get("/ui/products/EVIL-1", Some(&dash.viewer)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!r.body.contains(EVIL));
    assert!(r.body.contains("&lt;script&gt;"));
    assert!(r.body.contains("id=\"timeline\""));
    assert!(
        r.body.contains("user:ann"),
        "the timeline names who registered it"
    );
    // Assets come from the binary, typed, with nosniff.
    let js = dash.get("/ui/assets/htmx.min.js", None).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap_or("")
        .starts_with("text/javascript"));
    assert!(js.body.contains("htmx"));
    assert_eq!(
        dash.get("/ui/assets/nope.js", None).await.status,
        StatusCode::NOT_FOUND
    );
    dash.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_answers_an_html_fragment() {
    let dash = Dash::start().await;
    let r = dash.get("/ui/products?q=evil", Some(&dash.viewer)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("<html"), "a fragment, not a page");
    assert!(r.body.contains("<table class=\"products\">"), "{}", r.body);
    assert!(r.body.contains("data-sku=\"EVIL-1\""));
    assert!(r.body.contains("&lt;script&gt;"));
    assert!(
        !r.body.contains("Act</button>"),
        "viewers get no action buttons"
    );
    let r = dash
        .get("/ui/products?q=nothing-like-it", Some(&dash.viewer))
        .await;
    assert!(r.body.contains("No products match."), "{}", r.body);
    // Managers get the quick actions, loaded as a fragment.
    let r = dash
        .get("/ui/products/EVIL-1/actions", Some(&dash.manager))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("action=\"/ui/products/EVIL-1/receive\""),
        "{}",
        r.body
    );
    assert!(!r.body.contains("<html"));
    dash.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sets_a_strict_http_only_cookie_and_logout_clears_it() {
    let dash = Dash::start().await;
    let r = dash.get("/", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/login");

    let r = dash
        .post(
            "/login",
            None,
            Some(ORIGIN),
            &format!("token={}", dash.manager),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.headers[header::LOCATION], "/");
    let cookie = r.headers[header::SET_COOKIE].to_str().expect("ascii");
    assert!(cookie.starts_with(&format!("{SESSION_COOKIE}={}", dash.manager)));
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing from {cookie}");
    }

    let r = dash
        .post("/login", None, Some(ORIGIN), "token=not-a-token")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.headers.get(header::SET_COOKIE).is_none());
    assert!(r.body.contains("This token was refused"), "{}", r.body);

    let r = dash
        .post("/logout", Some(&dash.manager), Some(ORIGIN), "")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let cookie = r.headers[header::SET_COOKIE].to_str().expect("ascii");
    assert!(cookie.contains("Max-Age=0") && cookie.starts_with(&format!("{SESSION_COOKIE}=;")));
    dash.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_and_viewer_posts_are_refused_and_change_nothing() {
    let dash = Dash::start().await;
    let path = "/ui/products/EVIL-1/receive";
    let form = "quantity=5&reference=x&back=product";

    let r = dash
        .post(path, Some(&dash.manager), Some("http://evil.example"), form)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("sent from another site"), "{}", r.body);
    let r = dash.post(path, Some(&dash.manager), None, form).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "no Origin, no Referer: refused"
    );

    let r = dash
        .post(path, Some(&dash.viewer), Some(ORIGIN), form)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("signed in as a viewer"), "{}", r.body);
    let r = dash
        .post(
            "/ui/products/EVIL-1/min-stock",
            Some(&dash.viewer),
            Some(ORIGIN),
            "quantity=3",
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The manager's own receipt from the page goes through, and is the only one recorded.
    let r = dash
        .post(path, Some(&dash.manager), Some(ORIGIN), form)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.headers[header::LOCATION],
        "/ui/products/EVIL-1?done=receive"
    );
    dash.wait_for(|p| p["on_hand"] == 5).await;
    assert_eq!(dash.product().await["min_stock"], Value::Null);
    dash.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_readable_page() {
    let dash = Dash::start().await;
    let r = dash
        .post(
            "/ui/products/EVIL-1/sell",
            Some(&dash.manager),
            Some(ORIGIN),
            "quantity=abc",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body
            .contains("Quantity must be a whole number from 1 to 1000000000"),
        "{}",
        r.body
    );
    assert!(r.body.starts_with("<!DOCTYPE html>"), "a page, not JSON");

    // Selling more than is there is refused by the domain's rule, said in words.
    let r = dash
        .post(
            "/ui/products/EVIL-1/sell",
            Some(&dash.manager),
            Some(ORIGIN),
            "quantity=9",
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("id=\"error-message\""));
    assert!(!r.body.contains("\"code\""), "no problem+json on a page");

    let r = dash
        .get("/ui/products/EVIL-1?as_of=yesterday", Some(&dash.viewer))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("is not a time"), "{}", r.body);

    // U+0000, which PostgreSQL cannot store, in a form field and in a chat question: said in
    // words, nothing recorded.
    let r = dash
        .post(
            "/ui/products/EVIL-1/receive",
            Some(&dash.manager),
            Some(ORIGIN),
            "quantity=1&reference=a%00b",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("NUL character"), "{}", r.body);
    let r = dash
        .post(
            "/ui/chat",
            Some(&dash.manager),
            Some(ORIGIN),
            "text=how%00much",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("NUL character"), "{}", r.body);
    assert_eq!(dash.product().await["on_hand"], 0);

    let r = dash.get("/ui/products/NOPE", Some(&dash.viewer)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("no product with sku NOPE"), "{}", r.body);
    let r = dash.get("/ui/refills/not-a-uuid", Some(&dash.viewer)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    dash.server.shutdown().await;
}

#[test]
fn as_of_accepts_the_forms_a_browser_sends() {
    use super::product::parse_as_of;
    assert_eq!(
        parse_as_of("2026-05-01T14:30").map(|t| t.to_rfc3339()),
        Ok("2026-05-01T14:30:00+00:00".to_owned())
    );
    assert!(parse_as_of("2026-05-01T14:30:05Z").is_ok());
    assert!(parse_as_of("soon").is_err());
}

/// Behind a TLS-terminating proxy the session cookie is `Secure` (it never crosses plain http),
/// and logout clears it with the same attributes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_the_session_cookie_is_secure() {
    let dash = Dash::start().await;
    let form = |path: &str, body: String| {
        Request::post(path)
            .header(header::HOST, HOST)
            .header(header::ORIGIN, "https://dash.test")
            .header("x-forwarded-proto", "https")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request")
    };
    let r = dash
        .call(form("/login", format!("token={}", dash.manager)))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let cookie = r.headers[header::SET_COOKIE].to_str().expect("ascii");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Secure"] {
        assert!(cookie.contains(flag), "{flag} missing from {cookie}");
    }
    let r = dash.call(form("/logout", String::new())).await;
    let cookie = r.headers[header::SET_COOKIE].to_str().expect("ascii");
    assert!(
        cookie.contains("Max-Age=0") && cookie.contains("Secure"),
        "{cookie}"
    );

    // Over plain http the flag would only make the browser drop the cookie.
    let r = dash
        .post(
            "/login",
            None,
            Some(ORIGIN),
            &format!("token={}", dash.manager),
        )
        .await;
    let cookie = r.headers[header::SET_COOKIE].to_str().expect("ascii");
    assert!(!cookie.contains("Secure"), "{cookie}");
    dash.server.shutdown().await;
}

/// A browser's Fetch Metadata saying the form came from another site is refused even when the
/// `Origin` was forged to match (a sibling site cannot do that, but a proxy might rewrite it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_fetch_is_refused_and_changes_nothing() {
    let dash = Dash::start().await;
    for site in ["cross-site", "same-site"] {
        let request = Request::post("/ui/products/EVIL-1/receive")
            .header(header::HOST, HOST)
            .header(header::ORIGIN, ORIGIN)
            .header("sec-fetch-site", site)
            .header(header::COOKIE, format!("{SESSION_COOKIE}={}", dash.manager))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("quantity=5&reference=x&back=product"))
            .expect("request");
        let r = dash.call(request).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{site}");
        assert!(r.body.contains("sent from another site"), "{}", r.body);
    }
    // The form from our own page, as a browser sends it, goes through.
    let request = Request::post("/ui/products/EVIL-1/receive")
        .header(header::HOST, HOST)
        .header(header::ORIGIN, ORIGIN)
        .header("sec-fetch-site", "same-origin")
        .header(header::COOKIE, format!("{SESSION_COOKIE}={}", dash.manager))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("quantity=5&reference=x&back=product"))
        .expect("request");
    assert_eq!(dash.call(request).await.status, StatusCode::SEE_OTHER);
    dash.wait_for(|p| p["on_hand"] == 5).await;
    dash.server.shutdown().await;
}
