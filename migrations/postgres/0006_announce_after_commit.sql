-- Appends no longer NOTIFY from inside their transaction. PostgreSQL serialises the commits of
-- notifying transactions on one lock, which halved the append rate under concurrency (pgbench,
-- 16 clients: ~5,400 tps without the trigger, ~2,900 with it). The server now announces its
-- commits itself, with one `pg_notify` per round trip after the commits (projections/src/wake.rs);
-- every projection also polls, so an append announced late or never is still read.
DROP TRIGGER IF EXISTS events_notify ON events;
DROP FUNCTION IF EXISTS restock_notify_events();
