package io.cosmichorizons.dashboard;

import java.util.List;
import java.util.Map;

/**
 * What the page shows, as JSON (the record components are the JSON names). Times are epoch milliseconds, except the
 * chart axis (epoch seconds, as uPlot wants them). Every string may come from a producer (job names, error messages,
 * user ids, alert messages): the page renders all of them as text, never as HTML.
 */
public final class Views {
    private Views() {}

    /** Jobs of one HPC system: waiting and running now, and ended within the hour up to {@link JobCounts#asOf()}. */
    public record SystemCounts(String hpcSystem, long submitted, long queued, long running, long completed, long failed,
            long cancelled) {}

    /**
     * Jobs by status per HPC system.
     *
     * @param asOf the newest event time applied to job_status (capped at the wall clock): "the last hour" ends here, so
     *     the counts follow the data even when it lags or replays the past; null while job_status is empty
     * @param windowStart asOf minus one hour
     */
    public record JobCounts(Long asOf, Long windowStart, List<SystemCounts> systems) {}

    /**
     * Queue depth and p95 queue wait per HPC system, one point a minute for the hour up to asOf.
     *
     * @param times epoch seconds of each point
     * @param depth per system (in {@code systems} order): jobs queued at each point
     * @param waitP95Seconds per system: p95 queue wait of the jobs that started in the minute up to each point, null
     *     when none started
     */
    public record QueueSeries(List<Long> times, List<String> systems, List<List<Long>> depth,
            List<List<Double>> waitP95Seconds) {
        static QueueSeries empty() {
            return new QueueSeries(List.of(), List.of(), List.of(), List.of());
        }
    }

    /** A FAILED job from job_status. */
    public record FailedJob(String jobId, String userId, String hpcSystem, String pipeline, String errorCode,
            String errorMessage, Long endedAt) {}

    /** An alert from the system-alerts topic (or the alerts table). */
    public record AlertView(String alertId, String alertType, String severity, String state, String subject,
            String hpcSystem, String message, Double value, Double threshold, long openedAt, long updatedAt,
            Long resolvedAt) {
        boolean resolved() {
            return "RESOLVED".equals(state);
        }
    }

    /** Open alerts (most severe, then oldest first) and the most recently resolved ones. */
    public record Alerts(List<AlertView> open, List<AlertView> resolved) {}

    /** A notification from the job-notifications topic (or the notifications table). */
    public record NotificationView(String notificationId, String jobId, String userId, String kind, String title,
            String message, String pipeline, String errorCode, String errorMessage, String cancelReason,
            String cancelledBy, List<String> channels, long occurredAt) {}

    /**
     * Dead letters seen since the dashboard started.
     *
     * @param perMinute average over the last five minutes (or since the start, if shorter)
     */
    public record DeadLetterStats(long since, long total, long lastFiveMinutes, double perMinute,
            Map<String, Long> byReason) {}

    /** A Flink job and its last completed checkpoint, from the Flink REST API. */
    public record FlinkJob(String id, String name, String state, Long lastCheckpointId, Long lastCheckpointAt,
            Long lastCheckpointDurationMs, Long lastCheckpointSizeBytes, long completedCheckpoints,
            long failedCheckpoints) {}

    /** The Flink cluster, when --flink-rest is given. */
    public record FlinkStatus(boolean configured, String url, boolean reachable, String error, List<FlinkJob> jobs) {
        static FlinkStatus notConfigured() {
            return new FlinkStatus(false, null, false, null, List.of());
        }
    }

    /**
     * Pipeline health.
     *
     * @param newestEventAt the newest event time applied to job_status; event-time lag = now - this
     * @param database "ok"; "ok · ..." with why job_status is re-read on a timer (its changes are not heard); or why
     *     PostgreSQL cannot be read
     * @param alertsTable whether the alerts table exists (alerts then also come from it at start-up)
     * @param kafkaPartitions partitions the dashboard's consumer reads
     * @param kafkaError why a topic cannot be read, if so
     * @param undecodable records of the read topics that were not the expected Avro type
     */
    public record Health(Long newestEventAt, String database, boolean alertsTable, int kafkaPartitions,
            String kafkaError, long undecodable, DeadLetterStats deadLetters, FlinkStatus flink) {}

    /** Everything on the page: the first event of every stream, and GET /api/snapshot. */
    public record Snapshot(String instance, long serverTime, JobCounts counts, QueueSeries series,
            List<FailedJob> failures, Alerts alerts, List<NotificationView> notifications, Health health) {}
}
