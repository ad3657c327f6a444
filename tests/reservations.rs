//! Reservations through HTTP, on both stores: no oversell under a race, expiry on its own.

mod common;

use common::{eventually, Backend, TestApp};
use reqwest::{Method, StatusCode};
use restock_domain::CLOSED_RESERVATIONS_KEPT;
use serde_json::json;

async fn two_hundred_racers_for_fifty_units_never_oversell(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    app.register(&t, "HOT").await;
    app.post("/v1/products/HOT/receipts", &t, json!({ "quantity": 50 }))
        .await;
    let replies = futures::future::join_all((0..200).map(|_| {
        let (app, t) = (&app, &t);
        async move {
            app.post("/v1/products/HOT/reservations", t, json!({ "quantity": 1 }))
                .await
        }
    }))
    .await;
    let won = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let refused: Vec<_> = replies
        .iter()
        .filter(|r| r.status != StatusCode::CREATED)
        .collect();
    assert_eq!(won, 50);
    assert_eq!(refused.len(), 150);
    assert!(refused
        .iter()
        .all(|r| r.status == StatusCode::CONFLICT && r.code() == "insufficient_stock"));

    // The read model agrees with the events.
    let p = app.product(&t, "HOT").await;
    assert_eq!(
        (
            p["on_hand"].clone(),
            p["reserved"].clone(),
            p["available"].clone()
        ),
        (json!(50), json!(50), json!(0))
    );
    let reserved_events = app.events_of_type(&t, "HOT", "StockReserved").await;
    assert_eq!(reserved_events, 50);
    let r = app
        .post("/v1/products/HOT/sales", &t, json!({ "quantity": 1 }))
        .await;
    assert_eq!(
        r.code(),
        "insufficient_stock",
        "reserved units cannot be sold"
    );
}

