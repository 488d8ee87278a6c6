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
