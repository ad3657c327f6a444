//! Behaviour of the event store adapters. Every behavioural test is written once against the
//! `EventStore` port and run on both backends (`postgres::*`, `sqlite::*`), each on a fresh
//! database; the `postgres_only` tests cover what only Postgres has (commit order across
//! concurrent transactions, row-level security, NOTIFY).
//!
//! Reading the global log on Postgres only returns events of transactions older than the oldest
//! one still running in the whole cluster, and other tests (or other work on the same server) may
//! be mid-transaction at any moment. Tests that expect events to become readable therefore poll
//! (`read_all_until`), as a projection would, instead of asserting on a single read.

use chrono::{DateTime, Duration, TimeZone, Utc};
use restock_application::ports::{
    AppendError, AppendRequest, EventMetadata, EventStore, IdempotencyRecord, NewEvent, Position,
    RecordedEvent, ReplyStatus, Snapshot, StreamAlias, StreamId,
};
use restock_domain::TenantId;
use restock_infrastructure::event_store::event_store_for;
use restock_infrastructure::testing::fresh_db;
use restock_infrastructure::{Backend, Db};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use uuid::Uuid;

/// Instantiate each named `async fn(Db)` as a test on each backend.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::db(restock_infrastructure::Backend::Postgres).await).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::db(restock_infrastructure::Backend::Sqlite).await).await;
                }
            )*
        }
    };
}

on_both_backends!(
    append_assigns_the_next_sequences,
    stale_or_future_expected_version_conflicts_and_writes_nothing,
    concurrent_appends_have_one_winner_per_version,
    idempotency_record_is_written_with_the_append_and_per_tenant,
    load_uses_the_snapshot_and_only_the_later_events,
    snapshot_must_match_the_version_after_the_append,
    read_stream_pages_after_a_version,
    read_stream_until_returns_what_was_known_then,
    aliases_resolve_within_their_tenant_only,
    of_several_taken_aliases_the_first_by_kind_and_id_is_refused,
    read_all_returns_every_event_once_in_commit_order,
    lag_counts_committed_events_after_a_position,
    random_writers_and_a_checkpointing_reader_see_every_event_once,
);

// ---------------------------------------------------------------------------------------------
// Helpers

async fn db(backend: Backend) -> Db {
    fresh_db(backend).await.expect("a fresh, migrated database")
}

fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).expect("tenant id")
}

fn stream(tenant_name: &str, id: &str) -> StreamId {
    StreamId {
        tenant: tenant(tenant_name),
        aggregate_type: "product",
        aggregate_id: id.to_owned(),
    }
}

/// A time with sub-microsecond digits, which neither database keeps.
fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0)
        .single()
        .expect("time")
        + Duration::nanoseconds(123_456_789)
}

fn event_at(label: &str, recorded_at: DateTime<Utc>) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "StockReceived".to_owned(),
        event_version: 1,
        payload: json!({ "label": label }),
        occurred_at: recorded_at - Duration::minutes(5),
        recorded_at,
        metadata: EventMetadata {
            correlation_id: Uuid::new_v4(),
            causation_id: Some(Uuid::new_v4()),
            actor: "user:test".to_owned(),
        },
    }
}

fn event(label: &str) -> NewEvent {
    event_at(label, Utc::now())
}

fn events(n: usize) -> Vec<NewEvent> {
    (0..n).map(|i| event(&format!("e{i}"))).collect()
}

fn request(stream: &StreamId, expected_version: i64, events: Vec<NewEvent>) -> AppendRequest {
    AppendRequest {
        stream: stream.clone(),
        expected_version,
        events,
        idempotency: None,
        snapshot: None,
        aliases: vec![],
    }
}

fn idempotency(key: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        key: key.to_owned(),
        request_hash: format!("hash-of-{key}"),
        status: ReplyStatus::Created,
        body: json!({ "answer": key }),
    }
}

async fn append(
    store: &dyn EventStore,
    stream: &StreamId,
    expected: i64,
    n: usize,
) -> Vec<RecordedEvent> {
    store
        .append(request(stream, expected, events(n)))
        .await
        .expect("append")
}

async fn count(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table}");
    match db {
        Db::Postgres(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await,
        Db::Sqlite { read, .. } => sqlx::query_scalar(&sql).fetch_one(read).await,
    }
    .expect("count")
}

