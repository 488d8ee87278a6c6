-- Two ledger sink subtasks that start together both create the same day partition: the second one failed with
-- "relation audit_events_p... already exists" and its JDBC sink retried the whole batch after a second.
-- The re-check under the advisory lock did not see the first one's table: taking an advisory lock does not refresh
-- the catalog cache, so to_regclass still answered from before. Creating a partition that another session created
-- in the meantime is now a no-op. V002 stays as applied (migrations are checksummed).
CREATE OR REPLACE FUNCTION audit_ensure_partition(p_day date) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    d date;
    part text;
    created int := 0;
BEGIN
    FOREACH d IN ARRAY ARRAY[p_day, p_day + 1] LOOP
        part := 'audit_events_p' || to_char(d, 'YYYYMMDD');
        IF to_regclass(part) IS NULL THEN
            PERFORM pg_advisory_xact_lock(hashtext('audit_events partitions'));
            BEGIN
                EXECUTE format('CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)', part,
                    (d::timestamp AT TIME ZONE 'UTC'), ((d + 1)::timestamp AT TIME ZONE 'UTC'));
                -- Statement triggers are not inherited: TRUNCATE of a partition needs its own guard.
                EXECUTE format('CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON %I '
                    'FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()', part);
                created := created + 1;
            EXCEPTION WHEN duplicate_table THEN
                NULL; -- created by another session since our lookup, trigger and all (one transaction)
            END;
        END IF;
    END LOOP;
    RETURN created;
END $$;
