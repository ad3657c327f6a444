-- Reservations read model: what the expiry sweeper scans and what users can list.
CREATE TABLE reservations (
    tenant_id      text        NOT NULL,
    reservation_id text        NOT NULL,
    sku            text        NOT NULL,
    quantity       bigint      NOT NULL,
    status         text        NOT NULL,
    expires_at     timestamptz NOT NULL,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, reservation_id)
);
-- The sweeper's scan: active reservations by deadline, across tenants.
CREATE INDEX reservations_due ON reservations (expires_at) WHERE status = 'active';

ALTER TABLE reservations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reservations USING (tenant_id = current_setting('restock.tenant', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON reservations TO restock_app;
