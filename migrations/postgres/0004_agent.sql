-- The agent: the refills read model, the agent projection's own product state, the trigger and
-- decision ledgers, notifications, and the per-tenant LLM budget.
--
-- Only `refills` and `agent_products` belong to projections (a rebuild empties and refills
-- them). The ledgers are not read models: they record what the agent was asked and decided,
-- which no replay can reproduce, so a rebuild leaves them alone.

CREATE TABLE refills (
    tenant_id         text        NOT NULL,
    refill_id         text        NOT NULL,
    sku               text        NOT NULL,
    quantity          bigint      NOT NULL,
    status            text        NOT NULL,
    decided_by        text        NOT NULL,
    reason            text        NOT NULL,
    trigger_event_id  text,
    received_quantity bigint,
    created_at        timestamptz NOT NULL,
    received_at       timestamptz,
    cancelled_at      timestamptz,
    PRIMARY KEY (tenant_id, refill_id)
);
CREATE INDEX refills_by_status ON refills (tenant_id, status, refill_id);

-- The agent projection folds products itself (its checkpoint is its own, so it cannot lean on
-- the `products` table, which another runner moves at another pace).
CREATE TABLE agent_products (
    tenant_id text  NOT NULL,
    sku       text  NOT NULL,
    state     jsonb NOT NULL,
    PRIMARY KEY (tenant_id, sku)
);

-- One row per crossing, keyed by the event that caused it, written in the agent projection's
-- transaction. status: pending -> deciding (claimed, before any backend is called) -> decided
-- (decision committed, before anything is executed) -> done; failed after repeated errors.
CREATE TABLE agent_triggers (
    tenant_id        text        NOT NULL,
    trigger_event_id text        NOT NULL,
    sku              text        NOT NULL,
    trigger_tx_id    bigint      NOT NULL,
    trigger_position bigint      NOT NULL,
    context          jsonb       NOT NULL,
    status           text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'deciding', 'decided', 'done', 'failed')),
    claimed_by       text,
    claimed_at_ms    bigint,
    attempts         integer     NOT NULL DEFAULT 0,
    last_error       text,
    results          jsonb,
    created_at       timestamptz NOT NULL,
    done_at          timestamptz,
    PRIMARY KEY (tenant_id, trigger_event_id)
);
CREATE INDEX agent_triggers_open ON agent_triggers (trigger_tx_id, trigger_position)
    WHERE status IN ('pending', 'deciding', 'decided');

CREATE TABLE agent_decisions (
    tenant_id         text        NOT NULL,
    trigger_event_id  text        NOT NULL,
    sku               text        NOT NULL,
    decider           text        NOT NULL,
    model             text,
    fallback_reason   text,
    prompt_sha256     text        NOT NULL,
    prompt_tokens     bigint      NOT NULL DEFAULT 0,
    completion_tokens bigint      NOT NULL DEFAULT 0,
    latency_ms        bigint      NOT NULL,
    decision          jsonb       NOT NULL,
    decided_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, trigger_event_id)
);

-- delivery: none (no webhook configured) | pending | delivered | failed.
CREATE TABLE notifications (
    tenant_id        text        NOT NULL,
    notification_id  text        NOT NULL,
    kind             text        NOT NULL,
    sku              text,
    severity         text        NOT NULL,
    message          text        NOT NULL,
    trigger_event_id text,
    created_at       timestamptz NOT NULL,
    delivery         text        NOT NULL DEFAULT 'none',
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_ms  bigint,
    last_error       text,
    PRIMARY KEY (tenant_id, notification_id)
);
CREATE INDEX notifications_due ON notifications (next_attempt_ms) WHERE delivery = 'pending';

-- LLM decisions per tenant per UTC day (YYYY-MM-DD), reserved before each call.
CREATE TABLE agent_budget (
    tenant_id         text   NOT NULL,
    day               text   NOT NULL,
    calls             bigint NOT NULL DEFAULT 0,
    prompt_tokens     bigint NOT NULL DEFAULT 0,
    completion_tokens bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['refills', 'agent_products', 'agent_triggers', 'agent_decisions',
                             'notifications', 'agent_budget'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting(''restock.tenant'', true))',
            t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO restock_app', t);
    END LOOP;
END $$;

-- The agent projection is new: on a log that already has events, those are history. Marking
-- them as replayed lets the projection fold them without asking the agent about crossings that
-- happened before it existed.
INSERT INTO projection_checkpoints (name, replay_tx_id, replay_position)
SELECT 'agent', COALESCE(max(tx_id::text::bigint), 0), COALESCE(max(global_position), 0) FROM events
ON CONFLICT (name) DO NOTHING;