async fn confirm_release_and_their_status_codes(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    app.register(&t, "A").await;
    app.post("/v1/products/A/receipts", &t, json!({ "quantity": 10 }))
        .await;

    let r = app
        .post("/v1/products/A/reservations", &t, json!({ "quantity": 3 }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        (r.body["sku"].clone(), r.body["quantity"].clone()),
        (json!("A"), json!(3))
    );
    let id = r.body["id"].as_str().expect("id").to_owned();
    assert!(r.body["expires_at"].is_string());

    let c = app
        .post(&format!("/v1/reservations/{id}/confirm"), &t, json!({}))
        .await;
    assert_eq!(c.status, StatusCode::OK);
    let again = app
        .post(&format!("/v1/reservations/{id}/confirm"), &t, json!({}))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let p = app.product(&t, "A").await;
    assert_eq!(
        (p["on_hand"].clone(), p["reserved"].clone()),
        (json!(7), json!(0)),
        "confirmed once"
    );
    let rel = app
        .send(
            Method::DELETE,
            &format!("/v1/reservations/{id}"),
            Some(&t),
            None,
            &[],
        )
        .await;
    assert_eq!((rel.status, rel.code()), (StatusCode::CONFLICT, "conflict"));

    let r = app
        .post("/v1/products/A/reservations", &t, json!({ "quantity": 2 }))
        .await;
    let id2 = r.body["id"].as_str().expect("id").to_owned();
    let rel = app
        .send(
            Method::DELETE,
            &format!("/v1/reservations/{id2}"),
            Some(&t),
            None,
            &[],
        )
        .await;
    assert_eq!(rel.status, StatusCode::NO_CONTENT);
    let c = app
        .post(&format!("/v1/reservations/{id2}/confirm"), &t, json!({}))
        .await;
    assert_eq!((c.status, c.code()), (StatusCode::CONFLICT, "conflict"));
    let p = app.product(&t, "A").await;
    assert_eq!(
        (p["on_hand"].clone(), p["reserved"].clone()),
        (json!(7), json!(0))
    );

    // Unknown ids, malformed ids and other tenants' ids are all 404.
    let other = app.manager("other");
    for (token, path) in [
        (
            &t,
            "/v1/reservations/00000000-0000-0000-0000-000000000000/confirm".to_owned(),
        ),
        (&t, "/v1/reservations/not-a-uuid/confirm".to_owned()),
        (&other, format!("/v1/reservations/{id}/confirm")),
    ] {
        let r = app.post(&path, token, json!({})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    let bad = app
        .post(
            "/v1/products/A/reservations",
            &t,
            json!({ "quantity": 1, "ttl_seconds": 0 }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = app
        .post(
            "/v1/products/A/reservations",
            &t,
            json!({ "quantity": 1, "ttl_seconds": 86401 }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

async fn an_unconfirmed_reservation_expires_by_itself(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    app.register(&t, "A").await;
    app.post("/v1/products/A/receipts", &t, json!({ "quantity": 5 }))
        .await;
    let r = app
        .post(
            "/v1/products/A/reservations",
            &t,
            json!({ "quantity": 4, "ttl_seconds": 1 }),
        )
        .await;
    let id = r.body["id"].as_str().expect("id").to_owned();
    assert_eq!(app.product(&t, "A").await["available"], 1);
    let started = std::time::Instant::now();
    eventually("the reservation expires", || async {
        app.product(&t, "A").await["available"] == json!(5)
    })
    .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "expired late: {:?}",
        started.elapsed()
    );
    let expired = app.events_of_type(&t, "A", "ReservationExpired").await;
    assert_eq!(expired, 1);
    let c = app
        .post(&format!("/v1/reservations/{id}/confirm"), &t, json!({}))
        .await;
    assert_eq!(
        (c.status, c.code()),
        (StatusCode::GONE, "reservation_expired")
    );
}

async fn a_retried_reserve_with_the_same_key_reserves_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    app.register(&t, "A").await;
    app.post("/v1/products/A/receipts", &t, json!({ "quantity": 5 }))
        .await;
    let body = json!({ "quantity": 2 });
    let first = app
        .send(
            Method::POST,
            "/v1/products/A/reservations",
            Some(&t),
            Some(&body),
            &[("Idempotency-Key", "r-1")],
        )
        .await;
    let second = app
        .send(
            Method::POST,
            "/v1/products/A/reservations",
            Some(&t),
            Some(&body),
            &[("Idempotency-Key", "r-1")],
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.body, second.body, "same reservation id back");
    assert_eq!(app.product(&t, "A").await["reserved"], 2);
}

async fn several_sweepers_expire_each_reservation_once(backend: Backend) {
    // Two servers on one database (the second shares the first's store): both sweep.
    let app = TestApp::start(backend).await;
    let second = TestApp::start_on(&app.database_url).await;
    let t = app.manager("shop");
    app.register(&t, "A").await;
    app.post("/v1/products/A/receipts", &t, json!({ "quantity": 30 }))
        .await;
    for _ in 0..10 {
        app.post(
            "/v1/products/A/reservations",
            &t,
            json!({ "quantity": 1, "ttl_seconds": 1 }),
        )
        .await;
    }
    eventually("all reservations expire", || async {
        app.product(&t, "A").await["available"] == json!(30)
    })
    .await;
    second.settle().await;
    let expired = app.events_of_type(&t, "A", "ReservationExpired").await;
    assert_eq!(expired, 10);
    second.server.shutdown().await;
}

/// The Product aggregate remembers only the last `CLOSED_RESERVATIONS_KEPT` closed reservations;
/// older ones answer confirm and release exactly as before, from the read model, recording nothing.
async fn long_closed_reservations_answer_as_before_and_record_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.manager("shop");
    app.register(&t, "A").await;
    app.post("/v1/products/A/receipts", &t, json!({ "quantity": 1000 }))
        .await;
    let reserve = |ttl: u32| {
        let (app, t) = (&app, &t);
        async move {
            let r = app
                .post(
                    "/v1/products/A/reservations",
                    t,
                    json!({ "quantity": 2, "ttl_seconds": ttl }),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
            r.body["id"].as_str().expect("id").to_owned()
        }
    };
    let delete = |id: String| {
        let (app, t) = (&app, &t);
        async move {
            app.send(
                Method::DELETE,
                &format!("/v1/reservations/{id}"),
                Some(t),
                None,
                &[],
            )
            .await
        }
    };
    let confirm = |id: String| {
        let (app, t) = (&app, &t);
        async move {
            app.post(&format!("/v1/reservations/{id}/confirm"), t, json!({}))
                .await
        }
    };

    let expired = reserve(1).await;
    eventually("the reservation expires", || async {
        app.product(&t, "A").await["reserved"] == json!(0)
    })
    .await;
    let confirmed = reserve(900).await;
    assert_eq!(confirm(confirmed.clone()).await.status, StatusCode::OK);
    let released = reserve(900).await;
    assert_eq!(
        delete(released.clone()).await.status,
        StatusCode::NO_CONTENT
    );
    for _ in 0..CLOSED_RESERVATIONS_KEPT + 5 {
        let id = reserve(900).await;
        assert_eq!(delete(id).await.status, StatusCode::NO_CONTENT);
    }
    let before = app.product(&t, "A").await;
    let events = app.event_count(&t, "A").await;
    assert_eq!(events, 2 + 2 * (CLOSED_RESERVATIONS_KEPT + 8));

    let c = confirm(confirmed.clone()).await;
    assert_eq!(c.status, StatusCode::OK, "{:?}", c.body);
    assert_eq!(
        (
            c.body["id"].clone(),
            c.body["sku"].clone(),
            c.body["quantity"].clone()
        ),
        (json!(confirmed), json!("A"), json!(2))
    );
    assert!(c.body["expires_at"].is_string());
    let c = confirm(released.clone()).await;
    assert_eq!((c.status, c.code()), (StatusCode::CONFLICT, "conflict"));
    let c = confirm(expired.clone()).await;
    assert_eq!(
        (c.status, c.code()),
        (StatusCode::GONE, "reservation_expired")
    );
    let d = delete(confirmed).await;
    assert_eq!((d.status, d.code()), (StatusCode::CONFLICT, "conflict"));
    assert_eq!(delete(released).await.status, StatusCode::NO_CONTENT);
    assert_eq!(delete(expired).await.status, StatusCode::NO_CONTENT);

    assert_eq!(app.event_count(&t, "A").await, events, "nothing recorded");
    assert_eq!(app.product(&t, "A").await, before);
    // Ids nobody ever reserved are still 404.
    let unknown = confirm(uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

on_both_stores!(
    two_hundred_racers_for_fifty_units_never_oversell,
    confirm_release_and_their_status_codes,
    an_unconfirmed_reservation_expires_by_itself,
    a_retried_reserve_with_the_same_key_reserves_once,
    several_sweepers_expire_each_reservation_once,
    long_closed_reservations_answer_as_before_and_record_nothing,
);
