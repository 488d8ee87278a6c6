-- The verifiable audit ledger (README, section "Audit ledger").
--
-- audit_events holds one hash-chained entry per audited event. A chain is one input (topic, partition), e.g.
-- 'job-lifecycle/7': hash = sha256(prev_hash || audit_canonical(entry)), mac = HMAC-SHA256(key, hash). The audit job
-- writes it with flink-connector-jdbc at-least-once; a replayed entry is identical and is skipped, a different entry
-- for an existing (chain, seq) is a fork and fails the insert (audit_events_guard_insert).
--
-- Append-only: triggers reject UPDATE, DELETE and TRUNCATE; the pipeline role gets INSERT and SELECT only; whole day
-- partitions are removed only by audit_drop_partitions_before(), which `bin/horizons audit retention` calls after it
-- has recorded a signed retention anchor. None of this stops the database owner or a superuser (they can disable
-- triggers); the hash chain, the MACs and the signed anchors are what make such changes detectable.

-- ------------------------------------------------------------------------------------------------- entries

CREATE TABLE audit_events (
    chain_id        text        NOT NULL,              -- <source topic>/<partition>
    seq             bigint      NOT NULL CHECK (seq >= 0),
    chain_time      timestamptz NOT NULL,              -- largest Kafka timestamp in the chain so far: never decreases
    event_id        text        NOT NULL,
    event_type      text        NOT NULL,              -- lifecycle step, or the audit action
    source_topic    text        NOT NULL,
    source_offset   bigint      NOT NULL,
    job_id          text,
    actor           text        NOT NULL,              -- the job's user, or the acting user/service
    correlation_id  text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    kafka_timestamp timestamptz NOT NULL,
    payload         text        NOT NULL,              -- canonical JSON of the event, exactly as hashed
    prev_hash       bytea       NOT NULL CHECK (length(prev_hash) = 32),
    hash            bytea       NOT NULL CHECK (length(hash) = 32),
    mac             bytea       NOT NULL,
    key_id          text        NOT NULL,
    -- A unique key of a partitioned table must contain the partition key; chain_time is a function of the chain's
    -- history, so a replay of (chain_id, seq) always has the same chain_time.
    PRIMARY KEY (chain_id, seq, chain_time)
) PARTITION BY RANGE (chain_time);

CREATE INDEX audit_events_job_idx ON audit_events (job_id, occurred_at);
CREATE INDEX audit_events_actor_idx ON audit_events (actor, occurred_at);
CREATE INDEX audit_events_correlation_idx ON audit_events (correlation_id);
CREATE INDEX audit_events_time_idx ON audit_events (occurred_at);
CREATE INDEX audit_events_type_idx ON audit_events (event_type, occurred_at);

-- ------------------------------------------------------------------------------------------------- anchors

-- Signed tree heads, like Certificate Transparency's: the heads of all chains, an RFC 6962 Merkle root over them,
-- the previous anchor's hash, the time and the Ed25519 key id. The private key never enters the database.
CREATE TABLE audit_anchors (
    anchor_seq       bigint      PRIMARY KEY CHECK (anchor_seq >= 1),
    kind             text        NOT NULL CHECK (kind IN ('periodic', 'retention')),
    created_at       timestamptz NOT NULL,
    retention_cut    timestamptz,                      -- retention anchors: entries with chain_time before it are gone
    keep_days        int,                              -- retention anchors: the policy that was applied
    chain_count      int         NOT NULL,
    merkle_root      bytea       NOT NULL,
    prev_anchor_hash bytea       NOT NULL,
    anchor_hash      bytea       NOT NULL,
    key_id           text        NOT NULL,
    signature        bytea       NOT NULL,
    CHECK ((kind = 'retention') = (retention_cut IS NOT NULL))
);

-- The leaves of an anchor. Periodic anchors: each chain's last entry. Retention anchors: each chain's last removed
-- entry (the chain continues at head_seq + 1 with prev_hash = head_hash).
CREATE TABLE audit_anchor_heads (
    anchor_seq         bigint      NOT NULL REFERENCES audit_anchors (anchor_seq),
    chain_id           text        NOT NULL,
    head_seq           bigint      NOT NULL,
    head_hash          bytea       NOT NULL,
    head_chain_time    timestamptz NOT NULL,
    head_source_offset bigint      NOT NULL,
    PRIMARY KEY (anchor_seq, chain_id)
);

-- ------------------------------------------------------------------------------------------------- append-only

CREATE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'ROW' AND TG_TABLE_NAME LIKE 'audit_events%' THEN
        RAISE EXCEPTION 'audit ledger is append-only: % of chain % seq % rejected', TG_OP, OLD.chain_id, OLD.seq
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RAISE EXCEPTION 'audit ledger is append-only: % on % rejected', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

