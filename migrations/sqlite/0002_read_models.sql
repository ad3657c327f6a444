-- Read models: denormalized tables rebuilt from the event log by the projection runner.

CREATE TABLE projection_checkpoints (
    name            TEXT PRIMARY KEY,
    tx_id           INTEGER NOT NULL DEFAULT 0,
    global_position INTEGER NOT NULL DEFAULT 0,
    -- Events up to this position are history being replayed after a rebuild: projections
    -- with side effects (the agent) must not act on them.
    replay_tx_id    INTEGER NOT NULL DEFAULT 0,
    replay_position INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE products (
    tenant_id        TEXT NOT NULL,
    sku              TEXT NOT NULL,
    name             TEXT NOT NULL,
    on_hand          INTEGER NOT NULL,
    reserved         INTEGER NOT NULL,
    available        INTEGER NOT NULL,
    min_stock        INTEGER,
    min_stock_source TEXT NOT NULL,
    lead_time_days   INTEGER NOT NULL,
    service_level    REAL NOT NULL,
    below_min        BOOLEAN NOT NULL,
    open_refill_id   TEXT,
    unit             TEXT,
    supplier         TEXT,
    reorder_quantity INTEGER,
    version          INTEGER NOT NULL,
    updated_at       TEXT NOT NULL,
    state            TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sku)
);
CREATE INDEX products_below_min ON products (tenant_id, sku) WHERE below_min;

CREATE TABLE movements (
    tenant_id     TEXT NOT NULL,
    sku           TEXT NOT NULL,
    version       INTEGER NOT NULL,
    type          TEXT NOT NULL,
    delta_on_hand INTEGER NOT NULL,
    on_hand_after INTEGER NOT NULL,
    reference     TEXT,
    occurred_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sku, version)
);

CREATE TABLE daily_demand (
    tenant_id TEXT NOT NULL,
    sku       TEXT NOT NULL,
    day       TEXT NOT NULL,
    sold      INTEGER NOT NULL DEFAULT 0,
    imported  INTEGER,
    stockout  BOOLEAN NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, sku, day)
);
