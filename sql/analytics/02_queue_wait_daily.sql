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
