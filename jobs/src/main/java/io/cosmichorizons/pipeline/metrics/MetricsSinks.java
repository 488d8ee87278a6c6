package io.cosmichorizons.pipeline.metrics;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.MetricsAggregate;
import io.cosmichorizons.events.internal.FleetStats;
import io.cosmichorizons.events.internal.JobSummary;
import io.cosmichorizons.pipeline.io.AvroRecordSerializer;
import io.cosmichorizons.pipeline.io.CloseTolerantJdbcSink;
import io.cosmichorizons.pipeline.io.DeadLetterRouting;
import io.cosmichorizons.pipeline.io.Jdbc;
import io.cosmichorizons.pipeline.io.KafkaOutputs;
import java.nio.ByteBuffer;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.connector.jdbc.core.datastream.sink.JdbcSink;

/**
 * The metrics job's outputs. Tests swap any of them for collecting sinks.
 *
 * <p>Kafka outputs are transactional (EXACTLY_ONCE, each with its own transactional id prefix). PostgreSQL outputs are
 * at-least-once idempotent upserts of deterministic content: a window row and a fleet row are written once per key
 * and are a pure function of the events; a summary never replaces one built from more samples or a newer status; an
 * alert never goes back from RESOLVED to OPEN.
 */
public record MetricsSinks(
        Sink<MetricsAggregate> jobMetricsTable, Sink<MetricsAggregate> aggregatesTopic, Sink<JobSummary> jobSummary,
        Sink<FleetStats> fleetStats, Sink<Alert> alertsTopic, Sink<Alert> alertsTable, Sink<DeadLetter> deadLetters) {

    static final String UPSERT_JOB_METRICS = """
            INSERT INTO job_metrics_1m (job_id, window_start, window_end, sample_count, cpu_avg, cpu_max, rss_peak_bytes,
                io_read_delta_bytes, io_write_delta_bytes, io_read_rate_bps, io_write_rate_bps)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (job_id, window_start) DO UPDATE SET window_end = EXCLUDED.window_end,
                sample_count = EXCLUDED.sample_count, cpu_avg = EXCLUDED.cpu_avg, cpu_max = EXCLUDED.cpu_max,
                rss_peak_bytes = EXCLUDED.rss_peak_bytes, io_read_delta_bytes = EXCLUDED.io_read_delta_bytes,
                io_write_delta_bytes = EXCLUDED.io_write_delta_bytes, io_read_rate_bps = EXCLUDED.io_read_rate_bps,
                io_write_rate_bps = EXCLUDED.io_write_rate_bps, updated_at = now()""";

    static final String UPSERT_JOB_SUMMARY = """
            INSERT INTO job_summary (job_id, user_id, hpc_system, queue, pipeline, final_status, status_version,
                requested_cores, requested_walltime_ms, submitted_at, queued_at, started_at, ended_at, queue_wait_ms,
                run_ms, sample_count, late_sample_count, cpu_seconds, peak_rss_bytes, io_read_bytes, io_write_bytes,
                efficiency)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (job_id) DO UPDATE SET user_id = EXCLUDED.user_id, hpc_system = EXCLUDED.hpc_system,
                queue = EXCLUDED.queue, pipeline = EXCLUDED.pipeline, final_status = EXCLUDED.final_status,
                status_version = EXCLUDED.status_version, requested_cores = EXCLUDED.requested_cores,
                requested_walltime_ms = EXCLUDED.requested_walltime_ms, submitted_at = EXCLUDED.submitted_at,
                queued_at = EXCLUDED.queued_at, started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at,
                queue_wait_ms = EXCLUDED.queue_wait_ms, run_ms = EXCLUDED.run_ms, sample_count = EXCLUDED.sample_count,
                late_sample_count = EXCLUDED.late_sample_count, cpu_seconds = EXCLUDED.cpu_seconds,
                peak_rss_bytes = EXCLUDED.peak_rss_bytes, io_read_bytes = EXCLUDED.io_read_bytes,
                io_write_bytes = EXCLUDED.io_write_bytes, efficiency = EXCLUDED.efficiency, updated_at = now()
            WHERE (job_summary.sample_count, job_summary.status_version)
                <= (EXCLUDED.sample_count, EXCLUDED.status_version)""";

    static final String UPSERT_FLEET_STATS = """
            INSERT INTO fleet_stats_1m (scope, subject, minute_start, submitted, started, completed, failed, cancelled,
                failure_rate, queued, running, queue_wait_count, queue_wait_p50_ms, queue_wait_p95_ms, queue_wait_p99_ms,
                run_count, run_p50_ms, run_p95_ms, run_p99_ms, queue_wait_sketch, run_sketch)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (scope, subject, minute_start) DO UPDATE SET submitted = EXCLUDED.submitted,
                started = EXCLUDED.started, completed = EXCLUDED.completed, failed = EXCLUDED.failed,
                cancelled = EXCLUDED.cancelled, failure_rate = EXCLUDED.failure_rate, queued = EXCLUDED.queued,
                running = EXCLUDED.running, queue_wait_count = EXCLUDED.queue_wait_count,
                queue_wait_p50_ms = EXCLUDED.queue_wait_p50_ms, queue_wait_p95_ms = EXCLUDED.queue_wait_p95_ms,
                queue_wait_p99_ms = EXCLUDED.queue_wait_p99_ms, run_count = EXCLUDED.run_count,
                run_p50_ms = EXCLUDED.run_p50_ms, run_p95_ms = EXCLUDED.run_p95_ms, run_p99_ms = EXCLUDED.run_p99_ms,
                queue_wait_sketch = EXCLUDED.queue_wait_sketch, run_sketch = EXCLUDED.run_sketch, updated_at = now()""";

    /** OPEN -> RESOLVED only; within a state the later record wins. */
    static final String UPSERT_ALERT = """
            INSERT INTO alerts (alert_id, alert_type, severity, state, subject, hpc_system, message, value, threshold,
                opened_at, updated_at, resolved_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (alert_id) DO UPDATE SET state = EXCLUDED.state, message = EXCLUDED.message,
                value = EXCLUDED.value, threshold = EXCLUDED.threshold, updated_at = EXCLUDED.updated_at,
                resolved_at = EXCLUDED.resolved_at, written_at = now()
            WHERE (alerts.state = 'OPEN' AND EXCLUDED.state = 'RESOLVED')
                OR (alerts.state = EXCLUDED.state AND alerts.updated_at <= EXCLUDED.updated_at)""";

    /** The production sinks: PostgreSQL upserts, and transactional Kafka topics. */
    public static MetricsSinks production(MetricsJobConfig config) {
        var common = config.common();
        Sink<MetricsAggregate> jobMetrics = CloseTolerantJdbcSink.of(JdbcSink.<MetricsAggregate>builder()
                .withQueryStatement(UPSERT_JOB_METRICS, (ps, a) -> {
                    ps.setString(1, a.getJobId());
                    ps.setTimestamp(2, Jdbc.timestamp(a.getWindowStart()));
                    ps.setTimestamp(3, Jdbc.timestamp(a.getWindowEnd()));
                    ps.setLong(4, a.getSampleCount());
                    ps.setDouble(5, a.getCpuAvg());
                    ps.setDouble(6, a.getCpuMax());
                    ps.setLong(7, a.getRssPeakBytes());
                    ps.setLong(8, a.getIoReadDeltaBytes());
                    ps.setLong(9, a.getIoWriteDeltaBytes());
                    ps.setDouble(10, a.getIoReadRateBps());
                    ps.setDouble(11, a.getIoWriteRateBps());
                })
                .withExecutionOptions(Jdbc.batching(common))
                .buildAtLeastOnce(Jdbc.connection(common)));
        Sink<JobSummary> summary = CloseTolerantJdbcSink.of(JdbcSink.<JobSummary>builder()
                .withQueryStatement(UPSERT_JOB_SUMMARY, (ps, j) -> {
                    ps.setString(1, j.getJobId());
                    ps.setString(2, j.getUserId());
                    ps.setString(3, j.getHpcSystem());
                    ps.setString(4, j.getQueue());
                    ps.setString(5, j.getPipeline());
                    ps.setString(6, j.getFinalStatus().name());
                    ps.setInt(7, j.getStatusVersion());
                    setInt(ps, 8, j.getRequestedCores());
                    setLong(ps, 9, j.getRequestedWalltimeMs());
                    ps.setTimestamp(10, timestamp(j.getSubmittedAt()));
                    ps.setTimestamp(11, timestamp(j.getQueuedAt()));
                    ps.setTimestamp(12, timestamp(j.getStartedAt()));
                    ps.setTimestamp(13, timestamp(j.getEndedAt()));
                    setLong(ps, 14, j.getQueueWaitMs());
                    setLong(ps, 15, j.getRunMs());
                    ps.setLong(16, j.getSampleCount());
                    ps.setLong(17, j.getLateSampleCount());
                    ps.setDouble(18, j.getCpuSeconds());
                    setLong(ps, 19, j.getPeakRssBytes());
                    ps.setLong(20, j.getIoReadBytes());
                    ps.setLong(21, j.getIoWriteBytes());
                    setDouble(ps, 22, j.getEfficiency());
                })
                .withExecutionOptions(Jdbc.batching(common))
                .buildAtLeastOnce(Jdbc.connection(common)));
        Sink<FleetStats> fleet = CloseTolerantJdbcSink.of(JdbcSink.<FleetStats>builder()
                .withQueryStatement(UPSERT_FLEET_STATS, (ps, f) -> {
                    ps.setString(1, f.getScope());
                    ps.setString(2, f.getSubject());
                    ps.setTimestamp(3, timestamp(f.getMinuteStart()));
                    ps.setInt(4, f.getSubmitted());
                    ps.setInt(5, f.getStarted());
                    ps.setInt(6, f.getCompleted());
                    ps.setInt(7, f.getFailed());
                    ps.setInt(8, f.getCancelled());
                    setDouble(ps, 9, f.getFailureRate());
                    ps.setLong(10, f.getQueued());
                    ps.setLong(11, f.getRunning());
                    ps.setLong(12, f.getQueueWaitCount());
                    setDouble(ps, 13, f.getQueueWaitP50Ms());
                    setDouble(ps, 14, f.getQueueWaitP95Ms());
                    setDouble(ps, 15, f.getQueueWaitP99Ms());
                    ps.setLong(16, f.getRunCount());
                    setDouble(ps, 17, f.getRunP50Ms());
                    setDouble(ps, 18, f.getRunP95Ms());
                    setDouble(ps, 19, f.getRunP99Ms());
                    ps.setBytes(20, bytes(f.getQueueWaitSketch()));
                    ps.setBytes(21, bytes(f.getRunSketch()));
                })
                .withExecutionOptions(Jdbc.batching(common))
                .buildAtLeastOnce(Jdbc.connection(common)));
        Sink<Alert> alertsTable = CloseTolerantJdbcSink.of(JdbcSink.<Alert>builder()
                .withQueryStatement(UPSERT_ALERT, (ps, a) -> {
                    ps.setString(1, a.getAlertId());
                    ps.setString(2, a.getAlertType().name());
                    ps.setString(3, a.getSeverity().name());
                    ps.setString(4, a.getState().name());
                    ps.setString(5, a.getSubject());
                    ps.setString(6, a.getHpcSystem());
                    ps.setString(7, a.getMessage());
                    setDouble(ps, 8, a.getValue());
                    setDouble(ps, 9, a.getThreshold());
                    ps.setTimestamp(10, Jdbc.timestamp(a.getOpenedAt()));
                    ps.setTimestamp(11, Jdbc.timestamp(a.getUpdatedAt()));
                    ps.setTimestamp(12, Jdbc.timestamp(a.getResolvedAt()));
                })
                .withExecutionOptions(Jdbc.batching(common))
                .buildAtLeastOnce(Jdbc.connection(common)));
        Sink<MetricsAggregate> aggregatesTopic = KafkaOutputs.exactlyOnce(common,
                AvroRecordSerializer.<MetricsAggregate>keyedBy(config.aggregatesTopic(), MetricsAggregate::getJobId),
                "horizons-metrics-aggregates");
        var alertSerializer = AvroRecordSerializer.<Alert>keyedBy(config.alertsTopic(), Alert::getAlertId);
        Sink<Alert> alertsTopic = config.alertsExactlyOnce()
                ? KafkaOutputs.exactlyOnce(common, alertSerializer, "horizons-metrics-alerts")
                : KafkaOutputs.atLeastOnce(common, alertSerializer);
        Sink<DeadLetter> deadLetters = DeadLetterRouting.sink(common, "horizons-metrics-dlq");
        return new MetricsSinks(jobMetrics, aggregatesTopic, summary, fleet, alertsTopic, alertsTable, deadLetters);
    }

    private static Timestamp timestamp(Long epochMillis) {
        return epochMillis == null ? null : Timestamp.from(Instant.ofEpochMilli(epochMillis));
    }

    private static byte[] bytes(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private static void setInt(PreparedStatement ps, int index, Integer value) throws SQLException {
        if (value == null) {
            ps.setNull(index, Types.INTEGER);
        } else {
            ps.setInt(index, value);
        }
    }

    private static void setLong(PreparedStatement ps, int index, Long value) throws SQLException {
        if (value == null) {
            ps.setNull(index, Types.BIGINT);
        } else {
            ps.setLong(index, value);
        }
    }

    private static void setDouble(PreparedStatement ps, int index, Double value) throws SQLException {
        if (value == null) {
            ps.setNull(index, Types.DOUBLE);
        } else {
            ps.setDouble(index, value);
        }
    }
}
