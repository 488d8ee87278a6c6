-- The fork-detection trigger from V002 looked up (chain, seq, chain_time) with a cached generic plan. In PostgreSQL 14
-- such a plan cannot prune partitions at plan time, so every insert locked and probed every day partition: inserts
-- slowed down as partitions accumulated. EXECUTE plans the lookup with the row's values, so it touches one day
-- partition only. Behaviour is unchanged: an identical entry is skipped, a different one is a fork and fails loudly.
CREATE OR REPLACE FUNCTION audit_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    existing bytea;
BEGIN
    EXECUTE 'SELECT hash FROM audit_events WHERE chain_id = $1 AND seq = $2 AND chain_time = $3'
        INTO existing USING NEW.chain_id, NEW.seq, NEW.chain_time;
    IF existing IS NULL THEN
        RETURN NEW;
    END IF;
    IF existing = NEW.hash THEN
        RETURN NULL;                                    -- the same entry again: nothing to do
    END IF;
    RAISE EXCEPTION 'audit ledger fork: chain % seq % already holds a different entry (stored hash %, new hash %)',
        NEW.chain_id, NEW.seq, encode(existing, 'hex'), encode(NEW.hash, 'hex')
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
