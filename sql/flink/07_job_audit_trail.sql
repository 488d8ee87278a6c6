-- The audit trail of one job, in order (view analytics_audit_trail).
--   bin/horizons sql -f sql/flink/07_job_audit_trail.sql --var job_id=<id>
SELECT occurred_at, event_type, actor, correlation_id, chain_id, seq
FROM analytics_audit_trail
WHERE job_id = '${job_id}'
ORDER BY occurred_at, chain_id, seq;
