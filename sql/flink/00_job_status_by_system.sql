-- Jobs per HPC system and status, straight from the job_status table (Flink aggregates; PostgreSQL only scans).
--   bin/horizons sql -f sql/flink/00_job_status_by_system.sql
SELECT hpc_system,
       status,
       COUNT(*) AS jobs,
       AVG(run_ms) AS avg_run_ms,
       MAX(ended_at) AS last_ended_at
FROM job_status
GROUP BY hpc_system, status
ORDER BY hpc_system, status;
