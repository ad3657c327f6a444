-- Read models: denormalized tables rebuilt from the event log by the projection runner.
-- Every key leads with tenant_id; row-level security is a second wall behind the queries' own
-- tenant filter (the server reads as restock_app with restock.tenant set per transaction).

CREATE TABLE projection_checkpoints (
    name            text PRIMARY KEY,
    tx_id           bigint NOT NULL DEFAULT 0,
    global_position bigint NOT NULL DEFAULT 0,
    -- Events up to this position are history being replayed after a rebuild: projections
    -- with side effects (the agent) must not act on them.
    replay_tx_id    bigint NOT NULL DEFAULT 0,
    replay_position bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE products (
    tenant_id        text NOT NULL,
    sku              text NOT NULL,
    name             text NOT NULL,
    on_hand          bigint NOT NULL,
    reserved         bigint NOT NULL,
    available        bigint NOT NULL,
    min_stock        bigint,
    min_stock_source text NOT NULL,
    lead_time_days   bigint NOT NULL,
    service_level    double precision NOT NULL,
    below_min        boolean NOT NULL,
    open_refill_id   text,
    unit             text,
    supplier         text,
    reorder_quantity bigint,
    version          bigint NOT NULL,
    updated_at       timestamptz NOT NULL,
    state            jsonb NOT NULL,
    PRIMARY KEY (tenant_id, sku)
);
CREATE INDEX products_below_min ON products (tenant_id, sku) WHERE below_min;

CREATE TABLE movements (
    tenant_id     text NOT NULL,
    sku           text NOT NULL,
    version       bigint NOT NULL,
    type          text NOT NULL,
    delta_on_hand bigint NOT NULL,
    on_hand_after bigint NOT NULL,
    reference     text,
    occurred_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, sku, version)
);

CREATE TABLE daily_demand (
    tenant_id text NOT NULL,
    sku       text NOT NULL,
    day       date NOT NULL,
    sold      bigint NOT NULL DEFAULT 0,
    imported  bigint,
    stockout  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, sku, day)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['products', 'movements', 'daily_demand'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting(''restock.tenant'', true))',
            t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO restock_app', t);
    END LOOP;
END $$;