-- Idempotent insert with fork detection: an entry identical (same hash) to the stored one for its (chain, seq) is
-- skipped, so a replay after a restore is a no-op; a different one is a fork and fails loudly. (A BEFORE INSERT
-- trigger instead of ON CONFLICT DO UPDATE keeps the pipeline role free of any UPDATE privilege.)
CREATE FUNCTION audit_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    existing bytea;
BEGIN
    SELECT e.hash INTO existing FROM audit_events e
        WHERE e.chain_id = NEW.chain_id AND e.seq = NEW.seq AND e.chain_time = NEW.chain_time;
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

CREATE TRIGGER audit_events_guard_insert BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_guard_insert();
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE ON audit_anchors
    FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER audit_anchor_heads_append_only BEFORE UPDATE OR DELETE ON audit_anchor_heads
    FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER audit_anchor_heads_no_truncate BEFORE TRUNCATE ON audit_anchor_heads
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();

-- ------------------------------------------------------------------------------------------------- partitions

-- Creates the day partitions for p_day and the day after (so midnight never waits for DDL); returns how many it
-- created. The sink calls it before it writes the first entry of a day, so an insert never lacks its partition.
-- SECURITY DEFINER: the pipeline role may call it without any DDL privilege of its own.
CREATE FUNCTION audit_ensure_partition(p_day date) RETURNS int
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
            IF to_regclass(part) IS NULL THEN
                EXECUTE format('CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)', part,
                    (d::timestamp AT TIME ZONE 'UTC'), ((d + 1)::timestamp AT TIME ZONE 'UTC'));
                -- Statement triggers are not inherited: TRUNCATE of a partition needs its own guard.
                EXECUTE format('CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON %I '
                    'FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()', part);
                created := created + 1;
            END IF;
        END IF;
    END LOOP;
    RETURN created;
END $$;

-- The day partitions, oldest first.
CREATE VIEW audit_partitions AS
SELECT c.relname::text AS partition_name,
       to_date(substr(c.relname, length('audit_events_p') + 1), 'YYYYMMDD') AS day
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'audit_events'::regclass AND c.relname ~ '^audit_events_p[0-9]{8}$'
ORDER BY 2;

-- The retention procedure: drops every whole day partition before p_cut (entries with chain_time < p_cut) and
-- returns the dropped partitions. Refuses unless a retention anchor for exactly this cut exists, so nothing is
-- removed without a signed record of the chain heads at the cut.
CREATE FUNCTION audit_drop_partitions_before(p_cut date) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    p record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_anchors
                   WHERE kind = 'retention' AND retention_cut = (p_cut::timestamp AT TIME ZONE 'UTC')) THEN
        RAISE EXCEPTION 'no retention anchor for the cut % : run bin/horizons audit retention', p_cut;
    END IF;
    FOR p IN SELECT partition_name, day FROM audit_partitions WHERE day < p_cut LOOP
        EXECUTE format('DROP TABLE %I', p.partition_name);
        RETURN NEXT p.partition_name;
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION audit_drop_partitions_before(date) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_ensure_partition(date) FROM PUBLIC;

-- ------------------------------------------------------------------------------------------------- SQL-level check

-- One canonical field: <byte length>:<UTF-8 bytes>, or ~ for null (the same as CanonicalRecord.java).
CREATE FUNCTION audit_field(t text) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN t IS NULL THEN '\x7e'::bytea
                ELSE convert_to(octet_length(convert_to(t, 'UTF8'))::text || ':', 'UTF8') || convert_to(t, 'UTF8') END
$$;

CREATE FUNCTION audit_millis(ts timestamptz) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (extract(epoch FROM ts) * 1000)::bigint::text
$$;

-- The canonical bytes of an entry: what hash = sha256(prev_hash || audit_canonical(e)) covers.
CREATE FUNCTION audit_canonical(e audit_events) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT audit_field(e.chain_id) || audit_field(e.seq::text) || audit_field(audit_millis(e.chain_time))
        || audit_field(e.source_topic) || audit_field(e.source_offset::text)
        || audit_field(audit_millis(e.kafka_timestamp)) || audit_field(e.event_id) || audit_field(e.event_type)
        || audit_field(e.job_id) || audit_field(e.actor) || audit_field(e.correlation_id)
        || audit_field(audit_millis(e.occurred_at)) || audit_field(e.payload)
$$;

-- HMAC-SHA256 with core sha256() only (no pgcrypto needed).
CREATE FUNCTION audit_hmac_sha256(p_key bytea, p_message bytea) RETURNS bytea LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    k bytea := CASE WHEN length(p_key) > 64 THEN sha256(p_key) ELSE p_key END;
    inner_pad bytea;
    outer_pad bytea;
