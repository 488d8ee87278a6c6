package io.cosmichorizons.pipeline.lifecycle;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.pipeline.io.AvroRecordSerializer;
import io.cosmichorizons.pipeline.io.CloseTolerantJdbcSink;
import io.cosmichorizons.pipeline.io.DeadLetterRouting;
import io.cosmichorizons.pipeline.io.Jdbc;
import io.cosmichorizons.pipeline.io.KafkaOutputs;
import java.sql.Array;
import java.sql.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.connector.jdbc.core.datastream.sink.JdbcSink;

/**
 * The lifecycle job's four outputs. Tests swap any of them for collecting sinks.
 *
 * <p>PostgreSQL outputs use flink-connector-jdbc at-least-once with idempotent upserts whose content is deterministic
 * under replay: job_status only moves to a higher {@code version}, and a notification is keyed by its deterministic
 * id. A row written twice (before and after a restore) therefore ends up identical.
 */
public record LifecycleSinks(
        Sink<JobStatus> jobStatus, Sink<Notification> notificationsTopic, Sink<Notification> notificationsTable,
        Sink<DeadLetter> deadLetters) {

    static final String UPSERT_JOB_STATUS = """
            INSERT INTO job_status (job_id, status, version, user_id, correlation_id, hpc_system, queue, pipeline,
                requested_cores, requested_walltime_ms, hpc_job_id, submitted_at, queued_at, started_at, ended_at,
                queue_wait_ms, run_ms, exit_code, error_code, error_message, last_event_id, last_event_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())
            ON CONFLICT (job_id) DO UPDATE SET status = EXCLUDED.status, version = EXCLUDED.version,
                user_id = EXCLUDED.user_id, correlation_id = EXCLUDED.correlation_id, hpc_system = EXCLUDED.hpc_system,
                queue = EXCLUDED.queue, pipeline = EXCLUDED.pipeline, requested_cores = EXCLUDED.requested_cores,
                requested_walltime_ms = EXCLUDED.requested_walltime_ms, hpc_job_id = EXCLUDED.hpc_job_id,
                submitted_at = EXCLUDED.submitted_at, queued_at = EXCLUDED.queued_at, started_at = EXCLUDED.started_at,
                ended_at = EXCLUDED.ended_at, queue_wait_ms = EXCLUDED.queue_wait_ms, run_ms = EXCLUDED.run_ms,
                exit_code = EXCLUDED.exit_code, error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message,
                last_event_id = EXCLUDED.last_event_id, last_event_at = EXCLUDED.last_event_at, updated_at = now()
            WHERE job_status.version < EXCLUDED.version""";

    static final String UPSERT_NOTIFICATION = """
            INSERT INTO notifications (notification_id, job_id, user_id, correlation_id, kind, channels, title, message,
                pipeline, execution_time_ms, output_ref, error_code, error_message, retryable, cancel_reason,
                cancelled_by, occurred_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (notification_id) DO UPDATE SET channels = EXCLUDED.channels, title = EXCLUDED.title,
                message = EXCLUDED.message""";

    /** The production sinks: PostgreSQL upserts, and transactional Kafka topics. */
    public static LifecycleSinks production(LifecycleJobConfig config) {
        var common = config.common();
        Sink<JobStatus> status = CloseTolerantJdbcSink.of(JdbcSink.<JobStatus>builder()
                .withQueryStatement(UPSERT_JOB_STATUS, (ps, s) -> {
                    ps.setString(1, s.getJobId());
                    ps.setString(2, s.getStatus().name());
                    ps.setInt(3, s.getVersion());
                    ps.setString(4, s.getUserId());
                    ps.setString(5, s.getCorrelationId());
                    ps.setString(6, s.getHpcSystem());
                    ps.setString(7, s.getQueue());
                    ps.setString(8, s.getPipeline());
                    setInt(ps, 9, s.getRequestedCores());
                    setLong(ps, 10, s.getRequestedWalltimeMs());
                    ps.setString(11, s.getHpcJobId());
                    ps.setTimestamp(12, Jdbc.timestamp(s.getSubmittedAt()));
                    ps.setTimestamp(13, Jdbc.timestamp(s.getQueuedAt()));
                    ps.setTimestamp(14, Jdbc.timestamp(s.getStartedAt()));
                    ps.setTimestamp(15, Jdbc.timestamp(s.getEndedAt()));
                    setLong(ps, 16, s.getQueueWaitMs());
                    setLong(ps, 17, s.getRunMs());
                    setInt(ps, 18, s.getExitCode());
                    ps.setString(19, s.getErrorCode());
                    ps.setString(20, s.getErrorMessage());
                    ps.setString(21, s.getLastEventId());
                    ps.setTimestamp(22, Jdbc.timestamp(s.getLastEventAt()));
                })
                .withExecutionOptions(Jdbc.batching(common))
                .buildAtLeastOnce(Jdbc.connection(common)));
        Sink<Notification> table = CloseTolerantJdbcSink.of(JdbcSink.<Notification>builder()
                .withQueryStatement(UPSERT_NOTIFICATION, (ps, n) -> {
                    ps.setString(1, n.getNotificationId());
                    ps.setString(2, n.getJobId());
                    ps.setString(3, n.getUserId());
                    ps.setString(4, n.getCorrelationId());
                    ps.setString(5, n.getKind().name());
                    Array channels = ps.getConnection().createArrayOf("text",
                            n.getChannels().stream().map(Enum::name).toArray());
                    ps.setArray(6, channels);
                    ps.setString(7, n.getTitle());
                    ps.setString(8, n.getMessage());
                    ps.setString(9, n.getPipeline());
                    setLong(ps, 10, n.getExecutionTimeMs());
                    ps.setString(11, n.getOutputRef());
                    ps.setString(12, n.getErrorCode());
                    ps.setString(13, n.getErrorMessage());
                    if (n.getRetryable() == null) {
                        ps.setNull(14, Types.BOOLEAN);
                    } else {
                        ps.setBoolean(14, n.getRetryable());
                    }
                    ps.setString(15, n.getCancelReason());
                    ps.setString(16, n.getCancelledBy());
                    ps.setTimestamp(17, Jdbc.timestamp(n.getOccurredAt()));
                })
                .withExecutionOptions(Jdbc.batching(common))
                .buildAtLeastOnce(Jdbc.connection(common)));
        Sink<Notification> topic = KafkaOutputs.exactlyOnce(common,
                AvroRecordSerializer.<Notification>keyedBy(config.notificationsTopic(), Notification::getJobId),
                "horizons-lifecycle-notifications");
        Sink<DeadLetter> deadLetters = DeadLetterRouting.sink(common, "horizons-lifecycle-dlq");
        return new LifecycleSinks(status, topic, table, deadLetters);
    }

    private static void setInt(java.sql.PreparedStatement ps, int index, Integer value) throws java.sql.SQLException {
        if (value == null) {
            ps.setNull(index, Types.INTEGER);
        } else {
            ps.setInt(index, value);
        }
    }

    private static void setLong(java.sql.PreparedStatement ps, int index, Long value) throws java.sql.SQLException {
        if (value == null) {
            ps.setNull(index, Types.BIGINT);
        } else {
            ps.setLong(index, value);
        }
    }
}
