//! Domain rules, checked with cqrs-es's given/when/then framework.

use super::event::DailyDemand;
use super::*;
use crate::Decider;
use chrono::{Duration, NaiveDate, TimeZone};
use cqrs_es::test::TestFramework;
use uuid::Uuid;

type ProductTest = TestFramework<Product>;

fn q(n: i64) -> Quantity {
    Quantity::new(n).expect("test quantity")
}

fn sku() -> Sku {
    Sku::parse("SKU-1").expect("test sku")
}

fn registered() -> ProductEvent {
    ProductEvent::ProductRegistered {
        sku: sku(),
        details: ProductDetails::defaults_for(&sku()),
    }
}

fn received(n: i64) -> ProductEvent {
    ProductEvent::StockReceived {
        quantity: q(n),
        reference: None,
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0)
        .single()
        .expect("valid time")
}

fn reservation(n: i64) -> (ReservationId, ProductEvent) {
    let id = ReservationId(Uuid::new_v4());
    let event = ProductEvent::StockReserved {
        reservation_id: id,
        quantity: q(n),
        expires_at: t0() + Duration::minutes(15),
    };
    (id, event)
}

#[test]
fn movements_on_an_unregistered_product_are_refused() {
    ProductTest::with(())
        .given_no_previous_events()
        .when(ProductCommand::Receive {
            quantity: q(1),
            reference: None,
        })
        .then_expect_error(ProductError::NotRegistered);
}

