-- The agent: the refills read model, the agent projection's own product state, the trigger and
-- decision ledgers, notifications, and the per-tenant LLM budget. See the Postgres migration
-- for the reasoning; types follow 0001 (timestamps as RFC 3339 text, ids as text, JSON as text).

CREATE TABLE refills (
    tenant_id         TEXT    NOT NULL,
    refill_id         TEXT    NOT NULL,
    sku               TEXT    NOT NULL,
    quantity          INTEGER NOT NULL,
    status            TEXT    NOT NULL,
    decided_by        TEXT    NOT NULL,
    reason            TEXT    NOT NULL,
    trigger_event_id  TEXT,
    received_quantity INTEGER,
    created_at        TEXT    NOT NULL,
    received_at       TEXT,
    cancelled_at      TEXT,
    PRIMARY KEY (tenant_id, refill_id)
);
CREATE INDEX refills_by_status ON refills (tenant_id, status, refill_id);

CREATE TABLE agent_products (
    tenant_id TEXT NOT NULL,
    sku       TEXT NOT NULL,
    state     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sku)
);

CREATE TABLE agent_triggers (
    tenant_id        TEXT    NOT NULL,
    trigger_event_id TEXT    NOT NULL,
    sku              TEXT    NOT NULL,
    trigger_tx_id    INTEGER NOT NULL,
    trigger_position INTEGER NOT NULL,
    context          TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'deciding', 'decided', 'done', 'failed')),
    claimed_by       TEXT,
    claimed_at_ms    INTEGER,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    results          TEXT,
    created_at       TEXT    NOT NULL,
    done_at          TEXT,
    PRIMARY KEY (tenant_id, trigger_event_id)
);
CREATE INDEX agent_triggers_open ON agent_triggers (trigger_tx_id, trigger_position)
    WHERE status IN ('pending', 'deciding', 'decided');

CREATE TABLE agent_decisions (
    tenant_id         TEXT    NOT NULL,
    trigger_event_id  TEXT    NOT NULL,
    sku               TEXT    NOT NULL,
    decider           TEXT    NOT NULL,
    model             TEXT,
    fallback_reason   TEXT,
    prompt_sha256     TEXT    NOT NULL,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    latency_ms        INTEGER NOT NULL,
    decision          TEXT    NOT NULL,
    decided_at        TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, trigger_event_id)
);

CREATE TABLE notifications (
    tenant_id        TEXT    NOT NULL,
    notification_id  TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    sku              TEXT,
    severity         TEXT    NOT NULL,
    message          TEXT    NOT NULL,
    trigger_event_id TEXT,
    created_at       TEXT    NOT NULL,
    delivery         TEXT    NOT NULL DEFAULT 'none',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER,
    last_error       TEXT,
    PRIMARY KEY (tenant_id, notification_id)
);
CREATE INDEX notifications_due ON notifications (next_attempt_ms) WHERE delivery = 'pending';

CREATE TABLE agent_budget (
    tenant_id         TEXT    NOT NULL,
    day               TEXT    NOT NULL,
    calls             INTEGER NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day)
);

-- Existing events are history for the new agent projection (see the Postgres migration).
-- `WHERE true` resolves SQLite's parsing ambiguity between a SELECT's ON and an upsert's ON.
INSERT INTO projection_checkpoints (name, replay_tx_id, replay_position)
SELECT 'agent', 0, COALESCE(max(global_position), 0) FROM events WHERE true
ON CONFLICT (name) DO NOTHING;
