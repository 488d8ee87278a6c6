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