#[test]
fn registering_twice_with_the_same_details_records_nothing() {
    ProductTest::with(())
        .given(vec![registered()])
        .when(ProductCommand::Register {
            sku: sku(),
            details: ProductDetails::defaults_for(&sku()),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_sale_above_available_is_refused_and_within_it_is_recorded() {
    ProductTest::with(())
        .given(vec![registered(), received(5)])
        .when(ProductCommand::Sell {
            quantity: q(6),
            reference: None,
        })
        .then_expect_error(ProductError::InsufficientStock {
            requested: q(6),
            available: 5,
        });
    ProductTest::with(())
        .given(vec![registered(), received(5)])
        .when(ProductCommand::Sell {
            quantity: q(5),
            reference: None,
        })
        .then_expect_events(vec![ProductEvent::StockSold {
            quantity: q(5),
            reference: None,
        }]);
}

#[test]
fn reserved_units_cannot_be_sold() {
    let (_, reserved) = reservation(4);
    ProductTest::with(())
        .given(vec![registered(), received(5), reserved])
        .when(ProductCommand::Sell {
            quantity: q(2),
            reference: None,
        })
        .then_expect_error(ProductError::InsufficientStock {
            requested: q(2),
            available: 1,
        });
}

#[test]
fn a_count_sets_on_hand_and_remembers_the_previous_figure() {
    ProductTest::with(())
        .given(vec![registered(), received(10)])
        .when(ProductCommand::Count {
            counted: q(7),
            reason: "cycle count".into(),
        })
        .then_expect_events(vec![ProductEvent::StockCounted {
            counted: q(7),
            previous_on_hand: 10,
            reason: "cycle count".into(),
        }]);
}

#[test]
fn confirming_moves_units_out_and_a_second_confirm_changes_nothing() {
    let (id, reserved) = reservation(3);
    let confirmed = ProductEvent::ReservationConfirmed {
        reservation_id: id,
        quantity: q(3),
    };
    ProductTest::with(())
        .given(vec![registered(), received(5), reserved.clone()])
        .when(ProductCommand::ConfirmReservation {
            reservation_id: id,
            now: t0(),
        })
        .then_expect_events(vec![confirmed.clone()]);
    ProductTest::with(())
        .given(vec![
            registered(),
            received(5),
            reserved.clone(),
            confirmed.clone(),
        ])
        .when(ProductCommand::ConfirmReservation {
            reservation_id: id,
            now: t0(),
        })
        .then_expect_events(vec![]);
    ProductTest::with(())
        .given(vec![registered(), received(5), reserved, confirmed])
        .when(ProductCommand::ReleaseReservation { reservation_id: id })
        .then_expect_error(ProductError::ReservationConfirmed);
}

#[test]
fn a_reservation_past_its_deadline_cannot_be_confirmed_even_before_the_sweep() {
    let (id, reserved) = reservation(3);
    ProductTest::with(())
        .given(vec![registered(), received(5), reserved])
        .when(ProductCommand::ConfirmReservation {
            reservation_id: id,
            now: t0() + Duration::minutes(15),
        })
        .then_expect_error(ProductError::ReservationExpired);
}

#[test]
fn expiry_is_a_no_op_before_the_deadline() {
    let (id, reserved) = reservation(3);
    ProductTest::with(())
        .given(vec![registered(), received(5), reserved.clone()])
        .when(ProductCommand::ExpireReservation {
            reservation_id: id,
            now: t0() + Duration::minutes(14),
        })
        .then_expect_events(vec![]);
    ProductTest::with(())
        .given(vec![registered(), received(5), reserved])
        .when(ProductCommand::ExpireReservation {
            reservation_id: id,
            now: t0() + Duration::minutes(15),
        })
        .then_expect_events(vec![ProductEvent::ReservationExpired {
            reservation_id: id,
            quantity: q(3),
        }]);
}

#[test]
fn state_tracks_reserved_and_available_through_the_lifecycle() {
    let (a, reserved_a) = reservation(2);
    let (b, reserved_b) = reservation(3);
    let mut p = Product::default();
    for e in [
        registered(),
        received(10),
        reserved_a,
        reserved_b,
        ProductEvent::ReservationConfirmed {
            reservation_id: a,
            quantity: q(2),
        },
        ProductEvent::ReservationExpired {
            reservation_id: b,
            quantity: q(3),
        },
    ] {
        p.apply_event(&e);
    }
    assert_eq!((p.on_hand, p.reserved, p.available()), (8, 0, 8));
    assert_eq!(p.version, 6);
}

#[test]
fn only_one_refill_may_be_open() {
    let open = ProductEvent::RefillRequested {
        refill_id: RefillId(Uuid::new_v4()),
        quantity: q(10),
        reason: "below minimum".into(),
        decided_by: Decider::Policy,
        trigger_event_id: None,
        buy_on: None,
        expected_unit_price: None,
    };
    ProductTest::with(())
        .given(vec![registered(), open])
        .when(ProductCommand::RequestRefill {
            refill_id: RefillId(Uuid::new_v4()),
            quantity: q(5),
            reason: "again".into(),
            decided_by: Decider::Policy,
            trigger_event_id: None,
            buy_on: None,
            expected_unit_price: None,
        })
        .then_expect_error(ProductError::RefillAlreadyOpen);
}

#[test]
fn receiving_a_refill_adds_the_requested_quantity_by_default() {
    let id = RefillId(Uuid::new_v4());
    let open = ProductEvent::RefillRequested {
        refill_id: id,
        quantity: q(10),
        reason: "below minimum".into(),
        decided_by: Decider::Policy,
        trigger_event_id: None,
        buy_on: None,
        expected_unit_price: None,
    };
    ProductTest::with(())
        .given(vec![registered(), open])
        .when(ProductCommand::ReceiveRefill {
            refill_id: id,
            quantity: None,
        })
        .then_expect_events(vec![ProductEvent::RefillReceived {
            refill_id: id,
            quantity: q(10),
        }]);
}

#[test]
fn a_manual_minimum_wins_over_the_forecast_until_cleared() {
    let mut p = Product::default();
    p.apply_event(&registered());
    p.apply_event(&ProductEvent::ReorderPointRecalculated {
        point: ReorderPoint {
            reorder_point: q(12),
            lead_time_demand: 10.0,
            safety_stock: 2.0,
            model: "seasonal_naive".into(),
            service_level: 0.95,
            lead_time_days: 7,
            computed_at: t0(),
        },
    });
    assert_eq!(
        (p.minimum(), p.minimum_source()),
        (Some(q(12)), MinimumSource::Forecast)
    );
    p.apply_event(&ProductEvent::MinimumSet { quantity: q(3) });
    assert_eq!(
        (p.minimum(), p.minimum_source()),
        (Some(q(3)), MinimumSource::Manual)
    );
    p.apply_event(&ProductEvent::MinimumCleared);
    assert_eq!(p.minimum(), Some(q(12)));
}

#[test]
fn an_unchanged_reorder_point_is_not_recorded_again() {
    let point = ReorderPoint {
        reorder_point: q(12),
        lead_time_demand: 10.0,
        safety_stock: 2.0,
        model: "mstl_ets".into(),
        service_level: 0.95,
        lead_time_days: 7,
        computed_at: t0(),
    };
    let later = ReorderPoint {
        computed_at: t0() + Duration::hours(1),
        ..point.clone()
    };
    ProductTest::with(())
        .given(vec![
            registered(),
            ProductEvent::ReorderPointRecalculated { point },
        ])
        .when(ProductCommand::RecalculateReorderPoint { point: later })
        .then_expect_events(vec![]);
}

#[test]
fn importing_demand_for_a_new_sku_registers_it_with_defaults() {
    let days = vec![DailyDemand {
        date: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        quantity: q(4),
    }];
    ProductTest::with(())
        .given_no_previous_events()
        .when(ProductCommand::ImportDemand {
            sku: sku(),
            days: days.clone(),
        })
        .then_expect_events(vec![
            registered(),
            ProductEvent::DemandHistoryImported { days },
        ]);
}

#[test]
fn events_round_trip_through_json_with_their_type_tag() {
    let (_, e) = reservation(2);
    let json = serde_json::to_value(&e).expect("serialize");
    assert_eq!(json["type"], "StockReserved");
    let back: ProductEvent = serde_json::from_value(json).expect("deserialize");
    assert_eq!(back, e);
    let reg = serde_json::to_value(registered()).expect("serialize");
    assert_eq!(reg["name"], "SKU-1");
    assert_eq!(
        serde_json::from_value::<ProductEvent>(reg).ok(),
        Some(registered())
    );
}

#[test]
fn a_refill_event_from_before_buy_on_reads_and_writes_the_same_bytes() {
    let id = Uuid::new_v4();
    let old = serde_json::json!({
        "type": "RefillRequested",
        "refill_id": id,
        "quantity": 10,
        "reason": "below minimum",
        "decided_by": "policy",
        "trigger_event_id": null,
    });
    let e: ProductEvent = serde_json::from_value(old.clone()).expect("an old event reads");
    assert!(matches!(
        e,
        ProductEvent::RefillRequested { buy_on: None, .. }
    ));
    assert_eq!(serde_json::to_value(&e).expect("serialize"), old);
    let dated = ProductEvent::RefillRequested {
        refill_id: RefillId(id),
        quantity: q(10),
        reason: "promotion".into(),
        decided_by: Decider::User("ana".into()),
        trigger_event_id: None,
        buy_on: chrono::NaiveDate::from_ymd_opt(2030, 1, 2),
        expected_unit_price: crate::UnitPrice::new(9.5).ok(),
    };
    let json = serde_json::to_value(&dated).expect("serialize");
    assert_eq!(json["buy_on"], "2030-01-02");
    assert_eq!(json["expected_unit_price"], 9.5);
    assert_eq!(
        serde_json::from_value::<ProductEvent>(json).ok(),
        Some(dated)
    );
}

fn price(day: u32, p: f64) -> super::event::DailyPrice {
    super::event::DailyPrice {
        date: NaiveDate::from_ymd_opt(2026, 1, day).expect("date"),
        unit_price: crate::UnitPrice::new(p).expect("price"),
    }
}

#[test]
fn prices_for_an_unknown_sku_register_it_like_demand_history() {
    let prices = vec![price(1, 2.5), price(2, 2.25)];
    ProductTest::with(())
        .given_no_previous_events()
        .when(ProductCommand::RecordPrices {
            sku: sku(),
            prices: prices.clone(),
        })
        .then_expect_events(vec![
            registered(),
            ProductEvent::SupplierPricesRecorded { prices },
        ]);
}

#[test]
fn prices_are_recorded_on_a_registered_product_and_an_empty_list_records_nothing() {
    ProductTest::with(())
        .given(vec![registered()])
        .when(ProductCommand::RecordPrices {
            sku: sku(),
            prices: vec![price(3, 4.0)],
        })
        .then_expect_events(vec![ProductEvent::SupplierPricesRecorded {
            prices: vec![price(3, 4.0)],
        }]);
    ProductTest::with(())
        .given(vec![registered()])
        .when(ProductCommand::RecordPrices {
            sku: sku(),
            prices: vec![],
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_price_event_refuses_a_non_positive_price_when_read() {
    let ok = serde_json::json!({
        "type": "SupplierPricesRecorded",
        "prices": [{ "date": "2026-01-01", "unit_price": 2.5 }],
    });
    assert!(serde_json::from_value::<ProductEvent>(ok).is_ok());
    let bad = serde_json::json!({
        "type": "SupplierPricesRecorded",
        "prices": [{ "date": "2026-01-01", "unit_price": 0.0 }],
    });
    assert!(serde_json::from_value::<ProductEvent>(bad).is_err());
}

/// Reserve one unit and close it the given way; returns the reservation id.
fn reserve_and_close(p: &mut Product, how: usize) -> ReservationId {
    let (id, reserved) = reservation(1);
    p.apply_event(&reserved);
    let closed = match how % 3 {
        0 => ProductEvent::ReservationConfirmed {
            reservation_id: id,
            quantity: q(1),
        },
        1 => ProductEvent::ReservationReleased {
            reservation_id: id,
            quantity: q(1),
        },
        _ => ProductEvent::ReservationExpired {
            reservation_id: id,
            quantity: q(1),
        },
    };
    p.apply_event(&closed);
    id
}

#[test]
fn closed_reservations_stay_bounded_and_active_ones_are_never_forgotten() {
    let mut p = Product::default();
    p.apply_event(&registered());
    p.apply_event(&received(100_000));
    let (held, reserved) = reservation(5);
    p.apply_event(&reserved);
    let closed: Vec<_> = (0..3_000).map(|i| reserve_and_close(&mut p, i)).collect();

    assert_eq!(p.reservations.len(), CLOSED_RESERVATIONS_KEPT + 1);
    assert_eq!(p.closed_reservations.len(), CLOSED_RESERVATIONS_KEPT);
    assert_eq!(p.reservations[&held].status, ReservationStatus::Active);
    assert_eq!(p.reserved, 5);
    assert_eq!(p.on_hand, 100_000 - 1_000, "every third one was confirmed");

    // The most recent closed ones answer as before; the oldest are unknown.
    let now = t0();
    let recent = &closed[closed.len() - CLOSED_RESERVATIONS_KEPT..];
    for (i, id) in recent.iter().enumerate() {
        let how = (closed.len() - CLOSED_RESERVATIONS_KEPT + i) % 3;
        let confirm = p.decide(ProductCommand::ConfirmReservation {
            reservation_id: *id,
            now,
        });
        let expected = match how {
            0 => Ok(vec![]),
            1 => Err(ProductError::ReservationReleased),
            _ => Err(ProductError::ReservationExpired),
        };
        assert_eq!(confirm, expected);
    }
    assert_eq!(
        p.decide(ProductCommand::ConfirmReservation {
            reservation_id: closed[0],
            now
        }),
        Err(ProductError::ReservationNotFound)
    );
    // The held reservation still confirms.
    assert_eq!(
        p.decide(ProductCommand::ConfirmReservation {
            reservation_id: held,
            now
        }),
        Ok(vec![ProductEvent::ReservationConfirmed {
            reservation_id: held,
            quantity: q(5),
        }])
    );
}

#[test]
fn replay_and_a_snapshot_from_before_the_bound_reach_the_same_state() {
    let mut p = Product::default();
    p.apply_event(&registered());
    p.apply_event(&received(10_000));
    for i in 0..200 {
        reserve_and_close(&mut p, i);
    }
    // A snapshot of the folded state loads back to the same state, queue included.
    let snapshot = serde_json::to_value(&p).expect("state to json");
    let reloaded: Product = serde_json::from_value(snapshot).expect("snapshot loads");
    assert_eq!(reloaded, p);
    assert_eq!(p.reservations.len(), CLOSED_RESERVATIONS_KEPT);

    // A snapshot written before the bound: every closed reservation, no close-order queue.
    let mut old = serde_json::to_value(&p).expect("state to json");
    let map = old.as_object_mut().expect("state is an object");
    map.remove("closed_reservations");
    let mut legacy: Product = serde_json::from_value(old).expect("old snapshot loads");
    assert!(legacy.closed_reservations.is_empty());
    for _ in 0..CLOSED_RESERVATIONS_KEPT {
        legacy.reservations.insert(
            ReservationId(Uuid::new_v4()),
            Reservation {
                quantity: q(1),
                expires_at: t0(),
                status: ReservationStatus::Released,
            },
        );
    }
    // The next close brings it back within the bound and keeps the one just closed.
    let newest = reserve_and_close(&mut legacy, 0);
    assert_eq!(legacy.reservations.len(), CLOSED_RESERVATIONS_KEPT);
    assert!(legacy.reservations.contains_key(&newest));
}
