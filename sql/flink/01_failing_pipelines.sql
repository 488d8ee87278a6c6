-- The pipelines that fail most (view analytics_pipeline_failures; failure_rate = failed / (completed + failed)).
--   bin/horizons sql -f sql/flink/01_failing_pipelines.sql
SELECT pipeline, failed, completed, cancelled, jobs_ended, failure_rate, top_error_code, top_error_count
FROM analytics_pipeline_failures
ORDER BY failed DESC, pipeline
LIMIT 10;
