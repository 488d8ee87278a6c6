-- p95 (and p50, max) queue wait per HPC system per day, in milliseconds (view analytics_queue_wait_daily).
--   bin/horizons sql -f sql/flink/02_queue_wait_p95.sql --format csv
SELECT `day`, hpc_system, jobs, p50_ms, p95_ms, max_ms
FROM analytics_queue_wait_daily
ORDER BY `day`, hpc_system;
