-- Reservations read model: what the expiry sweeper scans and what users can list.
CREATE TABLE reservations (
    tenant_id      TEXT    NOT NULL,
    reservation_id TEXT    NOT NULL,
    sku            TEXT    NOT NULL,
    quantity       INTEGER NOT NULL,
    status         TEXT    NOT NULL,
    expires_at     TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, reservation_id)
);
CREATE INDEX reservations_due ON reservations (expires_at) WHERE status = 'active';
