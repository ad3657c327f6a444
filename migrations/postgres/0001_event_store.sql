-- The event log and the rows written in the same transaction as an append.
--
-- Column shape follows postgres-es (aggregate_type, aggregate_id, sequence, event_type,
-- event_version, payload, metadata) so its tooling and habits carry over; the extra columns carry
-- tenancy, identity, commit order and audit context.

CREATE TABLE events (
    tenant_id       text        NOT NULL,
    aggregate_type  text        NOT NULL,
    aggregate_id    text        NOT NULL,
    sequence        bigint      NOT NULL CHECK (sequence > 0),
    event_type      text        NOT NULL,
    event_version   integer     NOT NULL,
    payload         jsonb       NOT NULL,
    -- The same correlation/causation/actor as the typed columns below, kept as JSON for
    -- postgres-es compatibility and for tools that only read this column.
    metadata        jsonb       NOT NULL,
    event_id        uuid        NOT NULL,
    -- Assigned at insert, not at commit: never read the log by this column alone (see
    -- events_commit_order below).
    global_position bigserial   NOT NULL,
    -- The appending transaction. A reader only takes rows with tx_id below the oldest running
    -- transaction of its snapshot, so an append that commits late is still read in full.
    tx_id           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    -- The adapter stores the application's clock (the stored idempotent response shows it).
    -- The default, transaction start time, only serves manual inserts; it is the same for every
    -- row of one transaction, so an as-of read never splits an append.
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    occurred_at     timestamptz NOT NULL,
    correlation_id  uuid        NOT NULL,
    causation_id    uuid,
    actor           text        NOT NULL,
    -- Optimistic concurrency: two appends of the same version collide here.
    CONSTRAINT events_stream_sequence PRIMARY KEY (tenant_id, aggregate_type, aggregate_id, sequence),
    CONSTRAINT events_event_id UNIQUE (event_id)
);

-- Serves read_all and lag: a range scan in commit order from a checkpoint.
CREATE UNIQUE INDEX events_commit_order ON events (tx_id, global_position);

-- The newest state of a stream, so that a load reads one row plus a short tail.
CREATE TABLE snapshots (
    tenant_id      text    NOT NULL,
    aggregate_type text    NOT NULL,
    aggregate_id   text    NOT NULL,
    version        bigint  NOT NULL,
    schema         integer NOT NULL,
    state          jsonb   NOT NULL,
    PRIMARY KEY (tenant_id, aggregate_type, aggregate_id)
);

-- The stored answer to a command sent with an Idempotency-Key.
CREATE TABLE idempotency_keys (
    tenant_id    text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    status       integer     NOT NULL,
    body         jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);

-- Secondary ids (a reservation or refill id) naming the stream they belong to.
CREATE TABLE stream_aliases (
    tenant_id      text NOT NULL,
    kind           text NOT NULL,
    alias_id       uuid NOT NULL,
    aggregate_type text NOT NULL,
    aggregate_id   text NOT NULL,
    PRIMARY KEY (tenant_id, kind, alias_id)
);

-- Projections LISTEN on this channel instead of polling. Statement level: one notification per
-- append, and Postgres folds identical ones within a transaction and delivers them at commit.
CREATE FUNCTION restock_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('restock_events', '');
    RETURN NULL;
END $$;

CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION restock_notify_events();

-- The role tenant-scoped reads run as (Db::begin_tenant_read: SET LOCAL ROLE restock_app).
-- Roles are cluster-wide while migrations run per database, so parallel test databases race to
-- create it: the loser sees duplicate_object, or unique_violation if the winner had not yet
-- committed when it checked.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'restock_app') THEN
        CREATE ROLE restock_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;

-- SET ROLE needs membership; a superuser has it implicitly, another migrating role is granted it.
DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'restock_app', 'MEMBER') THEN
        EXECUTE format('GRANT restock_app TO %I', current_user);
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;

-- The log is append-only even for the application role; the other tables are ordinary state.
GRANT SELECT, INSERT ON events TO restock_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON snapshots, idempotency_keys, stream_aliases TO restock_app;
GRANT USAGE ON SEQUENCE events_global_position_seq TO restock_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO restock_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO restock_app;

-- Defence in depth under the queries' own tenant filter. The owner (the migrating role, which
-- the adapters and the projection runner use) bypasses these policies; restock_app does not.
-- Without restock.tenant set, current_setting(..., true) is NULL or '' and no row matches.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['events', 'snapshots', 'idempotency_keys', 'stream_aliases'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting(''restock.tenant'', true))',
            t);
    END LOOP;
END $$;
