-- The latest forecast per product, as computed by the threshold job (a cache of the last
-- computation, not a projection: the minimum itself is an event on the product's stream).
CREATE TABLE forecasts (
    tenant_id   text        NOT NULL,
    sku         text        NOT NULL,
    computed_at timestamptz NOT NULL,
    body        jsonb       NOT NULL,
    PRIMARY KEY (tenant_id, sku)
);
ALTER TABLE forecasts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON forecasts USING (tenant_id = current_setting('restock.tenant', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON forecasts TO restock_app;
