-- Metrics job outputs (horizons-metrics). Written by flink-connector-jdbc as idempotent upserts whose content is a
-- function of the events (event times, never the wall clock), so a replay after a restore writes the same rows.

-- One row per job and event-time window (1 minute by default).
CREATE TABLE job_metrics_1m (
    job_id               text             NOT NULL,
    window_start         timestamptz      NOT NULL,
    window_end           timestamptz      NOT NULL,
    sample_count         bigint           NOT NULL,
    cpu_avg              double precision NOT NULL,   -- percent of one core
    cpu_max              double precision NOT NULL,
    rss_peak_bytes       bigint           NOT NULL,
    io_read_delta_bytes  bigint           NOT NULL,   -- counter resets handled
    io_write_delta_bytes bigint           NOT NULL,
    io_read_rate_bps     double precision NOT NULL,
    io_write_rate_bps    double precision NOT NULL,
    updated_at           timestamptz      NOT NULL DEFAULT now(),   -- wall clock of the write; not part of the content
    PRIMARY KEY (job_id, window_start)
);
CREATE INDEX job_metrics_1m_window_idx ON job_metrics_1m (window_start);

-- One row per ended job. Late samples (within the grace period) and late earlier lifecycle steps update it; an update
-- never replaces a summary built from more samples or a newer status.
CREATE TABLE job_summary (
    job_id                text             PRIMARY KEY,
    user_id               text             NOT NULL,
    hpc_system            text,
    queue                 text,
    pipeline              text,
    final_status          text             NOT NULL CHECK (final_status IN ('COMPLETED','FAILED','CANCELLED')),
    status_version        int              NOT NULL,
    requested_cores       int,
    requested_walltime_ms bigint,
    submitted_at          timestamptz,
    queued_at             timestamptz,
    started_at            timestamptz,
    ended_at              timestamptz      NOT NULL,
    queue_wait_ms         bigint,
    run_ms                bigint,
    sample_count          bigint           NOT NULL,
    late_sample_count     bigint           NOT NULL,
    cpu_seconds           double precision NOT NULL,
    peak_rss_bytes        bigint,
    io_read_bytes         bigint           NOT NULL,
    io_write_bytes        bigint           NOT NULL,
    efficiency            double precision,          -- cpu_seconds / (requested_cores x run seconds)
    updated_at            timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX job_summary_system_idx ON job_summary (hpc_system, ended_at);
CREATE INDEX job_summary_user_idx ON job_summary (user_id, ended_at);

-- Per minute and HPC system (scope 'system') or user (scope 'user'). Percentiles come from KLL sketches (k = 200:
-- rank error about 1.33 % with 99 % confidence); the sketches are kept so that minutes can be merged later.
CREATE TABLE fleet_stats_1m (
    scope              text             NOT NULL CHECK (scope IN ('system','user')),
    subject            text             NOT NULL,
    minute_start       timestamptz      NOT NULL,
    submitted          int              NOT NULL,
    started            int              NOT NULL,
    completed          int              NOT NULL,
    failed             int              NOT NULL,
    cancelled          int              NOT NULL,
    failure_rate       double precision,             -- failed / (completed + failed)
    queued             bigint           NOT NULL,    -- at the end of the minute
    running            bigint           NOT NULL,
    queue_wait_count   bigint           NOT NULL,
    queue_wait_p50_ms  double precision,
    queue_wait_p95_ms  double precision,
    queue_wait_p99_ms  double precision,
    run_count          bigint           NOT NULL,
    run_p50_ms         double precision,
    run_p95_ms         double precision,
    run_p99_ms         double precision,
    queue_wait_sketch  bytea,
    run_sketch         bytea,
    updated_at         timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, subject, minute_start)
);
CREATE INDEX fleet_stats_1m_minute_idx ON fleet_stats_1m (minute_start);

-- Alerts, one row per episode (alert_id = name-based UUID of type, subject and episode start). An alert moves from
-- OPEN to RESOLVED, never back; a replayed OPEN does not overwrite its RESOLVED.
CREATE TABLE alerts (
    alert_id     text             PRIMARY KEY,
    alert_type   text             NOT NULL,
    severity     text             NOT NULL,
    state        text             NOT NULL CHECK (state IN ('OPEN','RESOLVED')),
    subject      text             NOT NULL,
    hpc_system   text,
    message      text             NOT NULL,
    value        double precision,
    threshold    double precision,
    opened_at    timestamptz      NOT NULL,
    updated_at   timestamptz      NOT NULL,   -- of the alert record: event time for job and rate alerts, wall clock for lag
    resolved_at  timestamptz,
    written_at   timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX alerts_open_idx ON alerts (state, alert_type);
CREATE INDEX alerts_subject_idx ON alerts (subject, opened_at DESC);
