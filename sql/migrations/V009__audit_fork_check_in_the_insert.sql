-- The fork check moves from a per-row BEFORE INSERT trigger into the sink's statement, which now ends in
--   ON CONFLICT (chain_id, seq, chain_time) DO UPDATE SET hash = audit_fork(...)
--   WHERE audit_events.hash IS DISTINCT FROM EXCLUDED.hash
-- An entry identical to the stored one (a replay after a restore) is skipped as before; a different one calls
-- audit_fork, which raises the error the trigger raised, so no row is ever updated. The trigger's lookup, planned for
-- every row (V005), was most of an entry's insert cost: 50,000 entries took 5.2-5.5 s with it and 1.0-1.1 s without
-- (INSERT ... SELECT), and one entry per transaction took 0.29-0.33 ms against 0.21 ms (pgbench), on the benchmark
-- machine. ON CONFLICT DO UPDATE needs UPDATE privilege on the column it sets: the writer role gets UPDATE (hash) and
-- nothing more, and the append-only trigger still rejects every UPDATE that reaches a row.
CREATE FUNCTION audit_fork(p_chain_id text, p_seq bigint, p_stored bytea, p_new bytea) RETURNS bytea
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit ledger fork: chain % seq % already holds a different entry (stored hash %, new hash %)',
        p_chain_id, p_seq, encode(p_stored, 'hex'), encode(p_new, 'hex')
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

-- Dropping the trigger of the partitioned table drops its clones on the partitions.
DROP TRIGGER audit_events_guard_insert ON audit_events;
DROP FUNCTION audit_guard_insert();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'horizons_audit_writer') THEN
        GRANT UPDATE (hash) ON audit_events TO horizons_audit_writer;
    ELSE
        RAISE NOTICE 'Role horizons_audit_writer does not exist. When a DBA creates it, grant it UPDATE (hash) on '
            'audit_events as well, which the audit sink''s ON CONFLICT clause needs.';
    END IF;
END $$;
