//! Authentication, roles and tenant isolation through HTTP.

mod common;

use common::{Backend, TestApp, SECRET};
use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use restock_infrastructure::tokens::Role;
use serde_json::json;

/// Every command route, with a valid body, for the product `A`.
fn commands() -> Vec<(Method, &'static str, serde_json::Value)> {
    vec![
        (Method::PUT, "/v1/products/A", json!({ "name": "A" })),
        (
            Method::POST,
            "/v1/products/A/receipts",
            json!({ "quantity": 1 }),
        ),
        (
            Method::POST,
            "/v1/products/A/sales",
            json!({ "quantity": 1 }),
        ),
        (
            Method::POST,
            "/v1/products/A/adjustments",
            json!({ "counted": 1, "reason": "count" }),
        ),
        (
            Method::PUT,
            "/v1/products/A/min-stock",
            json!({ "quantity": 1 }),
        ),
    ]
}

async fn tenants_never_see_each_other(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (a, b) = (app.manager("tenant-a"), app.manager("tenant-b"));
    app.register(&a, "A").await;
    app.post("/v1/products/A/receipts", &a, json!({ "quantity": 5 }))
        .await;
    app.settle().await;
    let now = common::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for path in [
        "/v1/products/A".to_owned(),
        format!("/v1/products/A?as_of={now}"),
        "/v1/products/A/events".to_owned(),
        "/v1/products/A/movements".to_owned(),
    ] {
        let r = app.get(&path, &b).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{path}"
        );
    }
    assert_eq!(app.get("/v1/products", &b).await.body["items"], json!([]));
    // B's commands on "A" act on B's own (absent) product, never on A's.
    let r = app
        .post("/v1/products/A/receipts", &b, json!({ "quantity": 1 }))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post("/v1/products/A/sales", &b, json!({ "quantity": 1 }))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // B registering its own "A" leaves A's product untouched.
    app.register(&b, "A").await;
    app.post("/v1/products/A/receipts", &b, json!({ "quantity": 100 }))
        .await;
    assert_eq!(app.product(&a, "A").await["on_hand"], 5);
    assert_eq!(app.product(&b, "A").await["on_hand"], 100);
    assert_eq!(app.event_count(&a, "A").await, 2);
}

async fn viewers_read_but_cannot_command(backend: Backend) {
    let app = TestApp::start(backend).await;
    let manager = app.manager("shop");
    app.register(&manager, "A").await;
    let viewer = app.token("shop", Role::Viewer);
    for (method, path, body) in commands() {
        let r = app
            .send(method.clone(), path, Some(&viewer), Some(&body), &[])
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{method} {path}"
        );
    }
    assert_eq!(app.event_count(&manager, "A").await, 1);
    assert_eq!(app.product(&viewer, "A").await["sku"], "A");
}

fn forged(claims: serde_json::Value, header: Header, secret: &[u8]) -> String {
    encode(&header, &claims, &EncodingKey::from_secret(secret)).expect("encode")
}

async fn bad_tokens_are_401(backend: Backend) {
    let app = TestApp::start(backend).await;
    let exp = chrono::Utc::now().timestamp() + 3600;
    let good = json!({ "sub": "u", "tenant": "shop", "role": "manager", "exp": exp });
    // alg: none, hand-made: header {"alg":"none","typ":"JWT"}, no signature.
    let b64 = |v: &serde_json::Value| {
        use base64_url::encode;
        encode(&v.to_string())
    };
    let none = format!(
        "{}.{}.",
        b64(&json!({ "alg": "none", "typ": "JWT" })),
        b64(&good)
    );
    let cases = vec![
        ("missing", None),
        ("garbage", Some("not-a-jwt".to_owned())),
        (
            "wrong secret",
            Some(forged(
                good.clone(),
                Header::default(),
                b"another-secret-that-is-long-enough-000",
            )),
        ),
        (
            "expired",
            Some(forged(
                json!({ "sub": "u", "tenant": "shop", "role": "manager", "exp": exp - 7200 }),
                Header::default(),
                SECRET.as_bytes(),
            )),
        ),
        (
            "no exp",
            Some(forged(
                json!({ "sub": "u", "tenant": "shop", "role": "manager" }),
                Header::default(),
                SECRET.as_bytes(),
            )),
        ),
        (
            "HS512",
            Some(forged(
                good.clone(),
                Header::new(jsonwebtoken::Algorithm::HS512),
                SECRET.as_bytes(),
            )),
        ),
        ("alg none", Some(none)),
        (
            "bad tenant",
            Some(forged(
                json!({ "sub": "u", "tenant": "Shop!", "role": "manager", "exp": exp }),
                Header::default(),
                SECRET.as_bytes(),
            )),
        ),
        (
            "bad role",
            Some(forged(
                json!({ "sub": "u", "tenant": "shop", "role": "root", "exp": exp }),
                Header::default(),
                SECRET.as_bytes(),
            )),
        ),
    ];
    for (what, token) in cases {
        for (method, path, body) in
            commands()
                .into_iter()
                .chain([(Method::GET, "/v1/products", json!(null))])
        {
            let body = (method != Method::GET).then_some(&body);
            let r = app
                .send(method.clone(), path, token.as_deref(), body, &[])
                .await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::UNAUTHORIZED, "unauthorized"),
                "{what}: {method} {path}"
            );
        }
    }
    // The control: the same claims, properly signed, are accepted.
    let ok = forged(good, Header::default(), SECRET.as_bytes());
    assert_eq!(app.get("/v1/products", &ok).await.status, StatusCode::OK);
}

on_both_stores!(
    tenants_never_see_each_other,
    viewers_read_but_cannot_command,
    bad_tokens_are_401
);