BEGIN
    k := k || decode(repeat('00', 64 - length(k)), 'hex');
    inner_pad := k;
    outer_pad := k;
    FOR i IN 0..63 LOOP
        inner_pad := set_byte(inner_pad, i, get_byte(k, i) # 54);   -- 0x36
        outer_pad := set_byte(outer_pad, i, get_byte(k, i) # 92);   -- 0x5c
    END LOOP;
    RETURN sha256(outer_pad || sha256(inner_pad || p_message));
END $$;

-- Where each chain starts: after its head in the latest retention anchor, else at seq 0 with 32 zero bytes.
CREATE VIEW audit_chain_starts AS
SELECT h.chain_id, h.head_seq + 1 AS first_seq, h.head_hash AS first_prev_hash
FROM audit_anchor_heads h
WHERE h.anchor_seq = (SELECT max(anchor_seq) FROM audit_anchors WHERE kind = 'retention');

-- Per entry: does its hash recompute, does it link to its predecessor, is its seq the next one?
CREATE VIEW audit_entry_check AS
SELECT e.chain_id, e.seq, e.hash, e.mac, e.key_id,
       sha256(e.prev_hash || audit_canonical(e)) = e.hash AS hash_ok,
       e.prev_hash = coalesce(lag(e.hash) OVER w, s.first_prev_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea) AS link_ok,
       e.seq = coalesce(lag(e.seq) OVER w + 1, s.first_seq, 0) AS seq_ok
FROM audit_events e
LEFT JOIN audit_chain_starts s ON s.chain_id = e.chain_id
WINDOW w AS (PARTITION BY e.chain_id ORDER BY e.seq);

-- For a DBA, without the CLI: SELECT * FROM audit_verify();  -- or audit_verify(decode('<base64 key>', 'base64'))
-- One row per chain: entries checked, the first broken seq and what is wrong there (NULL when the chain is intact).
-- MACs are checked when the key is given. Anchors and their Ed25519 signatures need the CLI (bin/horizons audit
-- verify); so does protection against someone who can also replace these functions.
CREATE FUNCTION audit_verify(p_mac_key bytea DEFAULT NULL)
RETURNS TABLE (chain_id text, entries bigint, last_seq bigint, first_broken_seq bigint, problem text)
LANGUAGE sql STABLE AS $$
    WITH checked AS (
        SELECT c.chain_id, c.seq, c.hash_ok, c.link_ok, c.seq_ok,
               p_mac_key IS NULL OR audit_hmac_sha256(p_mac_key, c.hash) = c.mac AS mac_ok
        FROM audit_entry_check c
    ), first_bad AS (
        SELECT DISTINCT ON (chain_id) chain_id, seq,
               CASE WHEN NOT seq_ok THEN 'sequence gap or duplicate before this entry'
                    WHEN NOT link_ok THEN 'prev_hash does not match the previous entry''s hash'
                    WHEN NOT hash_ok THEN 'hash does not match the entry''s content'
                    ELSE 'MAC does not match (content or hash changed without the key)' END AS problem
        FROM checked
        WHERE NOT (seq_ok AND link_ok AND hash_ok AND mac_ok)
        ORDER BY chain_id, seq
    )
    SELECT c.chain_id, count(*), max(c.seq), b.seq, b.problem
    FROM checked c LEFT JOIN first_bad b USING (chain_id)
    GROUP BY c.chain_id, b.seq, b.problem
    ORDER BY c.chain_id
$$;

-- ------------------------------------------------------------------------------------------------- pipeline role

-- The audit job's role: INSERT and SELECT only, plus creating day partitions through the function above. Created
-- here only if the migrating user may create roles (otherwise a DBA creates it and re-runs the GRANTs below). It is
-- NOLOGIN: grant it to the audit job's login (GRANT horizons_audit_writer TO <login>).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'horizons_audit_writer') THEN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolcreaterole)) THEN
            CREATE ROLE horizons_audit_writer NOLOGIN;
        ELSE
            RAISE NOTICE 'Role horizons_audit_writer not created: % may not create roles. A DBA can create it '
                'and grant it INSERT, SELECT on audit_events and EXECUTE on audit_ensure_partition(date).', current_user;
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'horizons_audit_writer') THEN
        GRANT SELECT, INSERT ON audit_events TO horizons_audit_writer;
        GRANT SELECT ON audit_anchors, audit_anchor_heads TO horizons_audit_writer;
        GRANT EXECUTE ON FUNCTION audit_ensure_partition(date) TO horizons_audit_writer;
    END IF;
END $$;
