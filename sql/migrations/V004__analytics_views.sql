-- Analytics views for operators and analysts (docs/RUNBOOK.md, "Analytics"). Generated from sql/analytics/*.sql,
-- which stay the readable source: AnalyticsViewsITCase checks that this migration holds each of them verbatim. To change
-- a view later, edit its file and add a new migration with the new CREATE OR REPLACE VIEW (never edit this one).

-- ===================================================================== analytics/01_pipeline_failures.sql
-- Which pipelines fail most? One row per pipeline, over every job that has ended (job_status, written by the
-- lifecycle job). failure_rate = failed / (completed + failed): cancelled jobs say nothing about the pipeline.
--   SELECT * FROM analytics_pipeline_failures ORDER BY failed DESC, pipeline LIMIT 10;
CREATE OR REPLACE VIEW analytics_pipeline_failures AS
WITH ended AS (
    SELECT coalesce(pipeline, '(none)') AS pipeline, status, error_code
    FROM job_status
    WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED')
), top_errors AS (
    -- The most frequent error code of each pipeline's failures (ties: the alphabetically first).
    SELECT DISTINCT ON (pipeline) pipeline, error_code, count(*) AS error_count
    FROM ended
    WHERE status = 'FAILED' AND error_code IS NOT NULL
    GROUP BY pipeline, error_code
    ORDER BY pipeline, count(*) DESC, error_code
)
SELECT e.pipeline,
       count(*) AS jobs_ended,
       count(*) FILTER (WHERE e.status = 'COMPLETED') AS completed,
       count(*) FILTER (WHERE e.status = 'FAILED') AS failed,
       count(*) FILTER (WHERE e.status = 'CANCELLED') AS cancelled,
       (count(*) FILTER (WHERE e.status = 'FAILED'))::double precision
           / nullif(count(*) FILTER (WHERE e.status IN ('COMPLETED', 'FAILED')), 0) AS failure_rate,
       t.error_code AS top_error_code,
       t.error_count AS top_error_count
FROM ended e
LEFT JOIN top_errors t USING (pipeline)
GROUP BY e.pipeline, t.error_code, t.error_count;

-- ===================================================================== analytics/02_queue_wait_daily.sql
-- p95 queue wait per HPC system per day (UTC day of entering the queue). queue_wait_ms is started - queued, or
-- ended - queued for a job that left the queue without running (cancelled or failed while queued).
-- percentile_cont interpolates linearly between the two nearest waits.
--   SELECT * FROM analytics_queue_wait_daily ORDER BY day, hpc_system;
CREATE OR REPLACE VIEW analytics_queue_wait_daily AS
SELECT hpc_system,
       (queued_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS jobs,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY queue_wait_ms) AS p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY queue_wait_ms) AS p95_ms,
       max(queue_wait_ms) AS max_ms
FROM job_status
WHERE queue_wait_ms IS NOT NULL AND queued_at IS NOT NULL
GROUP BY hpc_system, (queued_at AT TIME ZONE 'UTC')::date;

-- ===================================================================== analytics/03_user_cancellations.sql
-- Which users have the most cancelled jobs? Users with at least one cancellation, over the jobs that have ended.
-- Times are UTC (timestamp without time zone, so Flink SQL reads them unchanged).
--   SELECT * FROM analytics_user_cancellations ORDER BY cancelled DESC, user_id LIMIT 10;
CREATE OR REPLACE VIEW analytics_user_cancellations AS
SELECT user_id,
       count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled,
       count(*) FILTER (WHERE status = 'CANCELLED' AND started_at IS NULL) AS cancelled_before_start,
       count(*) AS jobs_ended,
       (count(*) FILTER (WHERE status = 'CANCELLED'))::double precision / count(*) AS cancellation_rate,
       max(ended_at AT TIME ZONE 'UTC') FILTER (WHERE status = 'CANCELLED') AS last_cancelled_at
FROM job_status
WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED')
GROUP BY user_id
HAVING count(*) FILTER (WHERE status = 'CANCELLED') > 0;

-- ===================================================================== analytics/04_audit_trail.sql
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

-- ===================================================================== analytics/05_sla_breaches.sql
-- Which jobs breached their SLA? The SLAs are rows of analytics_sla, per HPC system and queue ('*' = any); the most
-- specific row wins (system and queue, then system, then queue, then the default). The default matches the metrics
-- job's live alerts: STUCK_QUEUED after health.queue-sla (1h), STUCK_RUNNING after the requested walltime plus
-- health.walltime-grace (15m). One row per job and breach:
--   QUEUE_WAIT  queue_wait_ms > max_queue_wait
--   WALLTIME    run_ms > requested_walltime_ms + walltime_grace
--   SELECT * FROM analytics_sla_breaches ORDER BY over_ms DESC LIMIT 20;
--   INSERT INTO analytics_sla VALUES ('gadi', 'express', interval '10 minutes', interval '5 minutes');
CREATE TABLE IF NOT EXISTS analytics_sla (
    hpc_system     text     NOT NULL DEFAULT '*',
    queue          text     NOT NULL DEFAULT '*',
    max_queue_wait interval NOT NULL CHECK (max_queue_wait > interval '0'),
    walltime_grace interval NOT NULL CHECK (walltime_grace >= interval '0'),
    PRIMARY KEY (hpc_system, queue)
);
INSERT INTO analytics_sla (hpc_system, queue, max_queue_wait, walltime_grace)
VALUES ('*', '*', interval '1 hour', interval '15 minutes')
ON CONFLICT DO NOTHING;

CREATE OR REPLACE VIEW analytics_sla_breaches AS
WITH jobs AS (
    SELECT j.job_id, j.user_id, j.hpc_system, j.queue, j.pipeline, j.status, j.queued_at, j.started_at,
           j.queue_wait_ms, j.run_ms, j.requested_walltime_ms,
           (extract(epoch FROM s.max_queue_wait) * 1000)::bigint AS max_queue_wait_ms,
           (extract(epoch FROM s.walltime_grace) * 1000)::bigint AS walltime_grace_ms
    FROM job_status j
    CROSS JOIN LATERAL (
        SELECT sla.max_queue_wait, sla.walltime_grace
        FROM analytics_sla sla
        WHERE sla.hpc_system IN (coalesce(j.hpc_system, '*'), '*') AND sla.queue IN (coalesce(j.queue, '*'), '*')
        ORDER BY sla.hpc_system = '*', sla.queue = '*'
        LIMIT 1
    ) s
)
SELECT job_id, user_id, hpc_system, queue, pipeline, status,
       'QUEUE_WAIT'::text AS breach,
       queue_wait_ms AS actual_ms,
       max_queue_wait_ms AS limit_ms,
       queue_wait_ms - max_queue_wait_ms AS over_ms,
       queued_at AT TIME ZONE 'UTC' AS since
FROM jobs
WHERE queue_wait_ms > max_queue_wait_ms
UNION ALL
SELECT job_id, user_id, hpc_system, queue, pipeline, status,
       'WALLTIME'::text,
       run_ms,
       requested_walltime_ms + walltime_grace_ms,
       run_ms - (requested_walltime_ms + walltime_grace_ms),
       started_at AT TIME ZONE 'UTC'
FROM jobs
WHERE run_ms > requested_walltime_ms + walltime_grace_ms;

-- ===================================================================== analytics/06_chain_verification.sql
-- Is the audit ledger intact? Per chain (analytics_chain_status) and in one row (analytics_chain_verification),
-- from audit_verify() of the ledger migration: every entry's hash recomputes, links to its predecessor, and its seq
-- follows without gaps. MACs need the key and are checked by bin/horizons audit verify (or audit_verify(key)).
-- unanchored_entries: entries after the chain's head in the latest signed anchor (not yet covered by a signature).
--   SELECT * FROM analytics_chain_verification;
--   SELECT * FROM analytics_chain_status WHERE problem IS NOT NULL;
CREATE OR REPLACE VIEW analytics_chain_status AS
WITH latest_heads AS (
    SELECT h.chain_id, h.head_seq
    FROM audit_anchor_heads h
    WHERE h.anchor_seq = (SELECT max(anchor_seq) FROM audit_anchors)
)
SELECT v.chain_id,
       v.entries,
       v.last_seq,
       v.first_broken_seq,
       v.problem,
       h.head_seq AS anchored_seq,
       greatest(0, v.last_seq - coalesce(h.head_seq, v.last_seq - v.entries)) AS unanchored_entries
FROM audit_verify() v
LEFT JOIN latest_heads h USING (chain_id);

CREATE OR REPLACE VIEW analytics_chain_verification AS
SELECT count(*) AS chains,
       count(*) FILTER (WHERE problem IS NULL) AS intact_chains,
       count(*) FILTER (WHERE problem IS NOT NULL) AS broken_chains,
       coalesce(sum(entries), 0)::bigint AS entries,
       coalesce(sum(unanchored_entries), 0)::bigint AS unanchored_entries,
       (SELECT max(anchor_seq) FROM audit_anchors) AS latest_anchor_seq,
       (SELECT max(created_at) AT TIME ZONE 'UTC' FROM audit_anchors) AS latest_anchor_at,
       string_agg(chain_id || ' seq ' || first_broken_seq || ': ' || problem, '; ' ORDER BY chain_id)
           FILTER (WHERE problem IS NOT NULL) AS problems
FROM analytics_chain_status;
