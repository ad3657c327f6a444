-- The latest forecast per product, as computed by the threshold job.
CREATE TABLE forecasts (
    tenant_id   TEXT NOT NULL,
    sku         TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sku)
);
