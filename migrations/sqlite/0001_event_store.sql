-- The event log and the rows written in the same transaction as an append.
--
-- One writer connection serializes every write, so rowid order is commit order: global_position
-- is the rowid, and there is no tx_id (positions report tx_id 0). AUTOINCREMENT keeps a rowid
-- from ever being handed out twice.
--
-- Timestamps are TEXT 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (UTC, always six fractional digits) so that
-- text order is time order; uuids are hyphenated TEXT; JSON is TEXT.

CREATE TABLE events (
    global_position INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       TEXT    NOT NULL,
    aggregate_type  TEXT    NOT NULL,
    aggregate_id    TEXT    NOT NULL,
    sequence        INTEGER NOT NULL CHECK (sequence > 0),
    event_type      TEXT    NOT NULL,
    event_version   INTEGER NOT NULL,
    payload         TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    event_id        TEXT    NOT NULL UNIQUE,
    -- The adapter stores the application's clock; the default only serves manual inserts
    -- ('%f' is milliseconds, padded to the fixed six digits).
    recorded_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    occurred_at     TEXT    NOT NULL,
    correlation_id  TEXT    NOT NULL,
    causation_id    TEXT,
    actor           TEXT    NOT NULL,
    -- Optimistic concurrency, and the index stream reads use.
    UNIQUE (tenant_id, aggregate_type, aggregate_id, sequence)
);

CREATE TABLE snapshots (
    tenant_id      TEXT    NOT NULL,
    aggregate_type TEXT    NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    schema         INTEGER NOT NULL,
    state          TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, aggregate_type, aggregate_id)
);

CREATE TABLE idempotency_keys (
    tenant_id    TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT    NOT NULL,
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE stream_aliases (
    tenant_id      TEXT NOT NULL,
    kind           TEXT NOT NULL,
    alias_id       TEXT NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, kind, alias_id)
);