/// What a failed append must have left untouched.
async fn row_counts(db: &Db) -> [i64; 4] {
    [
        count(db, "events").await,
        count(db, "idempotency_keys").await,
        count(db, "snapshots").await,
        count(db, "stream_aliases").await,
    ]
}

async fn all_event_ids(db: &Db) -> HashSet<Uuid> {
    match db {
        Db::Postgres(pool) => sqlx::query_scalar::<_, Uuid>("SELECT event_id FROM events")
            .fetch_all(pool)
            .await
            .expect("event ids")
            .into_iter()
            .collect(),
        Db::Sqlite { read, .. } => sqlx::query_scalar::<_, String>("SELECT event_id FROM events")
            .fetch_all(read)
            .await
            .expect("event ids")
            .iter()
            .map(|s| Uuid::parse_str(s).expect("uuid"))
            .collect(),
    }
}

async fn version(store: &dyn EventStore, stream: &StreamId) -> i64 {
    let loaded = store.load(stream, 0).await.expect("load");
    loaded
        .events
        .last()
        .map(|e| e.sequence)
        .or(loaded.snapshot.map(|s| s.version))
        .unwrap_or(0)
}

/// Read the global log from `after` in batches, as a projection does, until `want` events have
/// arrived. Fails on a timeout, on an event delivered twice, or on a position that goes back.
async fn read_all_until(
    store: &dyn EventStore,
    after: Position,
    want: usize,
    batch: i64,
) -> (Vec<RecordedEvent>, Position) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut checkpoint = after;
    let mut seen = Vec::new();
    while seen.len() < want {
        let got = store.read_all(checkpoint, batch).await.expect("read_all");
        assert!(got.len() as i64 <= batch, "the batch limit is respected");
        for e in got {
            assert!(e.position > checkpoint, "positions only move forward");
            checkpoint = e.position;
            seen.push(e);
        }
        if seen.len() < want {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {want} events became readable",
                seen.len()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    assert_eq!(seen.len(), want, "no more events than expected");
    (seen, checkpoint)
}

fn ids(events: &[RecordedEvent]) -> Vec<Uuid> {
    events.iter().map(|e| e.event_id).collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Appending and optimistic concurrency

async fn append_assigns_the_next_sequences(db: Db) {
    let store = event_store_for(&db);
    let s = stream("acme", "SKU-1");
    let t = base_time();
    let first = store
        .append(request(&s, 0, vec![event_at("a", t), event_at("b", t)]))
        .await
        .expect("append at 0");
    assert_eq!(first.iter().map(|e| e.sequence).collect::<Vec<_>>(), [1, 2]);
    let second = append(store.as_ref(), &s, 2, 3).await;
    assert_eq!(
        second.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [3, 4, 5]
    );
    // One event takes PostgreSQL's other statement (plain values instead of arrays).
    let third = append(store.as_ref(), &s, 5, 1).await;
    assert_eq!(third.iter().map(|e| e.sequence).collect::<Vec<_>>(), [6]);

    // What append returns is exactly what is stored, down to the timestamps' precision.
    let stored = store.read_stream(&s, 0, 100).await.expect("read");
    let returned: Vec<_> = first.into_iter().chain(second).chain(third).collect();
    assert_eq!(stored, returned);
    assert_eq!(stored[0].recorded_at, t - Duration::nanoseconds(789));
    assert_eq!(stored[0].payload, json!({ "label": "a" }));
    assert_eq!(stored[0].tenant_id, "acme");
    assert!(stored.windows(2).all(|w| w[0].position < w[1].position));
}

async fn stale_or_future_expected_version_conflicts_and_writes_nothing(db: Db) {
    let store = event_store_for(&db);
    let s = stream("acme", "SKU-1");
    append(store.as_ref(), &s, 0, 2).await;
    let before = row_counts(&db).await;
    let alias = Uuid::new_v4();

    for expected in [1, 3] {
        let mut req = request(&s, expected, events(1));
        req.idempotency = Some(idempotency(&format!("k{expected}")));
        req.snapshot = Some(Snapshot {
            version: expected + 1,
            schema: 1,
            state: json!({}),
        });
        req.aliases = vec![StreamAlias {
            kind: "reservation",
            id: alias,
        }];
        let result = store.append(req).await;
        assert!(
            matches!(result, Err(AppendError::Conflict)),
            "expected {expected}: {result:?}"
        );
        assert_eq!(
            row_counts(&db).await,
            before,
            "nothing written at expected {expected}"
        );
        let key = format!("k{expected}");
        assert_eq!(
            store.find_idempotency(&s.tenant, &key).await.expect("find"),
            None
        );
    }
    assert_eq!(
        store
            .resolve_alias(&s.tenant, "reservation", alias)
            .await
            .expect("alias"),
        None
    );
    assert!(store.load(&s, 1).await.expect("load").snapshot.is_none());
    assert_eq!(
        version(store.as_ref(), &s).await,
        2,
        "no gap, no extra event"
    );
}

async fn concurrent_appends_have_one_winner_per_version(db: Db) {
    const TASKS: usize = 8;
    const EACH: usize = 5;
    let store = event_store_for(&db);
    let s = stream("acme", "SKU-hot");

    // Everyone decides on version 0 at once: exactly one append may land.
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
    let racers: Vec<_> = (0..TASKS)
        .map(|i| {
            let (store, s, barrier) = (store.clone(), s.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.append(request(&s, 0, events(1 + i % 2))).await
            })
        })
        .collect();
    let mut won = 0;
    for racer in racers {
        match racer.await.expect("task") {
            Ok(_) => won += 1,
            Err(AppendError::Conflict) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(won, 1);

    // Then every task appends EACH times, re-reading the version after each lost race.
    let start = version(store.as_ref(), &s).await;
    let writers: Vec<_> = (0..TASKS)
        .map(|_| {
            let (store, s) = (store.clone(), s.clone());
            tokio::spawn(async move {
                let mut conflicts = 0;
                for _ in 0..EACH {
                    loop {
                        let v = version(store.as_ref(), &s).await;
                        match store.append(request(&s, v, events(1))).await {
                            Ok(recorded) => {
                                assert_eq!(recorded[0].sequence, v + 1);
                                break;
                            }
                            Err(AppendError::Conflict) => conflicts += 1,
                            Err(e) => panic!("unexpected {e:?}"),
                        }
                    }
                }
                conflicts
            })
        })
        .collect();
    for w in writers {
        w.await.expect("task");
    }
    let stored = store.read_stream(&s, 0, 1000).await.expect("read");
    let sequences: Vec<i64> = stored.iter().map(|e| e.sequence).collect();
    let expected: Vec<i64> = (1..=start + (TASKS * EACH) as i64).collect();
    assert_eq!(
        sequences, expected,
        "contiguous, no duplicates, nothing lost"
    );
    assert_eq!(count(&db, "events").await, expected.len() as i64);
}

// ---------------------------------------------------------------------------------------------
// 2. Idempotency

async fn idempotency_record_is_written_with_the_append_and_per_tenant(db: Db) {
    let store = event_store_for(&db);
    let a = stream("tenant-a", "SKU-1");
    let record = idempotency("key-1");
    let mut req = request(&a, 0, events(1));
    req.idempotency = Some(record.clone());
    store.append(req).await.expect("first append");
    assert_eq!(
        store
            .find_idempotency(&a.tenant, "key-1")
            .await
            .expect("find"),
        Some(record.clone())
    );

    // Same key again, even with a correct version and on another stream: refused, nothing written.
    let before = row_counts(&db).await;
    let other = stream("tenant-a", "SKU-2");
    let alias = Uuid::new_v4();
    let mut again = request(&other, 0, events(2));
    again.idempotency = Some(IdempotencyRecord {
        body: json!({ "different": true }),
        ..record.clone()
    });
    again.snapshot = Some(Snapshot {
        version: 2,
        schema: 1,
        state: json!({}),
    });
    again.aliases = vec![StreamAlias {
        kind: "refill",
        id: alias,
    }];
    let result = store.append(again).await;
    assert!(
        matches!(result, Err(AppendError::IdempotencyKeyTaken)),
        "{result:?}"
    );
    assert_eq!(row_counts(&db).await, before);
    assert_eq!(
        store
            .find_idempotency(&a.tenant, "key-1")
            .await
            .expect("find"),
        Some(record.clone()),
        "the first answer is kept"
    );

    // A retry whose expected version went stale is still recognised as the same request.
    let mut stale = request(&a, 0, events(1));
    stale.idempotency = Some(record.clone());
    let result = store.append(stale).await;
    assert!(
        matches!(result, Err(AppendError::IdempotencyKeyTaken)),
        "{result:?}"
    );
    assert_eq!(row_counts(&db).await, before);

    // Keys are per tenant.
    let b = stream("tenant-b", "SKU-1");
    let mut in_b = request(&b, 0, events(1));
    in_b.idempotency = Some(idempotency("key-1"));
    store.append(in_b).await.expect("same key, other tenant");
    assert_eq!(
        store
            .find_idempotency(&tenant("tenant-c"), "key-1")
            .await
            .expect("find"),
        None
    );

    // A command that decided nothing still records its answer, and only that.
    let events_before = count(&db, "events").await;
    let mut no_events = request(&a, 1, vec![]);
    no_events.idempotency = Some(idempotency("key-2"));
    assert_eq!(store.append(no_events).await.expect("record only"), vec![]);
    assert_eq!(count(&db, "events").await, events_before);
    assert_eq!(
        store
            .find_idempotency(&a.tenant, "key-2")
            .await
            .expect("find"),
        Some(idempotency("key-2"))
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Snapshots

async fn load_uses_the_snapshot_and_only_the_later_events(db: Db) {
    let store = event_store_for(&db);
    let s = stream("acme", "SKU-1");
    let mut req = request(&s, 0, events(3));
    req.snapshot = Some(Snapshot {
        version: 3,
        schema: 7,
        state: json!({ "on_hand": 3 }),
    });
    store.append(req).await.expect("append with snapshot");
    let tail = append(store.as_ref(), &s, 3, 2).await;

    let loaded = store.load(&s, 7).await.expect("load");
    assert_eq!(
        loaded.snapshot,
        Some(Snapshot {
            version: 3,
            schema: 7,
            state: json!({ "on_hand": 3 }),
        })
    );
    assert_eq!(
        loaded.events, tail,
        "only the events after the snapshot, once each"
    );

    // A snapshot of another schema is ignored: the whole stream comes back instead.
    let loaded = store.load(&s, 8).await.expect("load");
    assert_eq!(loaded.snapshot, None);
    assert_eq!(
        loaded.events.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );

    // A newer snapshot replaces the old one; the tail is then empty.
    let mut req = request(&s, 5, events(1));
    req.snapshot = Some(Snapshot {
        version: 6,
        schema: 8,
        state: json!({ "on_hand": 6 }),
    });
    store.append(req).await.expect("append with newer snapshot");
    let loaded = store.load(&s, 8).await.expect("load");
    assert_eq!(loaded.snapshot.map(|s| s.version), Some(6));
    assert!(loaded.events.is_empty());
    assert_eq!(count(&db, "snapshots").await, 1);
}

async fn snapshot_must_match_the_version_after_the_append(db: Db) {
    let store = event_store_for(&db);
    let s = stream("acme", "SKU-1");
    let mut req = request(&s, 0, events(2));
    // A state that claims to include only one of the two events would make a later load apply
    // the second one twice.
    req.snapshot = Some(Snapshot {
        version: 1,
        schema: 1,
        state: json!({}),
    });
    let result = store.append(req).await;
    assert!(matches!(result, Err(AppendError::Store(_))), "{result:?}");
    assert_eq!(row_counts(&db).await, [0, 0, 0, 0]);
}

// ---------------------------------------------------------------------------------------------
// 4. Stream reads and aliases

async fn read_stream_pages_after_a_version(db: Db) {
    let store = event_store_for(&db);
    let s = stream("acme", "SKU-1");
    let written = append(store.as_ref(), &s, 0, 5).await;
    // Same aggregate id in another tenant and another id in the same tenant: not part of it.
    append(store.as_ref(), &stream("other", "SKU-1"), 0, 2).await;
    append(store.as_ref(), &stream("acme", "SKU-10"), 0, 2).await;

    assert_eq!(
        store.read_stream(&s, 1, 2).await.expect("read"),
        written[1..3]
    );
    assert_eq!(
        store.read_stream(&s, 3, 100).await.expect("read"),
        written[3..]
    );
    assert_eq!(store.read_stream(&s, 0, 100).await.expect("read"), written);
    assert!(store
        .read_stream(&s, 5, 100)
        .await
        .expect("read")
        .is_empty());
    assert!(store.read_stream(&s, 0, 0).await.expect("read").is_empty());
    assert!(store
        .read_stream(&stream("acme", "none"), 0, 9)
        .await
        .expect("read")
        .is_empty());
}

async fn read_stream_until_returns_what_was_known_then(db: Db) {
    let store = event_store_for(&db);
    let s = stream("acme", "SKU-1");
    let t = base_time();
    let at = |seconds: i64| t + Duration::seconds(seconds);
    store
        .append(request(
            &s,
            0,
            vec![event_at("1", at(0)), event_at("2", at(10))],
        ))
        .await
        .expect("append");
    store
        .append(request(&s, 2, vec![event_at("3", at(20))]))
        .await
        .expect("append");

    let labels = |events: Vec<RecordedEvent>| -> Vec<String> {
        events
            .iter()
            .map(|e| e.payload["label"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let until = |as_of| {
        let (store, s) = (store.clone(), s.clone());
        async move { labels(store.read_stream_until(&s, as_of).await.expect("until")) }
    };
    assert!(until(at(-1)).await.is_empty());
    assert_eq!(until(at(0)).await, ["1"], "inclusive of as_of");
    assert_eq!(until(at(15)).await, ["1", "2"]);
    assert_eq!(until(at(20)).await, ["1", "2", "3"]);

    // A server with a slow clock appends event 4 stamped before event 3. An as-of read between
    // the two stamps must not return 4 without the 3 it was decided on.
    store
        .append(request(&s, 3, vec![event_at("4", at(5))]))
        .await
        .expect("append");
    assert_eq!(until(at(15)).await, ["1", "2"]);
    assert_eq!(until(at(25)).await, ["1", "2", "3", "4"]);
}

async fn aliases_resolve_within_their_tenant_only(db: Db) {
    let store = event_store_for(&db);
    let s = stream("tenant-a", "SKU-1");
    let id = Uuid::new_v4();
    let mut req = request(&s, 0, events(1));
    req.aliases = vec![StreamAlias {
        kind: "reservation",
        id,
    }];
    store.append(req).await.expect("append");

    let resolve = |tenant_name: &'static str, kind: &'static str, id| {
        let store = store.clone();
        async move {
            store
                .resolve_alias(&tenant(tenant_name), kind, id)
                .await
                .expect("resolve")
        }
    };
    assert_eq!(
        resolve("tenant-a", "reservation", id).await,
        Some("SKU-1".to_owned())
    );
    assert_eq!(
        resolve("tenant-b", "reservation", id).await,
        None,
        "tenant-scoped"
    );
    assert_eq!(resolve("tenant-a", "refill", id).await, None, "kind-scoped");

    // Naming the same stream again is fine; pointing the alias at another stream is refused.
    let mut same = request(&s, 1, events(1));
    same.aliases = vec![StreamAlias {
        kind: "reservation",
        id,
    }];
    store.append(same).await.expect("same alias, same stream");
    let before = row_counts(&db).await;
    let mut other = request(&stream("tenant-a", "SKU-2"), 0, events(1));
    other.aliases = vec![StreamAlias {
        kind: "reservation",
        id,
    }];
    assert!(matches!(
        store.append(other).await,
        Err(AppendError::Store(_))
    ));
    assert_eq!(row_counts(&db).await, before);
    assert_eq!(
        resolve("tenant-a", "reservation", id).await,
        Some("SKU-1".to_owned())
    );
}

/// Aliases are claimed in one order on both stores, by kind and then id, whatever order the
/// request names them in (the same order makes two appends sharing aliases lock them alike on
/// Postgres): of several aliases another stream owns, the first in that order is the one the
/// error names. SQLite used to go in the request's order.
async fn of_several_taken_aliases_the_first_by_kind_and_id_is_refused(db: Db) {
    let store = event_store_for(&db);
    let mut ids = [Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()];
    ids.sort();
    let [low, high, other] = ids;
    let alias = |kind, id| StreamAlias { kind, id };
    let mut owner = request(&stream("tenant-a", "SKU-1"), 0, events(1));
    owner.aliases = vec![
        alias("reservation", high),
        alias("reservation", low),
        alias("refill", other),
    ];
    store.append(owner).await.expect("the owner's append");

    let refused = |aliases: Vec<StreamAlias>| {
        let store = store.clone();
        let db = &db;
        async move {
            let before = row_counts(db).await;
            let mut req = request(&stream("tenant-a", "SKU-2"), 0, events(1));
            req.aliases = aliases;
            let error = store.append(req).await.expect_err("aliases owned by SKU-1");
            assert!(matches!(error, AppendError::Store(_)), "{error}");
            assert_eq!(row_counts(db).await, before, "nothing written");
            error.to_string()
        }
    };
    // By id within a kind.
    let message = refused(vec![alias("reservation", high), alias("reservation", low)]).await;
    assert!(
        message.contains(&format!("reservation {low} already names product SKU-1")),
        "{message}"
    );
    // By kind first: "refill" before "reservation", whatever the ids.
    let message = refused(vec![alias("reservation", low), alias("refill", other)]).await;
    assert!(
        message.contains(&format!("refill {other} already names product SKU-1")),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------------
// 5, 6. The global log

async fn read_all_returns_every_event_once_in_commit_order(db: Db) {
    let store = event_store_for(&db);
    let mut written = Vec::new();
    for round in 0..4_i64 {
        for (t, id) in [
            ("tenant-a", "SKU-1"),
            ("tenant-b", "SKU-1"),
            ("tenant-a", "SKU-2"),
        ] {
            written.extend(append(store.as_ref(), &stream(t, id), round * 2, 2).await);
        }
    }
    // Appends ran one after another, so commit order is append order.
    let (read, _) = read_all_until(store.as_ref(), Position::START, written.len(), 5).await;
    assert_eq!(read, written);

    // Resuming from any event's position gives exactly the events after it.
    let (rest, _) = read_all_until(store.as_ref(), written[6].position, written.len() - 7, 4).await;
    assert_eq!(ids(&rest), ids(&written[7..]));
    assert!(store
        .read_all(Position::START, 0)
        .await
        .expect("read")
        .is_empty());
}

async fn lag_counts_committed_events_after_a_position(db: Db) {
    let store = event_store_for(&db);
    assert_eq!(store.lag(Position::START).await.expect("lag"), (0, None));
    let s = stream("acme", "SKU-1");
    let t = base_time();
    let written = store
        .append(request(
            &s,
            0,
            (0..5)
                .map(|i| event_at("x", t + Duration::seconds(i)))
                .collect(),
        ))
        .await
        .expect("append");
    // Committed events count at once, readable or not: no need to wait for the horizon.
    let oldest_after = |i: usize| Some(written[i].recorded_at);
    assert_eq!(
        store.lag(Position::START).await.expect("lag"),
        (5, oldest_after(0))
    );
    assert_eq!(
        store.lag(written[1].position).await.expect("lag"),
        (3, oldest_after(2))
    );
    assert_eq!(
        store.lag(written[4].position).await.expect("lag"),
        (0, None)
    );
}

async fn random_writers_and_a_checkpointing_reader_see_every_event_once(db: Db) {
    const WRITERS: usize = 6;
    const APPENDS: usize = 20;
    const STREAMS: usize = 5;
    let store = event_store_for(&db);
    // How many events the reader must end up with; unknown (-1) until the writers are done.
    let target = Arc::new(std::sync::atomic::AtomicI64::new(-1));

    let reader = {
        let (store, target) = (store.clone(), target.clone());
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
            let mut checkpoint = Position::START;
            let mut seen = Vec::new();
            loop {
                let want = target.load(std::sync::atomic::Ordering::SeqCst);
                if want >= 0 && seen.len() as i64 >= want {
                    return seen;
                }
                // A reader that skipped an event never reaches the target.
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "read {} of {want} events",
                    seen.len()
                );
                let batch = store.read_all(checkpoint, 7).await.expect("read_all");
                if batch.is_empty() {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
                for e in batch {
                    assert!(e.position > checkpoint, "positions only move forward");
                    checkpoint = e.position;
                    seen.push(e.event_id);
                }
            }
        })
    };

    let mut writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for _ in 0..APPENDS {
                    let s = stream(
                        if w % 2 == 0 { "tenant-a" } else { "tenant-b" },
                        &format!("SKU-{}", random(STREAMS)),
                    );
                    loop {
                        tokio::time::sleep(std::time::Duration::from_millis(random(4) as u64))
                            .await;
                        let v = version(store.as_ref(), &s).await;
                        match store.append(request(&s, v, events(1 + random(3)))).await {
                            Ok(_) => break,
                            Err(AppendError::Conflict) => continue,
                            Err(e) => panic!("unexpected {e:?}"),
                        }
                    }
                }
            })
        })
        .collect();
    // On Postgres, also writers whose transactions stay open a random while after inserting, so
    // that commits regularly land out of position order.
    if let Db::Postgres(pool) = &db {
        for w in 0..2 {
            let pool = pool.clone();
            writers.push(tokio::spawn(async move {
                for sequence in 1..=(APPENDS as i64) {
                    let mut tx = pool.begin().await.expect("begin");
                    raw_insert(&mut tx, &format!("SKU-slow-{w}"), sequence).await;
                    sqlx::query("SELECT pg_sleep($1)")
                        .bind(random(30) as f64 / 1000.0)
                        .execute(&mut *tx)
                        .await
                        .expect("sleep");
                    tx.commit().await.expect("commit");
                }
            }));
        }
    }
    for w in writers {
        w.await.expect("writer");
    }
    target.store(
        count(&db, "events").await,
        std::sync::atomic::Ordering::SeqCst,
    );
    let seen = reader.await.expect("reader");

    let unique: HashSet<Uuid> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no event delivered twice");
    assert_eq!(
        unique,
        all_event_ids(&db).await,
        "every stored event delivered"
    );
}

fn random(below: usize) -> usize {
    rand::random::<usize>() % below
}

// ---------------------------------------------------------------------------------------------
// Postgres only

/// Insert one event the way the adapter does, inside the caller's transaction, so that a test
/// can hold the transaction open. Returns the row's `(tx_id, global_position)`.
async fn raw_insert(
    conn: &mut sqlx::PgConnection,
    aggregate_id: &str,
    sequence: i64,
) -> (Uuid, Position) {
    let event_id = Uuid::now_v7();
    let (tx_id, global_position): (i64, i64) = sqlx::query_as(
        "INSERT INTO events (tenant_id, aggregate_type, aggregate_id, sequence, event_type, \
         event_version, payload, metadata, event_id, occurred_at, correlation_id, actor) \
         VALUES ('tenant-raw', 'product', $1, $2, 'StockReceived', 1, '{}', '{}', $3, now(), $4, 'test') \
         RETURNING tx_id::text::bigint, global_position",
    )
    .bind(aggregate_id)
    .bind(sequence)
    .bind(event_id)
    .bind(Uuid::new_v4())
    .fetch_one(conn)
    .await
    .expect("raw insert");
    (
        event_id,
        Position {
            tx_id,
            global_position,
        },
    )
}

mod postgres_only {
    use super::*;
    use restock_infrastructure::DbTx;

    async fn pg() -> (Db, sqlx::PgPool) {
        let db = db(Backend::Postgres).await;
        let Db::Postgres(pool) = &db else {
            unreachable!("asked for Postgres")
        };
        let pool = pool.clone();
        (db, pool)
    }

    /// The failure that hit Marten, Axon and Eventuous: a transaction takes a position, others
    /// take later positions and commit first, and a reader moves past the gap before the first
    /// one commits.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_late_committing_transaction_is_read_after_a_checkpoint_passed_its_position() {
        let (db, pool) = pg().await;
        let store = event_store_for(&db);
        let early = append(store.as_ref(), &stream("acme", "SKU-early"), 0, 1).await;

        // T1 inserts and stays open: its event gets a position below everything after it.
        let mut t1 = pool.begin().await.expect("begin T1");
        let (late_id, late) = raw_insert(&mut t1, "SKU-late", 1).await;

        // Three other transactions append and commit while T1 is still open.
        let mut others = Vec::new();
        for i in 0..3 {
            others.extend(append(store.as_ref(), &stream("acme", &format!("SKU-{i}")), 0, 1).await);
        }
        assert!(others
            .iter()
            .all(|e| e.position.global_position > late.global_position));
        assert!(others.iter().all(|e| e.position.tx_id > late.tx_id));

        // The reader catches up and checkpoints. It gets the early event and nothing else: the
        // committed events of later transactions wait behind T1.
        let (first, checkpoint) = read_all_until(store.as_ref(), Position::START, 1, 10).await;
        assert_eq!(ids(&first), ids(&early));
        assert!(store
            .read_all(checkpoint, 10)
            .await
            .expect("read")
            .is_empty());
        // Lag still counts them: they are committed, and what the reader is waiting for.
        let (behind, oldest) = store.lag(checkpoint).await.expect("lag");
        assert_eq!((behind, oldest), (3, Some(others[0].recorded_at)));

        // Why a reader keyed on global_position alone would lose T1's event: at this moment it
        // would read the three committed events, checkpoint the highest position, which is above
        // T1's, and after T1 commits ask for positions above that, never to see T1's event.
        let naive: Vec<i64> = sqlx::query_scalar(
            "SELECT global_position FROM events WHERE global_position > $1 ORDER BY global_position",
        )
        .bind(checkpoint.global_position)
        .fetch_all(&pool)
        .await
        .expect("naive read");
        let naive_checkpoint = *naive
            .last()
            .expect("the naive reader sees the later commits");
        assert!(naive_checkpoint > late.global_position);

        t1.commit().await.expect("commit T1");
        let naive_after: Vec<Uuid> =
            sqlx::query_scalar("SELECT event_id FROM events WHERE global_position > $1")
                .bind(naive_checkpoint)
                .fetch_all(&pool)
                .await
                .expect("naive read");
        assert!(
            !naive_after.contains(&late_id),
            "the naive reader skipped it"
        );

        // The (tx_id, global_position) reader resumes from its checkpoint and gets the late
        // event first (its transaction is older), then the others, each once.
        let (rest, end) = read_all_until(store.as_ref(), checkpoint, 4, 10).await;
        let mut expected = vec![late_id];
        expected.extend(ids(&others));
        assert_eq!(ids(&rest), expected);
        assert!(store.read_all(end, 10).await.expect("read").is_empty());
        assert_eq!(store.lag(end).await.expect("lag"), (0, None));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tenant_read_sees_only_its_tenant_rows() {
        let (db, pool) = pg().await;
        let store = event_store_for(&db);
        for (t, n) in [("tenant-a", 2), ("tenant-b", 3)] {
            let mut req = request(&stream(t, "SKU-1"), 0, events(n));
            req.idempotency = Some(idempotency("k"));
            req.snapshot = Some(Snapshot {
                version: n as i64,
                schema: 1,
                state: json!({}),
            });
            req.aliases = vec![StreamAlias {
                kind: "refill",
                id: Uuid::new_v4(),
            }];
            store.append(req).await.expect("append");
        }
        // The owner (what the adapters and the projection runner use) sees everything.
        assert_eq!(count(&db, "events").await, 5);

        let tx = db.begin_tenant_read("tenant-a").await.expect("tenant read");
        let DbTx::Postgres(mut tx) = tx else {
            unreachable!("Postgres")
        };
        for (table, rows) in [
            ("events", 2),
            ("snapshots", 1),
            ("idempotency_keys", 1),
            ("stream_aliases", 1),
        ] {
            let seen: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
                .fetch_one(&mut *tx)
                .await
                .expect("count");
            assert_eq!(seen, rows, "{table}");
        }
        let tenants: Vec<String> = sqlx::query_scalar("SELECT DISTINCT tenant_id FROM events")
            .fetch_all(&mut *tx)
            .await
            .expect("tenants");
        assert_eq!(tenants, ["tenant-a"]);
        // Writing another tenant's row is refused as well.
        let refused = sqlx::query(
            "INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, body) \
             VALUES ('tenant-b', 'sneaky', 'h', 200, '{}')",
        )
        .execute(&mut *tx)
        .await;
        assert!(refused.is_err(), "row-level security refuses the insert");
        drop(tx);

        // The application role with no tenant set sees nothing at all.
        let mut tx = pool.begin().await.expect("begin");
        sqlx::query("SET LOCAL ROLE restock_app")
            .execute(&mut *tx)
            .await
            .expect("role");
        let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&mut *tx)
            .await
            .expect("count");
        assert_eq!(seen, 0);
    }
}
