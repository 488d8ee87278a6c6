package io.cosmichorizons.pipeline.metrics;

import io.cosmichorizons.pipeline.config.CommonConfig;
import io.cosmichorizons.pipeline.config.Option;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.pipeline.health.InputHealthMonitor;
import io.cosmichorizons.pipeline.health.JobHealthMonitor;
import io.cosmichorizons.pipeline.health.RateRule;
import io.cosmichorizons.pipeline.health.Thresholds;
import io.cosmichorizons.pipeline.lifecycle.LifecycleJobConfig;
import io.cosmichorizons.pipeline.lifecycle.LifecycleStateMachine;
import io.cosmichorizons.topics.Topics;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything the metrics job can be told, with defaults. Loaded from {@code --config FILE} and {@code --key value}.
 * The alert thresholds marked "per system/queue" can be overridden as {@code health.thresholds.<system>.<name>},
 * {@code health.thresholds.<system>.<queue>.<name>} or {@code health.thresholds.*.<queue>.<name>} (see
 * {@link Thresholds}).
 */
public record MetricsJobConfig(
        CommonConfig common,
        String lifecycleTopic,
        String metricsTopic,
        String aggregatesTopic,
        String alertsTopic,
        boolean alertsExactlyOnce,
        String groupId,
        Duration outOfOrderness,
        Duration sourceIdleness,
        LifecycleStateMachine.Settings lifecycleRules,
        JobMetricsTracker.Settings tracker,
        FleetStatsAggregator.Settings fleet,
        JobHealthMonitor.Settings jobHealth,
        InputHealthMonitor.Settings inputHealth)
        implements Serializable {

    /** Thresholds that may differ per HPC system (and queue), with their defaults. */
    static final Map<String, String> THRESHOLD_DEFAULTS = new LinkedHashMap<>();

    static {
        THRESHOLD_DEFAULTS.put(JobHealthMonitor.SUBMIT_TIMEOUT, "10m");
        THRESHOLD_DEFAULTS.put(JobHealthMonitor.QUEUE_SLA, "1h");
        THRESHOLD_DEFAULTS.put(JobHealthMonitor.WALLTIME_GRACE, "15m");
        THRESHOLD_DEFAULTS.put(JobHealthMonitor.HEARTBEAT_INTERVAL, "1m");
        THRESHOLD_DEFAULTS.put(JobHealthMonitor.HEARTBEAT_MISSED, "3");
        THRESHOLD_DEFAULTS.put(FleetStatsAggregator.ERROR_RATE_WINDOW, "15m");
        THRESHOLD_DEFAULTS.put(FleetStatsAggregator.ERROR_RATE_OPEN, "0.25");
        THRESHOLD_DEFAULTS.put(FleetStatsAggregator.ERROR_RATE_RESOLVE, "0.15");
        THRESHOLD_DEFAULTS.put(FleetStatsAggregator.ERROR_RATE_MIN_JOBS, "20");
    }

    public static final List<Option> OPTIONS;

    static {
        List<Option> options = new ArrayList<>(CommonConfig.OPTIONS);
        options.addAll(List.of(
                new Option("topics.lifecycle", Topics.JOB_LIFECYCLE, "Input topic of job lifecycle events"),
                new Option("topics.metrics", Topics.JOB_METRICS, "Input topic of job metrics samples"),
                new Option("topics.metrics-aggregates", Topics.METRICS_AGGREGATES, "Output topic of per-job window aggregates (exactly-once)"),
                new Option("topics.alerts", Topics.SYSTEM_ALERTS, "Output topic of alerts, open and resolved"),
                new Option("alerts.delivery", "exactly-once", "exactly-once: alerts become visible when the checkpoint completes; at-least-once: at once, and a restore may repeat some (readers deduplicate on the stable alert_id)"),
                new Option("metrics.group-id", "horizons-metrics", "Kafka consumer group of the metrics job (offsets committed on checkpoints for lag monitoring)"),
                new Option("metrics.out-of-orderness", "30s", "Watermark delay: how late a sample may be and still count in its window"),
                new Option("metrics.source-idleness", "1m", "A partition with no records for this long stops holding back the watermark"),
                new Option("metrics.window", "1m", "Length of the per-job event-time tumbling windows"),
                new Option("metrics.summary-grace", "1h", "Event time after a job's end during which late samples still update its summary; then its state is cleared"),
                new Option("metrics.idle-job-ttl", "7d", "Event time after which a job that never ended (or only sent samples) is forgotten"),
                new Option("lifecycle.reorder-timeout", "5m", "Shared with the lifecycle job: the job's statuses come from the same lifecycle rules"),
                new Option("lifecycle.reorder-buffer-max", "16", "Shared with the lifecycle job"),
                new Option("lifecycle.terminal-state-ttl", "24h", "Shared with the lifecycle job: duplicates of an ended job are recognised this long"),
                new Option("lifecycle.idle-job-ttl", "30d", "Shared with the lifecycle job"),
                new Option("metrics.sketch-k", "200", "KLL sketch size of the fleet percentiles (k=200: rank error about 1.33 %, 99 % confidence)"),
                new Option("health.idle-timeout", "1m", "Processing-time fallback: once the watermark has not moved for this long, job deadlines fire by the wall clock"),
                new Option("health.submit-timeout", "10m", "STUCK_SUBMITTED when a job is not QUEUED this long after SUBMITTED (per system/queue)"),
                new Option("health.queue-sla", "1h", "STUCK_QUEUED when a job waits in the queue longer (per system/queue)"),
                new Option("health.walltime-grace", "15m", "STUCK_RUNNING when a job runs longer than its requested walltime plus this (per system/queue)"),
                new Option("health.heartbeat-interval", "1m", "Expected interval of a running job's metrics samples (per system/queue)"),
                new Option("health.heartbeat-missed", "3", "MISSING_HEARTBEAT after this many intervals without a sample (per system/queue)"),
                new Option("health.error-rate-window", "15m", "Sliding window of the ERROR_RATE alert, whole minutes (per system)"),
                new Option("health.error-rate-open", "0.25", "ERROR_RATE opens when failed / (completed + failed) reaches this (per system)"),
                new Option("health.error-rate-resolve", "0.15", "... and resolves when it falls below this (hysteresis; per system)"),
                new Option("health.error-rate-min-jobs", "20", "... provided at least this many jobs ended in the window (per system)"),
                new Option("health.dead-letter-rate-window", "5m", "Sliding window of the DEAD_LETTER_RATE alert, whole minutes"),
                new Option("health.dead-letter-rate-open", "0.05", "DEAD_LETTER_RATE opens when dead letters / input records of a topic reach this"),
                new Option("health.dead-letter-rate-resolve", "0.02", "... and resolves below this"),
                new Option("health.dead-letter-rate-min-records", "100", "... provided the window holds at least this many records"),
                new Option("health.lag-check-interval", "30s", "How often event-time and watermark lag are checked while records flow"),
                new Option("health.event-time-lag", "15m", "EVENT_TIME_LAG when the newest event read is older than this (resolves below half)"),
                new Option("health.watermark-lag", "15m", "WATERMARK_LAG when the watermark is further behind the wall clock (resolves below half)")));
        OPTIONS = List.copyOf(options);
    }

    public static MetricsJobConfig from(Settings s) {
        Thresholds thresholds = Thresholds.from(s, THRESHOLD_DEFAULTS);
        LifecycleJobConfig lifecycle = LifecycleJobConfig.from(s);
        return new MetricsJobConfig(
                CommonConfig.from(s),
                s.get("topics.lifecycle", Topics.JOB_LIFECYCLE),
                s.get("topics.metrics", Topics.JOB_METRICS),
                s.get("topics.metrics-aggregates", Topics.METRICS_AGGREGATES),
                s.get("topics.alerts", Topics.SYSTEM_ALERTS),
                alertsExactlyOnce(s.get("alerts.delivery", "exactly-once")),
                s.get("metrics.group-id", "horizons-metrics"),
                s.getDuration("metrics.out-of-orderness", Duration.ofSeconds(30)),
                s.getDuration("metrics.source-idleness", Duration.ofMinutes(1)),
                // The same lifecycle rules, with the same lifecycle.* settings, as the lifecycle job.
                lifecycle.stateMachine(),
                new JobMetricsTracker.Settings(
                        s.getDuration("metrics.window", Duration.ofMinutes(1)),
                        s.getDuration("metrics.summary-grace", Duration.ofHours(1)),
                        s.getDuration("metrics.idle-job-ttl", Duration.ofDays(7))),
                new FleetStatsAggregator.Settings(s.getInt("metrics.sketch-k", Sketches.DEFAULT_K), thresholds),
                new JobHealthMonitor.Settings(thresholds, s.getDuration("health.idle-timeout", Duration.ofMinutes(1))),
                new InputHealthMonitor.Settings(
                        new RateRule(number(s, "health.dead-letter-rate-open", 0.05),
                                number(s, "health.dead-letter-rate-resolve", 0.02),
                                s.getInt("health.dead-letter-rate-min-records", 100)),
                        s.getDuration("health.dead-letter-rate-window", Duration.ofMinutes(5)),
                        s.getDuration("health.lag-check-interval", Duration.ofSeconds(30)),
                        s.getDuration("health.event-time-lag", Duration.ofMinutes(15)),
                        s.getDuration("health.watermark-lag", Duration.ofMinutes(15))));
    }

    private static boolean alertsExactlyOnce(String delivery) {
        return switch (delivery.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "exactly-once" -> true;
            case "at-least-once" -> false;
            default -> throw new IllegalArgumentException(
                    "Setting 'alerts.delivery' must be exactly-once or at-least-once, got '" + delivery + "'");
        };
    }

    private static double number(Settings s, String key, double defaultValue) {
        String v = s.get(key, null);
        try {
            return v == null ? defaultValue : Double.parseDouble(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Setting '" + key + "' must be a number, got '" + v + "'");
        }
    }
}
