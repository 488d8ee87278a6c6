-- Lifecycle job outputs. Written by flink-connector-jdbc as idempotent upserts (at-least-once delivery, exactly-once
-- content): a replayed or older event never overwrites a newer status, because `version` only grows.

CREATE TABLE job_status (
    job_id                text        PRIMARY KEY,
    status                text        NOT NULL CHECK (status IN ('SUBMITTED','QUEUED','RUNNING','COMPLETED','FAILED','CANCELLED')),
    version               int         NOT NULL,          -- lifecycle events applied so far
    user_id               text        NOT NULL,
    correlation_id        text        NOT NULL,
    hpc_system            text,
    queue                 text,
    pipeline              text,
    requested_cores       int,
    requested_walltime_ms bigint,
    hpc_job_id            text,
    submitted_at          timestamptz,
    queued_at             timestamptz,
    started_at            timestamptz,
    ended_at              timestamptz,
    queue_wait_ms         bigint,
    run_ms                bigint,
    exit_code             int,
    error_code            text,
    error_message         text,
    last_event_id         text        NOT NULL,
    last_event_at         timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL DEFAULT now()   -- wall clock of the write; not part of the content
);
CREATE INDEX job_status_status_idx ON job_status (status);
CREATE INDEX job_status_user_idx ON job_status (user_id);
CREATE INDEX job_status_system_idx ON job_status (hpc_system, status);
CREATE INDEX job_status_ended_idx ON job_status (ended_at);

-- In-app notifications, one per job end, upserted by the deterministic notification_id.
CREATE TABLE notifications (
    notification_id   text        PRIMARY KEY,
    job_id            text        NOT NULL,
    user_id           text        NOT NULL,
    correlation_id    text        NOT NULL,
    kind              text        NOT NULL CHECK (kind IN ('COMPLETED','FAILED','CANCELLED')),
    channels          text[]      NOT NULL,
    title             text        NOT NULL,
    message           text        NOT NULL,
    pipeline          text,
    execution_time_ms bigint,
    output_ref        text,
    error_code        text,
    error_message     text,
    retryable         boolean,
    cancel_reason     text,
    cancelled_by      text,
    occurred_at       timestamptz NOT NULL,
    read_at           timestamptz,                       -- set by the app when the user reads it; never by the pipeline
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_user_idx ON notifications (user_id, occurred_at DESC);
CREATE INDEX notifications_job_idx ON notifications (job_id);
