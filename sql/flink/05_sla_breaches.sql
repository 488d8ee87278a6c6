-- The jobs that breached their SLA (view analytics_sla_breaches; SLAs in table analytics_sla): a summary per breach
-- kind and HPC system, then the 20 worst breaches.
--   bin/horizons sql -f sql/flink/05_sla_breaches.sql
SELECT breach, hpc_system, COUNT(*) AS jobs, MAX(over_ms) AS worst_over_ms
FROM analytics_sla_breaches
GROUP BY breach, hpc_system
ORDER BY breach, hpc_system;

SELECT job_id, user_id, hpc_system, queue, breach, actual_ms, limit_ms, over_ms
FROM analytics_sla_breaches
ORDER BY over_ms DESC, job_id, breach
LIMIT 20;
