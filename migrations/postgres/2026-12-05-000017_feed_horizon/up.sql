-- Issue 22. `OR REPLACE`: builds between the issue 21 release and this migration defined the
-- function inside 000016 (a landed migration, since restored to its released text).
-- Issue 22: the change feed's horizon (docs/SYNC.md, "Guarantees"). Change numbers are the
-- writing transaction's id shifted left by `shift` bits (src/store/sync.rs), so every number below
-- the oldest running writer's id is final. Every write transaction of the app holds, from its
-- BEGIN, a shared advisory lock named after its schema (shared: writers never wait for each
-- other); the writers still running are the holders of that lock, with the ids they took (their
-- own `transactionid` locks). Only they hold the horizon back — not other databases' or other
-- tools' transactions on the same cluster. Before answering, wait (at most `wait_ms`) for the
-- writers running now to end, so a change committed before the call is inside the horizon; one
-- statement however long the wait, so the caller makes one round trip.
CREATE OR REPLACE FUNCTION outreach_feed_horizon(shift integer, wait_ms integer) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    feed bigint := hashtext('outreach feed ' || current_schema()) & 2147483647;
    started pg_snapshot := pg_current_snapshot();
    -- Every change of a transaction that ended by now is below `next`, every running one's at
    -- or above `low` (the oldest running anywhere).
    next bigint := pg_snapshot_xmax(started)::text::bigint;
    low bigint := pg_snapshot_xmin(started)::text::bigint;
    deadline timestamptz := clock_timestamp() + wait_ms * interval '1 millisecond';
    oldest bigint;
BEGIN
    LOOP
        -- pg_locks shows 32-bit ids: widen each to 64 bits as the first id at or above `low`
        -- with those low bits (running ids lie within 2^31 above it).
        SELECT min(((low >> 32) << 32) + t.transactionid::text::bigint
                   + CASE WHEN t.transactionid::text::bigint < (low & 4294967295) THEN 4294967296 ELSE 0 END)
          INTO oldest
          FROM pg_locks AS a
          JOIN pg_locks AS t ON t.pid = a.pid AND t.locktype = 'transactionid' AND t.granted
         WHERE a.locktype = 'advisory' AND a.granted AND a.classid = 0 AND a.objsubid = 1
           AND a.objid::text::bigint = feed
           AND a.database = (SELECT oid FROM pg_database WHERE datname = current_database());
        EXIT WHEN oldest IS NULL OR oldest >= next OR clock_timestamp() >= deadline;
        PERFORM pg_sleep(0.001);
    END LOOP;
    IF oldest IS NULL OR oldest >= next THEN
        RETURN (next << shift) - 1;
    END IF;
    RETURN (oldest << shift) - 1;
END
$$;
