-- Supplier prices (issue 16): see the Postgres migration. Days as `YYYY-MM-DD` text, as in
-- `daily_demand`.
CREATE TABLE supplier_prices (
    tenant_id  TEXT NOT NULL,
    sku        TEXT NOT NULL,
    day        TEXT NOT NULL,
    unit_price REAL NOT NULL,
    PRIMARY KEY (tenant_id, sku, day)
);

ALTER TABLE refills ADD COLUMN buy_on TEXT;
ALTER TABLE refills ADD COLUMN expected_unit_price REAL;
