-- Supplier prices (issue 16): the price history read model, kept by the `prices` projection
-- from `SupplierPricesRecorded` events (a later price for a day replaces the earlier one), and
-- the purchase plan's day and price on the refills read model.
CREATE TABLE supplier_prices (
    tenant_id  text             NOT NULL,
    sku        text             NOT NULL,
    day        date             NOT NULL,
    unit_price double precision NOT NULL,
    PRIMARY KEY (tenant_id, sku, day)
);
ALTER TABLE supplier_prices ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON supplier_prices USING (tenant_id = current_setting('restock.tenant', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON supplier_prices TO restock_app;

ALTER TABLE refills ADD COLUMN buy_on date;
ALTER TABLE refills ADD COLUMN expected_unit_price double precision;
