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
