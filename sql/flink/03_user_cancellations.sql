-- The users with the most cancelled jobs (view analytics_user_cancellations).
--   bin/horizons sql -f sql/flink/03_user_cancellations.sql
SELECT user_id, cancelled, cancelled_before_start, jobs_ended, cancellation_rate, last_cancelled_at
FROM analytics_user_cancellations
ORDER BY cancelled DESC, user_id
LIMIT 10;
