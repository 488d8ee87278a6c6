-- The audit trail (audit_events, the hash-chained ledger written by the audit job), for people: per job or per
-- correlation id, in the order things happened. Times are UTC.
--   SELECT * FROM analytics_audit_trail WHERE job_id = '...' ORDER BY occurred_at, chain_id, seq;
--   SELECT * FROM analytics_audit_trail WHERE correlation_id = '...' ORDER BY occurred_at, chain_id, seq;
CREATE OR REPLACE VIEW analytics_audit_trail AS
SELECT correlation_id,
       job_id,
       actor,
       event_type,
       occurred_at AT TIME ZONE 'UTC' AS occurred_at,
       source_topic,
       chain_id,
       seq,
       event_id
FROM audit_events;

-- Who did what under one correlation id (one request and everything it caused)? One row per correlation id and actor.
--   SELECT * FROM analytics_audit_by_actor WHERE correlation_id = '...' ORDER BY events DESC, actor;
--   SELECT * FROM analytics_audit_events_by_actor('...');
CREATE OR REPLACE VIEW analytics_audit_by_actor AS
SELECT correlation_id,
       actor,
       count(*) AS events,
       string_agg(DISTINCT event_type, ',' ORDER BY event_type) AS event_types,
       min(occurred_at AT TIME ZONE 'UTC') AS first_at,
       max(occurred_at AT TIME ZONE 'UTC') AS last_at
FROM audit_events
GROUP BY correlation_id, actor;

CREATE OR REPLACE FUNCTION analytics_audit_events_by_actor(p_correlation_id text)
RETURNS TABLE (actor text, events bigint, event_types text, first_at timestamp, last_at timestamp)
LANGUAGE sql STABLE AS $$
    SELECT a.actor, a.events, a.event_types, a.first_at, a.last_at
    FROM analytics_audit_by_actor a
    WHERE a.correlation_id = p_correlation_id
    ORDER BY a.events DESC, a.actor
$$;
